"""The issue log (DESIGN 3.3): logging an issue, its card's life cycle, escalation in working hours, the policy.

An issue has an owner on its owning side, a severity and a category. Its escalation clock runs in the owning
side's working hours (``working_hours``); the next moment anything can fire is precomputed into
``Issue.next_escalation_at`` whenever the issue, the policy or the calendar changes, so the heartbeat finds due
escalations with one indexed query (``escalate_due``). Every change is stored as an ``IssueEvent`` and goes to
the channel through the outbox: the card is updated in place and a line is added to its thread.

Escalation messages say what is waiting, since when, what is needed and from whom; they never say whose fault
it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from bot.services import outbox, signals
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.models import (
    DEFAULT_CATEGORIES,
    MAX_CATEGORY,
    MAX_DETAILS,
    MAX_ISSUE_TITLE,
    SEVERITIES,
    ActionStatus,
    ActionView,
    CalendarView,
    EscalationNotice,
    FollowupQuestion,
    FollowupView,
    HistoryItem,
    HolidayView,
    IssueCard,
    IssueEventView,
    IssueFilter,
    IssueInput,
    IssueStatus,
    IssueView,
    LogIssueResult,
    PolicyChange,
    PolicyView,
    Role,
    SeverityPolicy,
    Side,
)
from bot.services.views import partnership_view
from bot.services.working_hours import (
    DEFAULT_POLICY,
    Deadlines,
    EscalationPolicy,
    WorkingCalendar,
    escalation_due_times,
)
from storage.models import Action, EscalationPolicyRow, Followup, Holiday, Issue, IssueEvent, Member, Partnership
from storage.repositories.issues import UNRESOLVED, DueIssue, Escalation, IssueStore
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]

#: Issues handled per transaction by the escalation tick.
BATCH = 200
MAX_CATEGORIES = 25
MAX_REQUEST_KEY = 100
MAX_PERMALINK = 500
#: A due date further ahead than this is almost certainly a typo (2062 for 2026).
MAX_DUE_AHEAD = timedelta(days=2 * 366)
#: Bounds of a lead's policy, in working time: escalating twice the resolve time must stay computable.
MAX_RESOLVE = timedelta(hours=8 * 250)
NO_PARTNERSHIP = "This channel has no partnership yet. A lead can create one with `/partner setup`."


# --- read models ------------------------------------------------------------------------------------------


def issue_view(issue: Issue) -> IssueView:
    """Read model of a stored issue."""
    return IssueView(
        id=issue.id,
        partnership_id=issue.partnership_id,
        number=issue.number,
        title=issue.title,
        details=issue.details,
        severity=issue.severity,
        category=issue.category,
        owning_side=Side(issue.owning_side),
        owner_id=issue.owner_id,
        raised_by=issue.raised_by,
        raised_by_side=Side(issue.raised_by_side) if issue.raised_by_side else None,
        due_on=issue.due_on,
        status=IssueStatus(issue.status),
        created_at=issue.created_at,
        opened_at=issue.opened_at,
        acknowledged_at=issue.acknowledged_at,
        acknowledged_by=issue.acknowledged_by,
        resolved_at=issue.resolved_at,
        resolved_by=issue.resolved_by,
        escalation_level=issue.escalation_level,
        next_escalation_at=issue.next_escalation_at,
        card_ts=issue.card_ts,
        source_permalink=issue.source_permalink,
    )


def event_view(event: IssueEvent) -> IssueEventView:
    return IssueEventView(
        id=event.id,
        issue_id=event.issue_id,
        at=event.at,
        actor=event.actor,
        kind=event.kind,
        level=event.level,
        detail=event.detail,
        data=dict(event.data or {}),
    )


def action_view(action: Action, *, issue_number: int | None = None, today: date | None = None) -> ActionView:
    """Read model of an action; ``overdue`` is only known when the caller says what day it is for the owner."""
    return ActionView(
        id=action.id,
        partnership_id=action.partnership_id,
        issue_id=action.issue_id,
        issue_number=issue_number,
        followup_id=action.followup_id,
        title=action.title,
        owner_id=action.owner_id,
        side=Side(action.side),
        due_on=action.due_on,
        status=ActionStatus(action.status),
        created_by=action.created_by,
        created_at=action.created_at,
        closed_at=action.closed_at,
        overdue=today is not None and action.status == ActionStatus.OPEN.value and action.due_on < today,
    )


def followup_view(followup: Followup, *, issue_number: int, action_id: int | None) -> FollowupView:
    return FollowupView(
        id=followup.id,
        issue_id=followup.issue_id,
        issue_number=issue_number,
        side=Side(followup.side),
        author_id=followup.author_id,
        text=followup.text,
        created_at=followup.created_at,
        action_id=action_id,
    )


# --- calendars and policy ----------------------------------------------------------------------------------


def parse_workdays(raw: str) -> frozenset[int]:
    """``"0,1,2,3,4"`` (as stored) to weekday numbers, 0 = Monday."""
    return frozenset(int(part) for part in raw.split(",") if part.strip())


def format_workdays(days: Iterable[int]) -> str:
    return ",".join(str(d) for d in sorted(set(days)))


def parse_hhmm(raw: str) -> time:
    hour, minute = raw.split(":")
    return time(int(hour), int(minute))


def side_timezone(p: Partnership, side: str) -> str:
    """The side's own time zone, or the partnership's when the side has none."""
    return (p.client_timezone if side == Side.CLIENT.value else p.provider_timezone) or p.timezone


def side_calendar(p: Partnership, side: str, holidays: Iterable[date] = ()) -> WorkingCalendar:
    """The working calendar of one side of a partnership (holidays given by the caller)."""
    if side == Side.CLIENT.value:
        workdays, start, end = p.client_workdays, p.client_day_start, p.client_day_end
    else:
        workdays, start, end = p.provider_workdays, p.provider_day_start, p.provider_day_end
    return WorkingCalendar(
        timezone=side_timezone(p, side),
        workdays=parse_workdays(workdays),
        day_start=parse_hhmm(start),
        day_end=parse_hhmm(end),
        holidays=frozenset(holidays),
    )


def load_calendar(store: IssueStore, p: Partnership, side: str) -> WorkingCalendar:
    return side_calendar(p, side, (h.day for h in store.holidays.for_partnership(p.id, side)))


def policy_from_rows(rows: Iterable[EscalationPolicyRow]) -> EscalationPolicy:
    """The DESIGN 3.3 defaults with a partnership's overrides applied."""
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


