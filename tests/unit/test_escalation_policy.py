"""The escalation policy (DESIGN 3.3): default deadlines, when each level falls due, and what fires now.

These check the functions the escalation pass itself uses (``escalation_policy.decide``); the service-level
behaviour (each level once, messages, rescheduling) is in ``test_escalation.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.escalation_policy import (
    DEFAULT_POLICY,
    Deadlines,
    EscalationPolicy,
    decide,
    default_policy,
    escalation_reason,
    escalation_times,
    next_escalation_time,
)
from bot.services.working_calendar import WorkingCalendar

NY = ZoneInfo("America/New_York")
NY_CAL = WorkingCalendar("America/New_York")
H = timedelta(hours=1)


def _ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NY)


@dataclass(frozen=True)
class _State:
    """An issue as the policy sees it (the fields of ``escalation_policy.EscalationState``)."""

    severity: str
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    escalation_level: int
    status: str
    id: int = 1


def _issue(severity: str, *, acked: datetime | None = None, resolved: datetime | None = None, level: int = 0) -> _State:
    status = "resolved" if resolved else "acknowledged" if acked else "open"
    return _State(severity, OPENED, acked, resolved, level, status)


# Monday 2 February 2026 09:00 EST = 14:00 UTC. Working days are 8 h; EST until Sunday 8 March.
OPENED = _ny(2026, 2, 2, 9, 0)


def test_default_policy_matches_the_design_table() -> None:
    assert DEFAULT_POLICY.for_severity("S1") == Deadlines(acknowledge=H, resolve=8 * H)
    assert DEFAULT_POLICY.for_severity("S2") == Deadlines(acknowledge=4 * H, resolve=24 * H)
    assert DEFAULT_POLICY.for_severity("S3") == Deadlines(acknowledge=8 * H, resolve=80 * H)
    assert DEFAULT_POLICY.for_severity("S4") == Deadlines(acknowledge=16 * H, resolve=160 * H)
    assert default_policy(NY_CAL) == DEFAULT_POLICY
    long_days = WorkingCalendar("UTC", day_start=time(8), day_end=time(18))
    assert default_policy(long_days).for_severity("S3") == Deadlines(acknowledge=10 * H, resolve=100 * H)
    with pytest.raises(ValueError, match="Unknown severity"):
        DEFAULT_POLICY.for_severity("S5")
    with pytest.raises(ValueError, match="positive"):
        Deadlines(acknowledge=timedelta(0), resolve=H)


@pytest.mark.parametrize(
    ("severity", "level_1", "level_2", "level_3"),
    [
        # L1 = min(1 h, 6 h) -> Mon 10:00; L2 = min(2 h, 8 h) -> Mon 11:00; L3 = 16 h -> Tue 17:00.
        pytest.param("S1", datetime(2026, 2, 2, 15), datetime(2026, 2, 2, 16), datetime(2026, 2, 3, 22), id="s1"),
        # L1 = min(4 h, 18 h) -> Mon 13:00; L2 = min(8 h, 24 h) -> Mon 17:00; L3 = 48 h = 6 days -> next Mon 17:00.
        pytest.param("S2", datetime(2026, 2, 2, 18), datetime(2026, 2, 2, 22), datetime(2026, 2, 9, 22), id="s2"),
        # L1 = min(8 h, 60 h) -> Mon 17:00; L2 = min(16 h, 80 h) -> Tue 17:00; L3 = 160 h = 4 weeks -> Fri 27 Feb
        # 17:00.
        pytest.param("S3", datetime(2026, 2, 2, 22), datetime(2026, 2, 3, 22), datetime(2026, 2, 27, 22), id="s3"),
        # L1 = min(16 h, 120 h) -> Tue 17:00; L2 = min(32 h, 160 h) -> Thu 17:00; L3 = 320 h = 8 weeks ->
        # Friday 27 March 17:00, which is EDT by then: 21:00 UTC.
        pytest.param(
            "S4",
            datetime(2026, 2, 3, 22),
            datetime(2026, 2, 5, 22),
            datetime(2026, 3, 27, 21),
            id="s4-crosses-the-spring-change",
        ),
    ],
)
def test_escalation_times(severity: str, level_1: datetime, level_2: datetime, level_3: datetime) -> None:
    """Each level's time in New York working hours, given here as a naive UTC time."""
    assert escalation_times(_issue(severity), DEFAULT_POLICY, NY_CAL) == {
        1: level_1.replace(tzinfo=UTC),
        2: level_2.replace(tzinfo=UTC),
        3: level_3.replace(tzinfo=UTC),
    }


