"""Actions (DESIGN 3.3): one owner, one side, a due date and a status; grouped reminders when overdue.

Actions come from an issue (the card's "Add action"), from a follow-up contribution (``followups``), or stand
alone (``/partner action``). Overdue actions are reminded to their owner when they become overdue, then at most
once a week while they stay overdue (``REMIND_AGAIN_AFTER``), only inside the owner's side's working hours. An
owner gets at most one message a day per partnership, listing all their overdue actions (never one per action).
The message goes as a message from the app, or as an ephemeral to the other organisation's people
(``recipients``).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from bot.services import kpi_red, outbox
from bot.services.created_once import created_once
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.issue_lifecycle import record_event
from bot.services.issue_models import MAX_ISSUE_TITLE, ActionFilter, ActionInput, ActionStatus, ActionView, OverdueReminder
from bot.services.issue_queries import action_view
from bot.services.partnership_guards import (
    MAX_REQUEST_KEY,
    active_member,
    check_due_date,
    check_text,
    is_lead,
    org_of,
    require_partnership,
    row_in_channel,
    today_in,
)
from bot.services.read_models_from_rows import partnership_view
from bot.services.working_calendar import WorkingCalendar, first_window, load_calendar, side_calendar
from storage.errors import DuplicateKey
from storage.models import Action, Issue, Partnership
from storage.uow import UnitOfWork, UowFactory

logger = logging.getLogger(__name__)

BATCH = 500
#: When an owner's calendar has no working time in reach (cannot happen with a valid calendar), look again later.
NO_WINDOW_RETRY = timedelta(days=1)
#: An action still overdue is reminded again this long after its last reminder (a daily nag teaches people to
#: ignore it); a new due date that passes is reminded as soon as it is overdue.
REMIND_AGAIN_AFTER = timedelta(days=7)


def _issue_numbers(uow: UnitOfWork, actions: list[Action]) -> dict[int, int]:
    numbers: dict[int, int] = {}
    for a in actions:
        if a.issue_id is not None and a.issue_id not in numbers:
            issue = uow.issues.get(a.issue_id)
            if issue is not None:
                numbers[a.issue_id] = issue.number
    return numbers


def _view(uow: UnitOfWork, p: Partnership, action: Action, now: datetime | None = None) -> ActionView:
    number = None
    if action.issue_id is not None:
        issue = uow.issues.get(action.issue_id)
        number = issue.number if issue is not None else None
    today = today_in(p, now, action.side) if now is not None else None
    return action_view(action, issue_number=number, today=today)


def add_action(
    uow: UnitOfWork,
    p: Partnership,
    *,
    actor: str,
    data: ActionInput,
    request_key: str | None,
    now: datetime,
    issue: Issue | None = None,
    followup_id: int | None = None,
) -> Action:
    """Inside the caller's transaction: check and store an action; with ``issue``, record it in the issue's history.

    Raises:
        InvalidInput: ``field`` names the ActionInput attribute.
    """
    title = check_text(data.title, field="title", label="title", limit=MAX_ISSUE_TITLE, required=True)
    owner = active_member(uow, p, data.owner_id, field="owner_id")
    side = data.side.value if data.side is not None else owner.side
    if side is None:
        raise InvalidInput("The owner is not on a side yet. Choose the side this action belongs to.", "side")
    if owner.side is not None and owner.side != side:
        raise InvalidInput(
            f"The owner is on the {org_of(p, owner.side)} side. Choose an owner from the {org_of(p, side)} side.",
            "owner_id",
        )
    check_due_date(p, data.due_on, now)
    action = uow.actions.add(
        Action(
            partnership_id=p.id,
            issue_id=issue.id if issue is not None else None,
            followup_id=followup_id,
            kpi_id=data.kpi_id,
            title=title,
            owner_id=owner.user_id,
            side=side,
            due_on=data.due_on,
            status=ActionStatus.OPEN.value,
            created_by=actor,
            created_at=now,
            request_key=request_key[:MAX_REQUEST_KEY] if request_key else None,
            updated_at=now,
        )
    )
    uow.actions.record(action, kind="created", at=now, actor=actor, status=action.status, due_on=action.due_on)
    schedule_reminder(uow, p, action, now=now)
    if issue is not None:
        record_event(uow, p, issue, kind="action_added", actor=actor, now=now, detail=title, data={"action_id": action.id})
    return action


def create_action(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    data: ActionInput,
    request_key: str,
    now: datetime,
) -> ActionView:
    """Create an action (``/partner action``, or "Add action" on an issue card when ``data.issue_id`` is set).

    Anyone in the channel may. The same ``request_key`` creates it once.

    Raises:
        NotFound: no partnership, or the issue is not this partnership's.
        InvalidInput: empty or long title, owner unknown/deactivated/not in the channel, due date in the past,
            no side.
    """
    key = request_key[:MAX_REQUEST_KEY]
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        action, _ = created_once(uow, uow.actions, p.id, key, lambda: _add_requested(uow, p, actor, data, key, now))
        return _view(uow, p, action, now)


def _add_requested(uow: UnitOfWork, p: Partnership, actor: str, data: ActionInput, key: str, now: datetime) -> Action:
    issue = None
    if data.issue_id is not None:
        issue = uow.issues.get(data.issue_id, for_update=True)
        if issue is None or issue.partnership_id != p.id:
            raise NotFound("This issue does not exist in this channel's partnership.")
    kpi = uow.kpis.get(data.kpi_id) if data.kpi_id is not None else None
    if data.kpi_id is not None and (kpi is None or kpi.partnership_id != p.id):
        raise NotFound("This KPI does not exist in this channel's partnership.")
    action = add_action(uow, p, actor=actor, data=data, request_key=key, now=now, issue=issue)
    if kpi is not None:
        kpi_red.queue_answer(uow, p, kpi, action.id, now=now)
    return action


def set_action_status(
    uow: UnitOfWork, *, channel_id: str, action_id: int, actor: str, status: ActionStatus, now: datetime
) -> ActionView:
    """Mark an action done, dropped or open again: its owner, whoever created it, or a lead.

    Raises:
        NotFound, NotAllowed.
    """
    with uow:
        action, p = row_in_channel(uow, uow.actions, channel_id, action_id, "action", for_update=True)
        if actor not in (action.owner_id, action.created_by) and not is_lead(uow, p, actor):
            raise NotAllowed(f"Only the action's owner (<@{action.owner_id}>), whoever created it, or a lead can change it.")
        if action.status != status.value:
            action.status, action.updated_at = status.value, now
            if status is ActionStatus.OPEN:
                action.closed_at = action.closed_by = None
            else:
                action.closed_at, action.closed_by = now, actor
            uow.actions.record(action, kind="status_changed", at=now, actor=actor, status=status.value)
            schedule_reminder(uow, p, action, now=now)
            if action.issue_id is not None:
                issue = uow.issues.get(action.issue_id)
                if issue is not None:  # the card lists the issue's actions
                    outbox.enqueue_change(
                        uow,
                        p,
                        purpose=outbox.Purpose.ISSUE_CARD_UPDATE,
                        ref_id=issue.id,
                        state=f"action-{action.id}:{status.value}",
                        now=now,
                        name="issue-card",
                    )
        uow.commit()
        return _view(uow, p, action, now)


def get_action(uow: UnitOfWork, *, channel_id: str, action_id: int, now: datetime) -> ActionView:
    """One action of the channel's partnership. Raises NotFound."""
    with uow.read_only():
        action, p = row_in_channel(uow, uow.actions, channel_id, action_id, "action", for_update=False)
        return _view(uow, p, action, now)


