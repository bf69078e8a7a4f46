"""The overdue-action reminder's schedule (``Action.next_reminder_at``), its working-window arithmetic and the
batched outbox insert it uses.

The reminder job reads only actions whose ``next_reminder_at`` has come (or is NULL: not computed yet), so these
tests pin down what the column holds after each change: created, reminded, done, reopened, calendar changed.
New York working days 09:00-17:00 are 14:00-22:00 UTC in winter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.services import actions, outbox
from bot.services.issue_models import ActionStatus
from bot.services.working_calendar import WorkingCalendar, _window_of, _windows, first_window
from storage.models import Action, OutboxMessage, Partnership
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world, put_provider_in_kolkata
from tests.unit_support import create_action_in, set_action_status_in

#: Friday 20 Nov 2026, 10:00 New York: when the actions are created.
CREATED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
#: Monday 30 Nov 2026, 10:00 New York.
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=CREATED)


def _create(world: IssueWorld, *, key: str, owner: str = "UC1", due: date = date(2026, 11, 23)) -> int:
    return create_action_in(world, key=key, now=CREATED, actor="UC2", title=f"Action {key}", owner_id=owner, due_on=due).id


def _next(world: IssueWorld, action_id: int) -> datetime | None:
    with world.uow_factory() as uow:
        action = uow.session.get(Action, action_id)
        assert action is not None
        return action.next_reminder_at


def _set_next(world: IssueWorld, action_id: int, value: datetime | None) -> None:
    with world.uow_factory() as uow:
        action = uow.session.get(Action, action_id)
        assert action is not None
        action.next_reminder_at = value
        uow.commit()


def _status(world: IssueWorld, action_id: int, status: ActionStatus, now: datetime) -> None:
    set_action_status_in(world, action_id, status, actor="UC1", now=now)


def test_creating_an_action_schedules_its_first_reminder(world: IssueWorld) -> None:
    action_id = _create(world, key="a", due=date(2026, 11, 23))  # due Monday: overdue from Tuesday 09:00
    assert _next(world, action_id) == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    friday = _create(world, key="b", due=date(2026, 11, 27))  # due Friday: the next working day is Monday
    assert _next(world, friday) == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)


def test_an_action_still_overdue_is_reminded_again_a_week_later_not_every_day(world: IssueWorld) -> None:
    action_id = _create(world, key="a")
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 1
    assert _next(world, action_id) == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # Monday 09:00 a week later
    for day in range(1, 7):  # Tuesday to Sunday: nothing, however often the heartbeat runs
        assert actions.remind_overdue(world.uow_factory, now=NOW + timedelta(days=day)) == 0
    assert actions.remind_overdue(world.uow_factory, now=datetime(2026, 12, 7, 15, 0, tzinfo=UTC)) == 1
    assert _next(world, action_id) == datetime(2026, 12, 14, 14, 0, tzinfo=UTC)


def test_recomputing_the_time_keeps_the_week(world: IssueWorld) -> None:
    action_id = _create(world, key="a", due=date(2026, 11, 25))
    thursday = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    assert actions.remind_overdue(world.uow_factory, now=thursday) == 1
    assert _next(world, action_id) == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # Thursday a week later
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    _set_next(world, action_id, None)
    assert actions.remind_overdue(world.uow_factory, now=friday) == 0  # recomputed: still a week from Thursday
    assert _next(world, action_id) == datetime(2026, 12, 3, 14, 0, tzinfo=UTC)


def test_a_new_due_date_that_passes_is_reminded_as_soon_as_it_is_overdue(world: IssueWorld) -> None:
    action_id = _create(world, key="a")
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 1  # reminded Monday 30 Nov for 23 Nov
    with world.uow_factory() as uow:
        action = uow.session.get(Action, action_id)
        assert action is not None
        action.due_on = date(2026, 12, 1)  # moved to Tuesday, which then passes too
        actions.schedule_reminder(uow, uow.session.get(Partnership, world.partnership_id), action, now=NOW)  # type: ignore[arg-type]
        uow.commit()
    assert _next(world, action_id) == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # Wednesday, not a week on
    assert actions.remind_overdue(world.uow_factory, now=datetime(2026, 12, 2, 15, 0, tzinfo=UTC)) == 1


def test_an_action_reminded_today_is_not_read_again(world: IssueWorld) -> None:
    action_id = _create(world, key="a")
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 1
    later = NOW + timedelta(hours=5)
    with world.uow_factory() as uow:
        due = uow.actions.reminders_due(now=later, due_before=later.date() + timedelta(days=1), after_id=0, limit=100)
        assert due == []
    assert actions.remind_overdue(world.uow_factory, now=later) == 0
    assert _next(world, action_id) == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def test_rows_without_a_time_are_computed_by_the_reminder_job(world: IssueWorld) -> None:
    """NULL means "not computed yet" (rows from before the column existed)."""
    action_id = _create(world, key="a")
    _set_next(world, action_id, None)
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert actions.remind_overdue(world.uow_factory, now=saturday) == 0
    assert _next(world, action_id) == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # Monday 09:00
    _set_next(world, action_id, None)
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 1  # computed and due at once
    assert _next(world, action_id) == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def test_a_missed_window_is_not_made_up_at_night(world: IssueWorld) -> None:
    """A heartbeat that was down all of Monday's working hours does not remind at Monday 20:00."""
    action_id = _create(world, key="a", due=date(2026, 11, 27))
    evening = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Monday 20:00 New York
    assert actions.remind_overdue(world.uow_factory, now=evening) == 0
    assert _next(world, action_id) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def test_done_clears_the_time_and_reopening_schedules_it_again(world: IssueWorld) -> None:
    action_id = _create(world, key="a")
    _status(world, action_id, ActionStatus.DONE, NOW)
    assert _next(world, action_id) is None
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 0
    _status(world, action_id, ActionStatus.OPEN, NOW)
    assert _next(world, action_id) == NOW.replace(hour=14)  # still overdue: due in today's window
    assert actions.remind_overdue(world.uow_factory, now=NOW + timedelta(minutes=1)) == 1


