"""The sender's bookkeeping on outbox rows: claim them, then mark each sent (with what its purpose records once
sent), put back to retry, failed or cancelled. Recording messages is ``bot.services.outbox``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.services.outbox import SPECS, OutboxItem, Purpose
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

#: A row left in 'sending' this long belongs to a process that died mid-send; it is sent again.
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


def claim(uow: UnitOfWork, *, now: datetime, limit: int) -> list[OutboxItem]:
    """Claim up to ``limit`` rows to send (pending ones, and ones abandoned mid-send)."""
    with uow:
        rows = uow.outbox.claim_ready(now, now - LEASE, limit)
        items = []
        for row in rows:
            row.status, row.claimed_at, row.claim_token = "sending", now, str(uuid.uuid4())
            row.attempts += 1
            items.append(
                OutboxItem(
                    id=row.id,
                    dedupe_key=row.dedupe_key,
                    workspace_id=row.workspace_id,
                    partnership_id=row.partnership_id,
                    purpose=Purpose(row.purpose),
                    ref_id=row.ref_id,
                    method=row.method,
                    channel_id=row.channel_id,
                    user_id=row.user_id,
                    attempts=row.attempts,
                    claim_token=row.claim_token,
                    extra=dict(row.extra) if row.extra else None,
                )
            )
        uow.commit()
        return items


def renew_claim(uow: UnitOfWork, item: OutboxItem, *, now: datetime) -> bool:
    """Just before the Slack call: whether the row is still this claim's, restarting its lease if so.

    Rows are claimed in batches and then wait their turn (Slack's pacing: one message a second per channel), so a
    row can wait longer than ``LEASE`` before it is sent, and another sender then takes it over as abandoned. The
    sender that claimed it first must then not send it too: that was a message posted twice. Renewing the lease at
    send time leaves only the call itself exposed, as DESIGN 4.2 allows (a crash mid-send may repeat one message).
    """
    with uow:
        renewed = uow.outbox.renew_claim(item.id, item.claim_token, now)
        uow.commit()
        return renewed


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


def mark_retry(uow: UnitOfWork, item: OutboxItem, *, error: str, available_at: datetime) -> bool:
    """Put the row back to wait; after too many attempts it fails for good."""

    def change(row: OutboxMessage) -> None:
        row.error = error[:200]
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
