"""The weekly digest's week and schedule (DESIGN 3.4): when each partnership's week ends, queuing its digest once
per partnership and week, and recording it sent. What a digest says: ``bot.services.digest``.

The week is the seven local days (partnership time zone) ending at the digest time, so it is 167 or 169 hours
across a daylight-saving change. After downtime only the latest missed digest goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from bot.services import outbox
from bot.services.batches import claimed_batches
from bot.services.partnership_guards import partnership_by_id
from bot.services.schedule import due_and_next, next_weekly_time, zone
from storage.errors import DuplicateKey
from storage.models import Digest, Partnership
from storage.uow import UnitOfWork, UowFactory

logger = logging.getLogger(__name__)


#: Partnerships claimed per transaction by ``queue_due_digests``.
BATCH = 100


#: A partnership whose digest time cannot be computed (a broken time zone) is tried again this much later.
RETRY_AFTER = timedelta(hours=6)


def shift_local(at: datetime, tz: str, *, days: int) -> datetime:
    """``at`` moved by whole local days in ``tz`` (same wall-clock time), as UTC: a week is 7 local days,
    167 or 169 hours across a daylight-saving change.
    """
    local = at.astimezone(zone(tz)).replace(tzinfo=None) + timedelta(days=days)
    return local.replace(tzinfo=zone(tz)).astimezone(UTC)


def week_boundaries(ends_at: datetime, tz: str, weeks: int) -> list[datetime]:
    """``weeks + 1`` instants, oldest first, the last one ``ends_at``: the week ``k`` weeks back (0 = the week
    ending at ``ends_at``) is ``[bounds[weeks - 1 - k], bounds[weeks - k])``.
    """
    return [shift_local(ends_at, tz, days=-7 * k) for k in range(weeks, -1, -1)]


def week_start_of(ends_at: datetime, tz: str) -> date:
    """The local date on which the week ending at ``ends_at`` began."""
    return shift_local(ends_at, tz, days=-7).astimezone(zone(tz)).date()


def next_digest_time(p: Partnership, after: datetime) -> datetime:
    """The partnership's first digest time after ``after``."""
    return next_weekly_time(
        weekday=p.digest_weekday, hour=p.digest_hour, minute=p.digest_minute, tz=p.timezone, every_weeks=1, after=after
    )


def ends_at_for_week(p: Partnership, week_start: date) -> datetime:
    """The digest time that ends the week starting on local date ``week_start``."""
    last_day = datetime.combine(week_start + timedelta(days=7), time(p.digest_hour, p.digest_minute))
    return last_day.replace(tzinfo=zone(p.timezone)).astimezone(UTC)


def latest_digest_time(p: Partnership, now: datetime) -> datetime:
    """The most recent digest time at or before ``now``."""
    at = next_digest_time(p, now - timedelta(days=8))
    following = next_digest_time(p, at)
    while following <= now:
        at, following = following, next_digest_time(p, following)
    return at


def first_week_start(p: Partnership) -> date:
    """The local date on which the partnership's first week began: the week (on its current digest schedule) in
    which it was set up. Nothing before it is shown."""
    return week_start_of(next_digest_time(p, p.created_at), p.timezone)


def first_week(uow: UnitOfWork, *, partnership_id: int) -> date:
    """``first_week_start`` of a partnership by id.

    Raises:
        NotFound: no such partnership.
    """
    with uow.read_only():
        return first_week_start(partnership_by_id(uow, partnership_id))


def digest_due(uow_factory: UowFactory, *, now: datetime) -> list[int]:
    """Ids of active partnerships whose digest time has come (read only; ``queue_due_digests`` claims them)."""
    with uow_factory().read_only() as uow:
        return uow.digests.due_ids(now)


