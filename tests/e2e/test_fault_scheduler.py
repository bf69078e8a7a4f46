"""The scheduler checks 28-30 of "Tests a trustworthy bot must pass", as they apply to PartnerPulse.

PartnerPulse keeps what is due in its own tables (next_pulse_at, closes_at, next_escalation_at, ...), and its one
APScheduler job, the heartbeat, lives in memory and only calls ``tick(now)``: everything due by ``now`` is done,
each piece claimed in the transaction that does it. So a downtime over a due time is caught up by the first beat
after the restart, once (28); the week's fire time is computed in the partnership's zone, so a DST night gives
one round on its local date (29); and there is no persisted job to unpickle or duplicate (30): the heartbeat is
added at start with a fixed id and ``replace_existing``, and a database restart under it is the PostgreSQL fault
test (tests/e2e/test_fault_database_restart.py).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select, update

from bot.harness import LocalStack
from bot.scheduler import HEARTBEAT_JOB_ID, build_scheduler, heartbeat
from storage.models import Member, Partnership, PulseRound
from tests.helpers import setup_partnership

NEW_YORK = ZoneInfo("America/New_York")
#: A downtime of 10 minutes over the due time (check 28).
DOWNTIME = timedelta(minutes=10)


def _pulses_posted(stack: LocalStack) -> int:
    return sum(1 for c in stack.sandbox.calls_to("chat.postMessage") if "pulse-answer" in json.dumps(c.args.get("blocks")))


def _next_pulse_at(stack: LocalStack) -> datetime:
    with stack.services.uow_factory() as uow:
        at = uow.session.scalars(select(Partnership.next_pulse_at)).one()
        assert at is not None
        return at


def _round_dates(stack: LocalStack) -> list[date]:
    with stack.services.uow_factory() as uow:
        return [at.astimezone(NEW_YORK).date() for at in uow.session.scalars(select(PulseRound.scheduled_at)).all()]


# --- 28: a missed run after a restart -------------------------------------------------------------------------


def test_a_pulse_due_while_the_process_was_down_is_posted_once_by_the_first_beat_after(stack: LocalStack) -> None:
    setup_partnership(stack)
    due = _next_pulse_at(stack)
    # Down from a minute before the due time until 10 minutes after it; then the heartbeat beats every 30 s.
    first = stack.tick(due + DOWNTIME)
    beats = [stack.tick(due + DOWNTIME + timedelta(seconds=30 * n)) for n in range(1, 11)]
    assert first.opened == 1 and first.skipped == 0
    assert [b.opened for b in beats] == [0] * 10
    assert _pulses_posted(stack) == 1


def test_the_heartbeat_coalesces_missed_beats_into_one_and_tolerates_a_late_one(stack: LocalStack) -> None:
    """A beat missed while the process was busy is not run late many times (coalesce, one instance); it needs no
    grace longer than a beat, because the next beat does everything due by its own time."""
    scheduler = build_scheduler(stack.services)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(HEARTBEAT_JOB_ID)
        assert job is not None
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == stack.settings.heartbeat_seconds
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(seconds=stack.settings.heartbeat_seconds)
    finally:
        scheduler.shutdown(wait=False)


# --- 29: DST and time zones --------------------------------------------------------------------------------------


def _through_the_night(stack: LocalStack, week_before: datetime, night: date) -> tuple[int, int]:
    """Open the round of the week before (and close it), then beat every 15 minutes from noon the day before
    ``night`` until noon the day after, as the heartbeat would. Returns (rounds opened, rounds skipped)."""
    with stack.services.uow_factory() as uow:
        uow.session.execute(update(Partnership).values(next_pulse_at=week_before))
        uow.commit()
    assert stack.tick(week_before).opened == 1
    assert stack.tick(week_before + timedelta(hours=49)).closed == 1
    opened = skipped = 0
    at = datetime(night.year, night.month, night.day, 12, tzinfo=NEW_YORK) - timedelta(days=1)
    end = at + timedelta(days=2)
    while at <= end:
        report = stack.tick(at.astimezone(UTC))
        opened, skipped = opened + report.opened, skipped + report.skipped
        at += timedelta(minutes=15)
    return opened, skipped


@pytest.mark.parametrize(
    ("pulse_time", "change_day", "next_week_utc"),
    [
        # 02:00 EST -> 03:00 EDT: 02:30 does not exist. The next week is back at 02:30, now EDT: 06:30 UTC.
        pytest.param(time(2, 30), date(2027, 3, 14), datetime(2027, 3, 21, 6, 30, tzinfo=UTC), id="0230-spring-forward"),
        # 02:00 EDT -> 01:00 EST: 01:30 happens twice. The next week is at 01:30 EST: 06:30 UTC.
        pytest.param(time(1, 30), date(2027, 11, 7), datetime(2027, 11, 14, 6, 30, tzinfo=UTC), id="0130-fall-back"),
    ],
)
def test_a_sunday_pulse_at_a_time_the_clock_change_skips_or_repeats_opens_once_that_date(
    stack: LocalStack, pulse_time: time, change_day: date, next_week_utc: datetime
) -> None:
    setup_partnership(stack, pulse_weekday="6", pulse_time=pulse_time.strftime("%H:%M"))
    week_before = datetime.combine(change_day - timedelta(days=7), pulse_time, tzinfo=NEW_YORK).astimezone(UTC)
    opened, skipped = _through_the_night(stack, week_before, change_day)
    assert (opened, skipped) == (1, 0)
    assert _round_dates(stack).count(change_day) == 1
    assert _next_pulse_at(stack) == next_week_utc


def test_a_reminder_shows_the_zone_the_person_has_when_it_is_sent_not_when_it_was_scheduled(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    person = w.client_members[0]
    due = _next_pulse_at(stack)  # Monday 30 Nov 2026, 09:00 New York = 14:00 UTC
    assert stack.tick(due).opened == 1
    with stack.services.uow_factory() as uow:
        round_ = uow.session.scalars(select(PulseRound)).one()
        remind_at, closes_at = round_.remind_at, round_.closes_at
        uow.session.execute(update(Member).where(Member.user_id == person).values(tz="Asia/Tokyo"))
        uow.commit()
    assert remind_at is not None
    assert closes_at == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # 48 hours after the pulse
    stack.tick(remind_at)
    texts = [str(m.get("text")) for m in sb.messages(sb.dm_channel(person))]
    # 14:00 UTC on Wednesday 2 December is 23:00 in Tokyo (UTC+9, no daylight saving).
    assert any("Reminder" in t and "Wed 2 Dec, 23:00 JST" in t for t in texts), texts


# --- 30: job-store resilience --------------------------------------------------------------------------------------


def test_the_heartbeat_added_twice_at_start_is_one_job_in_a_memory_store(stack: LocalStack) -> None:
    scheduler = build_scheduler(stack.services)
    scheduler.start(paused=True)  # jobs added before start() are merged at start, by id
    try:
        scheduler.add_job(
            heartbeat, IntervalTrigger(seconds=5), args=[stack.services], id=HEARTBEAT_JOB_ID, replace_existing=True
        )
        assert [j.id for j in scheduler.get_jobs()] == [HEARTBEAT_JOB_ID]
        stores = scheduler._jobstores  # type: ignore[attr-defined]
        assert all(isinstance(s, MemoryJobStore) for s in stores.values()), "nothing pickled, nothing shared"
    finally:
        scheduler.shutdown(wait=False)
