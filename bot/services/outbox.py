"""The outbox: messages are recorded with the change that causes them, then claimed, sent and marked.

Rows carry a purpose and a reference, not a rendered payload: the sender renders at send time, so the
domain transaction never depends on Slack or Block Kit.

``SPECS`` is the registry of message kinds, one entry per ``Purpose``: the Slack method it goes out with, whether
it goes to a person's direct messages, what is recorded once it is sent, and whether that records more messages.
To add a kind of outgoing message, add one entry here (a ``Purpose`` member and its ``PurposeSpec`` in ``SPECS``)
and its renderer in ``bot/delivery/renderers/<feature>.py``; tests/unit/test_outbox_registry.py fails until both
exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.services import recipients
from bot.services.partnership_models import Role
from storage.models import OutboxMessage, Partnership
from storage.uow import UnitOfWork


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
    # A red KPI's blameless question in the channel (``kpi_red``). ref_id: the KPI; ``extra["period_end"]``: the
    # red period it asks about (the key names both: once per KPI and period).
    KPI_RED_QUESTION = "kpi-red-question"
    # An answer to it, in its thread. ref_id: the action; ``extra["question"]``: the question's outbox key.
    KPI_RED_ANSWER = "kpi-red-answer"
    # The weekly digest (DESIGN 3.4). ref_id: the digests row. Its trend chart and the subscribers' copies are
    # recorded when the digest is marked sent (its ``records``), so the chart knows the thread to go in and a
    # process killed between the two never posts the digest twice; a failed upload is retried on its own.
    DIGEST = "digest"
    DIGEST_CHART = "digest-chart"
    # The charts of the KPIs that changed status or are red (``kpi_charts.worth_posting``), one image in the
    # digest's thread; recorded with the chart for a partnership with agreed KPIs (cancelled when none qualifies).
    DIGEST_KPI_CHARTS = "digest-kpi-charts"
    # The digest's full detail (every result with its trend, the comments, all issues and actions), one reply in
    # the digest's thread, recorded with the chart when the digest is marked sent (so it is posted once).
    DIGEST_DETAIL = "digest-detail"
    # A direct-message copy for a lead or sponsor who subscribed: channel_id and user_id are the person.
    DIGEST_COPY = "digest-copy"
    # Shared goals, the expectations ledger and the bilateral scorecard (DESIGN 3.5). ref_id: the expectation for
    # its message (updated in place when answered), the scorecard for its invitation, closing and report.
    EXPECTATION = "expectation"
    EXPECTATION_UPDATE = "expectation-update"
    SCORECARD_OPEN = "scorecard-open"
    SCORECARD_CLOSED = "scorecard-closed"
    SCORECARD_REPORT = "scorecard-report"
    # The one nudge before a scorecard closes to each member who has not filled it in (ref_id: the scorecard;
    # user_id: the person), like the pulse reminder (DESIGN 3.2).
    SCORECARD_REMINDER = "scorecard-remind"
    # The portfolio digest: every partnership of a workspace ranked by risk. partnership_id is None; ref_id is the
    # workspace; the key names the workspace and the local date of the Monday it is posted.
    PORTFOLIO = "portfolio"
    # A change both sides should see (the escalation policy, the categories, a side's working calendar), announced
    # in the channel. ref_id: the partnership; ``extra["text"]``: the notice's wording, composed by the caller's
    # presentation code from what the change saved (``outbox_notices.Notice``), posted with ``build_notice``.
    NOTICE = "notice"
    # What the partnership setup form saved, posted in the channel. ref_id: the partnership; ``extra`` holds what
    # only the setup knew (created or updated, the people per side, who saved it); the rest is read at send time.
    SETUP_DONE = "setup-done"
    # For each lead of an organisation whose own installation needs installing again (Slack refused to renew its
    # token), in each partnership another installation still reaches (ref_id: the partnership): what happened and
    # what to do, reaching them the way people of an organisation that has not installed are reached.
    REINSTALL_NEEDED = "reinstall-needed"
    # Agreed KPIs (DESIGN 3.6): the request to a KPI's owner for the figure of a period that has ended, like the
    # pulse reminder (for one person; never public). ref_id: the KPI; user_id: the person; ``extra["period_end"]``.
    KPI_FIGURE_REQUEST = "kpi-figure-request"
    # The KPI ledger (DESIGN 3.6). ref_id: the KPI version. The proposal is posted for the other side to answer,
    # updated in place when answered or withdrawn; each answer is also posted in the proposal's thread.
    KPI_PROPOSAL = "kpi-proposal"
    KPI_PROPOSAL_UPDATE = "kpi-proposal-update"
    KPI_ANSWER = "kpi-answer"


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


Recording = Callable[[UnitOfWork, OutboxItem, str, datetime], None]
"""What to record once a message is sent, in the transaction that records its ``ts`` on the outbox row."""


def row_only(uow: UnitOfWork, item: OutboxItem, ts: str, now: datetime) -> None:
    """The outbox row's own ``ts`` is all there is to record (later messages find it with ``sent_ts``)."""