def escalation_times(issue: EscalationState, policy: EscalationPolicy, calendar: WorkingCalendar) -> dict[int, datetime]:
    """When each level 1-3 falls due for the issue as it stands, counted in ``calendar``'s working time.

    Uses ``escalation_due_times``. Once acknowledged only the resolve-based triggers count (as in
    ``next_escalation``); giving the severity an acknowledge time equal to its resolve time yields exactly those
    (min(R, 3R/4), min(2R, R), 2R).
    """
    if issue.acknowledged_at is not None:
        resolve = policy.for_severity(issue.severity).resolve
        policy = replace(policy, **{issue.severity.lower(): Deadlines(acknowledge=resolve, resolve=resolve)})
    return escalation_due_times(issue.opened_at, issue.severity, policy, calendar)


def _next_time(times: dict[int, datetime], *, fired: int, resolved: bool) -> datetime | None:
    """The earliest of ``times`` above ``fired``, the highest level fired; None once resolved or level 3 fired."""
    if resolved or fired >= 3:
        return None
    return min(at for level, at in times.items() if level > fired)


def next_escalation_time(issue: EscalationState, policy: EscalationPolicy, calendar: WorkingCalendar) -> datetime | None:
    """When the issue's next level (above the highest fired) becomes due, or None (resolved, or level 3 fired).

    The instant may already be past (an issue acknowledged after 75% of its resolve time): then the next tick
    fires it. It is the index key ``escalate_due`` finds due issues by; which level fires is decided there.
    """
    resolved = issue.status == IssueStatus.RESOLVED.value
    if resolved or issue.escalation_level >= 3:
        return None
    return _next_time(escalation_times(issue, policy, calendar), fired=issue.escalation_level, resolved=resolved)


def _due_level(issue: EscalationState, times: dict[int, datetime], now: datetime) -> int | None:
    """The level to fire at ``now``: what ``next_escalation`` answers, from instants already computed.

    The highest level due by ``now`` above the highest fired (each level fires once, never stepping back down);
    None once resolved. ``times`` are ``escalation_times``, i.e. the triggers ``next_escalation`` counts.
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


class _Context:
    """Partnerships, policies and calendars of a batch of issues, each loaded once."""

    def __init__(self, store: IssueStore, partnerships: dict[int, Partnership]) -> None:
        ids = list(partnerships)
        self.partnerships = partnerships
        rows: dict[int, list[EscalationPolicyRow]] = {}
        for row in store.policies.for_partnerships(ids):
            rows.setdefault(row.partnership_id, []).append(row)
        self._policies = {pid: policy_from_rows(rows.get(pid, [])) for pid in ids}
        self._holidays: dict[tuple[int, str], set[date]] = {}
        for h in store.holidays.for_partnerships(ids):
            self._holidays.setdefault((h.partnership_id, h.side), set()).add(h.day)
        self._calendars: dict[tuple[int, str], WorkingCalendar] = {}

    def policy(self, partnership_id: int) -> EscalationPolicy:
        return self._policies[partnership_id]

    def calendar(self, partnership_id: int, side: str) -> WorkingCalendar:
        key = (partnership_id, side)
        cal = self._calendars.get(key)
        if cal is None:
            cal = side_calendar(self.partnerships[partnership_id], side, self._holidays.get(key, ()))
            self._calendars[key] = cal
        return cal


def _reschedule(store: IssueStore, p: Partnership, issue: Issue) -> None:
    policy = policy_from_rows(store.policies.for_partnership(p.id))
    issue.next_escalation_at = next_escalation_time(issue, policy, load_calendar(store, p, issue.owning_side))


def _reschedule_all(store: IssueStore, p: Partnership, *, owning_side: str | None = None) -> int:
    """Recompute the escalation time of the partnership's unresolved issues (after a policy or calendar change).

    A calendar change (``owning_side`` given) also moves that side's overdue-action reminders: their precomputed
    times are cleared, and the next reminder pass computes them from the new working hours and holidays.
    """
    if owning_side is not None:
        store.actions.clear_reminder_times(p.id, owning_side)
    issues = store.issues.unresolved(p.id, owning_side=owning_side)
    if not issues:
        return 0
    context = _Context(store, {p.id: p})
    for issue in issues:
        issue.next_escalation_at = next_escalation_time(
            issue, context.policy(p.id), context.calendar(p.id, issue.owning_side)
        )
    return len(issues)


# --- shared checks -----------------------------------------------------------------------------------------


def require_partnership(uow: UnitOfWork, team_id: str, channel_id: str) -> Partnership:
    p = uow.partnerships.get_by_channel(team_id, channel_id)
    if p is None:
        raise NotFound(NO_PARTNERSHIP)
    return p


def is_lead(uow: UnitOfWork, p: Partnership, user_id: str) -> bool:
    m = uow.members.get(p.id, user_id)
    return m is not None and m.role == Role.LEAD.value and not m.deleted


def require_lead(uow: UnitOfWork, p: Partnership, user_id: str, what: str) -> None:
    if not is_lead(uow, p, user_id):
        raise NotAllowed(f"Only the partnership's leads can {what}. Ask a lead of either side.")


def issue_in_channel(
    uow: UnitOfWork, store: IssueStore, channel_id: str, issue_id: int, *, for_update: bool = False
) -> tuple[Issue, Partnership]:
    """The issue, if it belongs to the partnership of ``channel_id`` (a button value cannot reach another one)."""
    issue = store.issues.get(issue_id, for_update=for_update)
    p = uow.partnerships.get(issue.partnership_id) if issue is not None else None
    if issue is None or p is None or p.channel_id != channel_id:
        raise NotFound("This issue does not exist in this channel's partnership.")
    return issue, p


def today_in(p: Partnership, now: datetime, side: str | None = None) -> date:
    """The local date at ``now`` for a side (or the partnership)."""
    tz = side_timezone(p, side) if side else p.timezone
    return now.astimezone(ZoneInfo(tz)).date()


def active_member(uow: UnitOfWork, p: Partnership, user_id: str, *, field: str, role: str = "owner") -> Member:
    """A person who can own things: known, in the channel, an active account and not a bot.

    Raises:
        InvalidInput: with ``field``, saying what is wrong and what to do instead.
    """
    m = uow.members.get(p.id, user_id) if user_id else None
    if m is None:
        raise InvalidInput(f"The {role} must be someone in this channel. Choose a member of this channel.", field)
    if m.deleted:
        raise InvalidInput(f"That person's Slack account is deactivated. Choose someone else as the {role}.", field)
    if m.is_bot:
        raise InvalidInput(f"A bot cannot be the {role}. Choose a person.", field)
    if not m.in_channel:
        raise InvalidInput(
            f"That person is not in this channel, so they would not see it. Choose someone here as the {role}, "
            "or invite them first.",
            field,
        )
    return m


def check_due_date(p: Partnership, due_on: date | None, now: datetime, *, field: str = "due_on") -> None:
    if due_on is None:
        return
    today = today_in(p, now)
    if due_on < today:
        raise InvalidInput("The due date is in the past. Choose today or a later day.", field)
    if due_on > today + MAX_DUE_AHEAD:
        raise InvalidInput("The due date is more than two years away. Check the year.", field)


def check_text(value: str, *, field: str, label: str, limit: int, required: bool) -> str:
    """Strip and check a text field's length. Returns the stripped text."""
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"Please write a {label}.", field)
    if len(text) > limit:
        raise InvalidInput(f"The {label} can be at most {limit:,} characters (this one has {len(text):,}).", field)
    return text


