"""A side's working calendar (working days, hours and holidays), inside which escalation time runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from bot.services.partnership_models import Side


@dataclass(frozen=True)
class HolidayView:
    side: Side
    day: date
    name: str


@dataclass(frozen=True)
class CalendarView:
    """One side's working calendar: escalation time runs only inside it."""

    side: Side
    timezone: str
    workdays: tuple[int, ...]  # 0 = Monday
    day_start: time
    day_end: time
    holidays: tuple[HolidayView, ...]
