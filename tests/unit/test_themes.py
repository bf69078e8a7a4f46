"""Recurring themes per side: phrases counted by the comments they appear in, markup and stopwords out."""

from __future__ import annotations

from bot.services.themes import STOPWORDS, Theme, clauses, phrases, recurring_phrases


def test_counts_distinct_comments_not_repeats() -> None:
    comments = ["handover handover handover, the handover!", "something else entirely"]
    assert recurring_phrases(comments) == []
    comments.append("The handover again")
    assert recurring_phrases(comments) == [Theme("handover", 2)]


def test_min_comments_and_limit() -> None:
    comments = ["invoice late", "invoice wrong", "invoice missing", "VPN access", "VPN access again"]
    assert recurring_phrases(comments, min_comments=3) == [Theme("invoice", 3)]
    assert recurring_phrases(comments, limit=1) == [Theme("invoice", 3)]
    assert recurring_phrases(comments) == [Theme("invoice", 3), Theme("vpn access", 2)]
    assert recurring_phrases(comments, limit=0) == []
    assert recurring_phrases([]) == []


def test_mentions_links_and_emoji_codes_never_become_themes() -> None:
    markup = "<@U0123ABC> <!channel> <!here> <#C0456|delivery> <https://jira.example.com/browse/PP-1|PP-1> :tada:"
    comments = [
        f"{markup} https://example.com/status www.example.org dana@example.com @dana",
        f"cc {markup} https://example.com/status www.example.org dana@example.com @dana",
        f"{markup} thanks",
    ]
    themes = recurring_phrases(comments, limit=50)
    words = {word for theme in themes for word in theme.phrase.split()}
    for fragment in ("u0123abc", "channel", "here", "c0456", "delivery", "jira", "pp-1", "tada", "https", "example", "dana"):
        assert fragment not in words
    assert themes == []


def test_markup_breaks_a_phrase() -> None:
    assert clauses("late <@U1> handover") == [["late"], ["handover"]]


def test_stopwords_neither_start_nor_end_a_phrase_nor_stand_alone() -> None:
    comments = [
        "The test environments were down for most of the week.",
        "Test environments were down again on Monday, and the week before.",
        "Our test environments were down.",
    ]
    themes = recurring_phrases(comments, limit=50)
    assert Theme("test environments", 3) in themes
    for theme in themes:
        words = theme.phrase.split()
        assert words[0] not in STOPWORDS and words[-1] not in STOPWORDS, theme
    assert not any(t.phrase in {"the", "were", "of", "and", "for"} for t in themes)


def test_stopwords_inside_a_phrase_are_kept() -> None:
    comments = ["Phase two is ahead of schedule", "we are ahead of schedule again"]
    assert recurring_phrases(comments) == [Theme("ahead of schedule", 2)]


def test_a_longer_phrase_replaces_the_shorter_ones_it_always_contains() -> None:
    comments = ["missing test data again", "Still missing test data.", "test data arrived late"]
    themes = recurring_phrases(comments, limit=10)
    # "missing test data" is in two comments; "test data" in three, so it is kept too; "missing" and "test"
    # never appear without the longer phrase, so they add nothing.
    assert themes == [Theme("test data", 3), Theme("missing test data", 2)]


def test_ties_prefer_longer_phrases_then_alphabetical() -> None:
    comments = ["vpn access slow; invoice wrong", "vpn access slow and invoice wrong", "backlog", "backlog"]
    assert recurring_phrases(comments, limit=10) == [
        Theme("vpn access slow", 2),
        Theme("invoice wrong", 2),
        Theme("backlog", 2),
    ]


def test_punctuation_breaks_phrases() -> None:
    comments = ["It was late. Handover notes were missing.", "Always late; handover notes incomplete"]
    themes = recurring_phrases(comments, limit=10)
    assert Theme("handover notes", 2) in themes
    assert not any("late handover" in t.phrase for t in themes)


def test_negations_start_phrases_but_are_not_themes() -> None:
    comments = ["There was no handover at all", "no handover, again", "not tested", "not tested either"]
    assert recurring_phrases(comments, limit=10) == [Theme("no handover", 2), Theme("not tested", 2)]


def test_numbers_alone_are_not_themes_and_case_and_possessives_fold() -> None:
    comments = ["P1 open for 3 days, the client's VPN", "3 P1s and the Client VPN", "p1 again; client VPN"]
    themes = recurring_phrases(comments, limit=10)
    assert Theme("client vpn", 3) in themes
    assert not any(t.phrase == "3" for t in themes)
    assert phrases("Client's") == {("client",)}