def test_escalation_uses_the_policy_given() -> None:
    quick = Deadlines(acknowledge=timedelta(minutes=10), resolve=2 * H)
    policy = EscalationPolicy(s1=quick, s2=quick, s3=quick, s4=quick)
    # L1 = min(10 min, 90 min); L2 = min(20 min, 2 h); L3 = 4 h.
    assert escalation_times(_issue("S3"), policy, NY_CAL) == {
        1: datetime(2026, 2, 2, 14, 10, tzinfo=UTC),
        2: datetime(2026, 2, 2, 14, 20, tzinfo=UTC),
        3: datetime(2026, 2, 2, 18, 0, tzinfo=UTC),
    }


def _next(
    now: datetime, *, acked: datetime | None = None, resolved: datetime | None = None, fired: set[int] | None = None
) -> int | None:
    """The level ``decide`` fires at ``now`` for an S1 issue opened at OPENED (``fired``: the levels already fired)."""
    issue = _issue("S1", acked=acked, resolved=resolved, level=max(fired or set(), default=0))
    return decide(issue, DEFAULT_POLICY, NY_CAL, now).level


def test_decide_unacknowledged() -> None:
    assert _next(_ny(2026, 2, 2, 9, 59)) is None
    assert _next(_ny(2026, 2, 2, 10, 0)) == 1  # due exactly at the deadline
    assert _next(_ny(2026, 2, 2, 10, 30), fired={1}) is None
    assert _next(_ny(2026, 2, 2, 11, 0), fired={1}) == 2
    assert _next(_ny(2026, 2, 3, 16, 59), fired={1, 2}) is None
    assert _next(_ny(2026, 2, 3, 17, 0), fired={1, 2}) == 3
    assert _next(_ny(2026, 2, 1, 12, 0)) is None  # before the issue was opened


def test_decide_returns_the_highest_due_level() -> None:
    # The bot was down all Monday: at Tuesday 17:00 level 3 is due, and it is the one to send.
    assert _next(_ny(2026, 2, 3, 17, 0)) == 3
    assert _next(_ny(2026, 2, 2, 12, 0)) == 2


def test_decide_never_repeats_or_steps_down() -> None:
    assert _next(_ny(2026, 2, 4, 12, 0), fired={1, 2, 3}) is None
    assert _next(_ny(2026, 2, 4, 12, 0), fired={3}) is None  # e.g. escalated by hand to level 3
    assert _next(_ny(2026, 2, 2, 12, 0), fired={2}) is None  # level 1 was superseded, not sent late
    for fired in ({1}, {2}, {1, 2}):
        assert _next(_ny(2026, 2, 3, 17, 0), fired=fired) == 3


def test_decide_after_acknowledgement_counts_only_resolve_based_levels() -> None:
    acked = _ny(2026, 2, 2, 9, 30)
    # The acknowledge-based triggers (10:00, 11:00) no longer count; 75% of 8 h = 6 h -> 15:00; resolve at 17:00.
    assert _next(_ny(2026, 2, 2, 11, 30), acked=acked) is None
    assert _next(_ny(2026, 2, 2, 14, 59), acked=acked) is None
    assert _next(_ny(2026, 2, 2, 15, 0), acked=acked) == 1
    assert _next(_ny(2026, 2, 2, 17, 0), acked=acked, fired={1}) == 2
    assert _next(_ny(2026, 2, 3, 16, 59), acked=acked, fired={1, 2}) is None
    assert _next(_ny(2026, 2, 3, 17, 0), acked=acked, fired={1, 2}) == 3
    # Level 1 already fired for the missed acknowledgement: the 75% trigger does not fire it again.
    assert _next(_ny(2026, 2, 2, 15, 0), acked=_ny(2026, 2, 2, 10, 30), fired={1}) is None