def test_a_calendar_change_moves_pending_reminders(world: IssueWorld) -> None:
    action_id = _create(world, key="a", owner="UP1")
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 1  # provider in New York too, by default
    put_provider_in_kolkata(world, now=NOW)
    assert _next(world, action_id) is None  # recomputed by the next pass, from the new hours
    assert actions.remind_overdue(world.uow_factory, now=datetime(2026, 12, 1, 4, 30, tzinfo=UTC)) == 0
    assert _next(world, action_id) == datetime(2026, 12, 7, 3, 30, tzinfo=UTC)  # a week on, 09:00 in Kolkata
    # Monday 10:00 in Kolkata (04:30 UTC), long before New York's Monday window: reminded now.
    assert actions.remind_overdue(world.uow_factory, now=datetime(2026, 12, 7, 4, 30, tzinfo=UTC)) == 1


def test_a_paused_partnership_keeps_its_reminders_for_later(world: IssueWorld) -> None:
    action_id = _create(world, key="a")
    with world.uow_factory() as uow:
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None
        p.status = "paused"
        uow.commit()
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 0
    assert _next(world, action_id) == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # unchanged, read again later
    with world.uow_factory() as uow:
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None
        p.status = "active"
        uow.commit()
    assert actions.remind_overdue(world.uow_factory, now=NOW + timedelta(hours=1)) == 1


# --- working windows -----------------------------------------------------------------------------------------


