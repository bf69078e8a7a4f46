"""The digest's headline (issue 12 item 6): which lines appear, in which order, from a scenario built by hand; a
quiet week says so plainly; the main message fits one screen and the detail is what goes in the thread."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from bot.blocks.digest import build_digest_detail
from bot.blocks.digest_headline import build_digest_headline
from bot.services import digest_headline, figures
from bot.services.digest_models import (
    ActionSummary,
    DigestAction,
    DigestIssue,
    DigestView,
    IssueSummary,
    SeverityAges,
)
from bot.services.figures import Comparison, HealthIndex, NpsFigure, SideFigure
from bot.services.headline_models import DecisionKind, IssueReason
from bot.services.issue_models import IssueStatus
from bot.services.partnership_models import Side
from tests.factories import digest_view


def d(text: str) -> Decimal:
    return Decimal(text)


# Contoso's responsiveness (about the provider): the client rates it 2.2, 3.4 the last time it was asked (a fall
# of 1.2: at least the watch level of 1.0, so a change); the provider 3.8, 3.7 before (+0.1: no headline change).
# Gap = provider − client = 3.8 − 2.2 = +1.6, flagged "act" (≥ 1.5).
RESPONSIVENESS = Comparison(
    "provider", "responsiveness", SideFigure(d("2.2"), 5, d("3.4")), SideFigure(d("3.8"), 4, d("3.7"))
)
# The relationship's communication: 3.0 and 3.5, gap +0.5 (no flag); no earlier answers (no trend).
COMMUNICATION = Comparison("relationship", "communication", SideFigure(d("3.0"), 5), SideFigure(d("3.5"), 4))


def _issue(number: int, title: str, severity: str, side: Side, status: IssueStatus, level: int, age: int) -> DigestIssue:
    return DigestIssue(number, title, severity, side, status, level, age)


ESCALATED = _issue(1, "Data feed late", "S2", Side.PROVIDER, IssueStatus.OPEN, 2, 28)
ACKNOWLEDGED = _issue(2, "Access requests", "S3", Side.CLIENT, IssueStatus.ACKNOWLEDGED, 0, 10)  # in hand: not news
STALLED = _issue(3, "Typos in reports", "S4", Side.PROVIDER, IssueStatus.OPEN, 0, 9)
FRESH = _issue(4, "New login page", "S4", Side.CLIENT, IssueStatus.OPEN, 0, 2)  # open 2 days: not stalled yet


def _busy(**overrides: Any) -> DigestView:
    items = (RESPONSIVENESS, COMMUNICATION)
    values: dict[str, Any] = {
        "items": items,
        "gaps": figures.widest_first(items),
        "health": (
            HealthIndex(Side.CLIENT, d("3.3"), 30, 8, 8, d("3.5")),  # 3.3 − 3.5 = −0.2: down
            HealthIndex(Side.PROVIDER, d("3.7"), 24, 8, 8, d("3.7")),  # steady: no line
        ),
        "issues": IssueSummary(
            (),
            (),
            (),
            (ESCALATED, STALLED, ACKNOWLEDGED, FRESH),
            tuple(SeverityAges(s, (0, 0, 0)) for s in ("S1", "S2", "S3", "S4")),
        ),
        "actions": ActionSummary(
            {Side.CLIENT: 1, Side.PROVIDER: 2},
            (
                DigestAction("Send the extract", Side.PROVIDER, date(2026, 11, 20)),
                DigestAction("Review the runbook", Side.CLIENT, date(2026, 11, 25)),
                DigestAction("Fix the alert", Side.PROVIDER, date(2026, 12, 1)),
            ),
            (),
        ),
        # Client: 2 promoters, 2 passives, 1 detractor of 5 = (2 − 1) / 5 = +20. Provider: too few answered.
        "nps": (NpsFigure(Side.CLIENT, 20, 5, 2, 2, 1), NpsFigure(Side.PROVIDER, None, 0, withheld=True)),
    }
    values.update(overrides)
    return digest_view(**values)


def _lines(view: DigestView) -> list[str]:
    message = build_digest_headline(view, digest_headline.headline(view))
    lines: list[str] = []
    for block in message.blocks:
        data = block.to_dict()
        if data["type"] == "header":
            lines.append(data["text"]["text"])
        elif data["type"] == "section":
            lines += data["text"]["text"].split("\n")
        else:
            lines += [e["text"] for e in data["elements"]]
    return lines


def test_the_headline_decides_changes_attention_and_decisions_in_order() -> None:
    h = digest_headline.headline(_busy())
    assert [x.side for x in h.changes.health] == [Side.CLIENT]
    assert [(c.comparison, c.side) for c in h.changes.items] == [(RESPONSIVENESS, Side.CLIENT)]
    assert h.attention.gaps == (RESPONSIVENESS,)
    assert [(a.issue.number, a.reason) for a in h.attention.issues] == [
        (1, IssueReason.ESCALATED),
        (3, IssueReason.STALLED),
    ]
    assert [(o.side, len(o.actions)) for o in h.attention.overdue] == [(Side.CLIENT, 1), (Side.PROVIDER, 2)]
    assert [(x.kind, x.side, [i.number for i in x.issues], x.actions, x.level) for x in h.decisions] == [
        (DecisionKind.ACKNOWLEDGE, Side.CLIENT, [4], 0, 0),
        (DecisionKind.ACKNOWLEDGE, Side.PROVIDER, [1, 3], 0, 0),
        (DecisionKind.ESCALATED, None, [1], 0, 2),
        (DecisionKind.OVERDUE, Side.CLIENT, [], 1, 0),
        (DecisionKind.OVERDUE, Side.PROVIDER, [], 2, 0),
    ]
    assert not h.quiet


def test_the_main_message_reads_headline_first_then_what_was_measured() -> None:
    lines = _lines(_busy())
    assert lines[:2] == [
        "Weekly digest · Northwind desk",
        lines[1],  # the week and the rules
    ]
    assert "gap = provider − client" in lines[1]
    assert lines[2:] == [
        "*What changed*",
        "• Health index (4 weeks, against the 4 before): Northwind 3.3 ↓ −0.2",
        "• Contoso's responsiveness, as Northwind rates it: 2.2 ↓ −1.2 vs 3.4 the last time",
        "*Needs attention*",
        "• *Contoso's responsiveness*: client 2.2 · provider 3.8 · gap +1.6 ⚠️",
        "• issue #1 Data feed late (S2 high, Contoso): escalated to level 2, open 28 days",
        "• issue #3 Typos in reports (S4 low, Contoso): not acknowledged after 9 days",
        "• 3 overdue actions: Northwind 1 · Contoso 2",
        "*Decisions needed*",
        "• Northwind: acknowledge issue #4 (logged, not yet acknowledged)",
        "• Contoso: acknowledge issues #1, #3 (logged, not yet acknowledged)",
        "• The leads of both sides: decide how to resolve issue #1 (escalated to level 2)",
        "• Northwind: finish 1 overdue action or agree a new date",
        "…and 1 more in the thread.",
        "*Measured this week* (1 pulse round; answered: Northwind 4 of 5 (80%) · Contoso 3 of 4 (75%))",
        "• *Contoso's responsiveness*: client 2.2 · provider 3.8 · gap +1.6 ⚠️",
        "• *The relationship's communication*: client 3.0 · provider 3.5 · gap +0.5",
        "• Relationship NPS (promoters − detractors): Northwind NPS +20 (5 answers: 2 promoters, 2 passives, "
        "1 detractor) · Contoso withheld (too few answers)",
        ":thread: The full detail (every result with its trend, the comments, all issues and actions) and the "
        "12-week trend chart are in this message's thread.",
    ]


def test_a_quiet_week_says_so_plainly_and_lists_no_empty_rows() -> None:
    view = digest_view(
        rounds=0,
        items=(),
        gaps=(),
        health=(HealthIndex(Side.CLIENT, None, 0, 0, 8), HealthIndex(Side.PROVIDER, None, 0, 0, 8)),
    )
    assert digest_headline.headline(view).quiet
    lines = _lines(view)
    assert lines[2:4] == [
        "*A quiet week*: nothing changed that the figures can show, nothing needs attention and no decision is waiting.",
        "*Measured this week*: no pulse round closed this week.",
    ]
    assert not any("no answers" in line.lower() or "last week" in line for line in lines)


def test_a_week_with_results_but_no_news_says_each_part_on_one_line() -> None:
    steady = Comparison("relationship", "trust", SideFigure(d("4.0"), 5, d("4.0")), SideFigure(d("4.2"), 4, d("4.5")))
    view = digest_view(items=(steady,), gaps=(steady,), health=(HealthIndex(Side.CLIENT, d("4.0"), 30, 8, 8, d("4.0")),) * 2)
    h = digest_headline.headline(view)
    # Provider 4.2 against 4.5: −0.3, under the watch level of 1.0, so no change; gap +0.2: no flag.
    assert not h.changes and not h.attention and not h.decisions and h.quiet


def test_a_withheld_side_shows_no_change_and_no_gap_and_is_named_first_under_attention() -> None:
    client, provider = digest_view().sides
    view = _busy(sides=(client, replace(provider, withheld=True)))
    h = digest_headline.headline(view)
    assert [(c.side, c.comparison) for c in h.changes.items] == [(Side.CLIENT, RESPONSIVENESS)]
    assert [x.side for x in h.changes.health] == [Side.CLIENT]
    assert h.attention.withheld == (Side.PROVIDER,) and h.attention.gaps == ()
    lines = _lines(view)
    first = lines.index("*Needs attention*") + 1
    assert lines[first] == "• Contoso: fewer than 3 answered, so its results are withheld this week"
    assert "• *Contoso's responsiveness*: client 2.2 · provider withheld · gap –" in lines  # measured, no gap


def test_the_detail_for_the_thread_has_every_result_with_its_trend_and_the_nps() -> None:
    view = _busy()
    text = " ".join(str(b.to_dict()) for m in build_digest_detail(view) for b in m.blocks)
    assert "*Contoso's responsiveness*: client 2.2 · provider 3.8 · gap +1.6 ⚠️" in text
    assert "client ↓ −1.2 vs 3.4 the last time" in text
    assert "*Relationship NPS (promoters − detractors)*: Northwind NPS +20" in text
    assert "What Northwind said" in text and "Weekly digest · " not in text  # no second header in the thread
