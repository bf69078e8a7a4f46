"""Working-time arithmetic: weekends, holidays, daylight saving, odd zones, round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.working_calendar import (
    WorkingCalendar,
    add_working_time,
    is_working_time,
    working_days,
    working_time_between,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
NY_CAL = WorkingCalendar("America/New_York")
H = timedelta(hours=1)


def _ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=NY)


# --- add_working_time: basics ---------------------------------------------------------------------------------


def test_one_hour_from_friday_afternoon_lands_monday_morning() -> None:
    # Friday 16 Jan 2026 16:30 EST: 30 minutes left on Friday, 30 more on Monday.
    end = add_working_time(_ny(2026, 1, 16, 16, 30), H, NY_CAL)
    assert end == datetime(2026, 1, 19, 14, 30, tzinfo=UTC)  # Monday 09:30 EST
    assert end.tzinfo is UTC


def test_start_may_be_given_in_any_zone() -> None:
    # The same Friday 16:30 EST, written in UTC and in Berlin time.
    assert add_working_time(datetime(2026, 1, 16, 21, 30, tzinfo=UTC), H, NY_CAL) == datetime(
        2026, 1, 19, 14, 30, tzinfo=UTC
    )
    assert add_working_time(datetime(2026, 1, 16, 22, 30, tzinfo=BERLIN), H, NY_CAL) == datetime(
        2026, 1, 19, 14, 30, tzinfo=UTC
    )


def test_starting_on_saturday_counts_from_monday_nine() -> None:
    saturday = _ny(2026, 1, 17, 12, 0)
    assert add_working_time(saturday, timedelta(minutes=30), NY_CAL) == datetime(2026, 1, 19, 14, 30, tzinfo=UTC)
    assert add_working_time(saturday, timedelta(0), NY_CAL) == datetime(2026, 1, 19, 14, 0, tzinfo=UTC)


def test_zero_amount_inside_working_time_is_start_itself() -> None:
    start = _ny(2026, 1, 14, 11, 17, 5)
    assert add_working_time(start, timedelta(0), NY_CAL) == datetime(2026, 1, 14, 16, 17, 5, tzinfo=UTC)


def test_window_end_is_not_working_time_but_filling_a_window_ends_at_its_end() -> None:
    # Exactly 8 hours from Monday 09:00 is Monday 17:00, not Tuesday 09:00 ...
    assert add_working_time(_ny(2026, 1, 12, 9, 0), 8 * H, NY_CAL) == datetime(2026, 1, 12, 22, 0, tzinfo=UTC)
    # ... but 17:00 itself is outside working time, so zero from there is Tuesday 09:00.
    assert add_working_time(_ny(2026, 1, 12, 17, 0), timedelta(0), NY_CAL) == datetime(2026, 1, 13, 14, 0, tzinfo=UTC)
    assert not is_working_time(_ny(2026, 1, 12, 17, 0), NY_CAL)
    assert is_working_time(_ny(2026, 1, 12, 16, 59, 59), NY_CAL)
    assert is_working_time(_ny(2026, 1, 12, 9, 0), NY_CAL)
    assert not is_working_time(_ny(2026, 1, 17, 12, 0), NY_CAL)  # Saturday


def test_before_opening_counts_from_nine() -> None:
    assert add_working_time(_ny(2026, 1, 14, 6, 0), 2 * H, NY_CAL) == datetime(2026, 1, 14, 16, 0, tzinfo=UTC)


def test_holiday_is_skipped() -> None:
    # Monday 19 Jan 2026 (Martin Luther King Jr. Day) configured as a holiday.
    cal = WorkingCalendar("America/New_York", holidays=frozenset({date(2026, 1, 19)}))
    assert add_working_time(_ny(2026, 1, 16, 16, 30), H, cal) == datetime(2026, 1, 20, 14, 30, tzinfo=UTC)  # Tue 09:30
    assert working_time_between(_ny(2026, 1, 16, 9, 0), _ny(2026, 1, 21, 9, 0), cal) == 16 * H  # Fri + Tue


def test_three_working_days_from_wednesday_ten_is_monday_ten() -> None:
    # Wed 7 h, Thu 8 h, Fri 8 h = 23 h; the 24th hour is Monday 09:00-10:00.
    end = add_working_time(_ny(2026, 1, 14, 10, 0), working_days(3, NY_CAL), NY_CAL)
    assert end == datetime(2026, 1, 19, 15, 0, tzinfo=UTC)  # Monday 10:00 EST


def test_working_days_uses_the_calendar_day_length() -> None:
    assert NY_CAL.day_length == 8 * H
    assert working_days(3, NY_CAL) == 24 * H
    assert working_days(0.5, NY_CAL) == 4 * H
    long_days = WorkingCalendar("Europe/Berlin", day_start=time(8, 30), day_end=time(18, 45))
    assert long_days.day_length == timedelta(hours=10, minutes=15)
    assert working_days(2, long_days) == timedelta(hours=20, minutes=30)
    with pytest.raises(ValueError, match="negative"):
        working_days(-1, NY_CAL)


def test_custom_workdays_sunday_to_thursday() -> None:
    cal = WorkingCalendar("Asia/Kolkata", workdays=frozenset({6, 0, 1, 2, 3}))
    # Thursday 5 March 2026 16:00 IST + 2 h: one hour Thursday, then Sunday 8 March 10:00 IST = 04:30 UTC.
    assert add_working_time(datetime(2026, 3, 5, 16, 0, tzinfo=KOLKATA), 2 * H, cal) == datetime(
        2026, 3, 8, 4, 30, tzinfo=UTC
    )


# --- daylight saving and zones -------------------------------------------------------------------------------


def test_us_spring_forward_weekend() -> None:
    # Friday 6 March 2026 16:00 EST (21:00 UTC) + 2 h: clocks go forward on Sunday 8 March, so Monday 10:00 is
    # EDT = 14:00 UTC, not 15:00.
    start = _ny(2026, 3, 6, 16, 0)
    assert start == datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
    end = add_working_time(start, 2 * H, NY_CAL)
    assert end == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert working_time_between(start, end, NY_CAL) == 2 * H


def test_us_fall_back_weekend() -> None:
    # Friday 30 Oct 2026 16:00 EDT (20:00 UTC) + 2 h: clocks go back on Sunday 1 November, so Monday 10:00 is
    # EST = 15:00 UTC.
    end = add_working_time(_ny(2026, 10, 30, 16, 0), 2 * H, NY_CAL)
    assert end == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_full_week_across_the_change_is_still_forty_hours() -> None:
    assert working_time_between(_ny(2026, 3, 2), _ny(2026, 3, 14), NY_CAL) == 80 * H
    assert working_time_between(_ny(2026, 10, 26), _ny(2026, 11, 7), NY_CAL) == 80 * H


def test_kolkata_has_no_dst_and_a_half_hour_offset() -> None:
    # Same dates as the US change: nothing moves in India. Monday 10:00 IST = 04:30 UTC.
    end = add_working_time(datetime(2026, 3, 6, 16, 0, tzinfo=KOLKATA), 2 * H, WorkingCalendar("Asia/Kolkata"))
    assert end == datetime(2026, 3, 9, 4, 30, tzinfo=UTC)


def test_berlin_changes_on_its_own_dates() -> None:
    berlin = WorkingCalendar("Europe/Berlin")
    # US change weekend: Berlin is still on CET, Monday 9 March 10:00 = 09:00 UTC.
    assert add_working_time(datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN), 2 * H, berlin) == datetime(
        2026, 3, 9, 9, 0, tzinfo=UTC
    )
    # Berlin springs forward on Sunday 29 March: Friday 27 March 16:00 CET (15:00 UTC) -> Monday 10:00 CEST = 08:00 UTC.
    assert add_working_time(datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN), 2 * H, berlin) == datetime(
        2026, 3, 30, 8, 0, tzinfo=UTC
    )
    # And falls back on Sunday 25 October: Friday 23 Oct 16:00 CEST (14:00 UTC) -> Monday 10:00 CET = 09:00 UTC.
    assert add_working_time(datetime(2026, 10, 23, 16, 0, tzinfo=BERLIN), 2 * H, berlin) == datetime(
        2026, 10, 26, 9, 0, tzinfo=UTC
    )


def test_window_containing_the_change_uses_real_elapsed_time() -> None:
    # Every day 00:00-04:00 New York time. On Sunday 8 March 2026 the clock jumps 02:00 -> 03:00: the window is
    # 00:00 EST (05:00 UTC) to 04:00 EDT (08:00 UTC), 3 real hours. On Sunday 1 November 01:00-02:00 happens twice:
    # 00:00 EDT (04:00 UTC) to 04:00 EST (09:00 UTC), 5 real hours.
    cal = WorkingCalendar("America/New_York", workdays=frozenset(range(7)), day_start=time(0), day_end=time(4))
    assert working_time_between(_ny(2026, 3, 8), _ny(2026, 3, 8, 12), cal) == 3 * H
    assert working_time_between(_ny(2026, 11, 1), _ny(2026, 11, 1, 12), cal) == 5 * H
    assert working_time_between(_ny(2026, 3, 7), _ny(2026, 3, 7, 12), cal) == 4 * H
    spring = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert add_working_time(spring, 3 * H, cal) == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
    assert add_working_time(spring, timedelta(hours=3, minutes=30), cal) == datetime(2026, 3, 9, 4, 30, tzinfo=UTC)
    autumn = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert add_working_time(autumn, timedelta(hours=4, minutes=30), cal) == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    assert add_working_time(autumn, 5 * H, cal) == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def test_window_starting_in_the_skipped_hour_starts_when_the_clock_jumps() -> None:
    # 02:30-03:30 does not fully exist on 8 March 2026: the day's window is 03:00-03:30 EDT (07:00-07:30 UTC).
    cal = WorkingCalendar("America/New_York", workdays=frozenset(range(7)), day_start=time(2, 30), day_end=time(3, 30))
    assert working_time_between(_ny(2026, 3, 8), _ny(2026, 3, 9), cal) == timedelta(minutes=30)
    assert add_working_time(_ny(2026, 3, 8), timedelta(0), cal) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert add_working_time(_ny(2026, 3, 8), timedelta(minutes=45), cal) == datetime(2026, 3, 9, 6, 45, tzinfo=UTC)
    assert working_time_between(_ny(2026, 3, 9), _ny(2026, 3, 10), cal) == H


# --- validation and termination ------------------------------------------------------------------------------


def test_night_shift_across_midnight_is_rejected() -> None:
    with pytest.raises(ValueError, match="midnight"):
        WorkingCalendar("Asia/Kolkata", day_start=time(22, 0), day_end=time(6, 0))
    with pytest.raises(ValueError, match="later than day_start"):
        WorkingCalendar("Asia/Kolkata", day_start=time(9, 0), day_end=time(9, 0))


def test_calendar_validation() -> None:
    with pytest.raises(ValueError, match="Unknown time zone"):
        WorkingCalendar("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="Unknown time zone"):
        WorkingCalendar("")
    with pytest.raises(ValueError, match="at least one workday"):
        WorkingCalendar("UTC", workdays=frozenset())
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        WorkingCalendar("UTC", workdays=frozenset({7}))
    with pytest.raises(ValueError, match="without a tzinfo"):
        WorkingCalendar("UTC", day_start=time(9, tzinfo=UTC))


def test_calendar_is_hashable_even_from_plain_sets() -> None:
    cal = WorkingCalendar("UTC", workdays={0, 1}, holidays={date(2026, 1, 1)})  # type: ignore[arg-type]
    assert isinstance(cal.workdays, frozenset) and isinstance(cal.holidays, frozenset)
    assert hash(cal) == hash(WorkingCalendar("UTC", workdays=frozenset({0, 1}), holidays=frozenset({date(2026, 1, 1)})))


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(datetime(2026, 1, 12, 9), H, NY_CAL)
    with pytest.raises(ValueError, match="negative"):
        add_working_time(_ny(2026, 1, 12, 9), -H, NY_CAL)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_time_between(_ny(2026, 1, 12, 9), datetime(2026, 1, 13), NY_CAL)


def test_all_holidays_calendar_raises_instead_of_searching_forever() -> None:
    # Mondays only, and every Monday for the next 11 years is a holiday: the bounded search must give up.
    first = date(2026, 1, 5)
    mondays = frozenset(first + timedelta(weeks=k) for k in range(11 * 53))
    cal = WorkingCalendar("Europe/Berlin", workdays=frozenset({0}), holidays=mondays)
    with pytest.raises(ValueError, match="no working time"):
        add_working_time(datetime(2026, 1, 1, tzinfo=UTC), H, cal)
    with pytest.raises(ValueError, match="no working time"):
        add_working_time(datetime(2026, 1, 1, tzinfo=UTC), timedelta(0), cal)


def test_amount_beyond_the_search_horizon_raises() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        add_working_time(_ny(2026, 1, 12, 9), timedelta(days=5000), NY_CAL)


def test_between_is_zero_when_end_not_after_start() -> None:
    assert working_time_between(_ny(2026, 1, 14, 12), _ny(2026, 1, 14, 12), NY_CAL) == timedelta(0)
    assert working_time_between(_ny(2026, 1, 14, 12), _ny(2026, 1, 13, 12), NY_CAL) == timedelta(0)
    assert working_time_between(_ny(2026, 1, 17, 1), _ny(2026, 1, 18, 23), NY_CAL) == timedelta(0)  # weekend


# --- round trips and an independent oracle ---------------------------------------------------------------------

_CALENDARS = (
    NY_CAL,
    WorkingCalendar("Europe/Berlin", holidays=frozenset({date(2026, 3, 30), date(2026, 4, 3), date(2026, 10, 26)})),
    WorkingCalendar("Asia/Kolkata", workdays=frozenset({6, 0, 1, 2, 3}), day_start=time(9, 30), day_end=time(18, 15)),
    WorkingCalendar("America/New_York", workdays=frozenset(range(7)), day_start=time(0), day_end=time(4)),
    WorkingCalendar("America/New_York", workdays=frozenset(range(7)), day_start=time(1, 30), day_end=time(2, 30)),
)


def _cases() -> list[tuple[datetime, timedelta]]:
    # Deterministic spread: starts every 7 h 13 min 17 s through both 2026 change seasons, amounts cycling
    # through awkward values including zero, exact window lengths and multi-week spans.
    amounts = [
        timedelta(0),
        timedelta(minutes=1),
        4 * H,
        8 * H,
        timedelta(hours=8, seconds=1),
        timedelta(hours=37, minutes=11),
    ]
    amounts += [timedelta(days=2, microseconds=3), 160 * H, timedelta(minutes=97)]
    cases = []
    for base in (datetime(2026, 2, 25, 3, 7, tzinfo=UTC), datetime(2026, 10, 15, 0, 0, tzinfo=UTC)):
        for i in range(120):
            start = base + i * timedelta(hours=7, minutes=13, seconds=17)
            cases.append((start, amounts[i % len(amounts)]))
    return cases


@pytest.mark.parametrize("calendar", _CALENDARS, ids=lambda c: f"{c.timezone}-{c.day_start}-{c.day_end}")
def test_add_then_between_round_trips(calendar: WorkingCalendar) -> None:
    for start, amount in _cases():
        end = add_working_time(start, amount, calendar)
        assert end >= start
        assert working_time_between(start, end, calendar) == amount, (start, amount)
        if amount:
            # The last instant counted is working time; the deadline lands inside or at the end of a window.
            assert is_working_time(end - timedelta(microseconds=1), calendar), (start, amount)


@pytest.mark.parametrize("calendar", _CALENDARS, ids=lambda c: f"{c.timezone}-{c.day_start}-{c.day_end}")
def test_between_then_add_returns_end_or_the_last_window_end(calendar: WorkingCalendar) -> None:
    for start, amount in _cases():
        end = start + amount * 1.7 + timedelta(minutes=11)  # wall-clock offsets, not working time
        elapsed = working_time_between(start, end, calendar)
        back = add_working_time(start, elapsed, calendar)
        if is_working_time(end, calendar):
            assert back == end, (start, end)
        elif elapsed:
            assert back < end and working_time_between(back, end, calendar) == timedelta(0), (start, end)


@pytest.mark.parametrize("calendar", _CALENDARS[:3], ids=lambda c: c.timezone)
def test_adding_in_two_steps_equals_adding_at_once(calendar: WorkingCalendar) -> None:
    for start, amount in _cases()[::3]:
        step = timedelta(hours=3, minutes=20)
        assert add_working_time(add_working_time(start, amount, calendar), step, calendar) == add_working_time(
            start, amount + step, calendar
        )


def test_between_matches_a_minute_by_minute_wall_clock_oracle() -> None:
    # Independent of the window code: a minute counts when New York's wall clock reads Mon-Fri 09:00-16:59.
    for start in (_ny(2026, 3, 5, 15, 40), _ny(2026, 10, 29, 23, 5), datetime(2026, 3, 7, 13, 17, tzinfo=UTC)):
        minutes = 0
        for k in range(4 * 24 * 60):
            local = (start + timedelta(minutes=k)).astimezone(NY)
            minutes += local.weekday() < 5 and 9 <= local.hour < 17
        assert working_time_between(start, start + timedelta(days=4), NY_CAL) == timedelta(minutes=minutes)
