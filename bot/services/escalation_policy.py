"""The escalation policy (DESIGN 3.3): deadlines per severity, when each level falls due, and what fires now.

Every issue of a severity has a time to acknowledge and a time to resolve, counted in the owning side's working
time (``working_calendar``). Level 1 (nudge the owner) falls due when the acknowledge time passes unacknowledged, or
at 75% of the resolve time; level 2 (both leads) at twice the acknowledge time unacknowledged, or when the resolve
time passes; level 3 (the executive sponsors) at twice the resolve time. Each level fires once and escalation never
steps back down.

This is the only place those rules are written. The escalation pass (``escalation.escalate_due``) applies
``decide`` to each claimed issue; rescheduling after any change stores ``next_escalation_time``. Everything here is
pure: the caller passes the time, the policy and the calendar.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.services.issue_models import SEVERITIES, IssueStatus
from bot.services.working_calendar import WorkingCalendar, add_working_time
from storage.models import EscalationPolicyRow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deadlines:
    """Working time allowed to acknowledge and to resolve an issue of one severity. Both must be positive."""

    acknowledge: timedelta
    resolve: timedelta

    def __post_init__(self) -> None:
        if self.acknowledge <= timedelta(0) or self.resolve <= timedelta(0):
            raise ValueError(f"Acknowledge and resolve times must be positive, got {self.acknowledge} and {self.resolve}.")


@dataclass(frozen=True)
class EscalationPolicy:
    """Deadlines per severity, as working time (leads can change them, DESIGN 3.3).

    One field per severity rather than a mapping, so the policy is hashable and a missing severity is a type error.
    """

    s1: Deadlines
    s2: Deadlines
    s3: Deadlines
    s4: Deadlines

    def for_severity(self, severity: str) -> Deadlines:
        """The deadlines for ``"S1"`` ... ``"S4"``; ValueError for anything else."""
        if severity not in SEVERITIES:
            raise ValueError(f"Unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}.")
        deadlines: Deadlines = getattr(self, severity.lower())
        return deadlines


def default_policy(calendar: WorkingCalendar | None = None) -> EscalationPolicy:
    """The DESIGN 3.3 defaults, with "a day" meaning one working day of ``calendar`` (8 hours if omitted).

    S1 acknowledge 1 hour / resolve 1 day; S2 4 hours / 3 days; S3 1 day / 10 days; S4 2 days / 20 days.
    """
    day = calendar.day_length if calendar is not None else timedelta(hours=8)
    return EscalationPolicy(
        s1=Deadlines(acknowledge=timedelta(hours=1), resolve=day),
        s2=Deadlines(acknowledge=timedelta(hours=4), resolve=3 * day),
        s3=Deadlines(acknowledge=day, resolve=10 * day),
        s4=Deadlines(acknowledge=2 * day, resolve=20 * day),
    )


# Fixed working-time amounts (a day = 8 hours, the default calendar's length): the policy every partnership starts
# with, whatever its sides' day lengths.
DEFAULT_POLICY = default_policy()


def policy_from_rows(rows: Iterable[EscalationPolicyRow]) -> EscalationPolicy:
    """The DESIGN 3.3 defaults with a partnership's stored overrides applied."""
    overrides = {
        row.severity.lower(): Deadlines(
            acknowledge=timedelta(minutes=row.acknowledge_minutes), resolve=timedelta(minutes=row.resolve_minutes)
        )
        for row in rows
    }
    return replace(DEFAULT_POLICY, **overrides)


