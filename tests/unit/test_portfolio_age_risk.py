"""Issue 12, item 7: the portfolio's risk sees how long issues stay open, how far they escalated, and how long
actions are overdue. The figures are worked out by hand from the weights in ``bot.services.portfolio_age_risk``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.services import escalation, portfolio
from bot.services.digest_models import ActionSummary, DigestAction, DigestIssue, IssueSummary, SeverityAges, SideDigest
from bot.services.figures import HealthIndex
from bot.services.issue_models import IssueStatus
from bot.services.partnership_models import Side
from bot.services.portfolio_models import RiskLevel
from bot.services.portfolio_risk import assess, rank
from bot.services.pulse_models import Participation
from tests.factories import digest_view, make_issue_world
from tests.unit_support import create_action_in, log_issue_in

#: The factory digest's week ends Fri 11 Dec 2026 16:00 in New York.
TODAY = date(2026, 12, 11)
NO_AGES = tuple(SeverityAges(s, (0, 0, 0)) for s in ("S1", "S2", "S3", "S4"))


def _healthy(**overrides: Any) -> Any:
    """Both sides rate 4.2, as last week, everyone answered, no gap: health, trend, gap and participation score 0."""
    return digest_view(
        # Both sides' health index 4.2, as in the four weeks before; no results this week, so no gap.
        health=tuple(HealthIndex(side, Decimal("4.2"), 8, 8, 8, Decimal("4.2")) for side in (Side.CLIENT, Side.PROVIDER)),
        items=(),
        gaps=(),
        sides=(
            SideDigest(Side.CLIENT, "Northwind", Participation(4, 4), False, None, (), ()),
            SideDigest(Side.PROVIDER, "Contoso", Participation(4, 4), False, None, (), ()),
        ),
        **overrides,
    )


def test_an_old_unacknowledged_escalated_s2_and_an_action_12_days_overdue_rank_high() -> None:
    stale = DigestIssue(3, "Change tickets wait", "S2", Side.PROVIDER, IssueStatus.OPEN, 3, 28)
    neglected = _healthy(
        issues=IssueSummary((), (), (), (stale,), NO_AGES),
        actions=ActionSummary(
            {Side.CLIENT: 1}, (DigestAction("Send the extract", Side.CLIENT, TODAY - timedelta(days=12)),), ()
        ),
    )
    fresh = DigestIssue(1, "Typo on the invoice", "S4", Side.PROVIDER, IssueStatus.OPEN, 0, 0)
    calm = _healthy(issues=IssueSummary((fresh,), (), (), (fresh,), NO_AGES))
    calm = calm.__class__(
        **{**calm.__dict__, "partnership": calm.partnership.__class__(**{**calm.partnership.__dict__, "id": 2})}
    )

    at_risk, quiet = assess(neglected), assess(calm)
    # S2: weight 5 × (1 + min(28 days ÷ 3 working days, 3) = 3) = 20, + 6 × level 3 = 18: 38.
    # The action: 2 + 0.5 × 12 days = 8. Everything else scores 0: 46, high (40 or more).
    assert (at_risk.score, at_risk.level) == (46, RiskLevel.HIGH)
    assert at_risk.reasons == ("S2 #3 unacknowledged for 4 weeks, escalated to the sponsors", "1 action overdue by 12 days")
    # A fresh S4: weight 1 × (1 + 0 days ÷ 20) = 1, no escalation: 1, low.
    assert (quiet.score, quiet.level, quiet.reasons) == (1, RiskLevel.LOW, ())
    assert [e.partnership.id for e in rank([quiet, at_risk])] == [1, 2]


def test_age_counts_against_the_resolve_time_and_escalation_adds_per_level() -> None:
    def points(severity: str, age: int, level: int, status: IssueStatus = IssueStatus.ACKNOWLEDGED) -> int:
        issue = DigestIssue(1, "x", severity, Side.CLIENT, status, level, age)
        return assess(_healthy(issues=IssueSummary((), (), (), (issue,), NO_AGES))).score

    assert points("S2", 0, 0) == 5  # a fresh S2 scores what it always did
    assert points("S2", 3, 0) == 10  # 5 × (1 + 3 ÷ 3)
    assert points("S2", 3, 2) == 22  # + 6 × 2
    assert points("S1", 1, 1) == 26  # 10 × (1 + 1 ÷ 1) + 6
    assert points("S3", 5, 0) == 3  # 2 × (1 + 5 ÷ 10) = 3
    assert points("S1", 30, 3) == 58  # 10 × (1 + 3) + 18
    # Three old S1s at the sponsors: 3 × 58, capped at 60.
    old = tuple(DigestIssue(n, "x", "S1", Side.CLIENT, IssueStatus.OPEN, 3, 30) for n in (1, 2, 3))
    entry = assess(_healthy(issues=IssueSummary((), (), (), old, NO_AGES)))
    assert entry.score == 60
    assert entry.reasons == (
        "S1 #1 unacknowledged for 4 weeks, escalated to the sponsors; S1 #2 unacknowledged for 4 weeks, escalated to "
        "the sponsors; S1 #3 unacknowledged for 4 weeks, escalated to the sponsors",
    )
    # A lead's longer resolve time for S2 (6 working days = 48 working hours): the same 3-day-old S2 ages half as fast.
    issue = DigestIssue(1, "x", "S2", Side.CLIENT, IssueStatus.ACKNOWLEDGED, 0, 3)
    view = _healthy(issues=IssueSummary((), (), (), (issue,), NO_AGES))
    slower = {**portfolio.age_risk.DEFAULT_RESOLVE, "S2": timedelta(hours=48)}
    assert assess(view, slower).score == 8  # 5 × (1 + 3 ÷ 6) = 7.5, rounded (half to even) to 8
    assert assess(view, slower).reasons == ("S2 #1 open for 3 days",)


def test_overdue_actions_grow_with_days_and_are_capped() -> None:
    def view(*days: int) -> Any:
        late = tuple(DigestAction(f"a{i}", Side.CLIENT, TODAY - timedelta(days=d)) for i, d in enumerate(days))
        return _healthy(actions=ActionSummary({Side.CLIENT: len(days)}, late, ()))

    assert assess(view(1)).score == 2  # 2 + 0.5 = 2.5, rounded to even: 2
    assert assess(view(4)).score == 4 and assess(view(4)).reasons == ("1 action overdue by 4 days",)
    assert assess(view(30)).score == 10  # 2 + 15, at most 10 for one action
    entry = assess(view(2, 20, 40))  # 3 + 10 + 10, at most 20
    assert entry.score == 20 and entry.reasons == ("3 actions overdue, the oldest by 5 weeks",)


# --- the same scenario from the database, through the portfolio the leads see ------------------------------------

#: Fri 8 Jan 2027, 16:00 in New York: the end of the partnerships' latest digest week when the leads look (NOW,
#: Saturday 9 Jan 07:00 in New York). The portfolio reads each partnership's latest week as it stood at that
#: week's end (history as it was, as the digest does), so ages and days overdue are counted up to WEEK_END.
WEEK_END = datetime(2027, 1, 8, 21, 0, tzinfo=UTC)
NOW = datetime(2027, 1, 9, 12, 0, tzinfo=UTC)


def test_the_portfolio_from_the_database_ranks_the_neglected_partnership_high(uow_factory: Any) -> None:
    logged = NOW - timedelta(days=28, hours=1)
    world = make_issue_world(uow_factory, now=logged)
    calm = make_issue_world(uow_factory, now=logged, channel_id="C200", name="Contoso payroll")
    log_issue_in(world, key="log-1", now=logged, actor="UC1", severity="S2", owning_side=Side.PROVIDER, owner_id="UP1")
    # Due 12 days before NOW in New York.
    create_action_in(world, key="action-1", now=logged, actor="UC1", due_on=date(2027, 1, 9) - timedelta(days=12))
    escalation.escalate_due(uow_factory, now=WEEK_END - timedelta(hours=1))  # never acknowledged: straight to level 3
    late = WEEK_END - timedelta(minutes=5)
    log_issue_in(calm, key="log-2", now=late, actor="UC1", severity="S4", owning_side=Side.PROVIDER, owner_id="UP1")

    view = portfolio.portfolio_for(uow_factory, team_id=world.team_id, user_id="UCL", now=NOW)
    first, second = view.entries
    # No pulse in either: 5 points each for the blind spot. At the week's end (Fri 8 Jan) the action, due Mon 28 Dec,
    # is 11 days overdue: 2 + 0.5 x 11 = 7.5. The S2, open 27.4 days against a 3-day resolve time, is capped at
    # 5 x (1 + 3) = 20, plus 6 x 3 levels = 38. Neglected: 38 + 7.5 + 5 = 50.5, shown as 50. Calm: 1 + 5 = 6.
    assert (first.partnership.id, first.score, first.level) == (world.partnership_id, 50, RiskLevel.HIGH)
    assert first.reasons[:2] == (
        "S2 #1 unacknowledged for 3 weeks, escalated to the sponsors",  # 27 days at the week's end: 3 whole weeks
        "1 action overdue by 11 days",
    )
    assert (second.partnership.id, second.score, second.level) == (calm.partnership_id, 6, RiskLevel.LOW)
