"""The partnership-adapted sentiment analyser, against plain VADER."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from benchmarks.sentiment import load_labelled, macro_f1
from bot.services.sentiment import (
    MAX_ANALYSED_CHARS,
    NEGATIVE_THRESHOLD,
    PHRASES,
    POSITIVE_THRESHOLD,
    Sentiment,
    analyse,
    label_for,
    plain_vader,
    rewrite_phrases,
)


@pytest.mark.parametrize(
    "text",
    [
        "The security patch is overdue.",
        "We had another SLA miss on the P2 queue.",
        "They missed the deadline for the audit pack.",
        "Phase two is behind schedule.",
        "The integration is blocked by the firewall change.",
        "Lots of rework after every demo.",
        "The release slipped again.",
        "Two outages this week.",
        "The backlog keeps growing.",
        "We are still waiting for access to the logs.",
        "The test suite times out every night.",
        "The build was rolled back twice.",
    ],
)
def test_partnership_trouble_scores_lower_than_plain_vader(text: str) -> None:
    assert analyse(text).score < plain_vader(text).score
    assert analyse(text).label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "Everything is on track for Friday.",
        "Phase two is ahead of schedule.",
        "The portal went live on Tuesday.",
        "No blockers this week.",
        "Zero SLA misses in March.",
        "Delivered on time again.",
        "The team proactively flagged the capacity gap.",
        "Handover was smooth and the notes were thorough.",
        "The provider went above and beyond during the cutover.",
    ],
)
def test_partnership_progress_scores_higher_than_plain_vader(text: str) -> None:
    assert analyse(text).score > plain_vader(text).score
    assert analyse(text).label == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "Not bad, but the handover was late",
        "not too bad but the handover was late",
        "Ok but we still have no date for the migration.",
        "Fine, but the report arrived late again.",
    ],
)
def test_a_hedge_before_but_is_negative(text: str) -> None:
    assert analyse(text).label == "negative"


def test_plain_vader_reads_not_bad_but_as_praise() -> None:
    # Why the hedge rule exists: plain VADER keeps half of "not bad" and has no word for "late".
    assert plain_vader("Not bad, but the handover was late").label == "positive"


def test_negation_still_applies_to_phrases() -> None:
    assert analyse("We are not on track for the March release.").label == "negative"
    assert analyse("The release is not behind schedule.").score > 0


@pytest.mark.parametrize(
    "text",
    [
        "Sprint 12 planning is on Tuesday at 10.",
        "The invoice for June was sent to finance.",
        "No change in the team this month.",
        "The support desk moves to the new tool next week.",
        "Our PO is out until the 3rd; the PO cover is Sam.",
        "The risk register was updated for the QBR.",
        "The security questionnaire is with their compliance lead.",
    ],
)
def test_neutral_status_text_is_neutral(text: str) -> None:
    assert analyse(text).label == "neutral"


@pytest.mark.parametrize(
    "text",
    ["I love this movie so much!", "This is the worst day ever :(", "meh.", "The book was only kind of good."],
)
def test_text_without_partnership_vocabulary_scores_as_plain_vader(text: str) -> None:
    assert analyse(text) == plain_vader(text)


def test_label_thresholds() -> None:
    assert (POSITIVE_THRESHOLD, NEGATIVE_THRESHOLD) == (0.05, -0.05)
    assert label_for(0.05) == "positive"
    assert label_for(0.0499) == "neutral"
    assert label_for(0.0) == "neutral"
    assert label_for(-0.0499) == "neutral"
    assert label_for(-0.05) == "negative"
    assert label_for(1.0) == "positive"
    assert label_for(-1.0) == "negative"


def test_sentiment_is_a_frozen_value() -> None:
    result = analyse("great work")
    assert isinstance(result, Sentiment)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 0.0  # type: ignore[misc]


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_text_is_neutral_zero(text: str) -> None:
    assert analyse(text) == Sentiment(0.0, "neutral")
    assert plain_vader(text) == Sentiment(0.0, "neutral")


def test_only_the_first_characters_are_analysed() -> None:
    head = "the weekly sync " * (MAX_ANALYSED_CHARS // 16 + 1)
    assert len(head) >= MAX_ANALYSED_CHARS
    assert analyse(head + " terrible, awful, overdue!") == analyse(head) == Sentiment(0.0, "neutral")


def test_scores_stay_in_range_at_the_extremes() -> None:
    assert analyse("great excellent wonderful! " * 500).score <= 1.0
    assert analyse("overdue blocked outage rework SLA miss " * 500).score >= -1.0
    assert analyse("overdue blocked outage rework SLA miss " * 500).label == "negative"


def test_sentinels_are_distinct_tokens_vader_keeps_whole() -> None:
    sentinels = [p.sentinel for p in PHRASES]
    assert len(set(sentinels)) == len(sentinels)
    for sentinel in sentinels:
        assert sentinel.startswith("pp_") and sentinel.islower() and sentinel.replace("_", "").isalpha()
    assert rewrite_phrases("We're ON-TRACK, not behind  schedule.") == "We're pp_on_track, not pp_behind."
    assert rewrite_phrases("Not bad, but late") == "pp_hedge, but late"


# The labelled partnership comments in tests/data/partnership_sentiment.tsv.


def test_the_labelled_set_is_big_and_balanced() -> None:
    rows = load_labelled()
    assert len(rows) >= 240
    assert {r.label for r in rows} == {"positive", "neutral", "negative"}
    assert {r.side for r in rows} == {"client", "provider"}
    assert {r.split for r in rows} == {"dev", "heldout"}
    per_label_and_side = Counter((r.label, r.side) for r in rows)
    assert min(per_label_and_side.values()) >= 35
    assert 0.2 <= sum(r.split == "heldout" for r in rows) / len(rows) <= 0.3
    assert len({r.text for r in rows}) == len(rows)


def test_macro_f1_beats_plain_vader_by_at_least_015() -> None:
    rows = load_labelled()
    gold = [r.label for r in rows]
    ours = macro_f1(gold, [analyse(r.text).label for r in rows])
    plain = macro_f1(gold, [plain_vader(r.text).label for r in rows])
    assert ours >= plain + 0.15, (ours, plain)


def test_macro_f1() -> None:
    assert macro_f1(["positive", "neutral", "negative"], ["positive", "neutral", "negative"]) == 1.0
    assert macro_f1(["positive", "positive"], ["negative", "negative"]) == 0.0
    # positive F1 = 2/3, neutral F1 = 0 (never predicted), negative F1 = 1.
    assert macro_f1(["positive", "neutral", "negative"], ["positive", "positive", "negative"]) == pytest.approx(5 / 9)