def list_actions(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    filter: ActionFilter = ActionFilter.MINE,
    now: datetime,
    limit: int = 100,
) -> tuple[ActionView, ...]:
    """``/partner actions [mine|overdue|all]``: the user's open actions, everyone's overdue ones, or all.

    Overdue means open with a due date before today in the owner's side's time zone.
    """
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        if filter is ActionFilter.MINE:
            rows = list(uow.actions.list(p.id, owner_id=user_id, statuses=[ActionStatus.OPEN.value], limit=limit))
        elif filter is ActionFilter.OVERDUE:
            # No zone is more than a day ahead of UTC: anything overdue anywhere is due before tomorrow (UTC).
            horizon = now.date() + timedelta(days=1)
            rows = list(uow.actions.list(p.id, statuses=[ActionStatus.OPEN.value], due_before=horizon, limit=limit))
        else:
            rows = list(uow.actions.list(p.id, limit=limit))
        numbers = _issue_numbers(uow, rows)
        views = [action_view(a, issue_number=numbers.get(a.issue_id or 0), today=today_in(p, now, a.side)) for a in rows]
        if filter is ActionFilter.OVERDUE:
            views = [v for v in views if v.overdue]
        return tuple(views)


def next_reminder_time(action: Action, calendar: WorkingCalendar, *, after: datetime) -> datetime | None:
    """When the action's owner may next be reminded: the start of the first window of ``calendar`` (the owner's
    side) on a local day after the due date and, once reminded for that date, a week after the last reminder
    (``REMIND_AGAIN_AFTER``), among the windows not over at ``after``. It is at or before ``after`` when ``after`` is inside that window (a reminder is due now).

    None when the calendar has no working time in reach (see ``first_window``). The value is the index key
    ``remind_overdue`` finds due reminders by, so a tick never reads the actions it will not remind.
    """
    window = first_window_after_due(action, calendar, after)
    return window[0] if window is not None else None


