"""Each side's working calendar as the leads set it (DESIGN 3.3): time zone, working week and hours, holidays.

Escalation clocks and overdue-action reminders run in these calendars, so every change reschedules the side's
unresolved issues and clears its actions' reminder times in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time

from bot.services import outbox_notices
from bot.services.errors import InvalidInput, NotFound
from bot.services.escalation import reschedule_all
from bot.services.issue_models import CalendarView, HolidayView
from bot.services.partnership_guards import (
    check_text,
    org_of,
    partnership_a_lead_changes,
    require_partnership,
)
from bot.services.partnership_models import Side
from bot.services.working_calendar import WorkingCalendar, format_workdays, side_calendar
from storage.models import Holiday, Partnership
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


def _calendar_view(uow: UnitOfWork, p: Partnership, side: Side) -> CalendarView:
    cal = side_calendar(p, side.value)
    return CalendarView(
        side=side,
        timezone=cal.timezone,
        workdays=tuple(sorted(cal.workdays)),
        day_start=cal.day_start,
        day_end=cal.day_end,
        holidays=tuple(HolidayView(side, h.day, h.name) for h in uow.holidays.for_partnership(p.id, side.value)),
    )


def get_calendar(uow: UnitOfWork, *, team_id: str, channel_id: str, side: Side) -> CalendarView:
    """One side's working hours and holidays."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        return _calendar_view(uow, p, side)


def _saved(
    uow: UnitOfWork, p: Partnership, side: Side, announce: outbox_notices.Notice[CalendarView] | None, now: datetime
) -> CalendarView:
    """A side's calendar changed: its issues rescheduled, the notice queued, committed; the calendar as saved."""
    reschedule_all(uow, p, owning_side=side.value)
    return outbox_notices.commit_saved(uow, p, announce, _calendar_view(uow, p, side), now=now)


def set_calendar(
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
    announce: outbox_notices.Notice[CalendarView] | None = None,
) -> CalendarView:
    """A lead sets a side's working week (``timezone`` None: the partnership's). Reschedules that side's issues.
    ``announce``: a notice about the side's saved calendar, queued for the channel in the same transaction.

    Raises:
        NotFound, NotAllowed, InvalidInput (``field`` "timezone", "workdays" or "day_end").
    """
    days = frozenset(workdays)
    with uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "change working hours")
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
        return _saved(uow, p, side, announce, now)


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
    announce: outbox_notices.Notice[CalendarView] | None = None,
) -> CalendarView:
    """A lead marks a local date as a holiday of one side (again: renames it). Reschedules that side's issues.
    ``announce`` as for ``set_calendar``.

    Raises:
        NotFound, NotAllowed, InvalidInput (``field`` "name").
    """
    label = check_text(name, field="name", label="holiday name", limit=100, required=False)
    with uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "change holidays")
        existing = uow.holidays.get(p.id, side.value, day)
        if existing is None:
            uow.holidays.add(
                Holiday(partnership_id=p.id, side=side.value, day=day, name=label, created_by=actor, created_at=now)
            )
        else:
            existing.name = label
        return _saved(uow, p, side, announce, now)


def remove_holiday(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    side: Side,
    day: date,
    now: datetime,
    announce: outbox_notices.Notice[CalendarView] | None = None,
) -> CalendarView:
    """A lead removes a holiday (``announce`` as for ``set_calendar``).

    Raises:
        NotFound (no partnership, or no such holiday), NotAllowed.
    """
    with uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "change holidays")
        existing = uow.holidays.get(p.id, side.value, day)
        if existing is None:
            raise NotFound(f"{day.isoformat()} is not a holiday of the {org_of(p, side.value)} side.")
        uow.holidays.delete(existing)
        return _saved(uow, p, side, announce, now)
