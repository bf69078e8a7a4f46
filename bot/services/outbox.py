"""The outbox: messages are recorded with the change that causes them, then claimed, sent and marked.

Rows carry a purpose and a reference, not a rendered payload: the sender renders at send time, so the
domain transaction never depends on Slack or Block Kit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import insert, select

from bot.services.models import Role
from storage.models import Digest, Issue, OutboxMessage, Partnership
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
    # The weekly digest (DESIGN 3.4). ref_id: the digests row. Its trend chart and the subscribers' copies are
    # recorded when the digest is marked sent (``_digest_sent``), so the chart knows the thread to go in and a
    # process killed between the two never posts the digest twice; a failed upload is retried on its own.
    DIGEST = "digest"
    DIGEST_CHART = "digest-chart"
    # A direct-message copy for a lead or sponsor who subscribed: channel_id and user_id are the person.
    DIGEST_COPY = "digest-copy"
    # Shared goals, the expectations ledger and the bilateral scorecard (DESIGN 3.5). ref_id: the expectation for
    # its message (updated in place when answered), the scorecard for its invitation, closing and report.
    EXPECTATION = "expectation"
    EXPECTATION_UPDATE = "expectation-update"
    SCORECARD_OPEN = "scorecard-open"
    SCORECARD_CLOSED = "scorecard-closed"
    SCORECARD_REPORT = "scorecard-report"
    # The portfolio digest: every partnership of a workspace ranked by risk. partnership_id is None; ref_id is the
    # workspace; the key names the workspace and the local date of the Monday it is posted.
    PORTFOLIO = "portfolio"
    # A change both sides should see (the escalation policy, the categories, a side's working calendar), announced
    # in the channel. ref_id: the partnership; ``extra["text"]``: the notice's wording, composed by the caller's
    # presentation code from what the change saved (``Notice``), posted with ``build_notice``.
    NOTICE = "notice"
    # What the partnership setup form saved, posted in the channel. ref_id: the partnership; ``extra`` holds what
    # only the setup knew (created or updated, the people per side, who saved it); the rest is read at send time.
    SETUP_DONE = "setup-done"


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
    #: What the row's purpose needs besides its reference (``Purpose.NOTICE``, ``Purpose.SETUP_DONE``).
    extra: dict[str, Any] | None = None


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
    # files_upload_v2: files.getUploadURLExternal, the upload itself, then files.completeUploadExternal (paced
    # by the last, which shares the file into the channel).
    Purpose.DIGEST_CHART: "files.completeUploadExternal",
    # chat.postMessage to a user id lands in the person's direct messages with the app (no conversations.open).
    Purpose.DIGEST_COPY: "chat.postMessage",
    Purpose.EXPECTATION: "chat.postMessage",
    Purpose.EXPECTATION_UPDATE: "chat.update",
    Purpose.SCORECARD_OPEN: "chat.postMessage",
    Purpose.SCORECARD_CLOSED: "chat.update",
    Purpose.SCORECARD_REPORT: "chat.postMessage",
    Purpose.PORTFOLIO: "chat.postMessage",
    Purpose.NOTICE: "chat.postMessage",
    Purpose.SETUP_DONE: "chat.postMessage",
}

#: Purposes sent to a person's direct messages with the app: the row's channel is the person, not the
#: partnership's channel, so a DM that cannot be delivered is that person's problem, never the channel's.
DM_PURPOSES = frozenset({Purpose.DIGEST_COPY})

#: Purposes whose sending records more messages (``mark_sent``): the sender makes one more pass for them.
SPAWNS_FOLLOW_UPS = frozenset({Purpose.DIGEST})

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
    extra: dict[str, Any] | None = None,
) -> bool:
    """Record a message for the partnership's channel, inside the caller's transaction.

    Idempotent per key: by default ``<purpose>:<ref_id>`` (plus the recipient for ephemerals).
    """
    return uow.outbox.add_once(
        _message(partnership, purpose, ref_id, key or default_key(purpose, ref_id, user_id), now, user_id, extra=extra)
    )


V = TypeVar("V")


@dataclass(frozen=True)
class Notice(Generic[V]):
    """A notice to post in the partnership's channel about a change, recorded in the change's transaction.

    ``compose`` builds the notice's text from what the change saved (``V``: the service's read model of it); it is
    the caller's presentation code (our wording, user text escaped), so services decide *whether* to announce and
    never word it. ``request_key`` names the Slack request that asked for the change: a repeated delivery of the
    same request records the notice once.
    """

    request_key: str
    compose: Callable[[V], str]


def notice_key(partnership_id: int, request_key: str) -> str:
    """The outbox key of the notice a request causes in a partnership's channel."""
    return f"{Purpose.NOTICE.value}:{partnership_id}:{request_key}"[:200]