def test_first_window_skips_weekends_holidays_and_windows_already_over() -> None:
    cal = WorkingCalendar("America/New_York", holidays=frozenset({date(2026, 11, 26)}))
    # From Thursday (a holiday): Friday's window.
    assert first_window(cal, date(2026, 11, 26), ending_after=datetime(2026, 11, 20, tzinfo=UTC)) == (
        datetime(2026, 11, 27, 14, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 22, 0, tzinfo=UTC),
    )
    # Inside Monday's window: that window; after it: Tuesday's.
    assert first_window(cal, date(2026, 11, 30), ending_after=NOW)[0] == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # type: ignore[index]
    after = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # 17:00: the window has ended
    assert first_window(cal, date(2026, 11, 30), ending_after=after)[0] == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # type: ignore[index]
    # Across the autumn change (1 Nov 2026): 09:00 is 13:00 UTC before it, 14:00 UTC after it.
    assert first_window(cal, date(2026, 10, 30), ending_after=datetime(2026, 10, 1, tzinfo=UTC))[0] == datetime(  # type: ignore[index]
        2026, 10, 30, 13, 0, tzinfo=UTC
    )
    assert first_window(cal, date(2026, 10, 31), ending_after=datetime(2026, 10, 1, tzinfo=UTC))[0] == datetime(  # type: ignore[index]
        2026, 11, 2, 14, 0, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        first_window(cal, date(2026, 11, 30), ending_after=datetime(2026, 11, 30, 12, 0))  # naive


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"])
def test_cached_windows_equal_freshly_computed_ones(zone: str) -> None:
    """The per-calendar cache must never change an answer: two years of days across daylight-saving changes."""
    cal = WorkingCalendar(zone, workdays=frozenset({0, 1, 2, 3, 5}), day_start=time(1, 30), day_end=time(18, 15))
    first, last = date(2026, 1, 1), date(2027, 12, 31)
    fresh = []
    day = first
    while day <= last:
        window = _window_of(cal, day, cal.zone)
        if window is not None:
            fresh.append(window)
        day += timedelta(days=1)
    assert list(_windows(cal, first, last)) == fresh
    assert list(_windows(cal, first, last)) == fresh  # the second time from the cache
    equal = WorkingCalendar(zone, workdays={0, 1, 2, 3, 5}, day_start=time(1, 30), day_end=time(18, 15))
    assert list(_windows(equal, first, last)) == fresh  # an equal calendar finds the same entries


def test_the_window_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A heartbeat that runs for months keeps adding days: past the bound the cache starts again, same answers."""
    from bot.services import working_calendar

    monkeypatch.setattr(working_calendar, "_MAX_CACHED_DAYS", 50)
    monkeypatch.setattr(working_calendar, "_DAY_WINDOWS", {})
    monkeypatch.setattr(working_calendar, "_cached_days", 0)
    cal = WorkingCalendar("Europe/Berlin")
    for year in (2026, 2027, 2028, 2026):  # four months of days, in turn; unbounded this would hold 360 days
        first = date(year, 1, 1)
        expected = [w for d in range(120) if (w := _window_of(cal, first + timedelta(days=d), cal.zone))]
        assert list(_windows(cal, first, first + timedelta(days=119))) == expected
        assert sum(len(days) for days in working_calendar._DAY_WINDOWS.values()) <= 50 + 120


# --- the batched outbox insert ----------------------------------------------------------------------------------


def test_add_many_skips_existing_keys_and_refuses_duplicates_when_told_they_are_new(world: IssueWorld) -> None:
    with world.uow_factory() as uow:
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None
        assert outbox.enqueue(uow, p, purpose=outbox.Purpose.ACTIONS_OVERDUE, ref_id=p.id, user_id="UC1", key="k1", now=NOW)
        messages = [
            outbox.NewMessage(p, outbox.Purpose.ACTIONS_OVERDUE, p.id, key, user)
            for key, user in (("k1", "UC1"), ("k2", "UC2"), ("k2", "UC2"))
        ]
        assert outbox.add_many(uow, messages, now=NOW, skip_existing=True) == 1
        uow.commit()
    with world.uow_factory() as uow:
        rows = uow.session.query(OutboxMessage).filter(OutboxMessage.dedupe_key.in_(["k1", "k2"])).all()
        assert sorted((r.dedupe_key, r.user_id, r.method, r.status) for r in rows) == [
            ("k1", "UC1", "chat.postEphemeral", "pending"),
            ("k2", "UC2", "chat.postEphemeral", "pending"),
        ]
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None
        assert outbox.add_many(uow, [], now=NOW, skip_existing=False) == 0
        with pytest.raises(IntegrityError):
            outbox.add_many(
                uow, [outbox.NewMessage(p, outbox.Purpose.ACTIONS_OVERDUE, p.id, "k1")], now=NOW, skip_existing=False
            )
        uow.rollback()


def test_a_reminder_queued_meanwhile_by_another_process_falls_back_to_one_by_one(
    world: IssueWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batched insert fails on the unique key when another heartbeat queued one of the reminders between
    the look-up and the insert: the pass then records them one at a time, and the actions' times are kept."""
    first = _create(world, key="a", owner="UC1")
    second = _create(world, key="b", owner="UC2")

    def racing(uow: object, messages: object, *, now: datetime, skip_existing: bool) -> int:
        raise IntegrityError("INSERT INTO outbox ...", {}, Exception("duplicate key"))

    monkeypatch.setattr(outbox, "add_many", racing)
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 2
    keys = [f"actions-overdue:{world.partnership_id}:{owner}:2026-11-30" for owner in ("UC1", "UC2")]
    with world.uow_factory() as uow:
        found = uow.session.query(OutboxMessage.dedupe_key).filter(OutboxMessage.dedupe_key.in_(keys)).all()
        assert sorted(k for (k,) in found) == keys
        for action_id in (first, second):
            action = uow.session.get(Action, action_id)
            assert action is not None and action.last_reminded_on == date(2026, 11, 30)
            assert action.next_reminder_at == datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
