"""Sending the outbox to Slack: claim, render, pace, send, record; and what each Slack error means.

Messages to one channel go out in order on one worker; channels are sent in parallel. A pacer keeps
within Slack's published limits (about one message per second per channel for chat.postMessage, the
method's tier per workspace for the rest), and the WebClient's RateLimitErrorRetryHandler waits out any
429 that still happens. Slack errors are handled by kind: a channel that is gone pauses its partnership,
a rejected token holds sending for its workspace until ``auth.test`` accepts it again (``token_recheck``), and
nothing stops the heartbeat.

Each message is recorded as sent, in its own short transaction, as soon as Slack answers it. A claimed batch keeps
its lease while it is sent (renewed every ``RENEW_EVERY`` seconds), and each row's claim is checked and renewed
just before its Slack call: a row another sender took over after our lease ran out is left to that sender. So a
crash can double at most the calls in flight at that instant (``concurrency`` of them per sending process).
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.pulse import Message
from bot.delivery.batch_lease import RENEW_EVERY, BatchLease, TakenOver
from bot.delivery.fitting import post_fitting
from bot.delivery.pacer import Pacer
from bot.delivery.rendered import Rendered, Upload
from bot.delivery.renderer import Renderer
from bot.delivery.token_recheck import recheck_held_tokens
from bot.private_send import send_privately
from bot.services import outbox_hold, outbox_sending, partnerships, recipients
from bot.services.outbox import SPECS, OutboxItem
from bot.services.recipients import Recipient
from bot.slack_client import ErrorKind, classify, error_code, retry_after_seconds
from bot.token_rotation import BotTokenUnavailable
from bot.workspace_clients import WorkspaceClients
from storage import queued_outbox
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

CLAIM_BATCH = 500


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    #: Rows another sender reclaimed after this one's lease ran out: left to it, not sent here.
    taken_over: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.cancelled += other.cancelled
        self.taken_over += other.taken_over
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v


class ViaInstallationRefused(Exception):
    """A message to a person through their own organisation's installation (not the partnership's workspace's)
    failed on that installation's token: ``code`` is Slack's token error or why there is no token."""

    def __init__(self, team_id: str, code: str) -> None:
        super().__init__(f"workspace {team_id}: {code}")
        self.team_id, self.code = team_id, code


@contextmanager
def _through(team: str, via: str) -> Iterator[None]:
    """Token errors of ``via``'s installation, when it is not the partnership's workspace ``team``, are that
    installation's: raised as :class:`ViaInstallationRefused`, never holding the partnership's workspace."""
    if via == team:
        yield
        return
    try:
        yield
    except BotTokenUnavailable as exc:
        raise ViaInstallationRefused(via, exc.code) from None
    except SlackApiError as exc:
        if classify(error_code(exc)) is not ErrorKind.AUTH:
            raise
        raise ViaInstallationRefused(via, error_code(exc)) from None


#: chat.update errors meaning the message to update is no longer there to update.
MESSAGE_GONE = frozenset({"message_not_found", "cant_update_message"})


class OutboxSender:
    """Sends what the outbox holds. Safe to call from several threads and processes at once."""

    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        clients: WorkspaceClients,
        renderer: Renderer,
        pacer: Pacer | None = None,
        concurrency: int = 8,
        clock: Callable[[], datetime],
        renew_every: float = RENEW_EVERY,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.uow_factory, self.clients, self.renderer = uow_factory, clients, renderer
        self.pacer = pacer or Pacer()
        self.concurrency = concurrency
        self.clock = clock
        self.renew_every, self.monotonic = renew_every, monotonic
        self._team_by_workspace: dict[int, str] = {}

    def deliver_pending(self) -> DeliveryReport:
        """The background sender: send everything that is due now, fairly across partnerships, channel by channel
        in parallel. Returns what happened."""
        total = DeliveryReport()
        followed_up = False
        # A workspace held for a rejected token whose re-check is due: its messages join this send if it passes.
        recheck_held_tokens(self.uow_factory, self.clients, self.clock)
        while True:
            items = outbox_sending.claim(self.uow_factory(), now=self.clock(), limit=CLAIM_BATCH)
            if not items:
                return total
            total.add(self._send_batch(items))
            if len(items) < CLAIM_BATCH:
                # Sending a digest records its chart and copies: one more pass sends them now, not a tick later.
                if followed_up or not any(SPECS[item.purpose].spawns_follow_ups for item in items):
                    return total
                followed_up = True

    def deliver_queued(self) -> DeliveryReport:
        """A request's sender: send the outbox rows this request queued (``storage.queued_outbox``) and nothing
        else, then what sending them queued (a digest's chart and copies). Rows it cannot claim now (another
        sender holds them, or they must wait) are the background sender's."""
        total = DeliveryReport()
        for _ in range(2):  # the rows, then their follow-ups
            ids = queued_outbox.take()
            items = outbox_sending.claim_ids(self.uow_factory(), ids, now=self.clock())
            if not items:
                break
            total.add(self._send_batch(items))
        return total

    def deliver_resumed(self, partnership_id: int) -> DeliveryReport:
        """What a partnership held while it was paused, sent when a lead resumes it: its own rows, no other's."""
        items = outbox_sending.claim(self.uow_factory(), now=self.clock(), limit=CLAIM_BATCH, partnership_id=partnership_id)
        return self._send_batch(items) if items else DeliveryReport()

    def _send_batch(self, items: list[OutboxItem]) -> DeliveryReport:
        total = DeliveryReport()
        self._rejected = set[int]()
        try:
            self.renderer.prepare(items)
        except Exception:  # each row is then rendered on its own, with the usual retry on failure
            logger.exception("could not build the batch's digests together; building them one by one")
        lease = BatchLease(
            items,
            uow_factory=self.uow_factory,
            clock=self.clock,
            renew_every=self.renew_every,
            monotonic=self.monotonic,
        )
        by_channel: dict[str, list[OutboxItem]] = defaultdict(list)
        for item in items:
            by_channel[item.channel_id].append(item)
        workers = min(self.concurrency, len(by_channel))
        if workers <= 1:
            for queue in by_channel.values():
                total.add(self._send_channel(queue, lease))
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox") as pool:
                # Each channel's thread runs in a copy of this request's context: what its sends queue (a digest's
                # follow-ups) is noted for this request.
                futures = [
                    pool.submit(contextvars.copy_context().run, self._send_channel, queue, lease)
                    for queue in by_channel.values()
                ]
                for future in futures:
                    total.add(future.result())
        return total

    def _send_channel(self, queue: list[OutboxItem], lease: BatchLease) -> DeliveryReport:
        report = DeliveryReport()
        for i, item in enumerate(queue):
            outcome = self._send_one(item, lease, report)
            if outcome is ErrorKind.CHANNEL_GONE or outcome is ErrorKind.AUTH:
                # The rest of this channel's queue would fail the same way; put it back untouched (a token error
                # is no fault of the messages: it uses none of their attempts).
                for rest in queue[i + 1 :]:
                    outbox_sending.mark_retry(
                        self.uow_factory(),
                        rest,
                        error="waiting: channel or token unavailable",
                        available_at=self.clock(),
                        count_attempt=outcome is not ErrorKind.AUTH,
                    )
                break
        return report

    def _send_one(self, item: OutboxItem, lease: BatchLease, report: DeliveryReport) -> ErrorKind | None:
        if item.workspace_id in self._rejected:
            outbox_sending.mark_retry(
                self.uow_factory(), item, error="waiting: token rejected", available_at=self.clock(), count_attempt=False
            )
            report.retried += 1
            return ErrorKind.AUTH
        try:
            rendered = self.renderer.render(item)
        except Exception:
            # Often a passing database problem: retry with backoff (mark_retry gives up after MAX_ATTEMPTS).
            logger.exception("outbox %s (%s): rendering failed; will retry", item.id, item.dedupe_key)
            outbox_sending.mark_retry(
                self.uow_factory(), item, error="rendering failed", available_at=self.clock() + _backoff(item)
            )
            report.retried += 1
            return ErrorKind.OTHER
        if rendered is None:
            outbox_sending.mark_cancelled(self.uow_factory(), item, reason="no longer needed")
            report.cancelled += 1
            return None
        try:
            ts = self._call(item, rendered, lease)
        except BotTokenUnavailable as exc:
            return self._hold(item, exc.code, report)
        except ViaInstallationRefused as exc:
            # That installation is held (or waits for a reinstall) from now on, so the person is reached as if their
            # organisation had not installed the app: through the partnership's installation, at the next send.
            logger.warning("outbox %s (%s): %s; sending it another way", item.id, item.dedupe_key, exc)
            outbox_hold.hold_sending(self.uow_factory(), team_id=exc.team_id, error=exc.code, now=self.clock())
            outbox_sending.mark_retry(
                self.uow_factory(), item, error=exc.code, available_at=self.clock(), count_attempt=False
            )
            report.retried += 1
            return None
        except TakenOver:
            logger.info("outbox %s (%s): taken over by another sender; not sent here", item.id, item.dedupe_key)
            report.taken_over += 1
            return None
        except SlackApiError as exc:
            return self._handle_error(item, exc, report)
        except Exception as exc:  # connection failures that outlived the retry handler
            logger.warning("outbox %s (%s): %s; will retry", item.id, item.dedupe_key, exc)
            outbox_sending.mark_retry(
                self.uow_factory(), item, error=str(exc)[:200], available_at=self.clock() + _backoff(item)
            )
            report.retried += 1
            return ErrorKind.OTHER
        outbox_sending.mark_sent(self.uow_factory(), item, ts=ts, now=self.clock())
        report.sent += 1
        if rendered.pin and ts:
            self._pin(item, ts)
        return None

    def _team(self, workspace_id: int) -> str:
        team = self._team_by_workspace.get(workspace_id)
        if team is None:
            team = partnerships.workspace_team(self.uow_factory(), workspace_id=workspace_id)
            self._team_by_workspace[workspace_id] = team
        return team

    def _call(self, item: OutboxItem, rendered: Rendered, lease: BatchLease) -> str | None:
        team = self._team(item.workspace_id)
        to = rendered.private_to
        if to is None and item.method == "chat.postEphemeral":
            # An ephemeral row the renderer did not address: still never a public message, and no DM guessed.
            to = Recipient(user_id=item.user_id or "", direct=False, timezone="UTC")
        if to is not None:
            # Paced inside, by the call it makes; a row reclaimed meanwhile is not ours to send.
            lease.take(item)
            via = to.via_team or team
            with _through(team, via):
                return send_privately(
                    self.clients.client_for(via),
                    self.pacer,
                    team=team,
                    channel_id=item.channel_id,
                    to=to,
                    message=rendered.messages[0],
                    metadata=_metadata(item),
                )
        self.pacer.wait(item.method, team, item.channel_id)
        # After the pacer's wait, which can be long: a row reclaimed meanwhile is not ours to send.
        lease.take(item)
        if rendered.upload is not None:
            self._upload(item, rendered.upload, rendered.thread_ts)
            return None
        first, *rest = rendered.messages
        if item.method == "chat.update":
            if rendered.update_ts is None:
                if not rendered.post_if_missing:
                    raise ValueError(f"outbox {item.id}: nothing to update")
                self.pacer.wait("chat.postMessage", team, item.channel_id)
                return self._post(item, rendered)
            try:
                resp = self._client(item).chat_update(
                    channel=item.channel_id, ts=rendered.update_ts, text=first.text, blocks=first.blocks
                )
            except SlackApiError as exc:
                if not (rendered.post_if_missing and error_code(exc) in MESSAGE_GONE):
                    raise
                # Someone deleted the message: post it again; the new ts replaces the old one.
                logger.info("outbox %s (%s): message to update is gone; posting it again", item.id, item.dedupe_key)
                self.pacer.wait("chat.postMessage", team, item.channel_id)
                return self._post(item, rendered)
            return str(resp.get("ts") or rendered.update_ts)
        return self._post(item, rendered)

    def _post(self, item: OutboxItem, rendered: Rendered) -> str:
        """chat.postMessage of the rendered messages (the caller has paced the first one); a message Slack finds
        too long is posted in two (``fitting``)."""
        team, via = self._team(item.workspace_id), self._via(item)
        calls = 0

        def post(message: Message, thread_ts: str | None) -> str:
            nonlocal calls
            if calls:
                self.pacer.wait("chat.postMessage", team, item.channel_id)
            calls += 1
            thread: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
            with _through(team, via):
                resp = self.clients.client_for(via).chat_postMessage(
                    channel=item.channel_id,
                    text=message.text,
                    blocks=message.blocks,
                    metadata=_metadata(item),
                    unfurl_links=False,
                    unfurl_media=False,
                    **thread,
                )
            self.pacer.posted(item.channel_id)
            return str(resp["ts"])

        first, *rest = rendered.messages
        ts = post_fitting(post, first, rendered.thread_ts)
        for part in rest:
            post_fitting(post, part, rendered.thread_ts or ts)
        return ts

    def _upload(self, item: OutboxItem, upload: Upload, thread_ts: str | None) -> None:
        """files_upload_v2 into the channel (in ``thread_ts``'s thread). A failure raises SlackApiError like any
        call and the row is retried alone: a half-done upload (a file reserved but never shared) shows nothing.
        """
        self._client(item).files_upload_v2(
            channel=item.channel_id,
            thread_ts=thread_ts,
            content=upload.content,
            filename=upload.filename,
            title=upload.title,
            alt_txt=upload.alt_text,
            # files.info would be one more call per upload for details nobody reads.
            request_file_info=False,
        )

    def _pin(self, item: OutboxItem, ts: str) -> None:
        try:
            self.pacer.wait("pins.add", self._team(item.workspace_id), item.channel_id)
            self._client(item).pins_add(channel=item.channel_id, timestamp=ts)
        except SlackApiError as exc:  # pinning is a convenience; the menu is posted either way
            logger.info("outbox %s: could not pin the menu: %s", item.id, error_code(exc))
        except BotTokenUnavailable as exc:  # the token went between the post and the pin
            logger.info("outbox %s: could not pin the menu: %s", item.id, exc.code)

    def _hold(self, item: OutboxItem, code: str, report: DeliveryReport) -> ErrorKind:
        """Slack rejected the workspace's token, or there is none: hold its sending; the row waits, unharmed."""
        now = self.clock()
        self._rejected.add(item.workspace_id)
        outbox_hold.hold_sending(self.uow_factory(), workspace_id=item.workspace_id, error=code, now=now)
        outbox_sending.mark_retry(self.uow_factory(), item, error=code, available_at=now, count_attempt=False)
        report.retried += 1
        return ErrorKind.AUTH

    def _client(self, item: OutboxItem) -> WebClient:
        return self.clients.client_for(self._team(item.workspace_id))

    def _via(self, item: OutboxItem) -> str:
        """The workspace whose installation the row goes through: the partnership's, or for a direct message the
        recipient's own organisation's when it installed the app too (``recipients.Recipient.via_team``)."""
        team = self._team(item.workspace_id)
        if SPECS[item.purpose].dm and item.partnership_id is not None and item.user_id:
            to = recipients.recipient(self.uow_factory(), partnership_id=item.partnership_id, user_id=item.user_id)
            team = (to.via_team if to is not None else "") or team
        return team

    def _handle_error(self, item: OutboxItem, exc: SlackApiError, report: DeliveryReport) -> ErrorKind:
        code = error_code(exc)
        kind = classify(code)
        if kind is ErrorKind.CHANNEL_GONE and SPECS[item.purpose].dm:
            # A direct message that cannot be delivered (the person left, or is not of our workspace): drop it,
            # and never pause the partnership for it.
            kind = ErrorKind.RECIPIENT_GONE
        report.errors[code] = report.errors.get(code, 0) + 1
        now = self.clock()
        if kind is ErrorKind.CHANNEL_GONE and item.partnership_id is None:
            # A workspace-wide message (the portfolio) to a channel the bot is not in, or that is gone: there is no
            # partnership to pause and retrying cannot help. `/partner portfolio` tells the leads what to do.
            logger.warning("outbox %s (%s): cannot post in %s (%s)", item.id, item.dedupe_key, item.channel_id, code)
            outbox_sending.mark_failed(self.uow_factory(), item, error=code)
            report.failed += 1
        elif kind is ErrorKind.CHANNEL_GONE and item.partnership_id is not None:
            partnerships.pause_for_slack_error(self.uow_factory(), partnership_id=item.partnership_id, error=code, now=now)
            outbox_sending.mark_retry(self.uow_factory(), item, error=code, available_at=now)
            report.retried += 1
        elif kind is ErrorKind.AUTH:
            return self._hold(item, code, report)
        elif kind is ErrorKind.RATE_LIMITED:
            wait = retry_after_seconds(exc)
            self.pacer.push_back(item.method, self._team(item.workspace_id), item.channel_id, wait)
            outbox_sending.mark_retry(self.uow_factory(), item, error=code, available_at=now + timedelta(seconds=wait))
            report.retried += 1
        elif kind is ErrorKind.RECIPIENT_GONE:
            logger.info("outbox %s (%s): Slack answered %s; message dropped", item.id, item.dedupe_key, code)
            outbox_sending.mark_failed(self.uow_factory(), item, error=code)
            report.failed += 1
        else:
            logger.warning("outbox %s (%s): Slack answered %s (attempt %s)", item.id, item.dedupe_key, code, item.attempts)
            outbox_sending.mark_retry(self.uow_factory(), item, error=code, available_at=now + _backoff(item))
            report.retried += 1
        return kind


def _backoff(item: OutboxItem) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (item.attempts - 1), 3600))


def _metadata(item: OutboxItem) -> dict[str, Any]:
    """Slack message metadata naming the outbox row, so a repeated message can be recognised."""
    return {"event_type": "partnerpulse_message", "event_payload": {"key": item.dedupe_key}}
