"""When things are due. APScheduler's CronTrigger does the calendar and daylight-saving arithmetic."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.services.errors import InvalidInput
from storage.models import Partnership

logger = logging.getLogger(__name__)

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ONE_MICROSECOND = timedelta(microseconds=1)


def zone(name: str) -> ZoneInfo:
    """The IANA zone, or InvalidInput naming the ``timezone`` field."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown time zone {name!r}. Use an IANA name such as Europe/Berlin.", "timezone") from None


def weekly_trigger(weekday: int, hour: int, minute: int, tz: str) -> CronTrigger:
    """A trigger firing at local ``hour:minute`` on ``weekday`` (0 = Monday) in ``tz``."""
    return CronTrigger(day_of_week=_DAY_NAMES[weekday], hour=hour, minute=minute, timezone=zone(tz))


def next_weekly_time(
    weekday: int, hour: int, minute: int, tz: str, *, every_weeks: int, after: datetime, last: datetime | None = None
) -> datetime:
    """The first fire time strictly after ``after`` (UTC), keeping ``every_weeks`` spacing from ``last``.

    CronTrigger cannot express "every N weeks" (its ``week`` field is the ISO week number, which breaks at
    year ends), so the spacing is kept by starting the search N-1 weeks and a day after the last fire.
    """
    trigger = weekly_trigger(weekday, hour, minute, tz)
    start = after
    if last is not None and every_weeks > 1:
        start = max(after, last + timedelta(days=7 * (every_weeks - 1) + 1))
    fire = trigger.get_next_fire_time(None, start + _ONE_MICROSECOND)
    if fire is None:  # pragma: no cover - a weekly cron always has a next time
        raise RuntimeError("weekly trigger has no next fire time")
    local_zone = zone(tz)
    if fire.astimezone(local_zone).replace(tzinfo=None) == after.astimezone(local_zone).replace(tzinfo=None):
        # In the autumn overlap the same wall time happens twice; CronTrigger offers the second one. One fire
        # per local date: skip it.
        # (Add in UTC: arithmetic on a local time drops ``fold`` and would land back in the first 01:30.)
        fire = trigger.get_next_fire_time(None, fire.astimezone(UTC) + _ONE_MICROSECOND)
        assert fire is not None
    return fire.astimezone(UTC)


def next_pulse_time(p: Partnership, *, after: datetime, last: datetime | None = None) -> datetime:
    """The partnership's next pulse strictly after ``after``, every ``pulse_every_weeks`` weeks from ``last`` (the
    occurrence before, if any) at its weekday and time in its zone."""
    return next_weekly_time(
        p.pulse_weekday, p.pulse_hour, p.pulse_minute, p.timezone, every_weeks=p.pulse_every_weeks, after=after, last=last
    )


def due_and_next(
    stored: datetime | None, now: datetime, next_time: Callable[[datetime], datetime], what: str
) -> tuple[datetime | None, datetime]:
    """(the stored weekly time to send now, or None; the next time), for a post stored as its next time.

    None stored (the first time) computes the next time without sending. After downtime only the latest missed
    time goes; older ones are skipped and logged (``what`` names the post in the log). A stored time that no
    longer fits the schedule (its day, time or time zone changed) is not sent: the next one is computed anew.
    """
    if stored is None:
        return None, next_time(now)
    due = stored
    if next_time(due - _ONE_MICROSECOND) != due:
        logger.info("%s schedule changed; next one recomputed", what)
        return None, next_time(now)
    following = next_time(due)
    while following <= now:
        logger.warning("%s due at %s skipped (missed while down)", what, due.isoformat())
        due, following = following, next_time(following)
    return due, following