def org_of(p: Partnership, side: str) -> str:
    return p.client_org if side == Side.CLIENT.value else p.provider_org


def categories_of(p: Partnership) -> tuple[str, ...]:
    stored = p.issue_categories
    if not stored:
        return DEFAULT_CATEGORIES
    return tuple(str(c) for c in stored)


# --- history -----------------------------------------------------------------------------------------------


def record_event(
    uow: UnitOfWork,
    store: IssueStore,
    p: Partnership,
    issue: Issue,
    *,
    kind: str,
    actor: str | None,
    now: datetime,
    detail: str | None = None,
    level: int | None = None,
    data: dict[str, Any] | None = None,
    reply: bool = True,
) -> IssueEvent:
    """Store a history entry, update the card in place and (with ``reply``) add a line to its thread."""
    event = store.events.add(
        IssueEvent(issue_id=issue.id, at=now, actor=actor, kind=kind, level=level, detail=detail, data=data)
    )
    issue.updated_at = now
    outbox.add_new(
        uow, p, purpose=outbox.Purpose.ISSUE_CARD_UPDATE, ref_id=issue.id, key=f"issue-card:{issue.id}:{event.id}", now=now
    )
    if reply:
        outbox.add_new(
            uow, p, purpose=outbox.Purpose.ISSUE_HISTORY, ref_id=event.id, key=f"issue-history:{event.id}", now=now
        )
    return event


# --- logging -----------------------------------------------------------------------------------------------


def validate_issue(data: IssueInput, categories: Sequence[str]) -> IssueInput:
    """Check the issue form and return it stripped.

    Raises:
        InvalidInput: ``field`` names the IssueInput attribute that is wrong.
    """
    title = check_text(data.title, field="title", label="title", limit=MAX_ISSUE_TITLE, required=True)
    details = check_text(data.details or "", field="details", label="details", limit=MAX_DETAILS, required=False)
    if data.severity not in SEVERITIES:
        raise InvalidInput("Choose a severity from S1 (critical) to S4 (low).", "severity")
    if data.category not in categories:
        raise InvalidInput("Choose one of this partnership's categories.", "category")
    try:
        side = Side(data.owning_side)
    except ValueError:
        raise InvalidInput("Choose the side that owns this issue.", "owning_side") from None
    link = (data.source_permalink or "").strip()
    # Only Slack's own permalinks are kept: anything else could disguise a link on the card.
    if not (link.startswith("https://") and len(link) <= MAX_PERMALINK and not any(c in link for c in "<>| \n")):
        link = ""
    return replace(data, title=title, details=details, owning_side=side, source_permalink=link or None)


def _check_owner(uow: UnitOfWork, p: Partnership, owner_id: str, owning_side: str, *, field: str = "owner_id") -> Member:
    owner = active_member(uow, p, owner_id, field=field)
    if owner.side is not None and owner.side != owning_side:
        raise InvalidInput(
            f"The owner is on the {org_of(p, owner.side)} side. Choose an owner from the {org_of(p, owning_side)} "
            "side, or make the other side the owning side.",
            field,
        )
    return owner


def log_issue(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    data: IssueInput,
    request_key: str,
    now: datetime,
) -> LogIssueResult:
    """Log an issue and queue its card. Anyone in the channel may. The same ``request_key`` logs it once.

    Raises:
        NotFound: no partnership in this channel.
        InvalidInput: the form is wrong (``field`` names the IssueInput attribute).
    """
    key = request_key[:MAX_REQUEST_KEY]
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        store = IssueStore(uow.session)
        data = validate_issue(data, categories_of(p))
        # Taking the number locks the partnership row: a second delivery of the same submission waits here,
        # then finds the first one's issue.
        number = store.issues.take_number(p.id)
        existing = store.issues.get_by_request_key(p.id, key)
        if existing is not None:
            return LogIssueResult(issue_view(existing), created=False)
        _check_owner(uow, p, data.owner_id, data.owning_side.value)
        check_due_date(p, data.due_on, now)
        raiser = uow.members.get(p.id, actor)
        issue = store.issues.add(
            Issue(
                partnership_id=p.id,
                number=number,
                title=data.title,
                details=data.details,
                severity=data.severity,
                category=data.category,
                owning_side=data.owning_side.value,
                owner_id=data.owner_id,
                raised_by=actor,
                raised_by_side=raiser.side if raiser is not None else None,
                due_on=data.due_on,
                status=IssueStatus.OPEN.value,
                created_at=now,
                opened_at=now,
                escalation_level=0,
                source_permalink=data.source_permalink,
                request_key=key,
                updated_at=now,
            )
        )
        _reschedule(store, p, issue)
        store.events.add(IssueEvent(issue_id=issue.id, at=now, actor=actor, kind="created", detail=None, data=None))
        outbox.add_new(uow, p, purpose=outbox.Purpose.ISSUE_CARD, ref_id=issue.id, key=f"issue-card:{issue.id}", now=now)
        signals.check_recurring(uow, store, p, category=issue.category, now=now)
        try:
            uow.commit()
        except IntegrityError:
            # Raced past the lock (it cannot on PostgreSQL or SQLite, but a unique key is the last word).
            uow.rollback()
            existing = IssueStore(uow.session).issues.get_by_request_key(p.id, key)
            if existing is None:
                raise
            return LogIssueResult(issue_view(existing), created=False)
        logger.info("partnership %s: issue #%s logged (%s, %s)", p.id, number, issue.severity, issue.category)
        return LogIssueResult(issue_view(issue), created=True)