def enqueue_notice(uow: UnitOfWork, partnership: Partnership, notice: Notice[V], saved: V, *, now: datetime) -> bool:
    """Record ``notice`` about ``saved`` for the partnership's channel, inside the caller's transaction.

    Once per request key: returns False when the same request announced it before (its repeated delivery).
    """
    key = notice_key(partnership.id, notice.request_key)
    if uow.outbox.get_by_key(key) is not None:
        return False
    message = _message(partnership, Purpose.NOTICE, partnership.id, key, now, None, extra={"text": notice.compose(saved)})
    return uow.outbox.add_once(message)


def notice_text(item: OutboxItem) -> str | None:
    """The wording a ``Purpose.NOTICE`` row was recorded with (None if it has none)."""
    text = (item.extra or {}).get("text")
    return str(text) if text else None


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
    partnership: Partnership,
    purpose: Purpose,
    ref_id: int,
    key: str,
    now: datetime,
    user_id: str | None,
    *,
    channel_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        dedupe_key=key,
        workspace_id=partnership.workspace_id,
        partnership_id=partnership.id,
        purpose=purpose.value,
        ref_id=ref_id,
        method=METHOD[purpose],
        channel_id=channel_id or partnership.channel_id,
        user_id=user_id,
        status="pending",
        attempts=0,
        available_at=now,
        created_at=now,
        extra=extra,
    )


@dataclass(frozen=True)
class NewMessage:
    """One message for ``add_many``: what ``enqueue``/``add_new`` take, as a value."""

    partnership: Partnership
    purpose: Purpose
    ref_id: int
    key: str
    user_id: str | None = None


def add_many(uow: UnitOfWork, messages: Sequence[NewMessage], *, now: datetime, skip_existing: bool) -> int:
    """Record many messages with one INSERT (executemany) inside the caller's transaction. Returns how many.

    A batch job (escalations, overdue reminders) would otherwise write one row per statement: the ORM inserts
    rows one by one on SQLite, where it needs each generated id back; nobody needs these ids. With
    ``skip_existing`` the keys already recorded are looked up first (one SELECT) and left out, as ``enqueue``
    does one at a time; without it the keys must be new by construction (as for ``add_new``). A key recorded by
    another process between the look-up and the INSERT fails the whole statement on the unique constraint:
    callers that can meet that race run this in a savepoint and fall back to ``enqueue``.
    """
    if not messages:
        return 0
    wanted = {m.key: m for m in messages}  # one row per key, as enqueue would leave
    if skip_existing:
        for key in uow.session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(wanted)))):
            wanted.pop(key, None)
    if not wanted:
        return 0
    uow.session.flush()  # pending ORM changes first, so the rows go in the order the caller made them
    uow.session.execute(
        insert(OutboxMessage),
        [
            {
                "dedupe_key": m.key,
                "workspace_id": m.partnership.workspace_id,
                "partnership_id": m.partnership.id,
                "purpose": m.purpose.value,
                "ref_id": m.ref_id,
                "method": METHOD[m.purpose],
                "channel_id": m.partnership.channel_id,
                "user_id": m.user_id,
                "status": "pending",
                "attempts": 0,
                "available_at": now,
                "created_at": now,
            }
            for m in wanted.values()
        ],
    )
    return len(wanted)


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
        if item.purpose is Purpose.DIGEST and item.ref_id is not None and ts:
            _digest_sent(uow, item.ref_id, now)

    return _finish(uow, item, change)


def _digest_sent(uow: UnitOfWork, digest_id: int, now: datetime) -> None:
    """In the transaction that records the digest's ``ts``: mark the week's digest sent, and record its chart
    upload and one direct-message copy per subscriber.

    Recording them here, not when the digest is queued, means the chart always has the digest's thread to go
    in and is never uploaded for a digest that did not post; and because it is the same transaction, a process
    killed after Slack answered can at worst post the digest again (as any outbox row), never lose the chart.
    """
    digest = uow.session.get(Digest, digest_id)
    if digest is None:
        return
    if digest.status != "sent":
        digest.status, digest.sent_at = "sent", now
    p = uow.partnerships.get(digest.partnership_id)
    if p is None:
        return
    enqueue(uow, p, purpose=Purpose.DIGEST_CHART, ref_id=digest_id, now=now)
    team_id = p.workspace.team_id
    for member in uow.members.list(p.id):
        # Only leads and sponsors, and only people of the installing workspace: the app cannot message anyone else.
        if (
            member.digest_copy
            and member.role in (Role.LEAD.value, Role.SPONSOR.value)
            and not member.deleted
            and member.team_id in (None, team_id)
        ):
            uow.outbox.add_once(
                _message(
                    p,
                    Purpose.DIGEST_COPY,
                    digest_id,
                    default_key(Purpose.DIGEST_COPY, digest_id, member.user_id),
                    now,
                    member.user_id,
                    channel_id=member.user_id,
                )
            )


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
