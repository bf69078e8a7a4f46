"""The digest's Block Kit: Slack's limits (split, never rejected), escaping, and withholding in the builder."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from bot.blocks.digest import COMMENT_CHARS, COMMENTS_PER_SIDE, ITEMS_PER_LIST, MAX_MESSAGE_TEXT, build_digest_messages
from bot.blocks.pulse import Message
from bot.services import figures
from bot.services.digest_models import (
    ActionSummary,
    DigestAction,
    DigestIssue,
    IssueSummary,
    SentimentSummary,
    SeverityAges,
    SideDigest,
    ThemeView,
)
from bot.services.figures import Comparison, HealthIndex, SideFigure
from bot.services.issue_models import IssueStatus
from bot.services.partnership_models import Side
from bot.services.pulse_models import Participation
from tests.factories import digest_view

INJECTION = "<!channel> <!here> <@U123> <https://evil.example|click me> &"


def _texts(message: Message) -> list[tuple[str, str]]:
    """(kind, text) of every text in the message's blocks, from their Slack JSON."""
    found: list[tuple[str, str]] = []
    for block in message.blocks:
        d: dict[str, Any] = block.to_dict()  # validates the block against slack_sdk's limits too
        if d["type"] == "header":
            found.append(("header", d["text"]["text"]))
        elif d["type"] == "section":
            found.append(("section", d["text"]["text"]))
            found.extend(("field", f["text"]) for f in d.get("fields", []))
        elif d["type"] == "context":
            found.extend(("context", e["text"]) for e in d["elements"])
    return found


def _rendered(messages: list[Message], *, headers: bool = True) -> str:
    """All the messages' JSON and fallback texts. ``headers=False`` leaves out header blocks: their text is
    ``plain_text``, which Slack shows as written and never parses for mentions or links.
    """
    blocks = [[b.to_dict() for b in m.blocks if headers or b.type != "header"] for m in messages]
    return json.dumps([blocks, [m.text for m in messages]], ensure_ascii=False)


def _check_limits(messages: list[Message]) -> None:
    limits = {"header": 150, "section": 3000, "field": 2000, "context": 2000}
    for m in messages:
        assert 1 <= len(m.blocks) <= 50
        assert m.text and len(m.text) <= 3000
        texts = _texts(m)
        for kind, text in texts:
            assert len(text) <= limits[kind], (kind, len(text))
        # Slack also rejects a message whose block texts add up to about 12,000 characters (msg_blocks_too_long).
        assert sum(len(text) for _, text in texts) <= MAX_MESSAGE_TEXT < 11_000


def _long_view() -> Any:
    """Everything at once, and much of it: 30 dimensions, 40 long comments per side, 60 issues, 60 actions."""
    comment = "The handover slipped again and nobody told us why. " * 70  # ~3,500 characters
    dims = tuple(
        Comparison("relationship", f"dimension {i}", SideFigure(Decimal(4), 4, Decimal(3)), SideFigure(Decimal(2), 3))
        for i in range(30)
    )
    sides = tuple(
        SideDigest(
            side,
            org,
            Participation(4, 5),
            False,
            SentimentSummary(40, -0.5, "negative", 2, 3, 35),
            tuple(ThemeView(f"theme {j} " + "x" * 40, 3) for j in range(5)),
            tuple(f"{j}: {comment}" for j in range(40)),
        )
        for side, org in ((Side.CLIENT, "Northwind"), (Side.PROVIDER, "Contoso"))
    )
    title = "A rather long issue title that goes on " + "and on " * 15
    issue = DigestIssue(1, title[:150], "S2", Side.PROVIDER, IssueStatus.OPEN, 2, 12)
    many = tuple(issue for _ in range(60))
    actions = tuple(DigestAction(title[:150], Side.CLIENT, date(2026, 12, 1), 7) for _ in range(60))
    return digest_view(
        items=dims,
        gaps=figures.widest_first(dims),
        sides=sides,
        issues=IssueSummary(many, many, many, many, (SeverityAges("S2", (20, 20, 20)),)),
        actions=ActionSummary({Side.CLIENT: 60, Side.PROVIDER: 0}, actions, actions),
    )


def test_a_small_digest_is_one_message() -> None:
    messages = build_digest_messages(digest_view())
    assert len(messages) == 1
    _check_limits(messages)
    text = messages[0].text
    assert text.startswith("Weekly digest for Northwind desk, week of Fri 4 Dec: health index Northwind 3.3, Contoso 3.7")
    rendered = _rendered(messages)
    for expected in (
        # Each result names what was rated; the gap is provider − client; trends compare the same items.
        "*Contoso's trust*: client 4.5 · provider 3.0 · gap −1.5 ⚠️ (client ↑ +0.5 vs 4.0 the last time; "
        "provider not enough data yet)",
        "*The relationship's communication*: client 2.0 · provider 3.0 · gap +1.0",
        "*Northwind*: 3.3 (4 weeks, 8 of 8 dimensions) ↓ −0.2",
        "*Contoso*: 3.7 (4 weeks, 8 of 8 dimensions), trend: not enough data yet",
        "*Northwind* 4 of 5 (80%)",
        "> The handover",
    ):
        assert expected in rendered, expected
    assert "Shared goals are not tracked yet." in rendered