# --- the life cycle ----------------------------------------------------------------------------------------


def _require_owner_or_lead(uow: UnitOfWork, p: Partnership, issue: Issue, actor: str, what: str) -> None:
    if actor != issue.owner_id and not is_lead(uow, p, actor):
        raise NotAllowed(f"Only the issue's owner (<@{issue.owner_id}>) or a lead can {what} it.")


def _acknowledge(
    uow: UnitOfWork, store: IssueStore, p: Partnership, issue: Issue, actor: str, comment: str | None, now: datetime
) -> None:
    _require_owner_or_lead(uow, p, issue, actor, "acknowledge")
    if issue.status == IssueStatus.RESOLVED.value:
        raise Conflict(f"Issue #{issue.number} is already resolved.")
    if issue.status == IssueStatus.ACKNOWLEDGED.value:
        raise Conflict(f"Issue #{issue.number} was already acknowledged by <@{issue.acknowledged_by}>.")
    issue.status, issue.acknowledged_at, issue.acknowledged_by = IssueStatus.ACKNOWLEDGED.value, now, actor
    _reschedule(store, p, issue)
    record_event(uow, store, p, issue, kind="acknowledged", actor=actor, now=now, detail=comment)


def _resolve(
    uow: UnitOfWork, store: IssueStore, p: Partnership, issue: Issue, actor: str, comment: str | None, now: datetime
) -> None:
    _require_owner_or_lead(uow, p, issue, actor, "resolve")
    if issue.status == IssueStatus.RESOLVED.value:
        raise Conflict(f"Issue #{issue.number} is already resolved.")
    issue.status, issue.resolved_at, issue.resolved_by = IssueStatus.RESOLVED.value, now, actor
    issue.next_escalation_at = None
    event = record_event(uow, store, p, issue, kind="resolved", actor=actor, now=now, detail=comment)
    # The blameless question, once per resolution.
    outbox.add_new(
        uow, p, purpose=outbox.Purpose.FOLLOWUP_QUESTION, ref_id=event.id, key=f"followup-question:{event.id}", now=now
    )


def _reopen(
    uow: UnitOfWork, store: IssueStore, p: Partnership, issue: Issue, actor: str, comment: str | None, now: datetime
) -> None:
    if actor not in (issue.owner_id, issue.raised_by) and not is_lead(uow, p, actor):
        raise NotAllowed(f"Only the issue's owner (<@{issue.owner_id}>), the person who raised it or a lead can reopen it.")
    if issue.status != IssueStatus.RESOLVED.value:
        raise Conflict(f"Issue #{issue.number} is not resolved, so there is nothing to reopen.")
    # A reopened issue starts a fresh clock: it needs acknowledging again, and escalation counts from now.
    issue.status, issue.opened_at, issue.escalation_level = IssueStatus.OPEN.value, now, 0
    issue.acknowledged_at = issue.acknowledged_by = issue.resolved_at = issue.resolved_by = None
    _reschedule(store, p, issue)
    record_event(uow, store, p, issue, kind="reopened", actor=actor, now=now, detail=comment)


def _comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    return check_text(comment, field="comment", label="comment", limit=MAX_DETAILS, required=False) or None


def acknowledge(uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, now: datetime) -> IssueView:
    """The owner or a lead acknowledges the issue: acknowledge-based escalation stops.

    Raises:
        NotFound, NotAllowed (not the owner or a lead), Conflict (already acknowledged or resolved).
    """
    with uow:
        store = IssueStore(uow.session)
        issue, p = issue_in_channel(uow, store, channel_id, issue_id, for_update=True)
        _acknowledge(uow, store, p, issue, actor, None, now)
        uow.commit()
        return issue_view(issue)


def resolve(
    uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, now: datetime, comment: str | None = None
) -> IssueView:
    """The owner or a lead resolves the issue; escalation stops and both sides are asked the blameless question.

    Raises:
        NotFound, NotAllowed, Conflict (already resolved), InvalidInput (``comment`` too long).
    """
    note = _comment(comment)
    with uow:
        store = IssueStore(uow.session)
        issue, p = issue_in_channel(uow, store, channel_id, issue_id, for_update=True)
        _resolve(uow, store, p, issue, actor, note, now)
        uow.commit()
        return issue_view(issue)


def reopen(
    uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, now: datetime, comment: str | None = None
) -> IssueView:
    """Reopen a resolved issue (owner, raiser or lead). Its escalation clock starts again from now.

    Raises:
        NotFound, NotAllowed, Conflict (not resolved), InvalidInput (``comment`` too long).
    """
    note = _comment(comment)
    with uow:
        store = IssueStore(uow.session)
        issue, p = issue_in_channel(uow, store, channel_id, issue_id, for_update=True)
        _reopen(uow, store, p, issue, actor, note, now)
        uow.commit()
        return issue_view(issue)


def update_issue(
    uow: UnitOfWork,
    *,
    channel_id: str,
    issue_id: int,
    actor: str,
    status: IssueStatus | None,
    comment: str | None,
    now: datetime,
) -> IssueView:
    """The card's "Update" button: a new status and/or a comment, recorded as one history entry.

    Anyone in the channel can comment. Changing the status follows the rules of acknowledge, resolve and
    reopen (owner or lead; the raiser may also reopen).

    Raises:
        InvalidInput: neither a status change nor a comment (``field`` "comment"), or a comment over 3,000
            characters.
        NotFound, NotAllowed, Conflict.
    """
    note = _comment(comment)
    with uow:
        store = IssueStore(uow.session)
        issue, p = issue_in_channel(uow, store, channel_id, issue_id, for_update=True)
        new_status = status if status is not None and status.value != issue.status else None
        if new_status is None and note is None:
            raise InvalidInput("Write a comment or choose a new status.", "comment")
        if new_status is IssueStatus.ACKNOWLEDGED:
            _acknowledge(uow, store, p, issue, actor, note, now)
        elif new_status is IssueStatus.RESOLVED:
            _resolve(uow, store, p, issue, actor, note, now)
        elif new_status is IssueStatus.OPEN:
            if issue.status != IssueStatus.RESOLVED.value:
                raise Conflict(f"Issue #{issue.number} is acknowledged; it stays so until it is resolved.")
            _reopen(uow, store, p, issue, actor, note, now)
        else:
            record_event(uow, store, p, issue, kind="updated", actor=actor, now=now, detail=note)
        uow.commit()
        return issue_view(issue)


