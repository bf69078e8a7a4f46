"""The sender's bookkeeping on outbox rows: claim them under a short lease, keep the lease while they are sent
(and check, just before each Slack call, that the row is still ours), then mark each sent (with what its purpose
records once sent) the moment Slack answers, or put it back to retry, failed or cancelled. Recording messages is
``bot.services.outbox``.

What a crash can still double: a message whose Slack call was in flight when the process died (Slack posted it,
its ``ts`` was never recorded) is sent again once its lease runs out, so at most one message per concurrent
call. Rows claimed but not yet sent are sent once, after the lease; nothing is lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

from bot.services.outbox import SPECS, OutboxItem, Purpose
from bot.services.read_models_from_rows import view_from_row
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

#: A row left in 'sending' this long belongs to a process that died mid-send; it is sent again. The sender renews
#: the lease of what it holds while it sends (``renew``, ``take``), so a long paced batch keeps its rows; a single
#: Slack call, with the client's retries, finishes well within it.
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8


def claim(uow: UnitOfWork, *, now: datetime, limit: int, partnership_id: int | None = None) -> list[OutboxItem]:
    """Claim up to ``limit`` rows to send (pending ones, and ones abandoned mid-send), fairly across partnerships,
    under one claim token: the background sender's claim (with ``partnership_id``, that partnership's only)."""
    with uow:
        return _claimed(uow, uow.outbox.claim_ready(now, now - LEASE, limit, partnership_id=partnership_id), now)


def claim_ids(uow: UnitOfWork, ids: Collection[int], *, now: datetime) -> list[OutboxItem]:
    """Claim those of ``ids`` (the rows one request queued) that are pending and may go now, under one claim
    token. A row another sender holds, or one that must wait (paused partnership, held workspace, later
    ``available_at``), is left to the background sender."""
    if not ids:
        return []
    with uow:
        return _claimed(uow, uow.outbox.claim_ids(ids, now), now)


def _claimed(uow: UnitOfWork, rows: Sequence[OutboxMessage], now: datetime) -> list[OutboxItem]:
    items = []
    token = str(uuid.uuid4())
    for row in rows:
        row.status, row.claimed_at, row.claim_token = "sending", now, token
        row.attempts += 1
        items.append(
            view_from_row(OutboxItem, row, purpose=Purpose(row.purpose), extra=dict(row.extra) if row.extra else None)
        )
    uow.commit()
    return items


def take(uow: UnitOfWork, item: OutboxItem, *, now: datetime) -> bool:
    """Just before the Slack call: True if the row is still ours (its lease renewed from ``now``), False if
    another sender reclaimed it after our lease ran out (then it must not be sent by us)."""
    with uow:
        taken = uow.outbox.renew_claim(item.claim_token, [item.id], now) == 1
        uow.commit()
        return taken


def renew(uow: UnitOfWork, items: Collection[OutboxItem], *, now: datetime) -> int:
    """Extend the lease of those of ``items`` (claimed together) still ours; returns how many are still held."""
    if not items:
        return 0
    token = next(iter(items)).claim_token
    with uow:
        held = uow.outbox.renew_claim(token, [item.id for item in items], now)
        uow.commit()
        return held


def _finish(uow: UnitOfWork, item: OutboxItem, change: Callable[[OutboxMessage], None]) -> bool:
    with uow:
        row = uow.outbox.get(item.id)
        # Someone else reclaimed it after our lease ran out: their outcome stands.
        if row is None or row.claim_token != item.claim_token:
            return False
        change(row)
        uow.commit()
        return True


def mark_sent(uow: UnitOfWork, item: OutboxItem, *, ts: str | None, now: datetime) -> bool:
    """Record Slack's ``ts`` for the message, and what its purpose records once sent (``PurposeSpec.records``)."""

    def change(row: OutboxMessage) -> None:
        row.status, row.ts, row.sent_at, row.error = "sent", ts, now, None
        if ts:
            SPECS[item.purpose].records(uow, item, ts, now)

    return _finish(uow, item, change)


def mark_retry(uow: UnitOfWork, item: OutboxItem, *, error: str, available_at: datetime, count_attempt: bool = True) -> bool:
    """Put the row back to wait; after too many attempts it fails for good. Without ``count_attempt`` (the row
    waits for its workspace's token, not for a fault of its own) the attempt is given back."""

    def change(row: OutboxMessage) -> None:
        row.error = error[:200]
        if not count_attempt:
            row.attempts = max(row.attempts - 1, 0)
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        else:
            row.status, row.available_at, row.claim_token = "pending", available_at, None

    return _finish(uow, item, change)


def mark_failed(uow: UnitOfWork, item: OutboxItem, *, error: str) -> bool:
    def change(row: OutboxMessage) -> None:
        row.status, row.error = "failed", error[:200]

    return _finish(uow, item, change)


def mark_cancelled(uow: UnitOfWork, item: OutboxItem, *, reason: str) -> bool:
    """The message is no longer wanted (its round closed, the person answered meanwhile)."""

    def change(row: OutboxMessage) -> None:
        row.status, row.error = "cancelled", reason[:200]

    return _finish(uow, item, change)