def test_decide_is_none_once_resolved() -> None:
    resolved = _ny(2026, 2, 2, 10, 30)
    assert _next(_ny(2026, 2, 2, 10, 30), resolved=resolved) is None
    assert _next(_ny(2026, 2, 20, 12, 0), resolved=resolved) is None
    assert _next(_ny(2026, 2, 20, 12, 0), acked=_ny(2026, 2, 2, 9, 5), resolved=resolved, fired={1}) is None


def test_escalation_times_once_acknowledged_count_only_the_resolve_time() -> None:
    # S1: 75% of 8 h -> Mon 15:00; 8 h -> Mon 17:00; 16 h -> Tue 17:00 (EST = UTC-5).
    assert escalation_times(_issue("S1", acked=_ny(2026, 2, 2, 9, 30)), DEFAULT_POLICY, NY_CAL) == {
        1: datetime(2026, 2, 2, 20, 0, tzinfo=UTC),
        2: datetime(2026, 2, 2, 22, 0, tzinfo=UTC),
        3: datetime(2026, 2, 3, 22, 0, tzinfo=UTC),
    }


def test_decide_says_why_what_it_skipped_and_when_next() -> None:
    # The heartbeat was down until Mon 12:00: level 2 (twice the acknowledge time) fires, level 1 is skipped.
    d = decide(_issue("S1"), DEFAULT_POLICY, NY_CAL, _ny(2026, 2, 2, 12, 0))
    assert (d.level, d.reason, d.skipped) == (2, "acknowledge", (1,))
    assert d.next_at == datetime(2026, 2, 3, 22, 0, tzinfo=UTC)  # level 3: Tue 17:00
    # Nothing due: only the index key moves.
    d = decide(_issue("S1", level=1), DEFAULT_POLICY, NY_CAL, _ny(2026, 2, 2, 10, 30))
    assert (d.level, d.reason, d.skipped, d.next_at) == (None, None, (), datetime(2026, 2, 2, 16, 0, tzinfo=UTC))
    # Level 3 fired: nothing is left.
    d = decide(_issue("S1", level=2), DEFAULT_POLICY, NY_CAL, _ny(2026, 2, 3, 17, 0))
    assert (d.level, d.reason, d.next_at) == (3, "resolve", None)


def test_next_escalation_time_is_the_next_level_above_the_highest_fired() -> None:
    assert next_escalation_time(_issue("S1"), DEFAULT_POLICY, NY_CAL) == datetime(2026, 2, 2, 15, 0, tzinfo=UTC)
    assert next_escalation_time(_issue("S1", level=2), DEFAULT_POLICY, NY_CAL) == datetime(2026, 2, 3, 22, 0, tzinfo=UTC)
    assert next_escalation_time(_issue("S1", level=3), DEFAULT_POLICY, NY_CAL) is None
    assert next_escalation_time(_issue("S1", resolved=_ny(2026, 2, 2, 9, 30)), DEFAULT_POLICY, NY_CAL) is None


def test_escalation_reason_names_the_deadline_that_came_first() -> None:
    s1 = DEFAULT_POLICY.for_severity("S1")  # 1 h / 8 h: the acknowledge triggers come first
    assert escalation_reason(1, s1, acknowledged=False) == "acknowledge"
    assert escalation_reason(2, s1, acknowledged=False) == "acknowledge"
    assert escalation_reason(1, s1, acknowledged=True) == "resolve"
    assert escalation_reason(3, s1, acknowledged=False) == "resolve"
    slow_ack = Deadlines(acknowledge=7 * H, resolve=8 * H)  # 7 h > 6 h (75%); 14 h > 8 h
    assert escalation_reason(1, slow_ack, acknowledged=False) == "resolve"
    assert escalation_reason(2, slow_ack, acknowledged=False) == "resolve"
