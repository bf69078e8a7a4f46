"""Working time: when one side of a partnership works, and working-time arithmetic (DESIGN 3.3).

Escalation deadlines are "counted in the owning side's working hours"; overdue-action reminders go out in the
owner's working window. Both read a side's calendar from here.

A ``WorkingCalendar`` says when one side works: a daily wall-clock window (default 09:00-17:00) on some weekdays
(default Monday to Friday) in that side's IANA time zone, minus holidays. Deadlines are amounts of *working time*:
"4 hours" from Friday 16:00 is Monday 12:00.

Each day's window is built from local wall times and converted to UTC on its own, so a daylight-saving change
moves the UTC hours of later windows but never their local 09:00. Lengths are real elapsed time: a window that a
change falls inside (say 00:00-04:00 across a 02:00 change) is 3 or 5 hours long, not 4. Wall times that do not
exist (skipped by a spring-forward change) mean the instant the clock jumps past them; wall times that happen
twice mean the first occurrence.

Windows must not cross midnight: a night shift such as 22:00-06:00 is rejected (``day_end`` must be later than
``day_start``). Supporting it would make holidays and weekdays ambiguous (which date owns the shift?), and no side
in PartnerPulse needs it yet.

The arithmetic is pure and uses only the standard library; results are aware UTC datetimes. The last section
builds a side's calendar from the stored partnership (``side_calendar``, ``load_calendar``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services.partnership_models import Side
from storage.models import Partnership
from storage.uow import UnitOfWork

# Searches never run longer than this many local days: a calendar whose every workday is a holiday would
# otherwise loop forever. Ten years is far beyond any escalation deadline (the longest default is 40 days).
MAX_SEARCH_DAYS = 3660

_ONE_MICROSECOND = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkingCalendar:
    """When one side works: ``day_start``-``day_end`` local time on ``workdays`` (0 = Monday), except ``holidays``.

    ``holidays`` are local dates in ``timezone``. The window is half-open: 17:00 itself is not working time.
    Raises ValueError for an unknown zone, an empty or out-of-range ``workdays``, times carrying a tzinfo, or
    ``day_end`` not later than ``day_start`` (which includes night shifts crossing midnight; see the module doc).
    """

    timezone: str
    workdays: frozenset[int] = frozenset(range(5))
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # Accept any iterable of days/dates (sets, lists from a database row) but store frozensets, so the
        # calendar stays hashable and immutable.
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"Unknown time zone {self.timezone!r}. Use an IANA name such as Europe/Berlin.") from None
        if not self.workdays:
            raise ValueError("A working calendar needs at least one workday (0 = Monday ... 6 = Sunday).")
        if any(not isinstance(d, int) or not 0 <= d <= 6 for d in self.workdays):
            raise ValueError(f"Workdays must be integers 0 (Monday) to 6 (Sunday), got {sorted(self.workdays)!r}.")
        if self.day_start.tzinfo is not None or self.day_end.tzinfo is not None:
            raise ValueError("day_start and day_end are local wall times; give them without a tzinfo.")
        if self.day_end <= self.day_start:
            raise ValueError(
                f"day_end ({self.day_end.isoformat()}) must be later than day_start ({self.day_start.isoformat()}); "
                "working windows that cross midnight are not supported."
            )

    @property
    def zone(self) -> ZoneInfo:
        """The ``ZoneInfo`` for ``timezone`` (ZoneInfo caches instances, so this is cheap)."""
        return ZoneInfo(self.timezone)

    @property
    def day_length(self) -> timedelta:
        """The nominal (wall-clock) length of one working day: ``day_end - day_start``; 8 hours by default."""
        return datetime.combine(date.min, self.day_end) - datetime.combine(date.min, self.day_start)

    def is_workday(self, day: date) -> bool:
        """Whether the local date ``day`` has a working window at all."""
        return day.weekday() in self.workdays and day not in self.holidays


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}.")


def _wall_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the local clock in ``tz`` reads ``wall`` on ``day``.

    Ambiguous readings (autumn overlap) give the first occurrence. Readings skipped by a spring-forward change give
    the instant of the jump, so a window starting or ending inside the gap is shortened rather than shifted.
    """
    local = datetime.combine(day, wall, tzinfo=tz)  # fold=0: the first occurrence when ambiguous
    instant = local.astimezone(UTC)
    naive = local.replace(tzinfo=None)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    # In a gap the two folds give the instants either side of the jump; the local reading is non-decreasing in
    # between, so bisect for the first instant whose reading has reached ``wall``. Gaps are rare: cost is moot.
    a, b = local.replace(fold=1).astimezone(UTC), instant
    low, high = min(a, b), max(a, b)
    while high - low > _ONE_MICROSECOND:
        mid = low + (high - low) // 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return high