def _schedule(p: Partnership, now: datetime) -> tuple[datetime | None, datetime]:
    """(the digest time to send now, or None; the next digest time).

    After downtime only the latest missed digest goes out (its week is the most recent one); older ones are
    skipped and logged. A digest time that no longer fits the schedule (a lead changed the digest day or time)
    is not sent: the next one is computed from the new schedule.
    """
    # None: the first time (a new partnership, or one from before digests existed)
    return due_and_next(p.next_digest_at, now, lambda after: next_digest_time(p, after), f"partnership {p.id}: digest")


#: What runs when a digest is queued, in its transaction: (uow, partnership, the week's end, now).
OnQueued = Callable[[UnitOfWork, Partnership, datetime, datetime], object]


def queue_due_digests(uow_factory: UowFactory, *, now: datetime, on_queued: OnQueued | None = None) -> int:
    """Queue the digest of every partnership whose digest time has come, once per week. Returns how many.

    ``on_queued`` runs for each digest newly queued, in its own savepoint: its failure is logged and the digest
    still goes (the jobs pass the watermelon check's signals).

    Partnerships are claimed with a row lock (``SKIP LOCKED`` on PostgreSQL), so several heartbeats can run at
    once; the ``digests`` row (unique per partnership and week) and the outbox key make a repeat a no-op.
    The outbox row (purpose ``digest``, ``ref_id`` the digests row) is rendered at send time.
    """
    queued = 0
    for uow, due in claimed_batches(uow_factory, lambda uow: uow.digests.claim_due(now, BATCH)):
        for p in due:
            try:
                ends_at, following = _schedule(p, now)
            except Exception:
                # One broken partnership must not block the others (it would be claimed again forever).
                logger.exception("partnership %s: could not compute its digest time; trying again later", p.id)
                p.next_digest_at = now + RETRY_AFTER
                continue
            p.next_digest_at = following
            if ends_at is None:
                continue
            try:
                with uow.savepoint():
                    added = _record(uow, p, ends_at, now)
                queued += added
            except DuplicateKey:  # recorded by another process at the same moment
                logger.info("partnership %s: digest ending %s already queued", p.id, ends_at.isoformat())
                continue
            if added and on_queued is not None:
                _after_queued(uow, p, ends_at, now, on_queued)
    return queued


def _after_queued(uow: UnitOfWork, p: Partnership, ends_at: datetime, now: datetime, on_queued: OnQueued) -> None:
    try:
        with uow.savepoint():
            on_queued(uow, p, ends_at, now)
    except Exception:  # the digest is queued whatever its signals do
        logger.exception("partnership %s: work after queuing the digest ending %s failed", p.id, ends_at.isoformat())


def digest_key(partnership_id: int, week_start: date) -> str:
    """The outbox key of a partnership's digest for a week: one message per partnership and week."""
    return f"{outbox.Purpose.DIGEST.value}:{partnership_id}:{week_start.isoformat()}"


def _record(uow: UnitOfWork, p: Partnership, ends_at: datetime, now: datetime) -> int:
    week_start = week_start_of(ends_at, p.timezone)
    if uow.digests.get_for_week(p.id, week_start) is not None:
        return 0
    digest = uow.digests.add(
        Digest(partnership_id=p.id, week_start=week_start, ends_at=ends_at, status="queued", created_at=now)
    )
    added = outbox.enqueue(
        uow, p, purpose=outbox.Purpose.DIGEST, ref_id=digest.id, key=digest_key(p.id, week_start), now=now
    )
    logger.info("partnership %s: digest for the week of %s queued", p.id, week_start.isoformat())
    return int(added)


def message_key(uow: UnitOfWork, *, digest_id: int) -> str | None:
    """The outbox key of a digests row's channel message (its chart goes in that message's thread)."""
    with uow.read_only():
        row = uow.digests.get(digest_id)
        return digest_key(row.partnership_id, row.week_start) if row is not None else None


def mark_digest_sent(uow: UnitOfWork, *, digest_id: int, now: datetime) -> None:
    """Record that the digest went out (the outbox keeps the message's own state)."""
    with uow:
        row = uow.digests.get(digest_id)
        if row is not None and row.status != "sent":
            row.status, row.sent_at = "sent", now
            uow.commit()