def _menu_ts(uow: UnitOfWork, item: OutboxItem, ts: str, now: datetime) -> None:
    """The menu's ``ts`` on its partnership."""
    if item.partnership_id is not None:
        p = uow.partnerships.get(item.partnership_id)
        if p is not None:
            p.menu_ts = ts


def _card_ts(uow: UnitOfWork, item: OutboxItem, ts: str, now: datetime) -> None:
    """The issue card's ``ts`` on its issue, so updates and thread replies find it."""
    if item.ref_id is not None:
        issue = uow.issues.get(item.ref_id)
        if issue is not None:
            issue.card_ts = ts


def _digest_sent(uow: UnitOfWork, item: OutboxItem, ts: str, now: datetime) -> None:
    """Mark the week's digest sent, and record its detail reply and chart upload (in its thread) and one
    direct-message copy per subscriber.

    Recording them here, not when the digest is queued, means the chart always has the digest's thread to go
    in and is never uploaded for a digest that did not post; and because it is the same transaction, a process
    killed after Slack answered can at worst post the digest again (as any outbox row), never lose the chart.
    """
    if item.ref_id is None:
        return
    digest_id = item.ref_id
    digest = uow.digests.get(digest_id)
    if digest is None:
        return
    if digest.status != "sent":
        digest.status, digest.sent_at = "sent", now
    p = uow.partnerships.get(digest.partnership_id)
    if p is None:
        return
    enqueue(uow, p, purpose=Purpose.DIGEST_DETAIL, ref_id=digest_id, now=now)
    enqueue(uow, p, purpose=Purpose.DIGEST_CHART, ref_id=digest_id, now=now)
    if uow.kpi_figures.has_agreed(p.id):
        enqueue(uow, p, purpose=Purpose.DIGEST_KPI_CHARTS, ref_id=digest_id, now=now)
    members = uow.members.list(p.id)
    installed = recipients.installed_home_teams(uow, p, members)
    for member in members:
        # Only leads and sponsors, and only people of a workspace that installed the app: it cannot message others.
        if (
            member.digest_copy
            and member.role in (Role.LEAD.value, Role.SPONSOR.value)
            and not member.deleted
            and (member.team_id is None or recipients.can_message_directly(p, member, installed))
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


@dataclass(frozen=True)
class PurposeSpec:
    """Everything the service side knows about one kind of message (its rendering is the bot's)."""

    #: The Slack method it goes out with (the sender paces and calls by it).
    method: str
    #: What to record once it is sent, besides the row's own ``ts``; ``row_only`` when nothing.
    records: Recording
    #: Sent to a person's direct messages with the app: the row's channel is the person, not the partnership's
    #: channel, so a DM that cannot be delivered is that person's problem, never the channel's.
    dm: bool = False
    #: ``records`` queues more messages: the sender makes one more pass for them, not a tick later.
    spawns_follow_ups: bool = False


_POST, _UPDATE, _EPHEMERAL = "chat.postMessage", "chat.update", "chat.postEphemeral"

_PULSE = {
    Purpose.PULSE: PurposeSpec(_POST, row_only),
    Purpose.PULSE_CLOSED: PurposeSpec(_UPDATE, row_only),
    # For one person: the sender sends a message from the app where it can message them, an ephemeral in the
    # channel where it cannot (the other organisation's people; ``bot.private_send``). Never public.
    Purpose.REMINDER: PurposeSpec(_EPHEMERAL, row_only),
    Purpose.RESULTS: PurposeSpec(_POST, row_only),
}
_ISSUES = {
    Purpose.ISSUE_CARD: PurposeSpec(_POST, _card_ts),
    # Updated in place; when the card is gone (deleted, or never posted) the sender posts a new one.
    Purpose.ISSUE_CARD_UPDATE: PurposeSpec(_UPDATE, _card_ts),
    Purpose.ISSUE_HISTORY: PurposeSpec(_POST, row_only),
    # Levels 2 and 3 in the card's thread; level 1 goes to the owner alone (``bot.private_send``).
    Purpose.ESCALATION: PurposeSpec(_POST, row_only),
    Purpose.FOLLOWUP_QUESTION: PurposeSpec(_POST, row_only),
    # For one person, like the pulse reminder.
    Purpose.ACTIONS_OVERDUE: PurposeSpec(_EPHEMERAL, row_only),
    Purpose.SIGNAL: PurposeSpec(_EPHEMERAL, row_only),
    Purpose.KPI_RED_QUESTION: PurposeSpec(_POST, row_only),
    Purpose.KPI_RED_ANSWER: PurposeSpec(_POST, row_only),
}
_DIGESTS = {
    Purpose.DIGEST: PurposeSpec(_POST, _digest_sent, spawns_follow_ups=True),
    # files_upload_v2: files.getUploadURLExternal, the upload itself, then files.completeUploadExternal (paced
    # by the last, which shares the file into the channel).
    Purpose.DIGEST_CHART: PurposeSpec("files.completeUploadExternal", row_only),
    Purpose.DIGEST_KPI_CHARTS: PurposeSpec("files.completeUploadExternal", row_only),
    # The full detail, in the digest's thread (its ts is found by the digest's key at send time).
    Purpose.DIGEST_DETAIL: PurposeSpec(_POST, row_only),
    # chat.postMessage to a user id lands in the person's direct messages with the app (no conversations.open).
    Purpose.DIGEST_COPY: PurposeSpec(_POST, row_only, dm=True),
    Purpose.PORTFOLIO: PurposeSpec(_POST, row_only),
}
_REVIEWS = {
    Purpose.EXPECTATION: PurposeSpec(_POST, row_only),
    Purpose.EXPECTATION_UPDATE: PurposeSpec(_UPDATE, row_only),
    Purpose.SCORECARD_OPEN: PurposeSpec(_POST, row_only),
    Purpose.SCORECARD_CLOSED: PurposeSpec(_UPDATE, row_only),
    Purpose.SCORECARD_REPORT: PurposeSpec(_POST, row_only),
    Purpose.SCORECARD_REMINDER: PurposeSpec(_EPHEMERAL, row_only),
}
_PARTNERSHIP = {
    Purpose.MENU: PurposeSpec(_POST, _menu_ts),
    Purpose.NOTICE: PurposeSpec(_POST, row_only),
    Purpose.SETUP_DONE: PurposeSpec(_POST, row_only),
    Purpose.REINSTALL_NEEDED: PurposeSpec(_EPHEMERAL, row_only),
}

_KPIS = {
    Purpose.KPI_FIGURE_REQUEST: PurposeSpec(_EPHEMERAL, row_only),
    Purpose.KPI_PROPOSAL: PurposeSpec(_POST, row_only),
    Purpose.KPI_PROPOSAL_UPDATE: PurposeSpec(_UPDATE, row_only),
    Purpose.KPI_ANSWER: PurposeSpec(_POST, row_only),
}

#: The registry: one entry per purpose, grouped by the feature that sends it.
SPECS: dict[Purpose, PurposeSpec] = {**_PULSE, **_ISSUES, **_DIGESTS, **_REVIEWS, **_PARTNERSHIP, **_KPIS}


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


def enqueue_change(
    uow: UnitOfWork,
    partnership: Partnership,
    *,
    purpose: Purpose,
    ref_id: int,
    state: str,
    now: datetime,
    name: str | None = None,
) -> bool:
    """Record the message showing that ``ref_id``'s row changed to ``state``, inside the caller's transaction. Its
    key is ``<name>:<ref_id>:<state>:<now>`` (``name``: the purpose's unless given), so each change made queues its
    own message once."""
    key = f"{name or purpose.value}:{ref_id}:{state}:{now.isoformat()}"
    return enqueue(uow, partnership, purpose=purpose, ref_id=ref_id, key=key, now=now)


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
    uow.outbox.add_unflushed(_message(partnership, purpose, ref_id, key, now, user_id))


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
        method=SPECS[purpose].method,
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
        for key in uow.outbox.existing_keys(list(wanted)):
            wanted.pop(key, None)
    if not wanted:
        return 0
    uow.outbox.insert_many(
        [
            {
                "dedupe_key": m.key,
                "workspace_id": m.partnership.workspace_id,
                "partnership_id": m.partnership.id,
                "purpose": m.purpose.value,
                "ref_id": m.ref_id,
                "method": SPECS[m.purpose].method,
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


def sent_ts(uow: UnitOfWork, key: str) -> str | None:
    """The ``ts`` Slack gave a sent message, by its outbox key."""
    with uow.read_only():
        row = uow.outbox.get_by_key(key)
        return row.ts if row is not None and row.status == "sent" else None


def counts(uow: UnitOfWork) -> dict[str, int]:
    with uow.read_only():
        return uow.outbox.count_by_status()