def schedule_reminder(uow: UnitOfWork, p: Partnership, action: Action, *, now: datetime) -> None:
    """Set ``next_reminder_at`` after a change (created, reopened, due date changed); None when not open."""
    if action.status != ActionStatus.OPEN.value:
        action.next_reminder_at = None
        return
    calendar = load_calendar(uow, p, action.side)
    action.next_reminder_at = next_reminder_time(action, calendar, after=now) or now + NO_WINDOW_RETRY


def remind_overdue(uow_factory: UowFactory, *, now: datetime) -> int:
    """Queue the reminders due for overdue open actions, one per owner per partnership per day. Returns how many.

    An action is reminded on the first working day after its due date, then again at most once a week
    (``REMIND_AGAIN_AFTER``) while it stays overdue and unchanged. Its owner is reminded only inside their side's
    working hours (so nobody is pinged at night or at the weekend), and at most once a local day however many
    actions fall due: ``last_reminded_on`` records the day on each action reminded, and the outbox key names
    owner and day. An action that is due today is not overdue yet.

    Only actions whose ``next_reminder_at`` has come (or is not computed yet) are read: each one read is either
    reminded now or given its next time (``next_reminder_time``), so an action reminded this morning costs
    nothing until its owner's next working day begins.
    """
    queued = 0
    # Local dates are within a day of the UTC date; the exact checks use each side's zone below.
    horizon = now.date() + timedelta(days=1)
    after_id = 0
    while True:
        with uow_factory() as uow:
            rows = uow.actions.reminders_due(now=now, due_before=horizon, after_id=after_id, limit=BATCH)
            if not rows:
                return queued
            after_id = rows[-1].id
            partnerships = uow.issues.partnerships_by_id({a.partnership_id for a in rows})
            holidays: dict[tuple[int, str], set[date]] = {}
            for h in uow.holidays.for_partnerships(list(partnerships)):
                holidays.setdefault((h.partnership_id, h.side), set()).add(h.day)
            calendars: dict[tuple[int, str], WorkingCalendar] = {}
            groups: dict[tuple[int, str, date], list[tuple[Action, WorkingCalendar]]] = {}
            # (action id, last reminded on, next reminder at) of every action read and not left as it was.
            times: list[tuple[int, date | None, datetime]] = []
            for a in rows:
                p = partnerships[a.partnership_id]
                if p.status != "active":
                    continue  # read again while paused (as before); reminded in the first window after resuming
                cal = calendars.get((p.id, a.side))
                if cal is None:
                    cal = calendars[(p.id, a.side)] = side_calendar(p, a.side, holidays.get((p.id, a.side), ()))
                window = first_window_after_due(a, cal, now)
                if window is None:
                    times.append((a.id, a.last_reminded_on, now + NO_WINDOW_RETRY))
                elif window[0] > now:  # not overdue yet, already reminded today, or outside working hours
                    times.append((a.id, a.last_reminded_on, window[0]))
                else:
                    # ``now`` is inside a working window on a local day after the due date and the last reminder.
                    groups.setdefault((p.id, a.owner_id, today_in(p, now, a.side)), []).append((a, cal))
            messages: list[outbox.NewMessage] = []
            for (pid, owner, today), members in groups.items():
                for a, cal in members:
                    following = _reminder_window(a.due_on, today, cal, now)
                    times.append((a.id, today, following[0] if following is not None else now + NO_WINDOW_RETRY))
                messages.append(
                    outbox.NewMessage(
                        partnerships[pid],
                        outbox.Purpose.ACTIONS_OVERDUE,
                        pid,
                        f"actions-overdue:{pid}:{owner}:{today.isoformat()}",
                        owner,
                    )
                )
            # The actions' new times outside the savepoint: a failed insert of the reminders must not undo them.
            uow.actions.set_reminder_times(times)
            try:
                with uow.savepoint():
                    queued += outbox.add_many(uow, messages, now=now, skip_existing=True)
            except DuplicateKey:  # another process queued one of these reminders at the same moment
                for m in messages:
                    try:
                        with uow.savepoint():
                            queued += outbox.enqueue(
                                uow, m.partnership, purpose=m.purpose, ref_id=m.ref_id, user_id=m.user_id, key=m.key, now=now
                            )
                    except DuplicateKey:
                        pass
            uow.commit()