def reassign(uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, new_owner_id: str, now: datetime) -> IssueView:
    """The owner or a lead hands the issue to someone else in the channel.

    When the new owner is on the other side, the owning side follows them, and with it the working calendar
    the escalation clock runs in.

    Raises:
        NotFound, NotAllowed, Conflict (resolved), InvalidInput (``field`` "owner_id": unknown, deactivated,
            not in the channel, or already the owner).
    """
    with uow:
        store = IssueStore(uow.session)
        issue, p = issue_in_channel(uow, store, channel_id, issue_id, for_update=True)
        _require_owner_or_lead(uow, p, issue, actor, "reassign")
        if issue.status == IssueStatus.RESOLVED.value:
            raise Conflict(f"Issue #{issue.number} is resolved. Reopen it first.")
        if new_owner_id == issue.owner_id:
            raise InvalidInput("That person already owns this issue.", "owner_id")
        owner = active_member(uow, p, new_owner_id, field="owner_id")
        previous, previous_side = issue.owner_id, issue.owning_side
        issue.owner_id = new_owner_id
        if owner.side is not None:
            issue.owning_side = owner.side
        _reschedule(store, p, issue)
        record_event(
            uow,
            store,
            p,
            issue,
            kind="reassigned",
            actor=actor,
            now=now,
            data={"from": previous, "to": new_owner_id, "from_side": previous_side, "to_side": issue.owning_side},
        )
        uow.commit()
        return issue_view(issue)


# --- escalation --------------------------------------------------------------------------------------------


def _fire(issue: Issue, *, level: int, reason: str, actor: str | None, skipped: Sequence[int], now: datetime) -> IssueEvent:
    """Raise the issue to ``level`` and return its (unflushed) history entry."""
    issue.escalation_level = level
    issue.updated_at = now
    return IssueEvent(
        issue_id=issue.id, at=now, actor=actor, kind="escalated", level=level, detail=None, data=_fired(reason, skipped)
    )


def _fired(reason: str, skipped: Sequence[int]) -> dict[str, Any]:
    """An escalation history entry's data: which deadline made it due, and the levels passed over."""
    return {"reason": reason, "skipped": list(skipped)}


def _queue_escalation(uow: UnitOfWork, p: Partnership, issue: Issue, event: IssueEvent, now: datetime) -> None:
    # The card first: if someone deleted it, the update posts it again and the reply finds the new thread.
    outbox.add_new(
        uow, p, purpose=outbox.Purpose.ISSUE_CARD_UPDATE, ref_id=issue.id, key=f"issue-card:{issue.id}:{event.id}", now=now
    )
    outbox.add_new(uow, p, purpose=outbox.Purpose.ESCALATION, ref_id=event.id, key=f"issue-escalation:{event.id}", now=now)


def _decide(issue: DueIssue, policy: EscalationPolicy, calendar: WorkingCalendar, now: datetime) -> Escalation:
    """What the escalation pass does with one claimed issue: the level due now, if any, and its next time."""
    # Working time is counted once per issue: the same instants decide the level due now and the next index key.
    times = escalation_times(issue, policy, calendar)
    level = _due_level(issue, times, now)
    data = None
    if level is not None:
        reason = escalation_reason(
            level, policy.for_severity(issue.severity), acknowledged=issue.acknowledged_at is not None
        )
        data = _fired(reason, range(issue.escalation_level + 1, level))
    fired = issue.escalation_level if level is None else level
    following = _next_time(times, fired=fired, resolved=issue.status == IssueStatus.RESOLVED.value)
    if following is not None and following <= now:
        # Cannot happen with consistent rows (the level just fired is the highest due by now); never spin.
        logger.error("issue %s: next escalation %s is not after now %s; stopping it", issue.id, following, now)
        following = None
    return Escalation(issue_id=issue.id, level=level, next_escalation_at=following, data=data)


def escalate_due(uow_factory: UowFactory, *, now: datetime) -> int:
    """Fire every escalation due by ``now``, each level once. Returns how many escalation messages were queued.

    Due issues come from one indexed query on ``next_escalation_at`` (row-locked, ``SKIP LOCKED``), in batches.
    The level follows ``next_escalation``'s rule (``_due_level``): when several levels fell due while the heartbeat
    was down, only the highest fires and the ones passed over are recorded as skipped (no burst of stale nudges).
    Each batch is written with a handful of executemany statements (``record_escalations``, ``outbox.add_many``).
    """
    fired = 0
    while True:
        with uow_factory() as uow:
            store = IssueStore(uow.session)
            due = store.issues.claim_due_escalations(now, BATCH)
            if not due:
                return fired
            context = _Context(store, store.issues.partnerships_by_id({i.partnership_id for i in due}))
            decided = [
                _decide(i, context.policy(i.partnership_id), context.calendar(i.partnership_id, i.owning_side), now)
                for i in due
            ]
            event_ids = store.issues.record_escalations(decided, at=now)
            partnership_of = {i.id: context.partnerships[i.partnership_id] for i in due}
            messages: list[outbox.NewMessage] = []
            for e in decided:
                if e.level is None:
                    continue
                p, event_id = partnership_of[e.issue_id], event_ids[e.issue_id]
                # The card first: if someone deleted it, the update posts it again and the reply finds the new thread.
                messages.append(
                    outbox.NewMessage(p, outbox.Purpose.ISSUE_CARD_UPDATE, e.issue_id, f"issue-card:{e.issue_id}:{event_id}")
                )
                messages.append(outbox.NewMessage(p, outbox.Purpose.ESCALATION, event_id, f"issue-escalation:{event_id}"))
            outbox.add_many(uow, messages, now=now, skip_existing=False)
            uow.commit()
            escalated = sum(1 for e in decided if e.level is not None)
            fired += escalated
            if escalated:
                logger.info("escalation: %s issue(s) escalated", escalated)


def escalate_now(uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, now: datetime) -> IssueView:
    """Anyone in the channel brings the issue to its next level now (the card's "Escalate now" button).

    Raises:
        NotFound, Conflict (resolved, or already with the executive sponsors).
    """
    with uow:
        store = IssueStore(uow.session)
        issue, p = issue_in_channel(uow, store, channel_id, issue_id, for_update=True)
        if issue.status == IssueStatus.RESOLVED.value:
            raise Conflict(f"Issue #{issue.number} is resolved, so there is nothing to escalate.")
        if issue.escalation_level >= 3:
            raise Conflict(f"Issue #{issue.number} is already with the executive sponsors of both sides.")
        event = _fire(issue, level=issue.escalation_level + 1, reason="manual", actor=actor, skipped=(), now=now)
        store.events.add(event)
        _reschedule(store, p, issue)
        _queue_escalation(uow, p, issue, event, now)
        uow.commit()
        return issue_view(issue)