#: Each calendar's daily windows, by local date (None: no window that day). Escalation deadlines of many issues
#: walk the same weeks of the same few calendars, and converting wall times to UTC was about a quarter of
#: ``escalate_due``'s time in a catch-up tick. Calendars are immutable and compare by value, so one computed
#: for another batch or tick finds the same entries. Bounded (a long-running heartbeat adds days as time passes):
#: everything is dropped once it holds ``_MAX_CACHED_DAYS`` days (about 50 MB), which takes many ticks.
_DAY_WINDOWS: dict[WorkingCalendar, dict[date, tuple[datetime, datetime] | None]] = {}
_MAX_CACHED_DAYS = 200_000
_cached_days = 0


def _day_windows(calendar: WorkingCalendar) -> dict[date, tuple[datetime, datetime] | None]:
    global _cached_days
    if _cached_days >= _MAX_CACHED_DAYS:
        # Cheaper than LRU bookkeeping on every lookup; the windows in use are recomputed on the next call.
        _DAY_WINDOWS.clear()
        _cached_days = 0
    cached = _DAY_WINDOWS.get(calendar)
    if cached is None:
        cached = _DAY_WINDOWS[calendar] = {}
    return cached


def _window_of(calendar: WorkingCalendar, day: date, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The UTC window ``[start, end)`` of local date ``day``, or None (no workday, or emptied by a gap)."""
    if not calendar.is_workday(day):
        return None
    start = _wall_to_utc(day, calendar.day_start, tz)
    end = _wall_to_utc(day, calendar.day_end, tz)
    return (start, end) if end > start else None


def _windows(
    calendar: WorkingCalendar, first_day: date, last_day: date | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """UTC working windows ``[start, end)`` for local dates from ``first_day``, in order.

    Stops after ``last_day`` if given, else after ``MAX_SEARCH_DAYS`` days. Windows emptied by a gap are skipped.
    Each day's window is computed once per calendar (``_DAY_WINDOWS``).
    """
    global _cached_days
    tz = calendar.zone
    cache = _day_windows(calendar)
    stop = last_day if last_day is not None else first_day + timedelta(days=MAX_SEARCH_DAYS)
    day = first_day
    while day <= stop:
        try:
            window = cache[day]
        except KeyError:
            window = cache[day] = _window_of(calendar, day, tz)
            _cached_days += 1
        if window is not None:
            yield window
        day += _ONE_DAY


def first_window(calendar: WorkingCalendar, first_day: date, *, ending_after: datetime) -> tuple[datetime, datetime] | None:
    """The first working window on local date ``first_day`` or later that ends after ``ending_after``.

    None when the calendar has none within ``MAX_SEARCH_DAYS`` days. The overdue-action reminder uses it: an
    owner is reminded in the first window after the due date (and after the last reminder's day) that is not over.
    """
    _require_aware(ending_after, "ending_after")
    at = ending_after.astimezone(UTC)
    start_day = max(first_day, _local_day(at, calendar) - _ONE_DAY)
    for window in _windows(calendar, start_day):
        if window[1] > at:
            return window
    return None


def _local_day(instant: datetime, calendar: WorkingCalendar) -> date:
    return instant.astimezone(calendar.zone).date()


def is_working_time(instant: datetime, calendar: WorkingCalendar) -> bool:
    """Whether the aware ``instant`` falls inside one of the calendar's working windows (end excluded)."""
    _require_aware(instant, "instant")
    at = instant.astimezone(UTC)
    day = _local_day(at, calendar)
    # The previous local day is included only for safety: windows never leave their own local date.
    return any(start <= at < end for start, end in _windows(calendar, day - _ONE_DAY, day))


def add_working_time(start: datetime, amount: timedelta, calendar: WorkingCalendar) -> datetime:
    """The aware UTC instant at which ``amount`` of working time has elapsed after ``start``.

    ``start`` may be in any zone. Time outside working windows does not count, so starting on a Saturday counts
    from Monday's ``day_start``. An amount that exactly uses up a window ends at that window's ``day_end`` (8 hours
    from Monday 09:00 is Monday 17:00, not Tuesday 09:00). ``amount == 0`` gives ``start`` itself when it is working
    time, else the start of the next window.

    Inverse of ``working_time_between``: ``working_time_between(start, add_working_time(start, a, c), c) == a``.

    Raises ValueError for a naive ``start``, a negative ``amount``, or when the calendar does not supply ``amount``
    within ``MAX_SEARCH_DAYS`` days (for example when every workday is a holiday).
    """
    _require_aware(start, "start")
    if amount < timedelta(0):
        raise ValueError(f"amount must not be negative, got {amount}.")
    cursor = start.astimezone(UTC)
    remaining = amount
    found_any = False
    for window_start, window_end in _windows(calendar, _local_day(cursor, calendar) - _ONE_DAY):
        if window_end <= cursor:
            continue
        found_any = True
        begin = max(window_start, cursor)
        available = window_end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    if not found_any:
        raise ValueError(
            f"The calendar for {calendar.timezone} has no working time in the {MAX_SEARCH_DAYS} days after "
            f"{start.isoformat()} (are all workdays holidays?)."
        )
    raise ValueError(f"{amount} of working time does not fit in the {MAX_SEARCH_DAYS} days after {start.isoformat()}.")


def working_time_between(start: datetime, end: datetime, calendar: WorkingCalendar) -> timedelta:
    """The working time elapsed in ``[start, end)``; zero when ``end <= start``.

    Consistent with ``add_working_time``: for every ``end``, ``add_working_time(start, result, calendar) <= end``,
    with equality when ``end`` is working time (otherwise it is the end of the last window before ``end``, or the
    next window's start when no working time has elapsed).
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    begin, finish = start.astimezone(UTC), end.astimezone(UTC)
    if finish <= begin:
        return timedelta(0)
    total = timedelta(0)
    first_day = _local_day(begin, calendar) - _ONE_DAY
    last_day = _local_day(finish, calendar) + _ONE_DAY
    for window_start, window_end in _windows(calendar, first_day, last_day):
        overlap = min(window_end, finish) - max(window_start, begin)
        if overlap > timedelta(0):
            total += overlap
    return total


def working_days(n: float, calendar: WorkingCalendar) -> timedelta:
    """``n`` working days as working time: ``n * calendar.day_length`` (rounded to the microsecond)."""
    if n < 0:
        raise ValueError(f"A number of working days must not be negative, got {n}.")
    return calendar.day_length * n


# --- a side's calendar, as stored on the partnership --------------------------------------------------------------


def parse_workdays(raw: str) -> frozenset[int]:
    """``"0,1,2,3,4"`` (as stored) to weekday numbers, 0 = Monday."""
    return frozenset(int(part) for part in raw.split(",") if part.strip())


def format_workdays(days: Iterable[int]) -> str:
    """Weekday numbers as stored: sorted, comma-separated, no duplicates."""
    return ",".join(str(d) for d in sorted(set(days)))


def parse_hhmm(raw: str) -> time:
    """``"09:00"`` (as stored) to a wall time."""
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


def load_calendar(uow: UnitOfWork, p: Partnership, side: str) -> WorkingCalendar:
    """One side's calendar with its stored holidays."""
    return side_calendar(p, side, (h.day for h in uow.holidays.for_partnership(p.id, side)))