def test_a_long_digest_is_split_within_slacks_limits() -> None:
    messages = build_digest_messages(_long_view())
    assert len(messages) >= 2
    _check_limits(messages)
    # Later parts say what they are, in their fallback text and their first block.
    for i, m in enumerate(messages[1:], start=2):
        assert m.text == f"Weekly digest for Northwind desk (part {i} of {len(messages)})"
        assert _texts(m)[0] == ("context", m.text)
    rendered = _rendered(messages)
    # Nothing is lost: every dimension, the shown comments (cut to fit), and the counts of what is not listed.
    for i in range(30):
        assert f"*The relationship's dimension {i}*" in rendered
    assert rendered.count("> 0: The handover slipped") == 2
    assert max(len(t) for m in messages for k, t in _texts(m) if t.startswith("> ")) == COMMENT_CHARS
    assert f"…and {40 - COMMENTS_PER_SIDE} more comments." in rendered
    assert f"…and {60 - ITEMS_PER_LIST} more." in rendered
    assert "60 new · 60 resolved · 60 escalated this week · 60 open" in rendered


def test_user_text_is_escaped_everywhere() -> None:
    sides = (
        SideDigest(
            Side.CLIENT,
            f"North {INJECTION}",
            Participation(3, 3),
            False,
            None,
            (ThemeView(INJECTION, 2),),
            (f"comment {INJECTION}",),
        ),
        SideDigest(Side.PROVIDER, f"Con {INJECTION}", Participation(3, 3), False, None, (), ()),
    )
    issue = DigestIssue(1, f"title {INJECTION}", "S1", Side.CLIENT, IssueStatus.OPEN, 1, 2)
    action = DigestAction(f"action {INJECTION}", Side.PROVIDER, date(2026, 12, 1))
    view = digest_view(
        sides=sides,
        issues=IssueSummary((issue,), (issue,), (issue,), (issue,), (SeverityAges("S1", (1, 0, 0)),)),
        actions=ActionSummary({Side.CLIENT: 0, Side.PROVIDER: 1}, (action,), (action,)),
    )
    view = digest_view(**{**view.__dict__, "partnership": _named(view.partnership, f"Desk {INJECTION}")})
    messages = build_digest_messages(view)
    _check_limits(messages)
    rendered = _rendered(messages, headers=False)
    for raw in ("<!channel>", "<!here>", "<@U123>", "<https://", "& "):
        assert raw not in rendered.replace("&amp;", ""), raw
    assert "&lt;!channel&gt;" in rendered and "&lt;@U123&gt;" in rendered


def _named(partnership: Any, name: str) -> Any:
    return replace(partnership, name=name)


def test_a_withheld_side_shows_no_figures_or_comments_whatever_the_view_holds() -> None:
    # A read model that (wrongly) carries the provider's figures and comments while marking it withheld.
    leaky = replace(
        digest_view().sides[1],  # the provider's, Contoso's
        participation=Participation(2, 4),
        withheld=True,
        sentiment=SentimentSummary(1, -0.9, "negative", 0, 0, 1),
        themes=(ThemeView("secret theme", 2),),
        comments=("secret comment",),
    )
    view = digest_view(
        sides=(digest_view().sides[0], leaky),
        items=(Comparison("provider", "trust", SideFigure(Decimal("4.5"), 4), SideFigure(Decimal("1.7"), 2)),),
        health=(digest_view().health[0], HealthIndex(Side.PROVIDER, Decimal("2.9"), 9, 8, 8)),
    )
    view = digest_view(**{**view.__dict__, "gaps": figures.widest_first(view.items)})
    rendered = _rendered(build_digest_messages(view))
    assert "secret" not in rendered and "1.7" not in rendered and "2.8" not in rendered and "2.9" not in rendered
    assert ":lock: Withheld: fewer than 3 answered" in rendered
    assert "*Contoso*: :lock: withheld: fewer than 3 answered" in rendered
    assert "client 4.5 · provider withheld" in rendered


def test_no_pulse_this_week_and_an_empty_log() -> None:
    quiet = digest_view(
        rounds=0,
        items=(),
        gaps=(),
        health=(HealthIndex(Side.CLIENT, None, 6, 2, 8), HealthIndex(Side.PROVIDER, None, 0, 0, 8)),
        sides=tuple(SideDigest(s.side, s.org, Participation(0, 0), False, None, (), ()) for s in digest_view().sides),
    )
    messages = build_digest_messages(quiet)
    _check_limits(messages)
    rendered = _rendered(messages)
    assert "No pulse closed this week." in rendered
    assert "not enough data yet (2 of 8 dimensions answered in 4 weeks)" in rendered
    assert "*Northwind* 0 of 0 ·" in rendered and "No comments this week." in rendered
    assert "0 new · 0 resolved · 0 escalated this week · 0 open" in rendered