def first_window_after_due(action: Action, calendar: WorkingCalendar, now: datetime) -> tuple[datetime, datetime] | None:
    """The owner's first working window, not over at ``now``, on a local day after the due date and a week after
    the last reminder for that date: a reminder is due when ``now`` is inside it.
    """
    return _reminder_window(action.due_on, action.last_reminded_on, calendar, now)


def _reminder_window(
    due_on: date, last_reminded_on: date | None, calendar: WorkingCalendar, now: datetime
) -> tuple[datetime, datetime] | None:
    first_day = due_on + timedelta(days=1)
    if last_reminded_on is not None and last_reminded_on > due_on:
        # Reminded while overdue for this due date: again a week later. A reminder from before the due date was
        # moved belongs to the old date and does not delay this one.
        first_day = max(first_day, last_reminded_on + REMIND_AGAIN_AFTER)
    return first_window(calendar, first_day, ending_after=now)


def overdue_reminder(uow: UnitOfWork, *, partnership_id: int, owner_id: str) -> OverdueReminder | None:
    """What the owner's reminder lists at send time: the actions that were overdue when reminded and are still
    open. None when there are none left (done meanwhile), so nothing is sent.
    """
    with uow.read_only():
        p = uow.partnerships.get(partnership_id)
        if p is None:
            return None
        rows = list(uow.actions.reminded_open(partnership_id, owner_id))
        if not rows:
            return None
        as_of = max(a.last_reminded_on for a in rows if a.last_reminded_on is not None)
        numbers = _issue_numbers(uow, rows)
        return OverdueReminder(
            partnership=partnership_view(p),
            owner_id=owner_id,
            actions=tuple(action_view(a, issue_number=numbers.get(a.issue_id or 0), today=a.last_reminded_on) for a in rows),
            as_of=as_of,
        )
