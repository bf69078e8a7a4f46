"""next_weekly_time: local wall time survives daylight-saving changes; spacing; odd zones and gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.errors import InvalidInput
from bot.services.schedule import next_weekly_time

NY = "America/New_York"


def _next(after: datetime, *, tz: str = NY, weekday: int = 0, hour: int = 9, minute: int = 0, **kw) -> datetime:
    return next_weekly_time(
        weekday=weekday, hour=hour, minute=minute, tz=tz, every_weeks=kw.pop("every_weeks", 1), after=after, **kw
    )


def _chain(start: datetime, n: int, **kw) -> list[datetime]:
    fires, after = [], start
    for _ in range(n):
        after = _next(after, **kw)
        fires.append(after)
    return fires


@pytest.mark.parametrize(
    ("start", "before_utc_hour", "after_utc_hour"),
    [
        # Spring forward (8 March): Monday 9:00 is 14:00 UTC on 2 March (EST), 13:00 UTC on 9 March (EDT).
        pytest.param(datetime(2026, 3, 1, tzinfo=UTC), (3, 2, 14), (3, 9, 13), id="spring-forward"),
        # Fall back (1 November): 13:00 UTC on 26 October (EDT), 14:00 UTC on 2 November (EST).
        pytest.param(datetime(2026, 10, 20, tzinfo=UTC), (10, 26, 13), (11, 2, 14), id="fall-back"),
    ],
)
def test_a_clock_change_moves_the_utc_hour_but_keeps_local_nine(
    start: datetime, before_utc_hour: tuple[int, int, int], after_utc_hour: tuple[int, int, int]
) -> None:
    before = _next(start)
    after = _next(before)
    assert before == datetime(2026, *before_utc_hour, 0, tzinfo=UTC)
    assert after == datetime(2026, *after_utc_hour, 0, tzinfo=UTC)
    for fire in (before, after):
        local = fire.astimezone(ZoneInfo(NY))
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
        assert fire.tzinfo is not None and fire.utcoffset() == timedelta(0)


def test_chaining_gives_one_fire_per_week_across_a_year() -> None:
    fires = _chain(datetime(2026, 1, 1, tzinfo=UTC), 60)
    assert all(a < b for a, b in zip(fires, fires[1:], strict=False))
    local_dates = [f.astimezone(ZoneInfo(NY)).date() for f in fires]
    assert all((b - a).days == 7 for a, b in zip(local_dates, local_dates[1:], strict=False))
    assert len({d.isocalendar()[:2] for d in local_dates}) == len(local_dates)
    assert all(f.astimezone(ZoneInfo(NY)).hour == 9 for f in fires)
    assert {f.hour for f in fires} == {13, 14}


def test_result_is_strictly_after_even_when_after_is_a_fire_time() -> None:
    fire = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert _next(fire) == datetime(2026, 3, 16, 13, 0, tzinfo=UTC)
    assert _next(fire - timedelta(microseconds=1)) == fire


def test_every_two_weeks_spaces_fires_fourteen_days_apart() -> None:
    first = _next(datetime(2026, 2, 20, tzinfo=UTC), every_weeks=2)
    fires = [first]
    for _ in range(8):
        fires.append(_next(fires[-1], every_weeks=2, last=fires[-1]))
    local_dates = [f.astimezone(ZoneInfo(NY)).date() for f in fires]
    assert all((b - a).days == 14 for a, b in zip(local_dates, local_dates[1:], strict=False))
    assert all(f.astimezone(ZoneInfo(NY)).hour == 9 for f in fires)  # across the March change too


def test_every_two_weeks_across_year_end() -> None:
    last = datetime(2026, 12, 21, 14, 0, tzinfo=UTC)  # Monday 21 Dec 2026, 09:00 EST
    nxt = _next(last, every_weeks=2, last=last)
    assert nxt == datetime(2027, 1, 4, 14, 0, tzinfo=UTC)
    assert _next(nxt, every_weeks=2, last=nxt) == datetime(2027, 1, 18, 14, 0, tzinfo=UTC)


def test_every_three_weeks_with_after_before_the_spacing() -> None:
    last = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
    # Asking right after the last fire still skips two weeks.
    assert _next(last + timedelta(hours=1), every_weeks=3, last=last) == datetime(2026, 6, 22, 13, 0, tzinfo=UTC)


def test_berlin_keeps_local_time_across_its_changes() -> None:
    fires = _chain(datetime(2026, 3, 20, tzinfo=UTC), 2, tz="Europe/Berlin", weekday=2, hour=10, minute=30)
    assert fires == [datetime(2026, 3, 25, 9, 30, tzinfo=UTC), datetime(2026, 4, 1, 8, 30, tzinfo=UTC)]
    fires = _chain(datetime(2026, 10, 20, tzinfo=UTC), 2, tz="Europe/Berlin", weekday=2, hour=10, minute=30)
    assert fires == [datetime(2026, 10, 21, 8, 30, tzinfo=UTC), datetime(2026, 10, 28, 9, 30, tzinfo=UTC)]


def test_kolkata_half_hour_offset() -> None:
    fire = _next(datetime(2026, 3, 1, tzinfo=UTC), tz="Asia/Kolkata", weekday=4, hour=9, minute=0)
    assert fire == datetime(2026, 3, 6, 3, 30, tzinfo=UTC)
    # Kolkata has no daylight saving: the same UTC time every week of the year.
    fires = _chain(fire, 52, tz="Asia/Kolkata", weekday=4, hour=9, minute=0)
    assert {(f.hour, f.minute) for f in fires} == {(3, 30)}


def test_time_inside_spring_forward_gap_fires_once_that_week() -> None:
    fires = _chain(datetime(2026, 2, 28, tzinfo=UTC), 4, weekday=6, hour=2, minute=30)
    # 02:30 does not exist on 8 March 2026 in New York; the week still gets exactly one fire.
    weeks = [f.astimezone(ZoneInfo(NY)).date().isocalendar()[:2] for f in fires]
    assert len(set(weeks)) == len(weeks) == 4
    march8 = [f for f in fires if f.astimezone(ZoneInfo(NY)).date() == datetime(2026, 3, 8).date()]
    assert len(march8) == 1
    assert all(a < b for a, b in zip(fires, fires[1:], strict=False))


def test_time_inside_fall_back_overlap_fires_once_that_week() -> None:
    fires = _chain(datetime(2026, 10, 20, tzinfo=UTC), 4, weekday=6, hour=1, minute=30)
    local_dates = [f.astimezone(ZoneInfo(NY)).date() for f in fires]
    assert len(set(local_dates)) == len(local_dates)


def test_unknown_zone_raises_invalid_input_on_timezone_field() -> None:
    with pytest.raises(InvalidInput) as info:
        _next(datetime(2026, 3, 1, tzinfo=UTC), tz="Mars/Olympus_Mons")
    assert info.value.field == "timezone"
    with pytest.raises(InvalidInput) as info:
        _next(datetime(2026, 3, 1, tzinfo=UTC), tz="../../etc/passwd")
    assert info.value.field == "timezone"