# --- reading -----------------------------------------------------------------------------------------------


def get_issue(uow: UnitOfWork, *, channel_id: str, issue_id: int) -> IssueView:
    """One issue of the channel's partnership (for the update and reassign modals). Raises NotFound."""
    with uow.read_only():
        issue, _ = issue_in_channel(uow, IssueStore(uow.session), channel_id, issue_id)
        return issue_view(issue)


def list_issues(
    uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str, filter: IssueFilter = IssueFilter.OPEN, limit: int = 50
) -> tuple[IssueView, ...]:
    """``/partner issues``: unresolved ones (open), unresolved ones the user owns (mine), or all; newest first."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        store = IssueStore(uow.session)
        statuses = None if filter is IssueFilter.ALL else UNRESOLVED
        owner = user_id if filter is IssueFilter.MINE else None
        return tuple(issue_view(i) for i in store.issues.list(p.id, statuses=statuses, owner_id=owner, limit=limit))


def history(uow: UnitOfWork, *, channel_id: str, issue_id: int) -> tuple[IssueEventView, ...]:
    """The stored history of an issue, oldest first."""
    with uow.read_only():
        store = IssueStore(uow.session)
        issue, _ = issue_in_channel(uow, store, channel_id, issue_id)
        return tuple(event_view(e) for e in store.events.list_for_issue(issue.id))


def issue_card(uow: UnitOfWork, *, issue_id: int) -> IssueCard | None:
    """What the card shows now (the sender renders it at send time). None when the issue is gone."""
    with uow.read_only():
        store = IssueStore(uow.session)
        issue = store.issues.get(issue_id)
        p = uow.partnerships.get(issue.partnership_id) if issue is not None else None
        if issue is None or p is None:
            return None
        actions = tuple(action_view(a, issue_number=issue.number) for a in store.actions.for_issue(issue.id))
        return IssueCard(
            issue=issue_view(issue),
            partnership=partnership_view(p),
            actions=actions,
            timezone=side_timezone(p, issue.owning_side),
        )


def _event_context(uow: UnitOfWork, store: IssueStore, event_id: int) -> tuple[IssueEvent, Issue, Partnership] | None:
    event = store.events.get(event_id)
    issue = store.issues.get(event.issue_id) if event is not None else None
    p = uow.partnerships.get(issue.partnership_id) if issue is not None else None
    if event is None or issue is None or p is None:
        return None
    return event, issue, p


def history_item(uow: UnitOfWork, *, event_id: int) -> HistoryItem | None:
    """A history entry and what its thread reply shows."""
    with uow.read_only():
        store = IssueStore(uow.session)
        found = _event_context(uow, store, event_id)
        if found is None:
            return None
        event, issue, p = found
        data = event.data or {}
        followup = None
        if event.kind == "followup_added" and isinstance(data.get("followup_id"), int):
            row = store.followups.get(data["followup_id"])
            if row is not None:
                linked = store.actions.get_by_followup(row.id)
                followup = followup_view(row, issue_number=issue.number, action_id=linked.id if linked else None)
        action = None
        if event.kind == "action_added" and isinstance(data.get("action_id"), int):
            row_a = store.actions.get(data["action_id"])
            if row_a is not None:
                action = action_view(row_a, issue_number=issue.number)
        return HistoryItem(
            event=event_view(event),
            issue=issue_view(issue),
            partnership=partnership_view(p),
            timezone=side_timezone(p, issue.owning_side),
            followup=followup,
            action=action,
        )


def _people(uow: UnitOfWork, p: Partnership, role: Role) -> dict[Side, list[str]]:
    found: dict[Side, list[str]] = {Side.CLIENT: [], Side.PROVIDER: []}
    for m in uow.members.list(p.id):
        if m.role == role.value and not m.deleted and m.side is not None:
            found[Side(m.side)].append(m.user_id)
    return found


def escalation_notice(uow: UnitOfWork, *, event_id: int) -> EscalationNotice | None:
    """The escalation message for a stored escalation, or None when it is no longer wanted.

    An escalation for a missing acknowledgement is dropped if the issue was acknowledged before it went out;
    any escalation is dropped once the issue is resolved.
    """
    with uow.read_only():
        store = IssueStore(uow.session)
        found = _event_context(uow, store, event_id)
        if found is None:
            return None
        event, issue, p = found
        data = event.data or {}
        reason = str(data.get("reason") or "resolve")
        if event.kind != "escalated" or issue.status == IssueStatus.RESOLVED.value:
            return None
        if reason == "acknowledge" and issue.acknowledged_at is not None and issue.acknowledged_at >= event.at:
            return None
        level = event.level or 1
        missing: tuple[Side, ...] = ()
        if level == 1:
            recipients: tuple[str, ...] = (issue.owner_id,)
        else:
            people = _people(uow, p, Role.LEAD if level == 2 else Role.SPONSOR)
            recipients = tuple(people[Side.CLIENT] + people[Side.PROVIDER])
            missing = tuple(side for side in Side if not people[side])
        deadlines = policy_from_rows(store.policies.for_partnership(p.id)).for_severity(issue.severity)
        return EscalationNotice(
            event=event_view(event),
            issue=issue_view(issue),
            partnership=partnership_view(p),
            level=level,
            reason=reason,
            recipients=recipients,
            missing_sides=missing,
            acknowledge_within=deadlines.acknowledge,
            resolve_within=deadlines.resolve,
            timezone=side_timezone(p, issue.owning_side),
            skipped_levels=tuple(int(x) for x in data.get("skipped") or ()),
        )


def followup_question(uow: UnitOfWork, *, event_id: int) -> FollowupQuestion | None:
    """The blameless question for a resolution, or None if the issue was reopened before it went out."""
    with uow.read_only():
        found = _event_context(uow, IssueStore(uow.session), event_id)
        if found is None:
            return None
        event, issue, p = found
        if event.kind != "resolved" or issue.status != IssueStatus.RESOLVED.value:
            return None
        return FollowupQuestion(issue=issue_view(issue), partnership=partnership_view(p))


# --- configuration (leads) ---------------------------------------------------------------------------------


def get_categories(uow: UnitOfWork, *, team_id: str, channel_id: str) -> tuple[str, ...]:
    """The partnership's issue categories, in order."""
    with uow.read_only():
        return categories_of(require_partnership(uow, team_id, channel_id))