class EscalationState(Protocol):
    """What decides an issue's escalation: an ``Issue``, or the ``DueIssue`` the escalation pass claims."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def escalation_level(self) -> int: ...


def _trigger_amounts(deadlines: Deadlines, *, acknowledged: bool) -> dict[int, timedelta]:
    """Working time after opening at which each level falls due; acknowledgement drops the acknowledge triggers.

    min() over amounts equals min() over instants because adding working time is monotonic in the amount.
    """
    ack, resolve = deadlines.acknowledge, deadlines.resolve
    three_quarters = resolve * 3 / 4  # timedelta division rounds to the microsecond
    if acknowledged:
        return {1: three_quarters, 2: resolve, 3: 2 * resolve}
    return {1: min(ack, three_quarters), 2: min(2 * ack, resolve), 3: 2 * resolve}


def escalation_times(issue: EscalationState, policy: EscalationPolicy, calendar: WorkingCalendar) -> dict[int, datetime]:
    """For levels 1-3, the UTC instant each falls due for the issue as it stands, in ``calendar``'s working time.

    Counted from ``opened_at``: level 1 at the acknowledge time or 75% of the resolve time, whichever comes first;
    level 2 at twice the acknowledge time or the resolve time; level 3 at twice the resolve time. Once the issue is
    acknowledged only the resolve-based triggers count (75% of the resolve time, the resolve time, twice it).
    Levels are always in order: level 1 <= level 2 <= level 3.
    """
    amounts = _trigger_amounts(policy.for_severity(issue.severity), acknowledged=issue.acknowledged_at is not None)
    return {level: add_working_time(issue.opened_at, amount, calendar) for level, amount in amounts.items()}


def _next_time(times: dict[int, datetime], *, fired: int, resolved: bool) -> datetime | None:
    """The earliest of ``times`` above ``fired``, the highest level fired; None once resolved or level 3 fired."""
    if resolved or fired >= 3:
        return None
    return min(at for level, at in times.items() if level > fired)


def next_escalation_time(issue: EscalationState, policy: EscalationPolicy, calendar: WorkingCalendar) -> datetime | None:
    """When the issue's next level (above the highest fired) falls due, or None (resolved, or level 3 fired).

    The instant may already be past (an issue acknowledged after 75% of its resolve time): then the next tick
    fires it. It is the index key the escalation pass finds due issues by; ``decide`` says which level fires.
    """
    resolved = issue.status == IssueStatus.RESOLVED.value
    if resolved or issue.escalation_level >= 3:
        return None
    return _next_time(escalation_times(issue, policy, calendar), fired=issue.escalation_level, resolved=resolved)


def due_level(issue: EscalationState, times: dict[int, datetime], now: datetime) -> int | None:
    """The level to fire at ``now``, from the issue's ``escalation_times``; None when nothing is due.

    A resolved issue (``resolved_at`` set) never escalates; the timestamp is not compared with ``now``, so a
    heartbeat that read the clock just before the issue was resolved does not escalate it. A level is due when its
    instant is at or before ``now``; the result is the highest due level, and only if it is above the highest
    fired: each level fires once, and escalation never steps back down (after the leads were brought in, an owner
    nudge that was skipped is superseded, not sent late).
    """
    if issue.resolved_at is not None:
        return None
    return max((level for level, at in times.items() if level > issue.escalation_level and at <= now), default=None)


def escalation_reason(level: int, deadlines: Deadlines, *, acknowledged: bool) -> str:
    """Which deadline made ``level`` due: ``acknowledge`` or ``resolve`` (the wording of the message)."""
    if acknowledged or level >= 3:
        return "resolve"
    ack, resolve = deadlines.acknowledge, deadlines.resolve
    # Level 1: the acknowledge time or 3/4 of the resolve time; level 2: twice the acknowledge time or the resolve time.
    ack_first = 4 * ack <= 3 * resolve if level == 1 else 2 * ack <= resolve
    return "acknowledge" if ack_first else "resolve"


@dataclass(frozen=True)
class EscalationDecision:
    """What the escalation pass does with one issue at ``now``.

    ``level`` is the level to fire now (None: nothing fires), ``reason`` the deadline that made it due and
    ``skipped`` the levels it passes over (the heartbeat was down while they fell due). ``next_at`` is the issue's
    new index key: when the following level falls due, or None when nothing is left.
    """

    level: int | None
    reason: str | None
    skipped: tuple[int, ...]
    next_at: datetime | None


def decide(issue: EscalationState, policy: EscalationPolicy, calendar: WorkingCalendar, now: datetime) -> EscalationDecision:
    """The level due for ``issue`` at ``now``, if any, why, and when the next one falls due.

    When several levels fell due while the heartbeat was down, only the highest fires and the ones passed over are
    reported as skipped (no burst of stale nudges).
    """
    # Working time is counted once per issue: the same instants decide the level due now and the next index key.
    times = escalation_times(issue, policy, calendar)
    level = due_level(issue, times, now)
    reason = None
    skipped: tuple[int, ...] = ()
    if level is not None:
        reason = escalation_reason(
            level, policy.for_severity(issue.severity), acknowledged=issue.acknowledged_at is not None
        )
        skipped = tuple(range(issue.escalation_level + 1, level))
    fired = issue.escalation_level if level is None else level
    following = _next_time(times, fired=fired, resolved=issue.status == IssueStatus.RESOLVED.value)
    if following is not None and following <= now:
        # Cannot happen with consistent rows (the level just fired is the highest due by now); never spin.
        logger.error("issue %s: next escalation %s is not after now %s; stopping it", issue.id, following, now)
        following = None
    return EscalationDecision(level=level, reason=reason, skipped=skipped, next_at=following)
