"""The scorecard's rhythm: when one is due (the schedule), opening it, the reminder, closing it.

Leads choose the cadence (monthly, quarterly or off). A scorecard opens on the first digest weekday of each
month or quarter at the digest time (``open_due``, from the heartbeat) or when a lead starts one
(``bot.services.scorecard.start_now``); there is at most one per period (unique (partnership, period)), so a
repeated tick or a second "start" opens nothing new. After seven days it closes (``close_due``) and its report is
queued.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.services import outbox
from bot.services.anonymity import respondent_hash
from bot.services.pulse_rounds import queue_reminders
from bot.services.review_models import ScorecardCadence
from bot.services.schedule import zone
from storage.errors import DuplicateKey
from storage.models import Partnership, Scorecard
from storage.uow import UnitOfWork, UowFactory

logger = logging.getLogger(__name__)


OPEN_FOR = timedelta(days=7)


BATCH = 200


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


_ONE_MICROSECOND = timedelta(microseconds=1)


#: A scheduled scorecard never opens sooner than this after the last one opened, so a lead's ``start`` late in a
#: period is not followed by another scorecard a couple of weeks later (issue 12). Scheduled openings are at least
#: four weeks (monthly) or twelve weeks (quarterly) apart, so the rule only ever moves one that follows a ``start``.
MIN_GAP = {ScorecardCadence.MONTHLY: timedelta(days=21), ScorecardCadence.QUARTERLY: timedelta(days=60)}


def period_of(at: datetime, tz: str, cadence: ScorecardCadence) -> str:
    """The period a scorecard opened at ``at`` belongs to, in the partnership's zone: "2026-11" or "2026-Q4".

    With the cadence off, a scorecard a lead starts counts for its quarter (the business-review rhythm).
    """
    local = at.astimezone(zone(tz))
    if cadence is ScorecardCadence.MONTHLY:
        return f"{local.year}-{local.month:02d}"
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def next_scorecard_time(p: Partnership, after: datetime, *, last_opened: datetime | None = None) -> datetime | None:
    """When the next scheduled scorecard opens: the first digest weekday of the next month (monthly) or quarter
    (quarterly) at the digest time, strictly after ``after`` and at least ``MIN_GAP`` after ``last_opened`` (the
    last scorecard's opening, a lead's ``start`` included); None with the cadence off.

    CronTrigger does the calendar and the time zone (daylight saving included).
    """
    cadence = ScorecardCadence(p.scorecard_cadence)
    if cadence is ScorecardCadence.OFF:
        return None
    if last_opened is not None:
        after = max(after, last_opened + MIN_GAP[cadence] - _ONE_MICROSECOND)
    trigger = CronTrigger(
        month="*" if cadence is ScorecardCadence.MONTHLY else "1,4,7,10",
        day=f"1st {_WEEKDAYS[p.digest_weekday]}",
        hour=p.digest_hour,
        minute=p.digest_minute,
        timezone=zone(p.timezone),
    )
    fire = trigger.get_next_fire_time(None, after + _ONE_MICROSECOND)
    return fire.astimezone(UTC) if fire is not None else None


def open_scorecard(uow: UnitOfWork, p: Partnership, *, period: str, actor: str | None, now: datetime) -> Scorecard:
    """Open a scorecard now; the next scheduled one comes at least ``MIN_GAP`` later."""
    p.next_scorecard_at = next_scorecard_time(p, now, last_opened=now)
    closes_at = now + OPEN_FOR
    remind_at = closes_at - timedelta(hours=p.reminder_before_close_hours)
    s = uow.scorecards.add(
        Scorecard(
            partnership_id=p.id,
            period=period,
            status="open",
            opened_by=actor,
            opened_at=now,
            closes_at=closes_at,
            remind_at=remind_at if remind_at > now else None,
        )
    )
    outbox.add_new(uow, p, purpose=outbox.Purpose.SCORECARD_OPEN, ref_id=s.id, key=f"scorecard-open:{s.id}", now=now)
    return s


def open_due(uow_factory: UowFactory, *, now: datetime) -> int:
    """Open the scorecards the schedule says are due. Returns how many opened.

    A partnership seen for the first time (``next_scorecard_at`` NULL) only gets its next time computed. One due
    so long ago that it would have closed already (downtime) is skipped and logged, never opened late; a period
    that has its scorecard (a lead started it) is not opened twice.
    """
    opened = 0
    with uow_factory() as uow:
        for p in uow.scorecards.due_partnerships(now, BATCH):
            due, last_opened = p.next_scorecard_at, uow.scorecards.last_opened_at(p.id)
            p.next_scorecard_at = next_scorecard_time(p, now, last_opened=last_opened)
            if due is None:
                continue
            if now - due >= OPEN_FOR:
                logger.warning("partnership %s: the scorecard due at %s was missed (downtime); skipped", p.id, due)
                continue
            if last_opened is not None and due - last_opened < MIN_GAP[ScorecardCadence(p.scorecard_cadence)]:
                # A time computed before the last scorecard was started by hand: that one stands for this one.
                logger.info(
                    "partnership %s: the scorecard due at %s follows the last too closely; next at %s",
                    p.id,
                    due,
                    p.next_scorecard_at,
                )
                continue
            period = period_of(due, p.timezone, ScorecardCadence(p.scorecard_cadence))
            if uow.scorecards.get_by_period(p.id, period) is not None:
                continue
            try:
                with uow.savepoint():
                    open_scorecard(uow, p, period=period, actor=None, now=now)
            except DuplicateKey:  # another process opened it at the same moment
                continue
            opened += 1
            logger.info("partnership %s: scorecard %s opened on schedule", p.id, period)
        uow.commit()
    return opened


def queue_due_reminders(uow_factory: UowFactory, *, secret_key: str, now: datetime) -> int:
    """Once per scorecard, as for pulse rounds (DESIGN 3.2): before it closes, queue a nudge for each member who
    has not filled it in. Returns how many were queued."""
    return queue_reminders(
        uow_factory, lambda uow: uow.scorecards, outbox.Purpose.SCORECARD_REMINDER, secret_key=secret_key, now=now
    )


def has_filled_in(uow: UnitOfWork, *, scorecard_id: int, user_id: str, secret_key: str) -> bool:
    """Whether the person has filled in the scorecard (checked again just before their reminder goes out)."""
    with uow.read_only():
        s = uow.scorecards.get(scorecard_id)  # a scorecard that is gone needs no reminder
        return (
            s is None
            or uow.scorecard_responses.get(s.id, respondent_hash(secret_key, s.partnership_id, user_id)) is not None
        )


def close_due(uow_factory: UowFactory, *, now: datetime) -> list[int]:
    """Close the scorecards whose seven days are over and queue their report. Returns their ids."""
    closed: list[int] = []
    with uow_factory() as uow:
        for s in uow.scorecards.claim_due_closes(now, BATCH):
            p = uow.partnerships.get(s.partnership_id)
            s.status, s.closed_at = "closed", now
            closed.append(s.id)
            if p is None:
                continue
            for purpose in (outbox.Purpose.SCORECARD_CLOSED, outbox.Purpose.SCORECARD_REPORT):
                outbox.add_new(uow, p, purpose=purpose, ref_id=s.id, key=f"{purpose.value}:{s.id}", now=now)
        uow.commit()
    return closed