def _partnership_to_change(uow: UnitOfWork, team_id: str, channel_id: str) -> Partnership:
    """The partnership, row-locked until the transaction ends, for a change to its configuration.

    Changes (and the notices announcing them) go one at a time, so a repeated delivery of the same request waits
    for the first and finds its notice recorded. On SQLite the write transaction serialises anyway.
    """
    p = require_partnership(uow, team_id, channel_id)
    uow.session.refresh(p, with_for_update={"of": Partnership})
    return p


def clean_categories(categories: Sequence[str]) -> tuple[str, ...]:
    """The category list as it would be stored (blank lines dropped, spaces tidied), or InvalidInput
    (``field`` "categories")."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in categories:
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_CATEGORY:
            raise InvalidInput(f"Keep each category under {MAX_CATEGORY} characters.", "categories")
        if name.casefold() in seen:
            raise InvalidInput(f"“{name}” is in the list twice.", "categories")
        seen.add(name.casefold())
        cleaned.append(name)
    if not cleaned:
        raise InvalidInput("Keep at least one category.", "categories")
    if len(cleaned) > MAX_CATEGORIES:
        raise InvalidInput(f"Use at most {MAX_CATEGORIES} categories.", "categories")
    return tuple(cleaned)


def _store_categories(p: Partnership, cleaned: tuple[str, ...], now: datetime) -> None:
    p.issue_categories = None if cleaned == DEFAULT_CATEGORIES else list(cleaned)
    p.updated_at = now


def set_categories(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    categories: Sequence[str],
    now: datetime,
    announce: outbox.Notice[tuple[str, ...]] | None = None,
) -> tuple[str, ...]:
    """A lead replaces the category list. Existing issues keep the category they were logged with.

    ``announce``: a notice about the saved list, queued for the channel in the same transaction.

    Raises:
        NotFound, NotAllowed, InvalidInput (``field`` "categories").
    """
    cleaned = clean_categories(categories)
    with uow:
        p = _partnership_to_change(uow, team_id, channel_id)
        require_lead(uow, p, actor, "change the issue categories")
        _store_categories(p, cleaned, now)
        if announce is not None:
            outbox.enqueue_notice(uow, p, announce, cleaned, now=now)
        uow.commit()
        return cleaned


def _policy_view(store: IssueStore, p: Partnership) -> PolicyView:
    rows = {row.severity: row for row in store.policies.for_partnership(p.id)}
    policy = policy_from_rows(rows.values())
    return PolicyView(
        partnership=partnership_view(p),
        severities=tuple(
            SeverityPolicy(
                severity=s,
                acknowledge=policy.for_severity(s).acknowledge,
                resolve=policy.for_severity(s).resolve,
                custom=s in rows,
            )
            for s in SEVERITIES
        ),
    )


def get_policy(uow: UnitOfWork, *, team_id: str, channel_id: str) -> PolicyView:
    """The escalation deadlines per severity, in working time (defaults unless a lead changed them)."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        return _policy_view(IssueStore(uow.session), p)


def validate_policy(severity: str, acknowledge: timedelta, resolve: timedelta) -> None:
    """Raises InvalidInput (``field`` "severity", "acknowledge" or "resolve")."""
    if severity not in SEVERITIES:
        raise InvalidInput("Choose a severity from S1 to S4.", "severity")
    for field, value in (("acknowledge", acknowledge), ("resolve", resolve)):
        if value < timedelta(minutes=1) or value % timedelta(minutes=1):
            raise InvalidInput("Give a whole number of minutes, hours or days, at least one minute.", field)
    if acknowledge > resolve:
        raise InvalidInput("The time to acknowledge cannot be longer than the time to resolve.", "acknowledge")
    if resolve > MAX_RESOLVE:
        raise InvalidInput("The time to resolve can be at most 250 working days.", "resolve")


def _store_deadlines(
    uow: UnitOfWork, p: Partnership, severity: str, acknowledge: timedelta, resolve: timedelta, actor: str, now: datetime
) -> None:
    store = IssueStore(uow.session)
    row = store.policies.get(p.id, severity)
    if row is None:
        row = store.policies.add(
            EscalationPolicyRow(
                partnership_id=p.id,
                severity=severity,
                acknowledge_minutes=1,
                resolve_minutes=1,
                updated_by=actor,
                updated_at=now,
            )
        )
    row.acknowledge_minutes = acknowledge // timedelta(minutes=1)
    row.resolve_minutes = resolve // timedelta(minutes=1)
    row.updated_by, row.updated_at = actor, now
    uow.session.flush()


def set_policy(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    severity: str,
    acknowledge: timedelta,
    resolve: timedelta,
    now: datetime,
    announce: outbox.Notice[PolicyView] | None = None,
) -> PolicyView:
    """A lead changes one severity's deadlines (working time). Unresolved issues are rescheduled at once;
    levels that already fired stay fired. ``announce``: a notice about the saved policy, queued for the channel in
    the same transaction.

    Raises:
        NotFound, NotAllowed (not a lead), InvalidInput.
    """
    validate_policy(severity, acknowledge, resolve)
    with uow:
        p = _partnership_to_change(uow, team_id, channel_id)
        require_lead(uow, p, actor, "change the escalation policy")
        store = IssueStore(uow.session)
        _store_deadlines(uow, p, severity, acknowledge, resolve, actor, now)
        _reschedule_all(store, p)
        view = _policy_view(store, p)
        if announce is not None:
            outbox.enqueue_notice(uow, p, announce, view, now=now)
        uow.commit()
        logger.info("partnership %s: %s policy set by %s", p.id, severity, actor)
        return view


def reset_policy(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    severity: str,
    now: datetime,
    announce: outbox.Notice[PolicyView] | None = None,
) -> PolicyView:
    """A lead returns one severity to the default deadlines (``announce`` as for ``set_policy``).

    Raises:
        NotFound, NotAllowed, InvalidInput.
    """
    if severity not in SEVERITIES:
        raise InvalidInput("Choose a severity from S1 to S4.", "severity")
    with uow:
        p = _partnership_to_change(uow, team_id, channel_id)
        require_lead(uow, p, actor, "change the escalation policy")
        store = IssueStore(uow.session)
        store.policies.delete(p.id, severity)
        _reschedule_all(store, p)
        view = _policy_view(store, p)
        if announce is not None:
            outbox.enqueue_notice(uow, p, announce, view, now=now)
        uow.commit()
        return view


