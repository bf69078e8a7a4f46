"""The outbox: messages are recorded with the change that causes them, then claimed, sent and marked.

Rows carry a purpose and a reference, not a rendered payload: the sender renders at send time, so the
domain transaction never depends on Slack or Block Kit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage.models import Issue, OutboxMessage, Partnership
from storage.uow import UnitOfWork

#: A row left in 'sending' this long belongs to a process that died mid-send; it is sent again.
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


class Purpose(StrEnum):
    PULSE = "pulse"
    PULSE_CLOSED = "pulse-closed"
    REMINDER = "remind"
    RESULTS = "results"
    MENU = "menu"
    # The issue log (DESIGN 3.3). ref_id: the issue for cards, the issue event for thread replies, the signal for
    # signals; for the overdue-actions reminder the partnership (the owner is user_id).
    ISSUE_CARD = "issue-card"
    ISSUE_CARD_UPDATE = "issue-card-update"
    ISSUE_HISTORY = "issue-history"
    ESCALATION = "issue-escalation"
    FOLLOWUP_QUESTION = "followup-question"
    ACTIONS_OVERDUE = "actions-overdue"
    SIGNAL = "signal"
    # The weekly digest (DESIGN 3.4). ref_id: the digests row; its trend chart is uploaded with it.
    DIGEST = "digest"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    dedupe_key: str
    workspace_id: int
    partnership_id: int | None
    purpose: Purpose
    ref_id: int | None
    method: str
    channel_id: str
    user_id: str | None
    attempts: int
    claim_token: str


#: The Slack method each kind of message goes out with.
METHOD = {
    Purpose.PULSE: "chat.postMessage",
    Purpose.PULSE_CLOSED: "chat.update",
    Purpose.REMINDER: "chat.postEphemeral",
    Purpose.RESULTS: "chat.postMessage",
    Purpose.MENU: "chat.postMessage",
    Purpose.ISSUE_CARD: "chat.postMessage",
    # Updated in place; when the card is gone (deleted, or never posted) the sender posts a new one.
    Purpose.ISSUE_CARD_UPDATE: "chat.update",
    Purpose.ISSUE_HISTORY: "chat.postMessage",
    Purpose.ESCALATION: "chat.postMessage",
    Purpose.FOLLOWUP_QUESTION: "chat.postMessage",
    # Ephemeral, like the pulse reminder: DMs do not reach the other organisation, and nobody is named in public.
    Purpose.ACTIONS_OVERDUE: "chat.postEphemeral",
    Purpose.SIGNAL: "chat.postEphemeral",
    Purpose.DIGEST: "chat.postMessage",
}

#: Purposes whose sent ``ts`` is the issue card's (recorded on the issue, so updates and replies find it).
CARD_PURPOSES = frozenset({Purpose.ISSUE_CARD, Purpose.ISSUE_CARD_UPDATE})


def default_key(purpose: Purpose, ref_id: int, user_id: str | None = None) -> str:
    """The outbox key of one message about ``ref_id`` (per recipient for ephemerals)."""
    return f"{purpose.value}:{ref_id}" + (f":{user_id}" if user_id else "")


def enqueue(
    uow: UnitOfWork,
    partnership: Partnership,
    *,
    purpose: Purpose,
    ref_id: int,
    now: datetime,
    user_id: str | None = None,
    key: str | None = None,
) -> bool:
    """Record a message for the partnership's channel, inside the caller's transaction.

    Idempotent per key: by default ``<purpose>:<ref_id>`` (plus the recipient for ephemerals).
    """
    return uow.outbox.add_once(
        _message(partnership, purpose, ref_id, key or default_key(purpose, ref_id, user_id), now, user_id)
    )


def add_new(
    uow: UnitOfWork,
    partnership: Partnership,
    *,
    purpose: Purpose,
    ref_id: int,
    key: str,
    now: datetime,
    user_id: str | None = None,
) -> None:
    """Record a message whose key is new by construction (it names a row created in this transaction).

    Unlike ``enqueue`` it neither looks the key up nor flushes, so a batch job can record many messages and
    write them in one round trip. A key that does exist still fails on the unique constraint at commit.
    """
    uow.session.add(_message(partnership, purpose, ref_id, key, now, user_id))


def _message(
    partnership: Partnership, purpose: Purpose, ref_id: int, key: str, now: datetime, user_id: str | None
) -> OutboxMessage:
    return OutboxMessage(
        dedupe_key=key,
        workspace_id=partnership.workspace_id,
        partnership_id=partnership.id,
        purpose=purpose.value,
        ref_id=ref_id,
        method=METHOD[purpose],
        channel_id=partnership.channel_id,
        user_id=user_id,
        status="pending",
        attempts=0,
        available_at=now,
        created_at=now,
    )


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
                )
            )
        uow.commit()
        return items


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
    """Record Slack's ``ts`` for the message, and the menu's ``ts`` on its partnership."""

    def change(row: OutboxMessage) -> None:
        row.status, row.ts, row.sent_at, row.error = "sent", ts, now, None
        if item.purpose is Purpose.MENU and item.partnership_id is not None and ts:
            p = uow.partnerships.get(item.partnership_id)
            if p is not None:
                p.menu_ts = ts
        if item.purpose in CARD_PURPOSES and item.ref_id is not None and ts:
            issue = uow.session.get(Issue, item.ref_id)
            if issue is not None:
                issue.card_ts = ts

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


def sent_ts(uow: UnitOfWork, key: str) -> str | None:
    """The ``ts`` Slack gave a sent message, by its outbox key."""
    with uow.read_only():
        row = uow.outbox.get_by_key(key)
        return row.ts if row is not None and row.status == "sent" else None


def counts(uow: UnitOfWork) -> dict[str, int]:
    with uow.read_only():
        return uow.outbox.count_by_status()