def change_policy(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    categories: Sequence[str],
    deadlines: Mapping[str, tuple[timedelta, timedelta]],
    now: datetime,
    announce: outbox.Notice[PolicyChange] | None = None,
) -> PolicyChange:
    """The policy form: a lead saves the categories and every severity's (acknowledge, resolve) deadlines at once.

    Only what differs from the stored policy changes; deadlines equal to a severity's default return it to the
    default. All of it is one transaction, with one notice (``announce``) when anything changed: a refusal part-way
    changes nothing. Unresolved issues are rescheduled once.

    Raises:
        NotFound, NotAllowed, InvalidInput (``field`` "categories", "severity", "acknowledge" or "resolve").
    """
    cleaned = clean_categories(categories)
    for severity, (acknowledge, resolve) in deadlines.items():
        validate_policy(severity, acknowledge, resolve)
    with uow:
        p = _partnership_to_change(uow, team_id, channel_id)
        require_lead(uow, p, actor, "change the escalation policy")
        store = IssueStore(uow.session)
        current = policy_from_rows(store.policies.for_partnership(p.id))
        new_categories = cleaned if cleaned != categories_of(p) else None
        if new_categories is not None:
            _store_categories(p, new_categories, now)
        changed: list[str] = []
        for severity in SEVERITIES:
            if severity not in deadlines:
                continue
            acknowledge, resolve = deadlines[severity]
            stored = current.for_severity(severity)
            if (acknowledge, resolve) == (stored.acknowledge, stored.resolve):
                continue
            default = DEFAULT_POLICY.for_severity(severity)
            if (acknowledge, resolve) == (default.acknowledge, default.resolve):
                store.policies.delete(p.id, severity)
            else:
                _store_deadlines(uow, p, severity, acknowledge, resolve, actor, now)
            changed.append(severity)
        if changed:
            _reschedule_all(store, p)
        result = PolicyChange(policy=_policy_view(store, p), categories=new_categories, severities=tuple(changed))
        if not result.changed:
            return result
        if announce is not None:
            outbox.enqueue_notice(uow, p, announce, result, now=now)
        uow.commit()
        logger.info("partnership %s: policy form saved by %s (%s)", p.id, actor, ", ".join(changed) or "categories")
        return result


def _calendar_view(store: IssueStore, p: Partnership, side: Side) -> CalendarView:
    cal = side_calendar(p, side.value)
    return CalendarView(
        side=side,
        timezone=cal.timezone,
        workdays=tuple(sorted(cal.workdays)),
        day_start=cal.day_start,
        day_end=cal.day_end,
        holidays=tuple(HolidayView(side, h.day, h.name) for h in store.holidays.for_partnership(p.id, side.value)),
    )


def get_calendar(uow: UnitOfWork, *, team_id: str, channel_id: str, side: Side) -> CalendarView:
    """One side's working hours and holidays."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        return _calendar_view(IssueStore(uow.session), p, side)


def set_working_hours(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    side: Side,
    timezone: str | None,
    workdays: Iterable[int],
    day_start: time,
    day_end: time,
    now: datetime,
    announce: outbox.Notice[CalendarView] | None = None,
) -> CalendarView:
    """A lead sets a side's working week (``timezone`` None: the partnership's). Reschedules that side's issues.
    ``announce``: a notice about the side's saved calendar, queued for the channel in the same transaction.

    Raises:
        NotFound, NotAllowed, InvalidInput (``field`` "timezone", "workdays" or "day_end").
    """
    days = frozenset(workdays)
    with uow:
        p = _partnership_to_change(uow, team_id, channel_id)
        require_lead(uow, p, actor, "change working hours")
        try:
            WorkingCalendar(timezone=timezone or p.timezone, workdays=days, day_start=day_start, day_end=day_end)
        except ValueError as exc:
            message = str(exc)
            field = "timezone" if "time zone" in message else "workdays" if "workday" in message.lower() else "day_end"
            raise InvalidInput(message, field) from None
        start, end = f"{day_start:%H:%M}", f"{day_end:%H:%M}"
        if side is Side.CLIENT:
            p.client_timezone, p.client_workdays, p.client_day_start, p.client_day_end = (
                timezone,
                format_workdays(days),
                start,
                end,
            )
        else:
            p.provider_timezone, p.provider_workdays = timezone, format_workdays(days)
            p.provider_day_start, p.provider_day_end = start, end
        p.updated_at = now
        store = IssueStore(uow.session)
        _reschedule_all(store, p, owning_side=side.value)
        view = _calendar_view(store, p, side)
        if announce is not None:
            outbox.enqueue_notice(uow, p, announce, view, now=now)
        uow.commit()
        return view


def add_holiday(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    side: Side,
    day: date,
    name: str,
    now: datetime,
    announce: outbox.Notice[CalendarView] | None = None,
) -> CalendarView:
    """A lead marks a local date as a holiday of one side (again: renames it). Reschedules that side's issues.
    ``announce`` as for ``set_working_hours``.

    Raises:
        NotFound, NotAllowed, InvalidInput (``field`` "name").
    """
    label = check_text(name, field="name", label="holiday name", limit=100, required=False)
    with uow:
        p = _partnership_to_change(uow, team_id, channel_id)
        require_lead(uow, p, actor, "change holidays")
        store = IssueStore(uow.session)
        existing = store.holidays.get(p.id, side.value, day)
        if existing is None:
            store.holidays.add(
                Holiday(partnership_id=p.id, side=side.value, day=day, name=label, created_by=actor, created_at=now)
            )
        else:
            existing.name = label
        _reschedule_all(store, p, owning_side=side.value)
        view = _calendar_view(store, p, side)
        if announce is not None:
            outbox.enqueue_notice(uow, p, announce, view, now=now)
        uow.commit()
        return view


def remove_holiday(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    side: Side,
    day: date,
    now: datetime,
    announce: outbox.Notice[CalendarView] | None = None,
) -> CalendarView:
    """A lead removes a holiday (``announce`` as for ``set_working_hours``).

    Raises:
        NotFound (no partnership, or no such holiday), NotAllowed.
    """
    with uow:
        p = _partnership_to_change(uow, team_id, channel_id)
        require_lead(uow, p, actor, "change holidays")
        store = IssueStore(uow.session)
        existing = store.holidays.get(p.id, side.value, day)
        if existing is None:
            raise NotFound(f"{day.isoformat()} is not a holiday of the {org_of(p, side.value)} side.")
        store.holidays.delete(existing)
        _reschedule_all(store, p, owning_side=side.value)
        view = _calendar_view(store, p, side)
        if announce is not None:
            outbox.enqueue_notice(uow, p, announce, view, now=now)
        uow.commit()
        return view
