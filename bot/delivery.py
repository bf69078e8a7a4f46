"""Delivering the outbox to Slack: claim, render, pace, send, record.

Messages to one channel go out in order on one worker; channels are sent in parallel. A pacer keeps
within Slack's published limits (about one message per second per channel for chat.postMessage, the
method's tier per workspace for the rest), and the WebClient's RateLimitErrorRetryHandler waits out any
429 that still happens. Slack errors are handled by kind: a channel that is gone pauses its partnership,
a rejected token stops sending for its workspace, and nothing stops the heartbeat.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.common import build_menu, build_notice, build_setup_done
from bot.blocks.digest import CHART_NOTE, build_digest_messages, copy_note
from bot.blocks.goals import build_expectation_card
from bot.blocks.issues import (
    build_escalation,
    build_followup_question,
    build_history_reply,
    build_issue_card,
    build_overdue_reminder,
    build_signal,
)
from bot.blocks.portfolio import build_portfolio_messages
from bot.blocks.pulse import Message, build_pulse_message, build_reminder, build_results_messages
from bot.blocks.scorecard import build_scorecard_invite, build_scorecard_report
from bot.clock import utcnow
from bot.services import (
    actions,
    digest,
    expectations,
    issue_queries,
    outbox,
    partnerships,
    portfolio,
    pulses,
    scorecard,
    signals,
)
from bot.services.charts import alt_text, weekly_chart
from bot.services.models import DigestView
from bot.services.outbox import OutboxItem, Purpose
from bot.slack_client import ErrorKind, classify, error_code, retry_after_seconds
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

#: Calls per minute per workspace by Slack's tiers, for the methods the sender uses.
TIER_PER_MINUTE: dict[str, float] = {
    "chat.postEphemeral": 100.0,
    "chat.update": 50.0,
    "pins.add": 20.0,
    # The digest's chart (files_upload_v2): both Web API calls are Tier 4.
    "files.completeUploadExternal": 100.0,
}
CHANNEL_MESSAGES_PER_SECOND = 1.0
#: A tier's per-minute allowance may go out at once, less this many calls. Calls leave at the paced instants
#: but reach Slack a little early or late; without a few calls in hand, one that arrives early meets a 429
#: (harmless: it waits ``Retry-After`` and goes again, but the wait costs more than the reserve). A reserve of a
#: share instead (10% of the allowance) would slow every large fan-out by that share.
TIER_BURST_RESERVE = 3
CLAIM_BATCH = 500


class Pacer:
    """Paces calls to Slack's limits with a token bucket per limit (GCRA), so bursts Slack allows are used.

    Keys are ("channel", channel id) for chat.postMessage (one message per second per channel, no burst:
    Slack does not promise to keep messages posted faster) and (method, workspace) for tiered methods, whose
    documented allowance is per minute: a minute's allowance (less a few calls, ``TIER_BURST_RESERVE``) may go at
    once, then calls are spaced at the average rate. Thread-safe. ``speedup`` scales every rate (benchmarks compress time with it).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        speedup: float = 1.0,
    ) -> None:
        self._clock, self._sleep, self._speedup = clock, sleep, speedup
        self._tat: dict[tuple[str, str], float] = {}  # theoretical arrival time per key
        self._lock = threading.Lock()

    def limits(self, method: str, workspace: str, channel: str) -> list[tuple[tuple[str, str], float, int]]:
        """(key, interval in seconds, burst) for each limit the call counts against."""
        if method == "chat.postMessage":
            return [(("channel", channel), 1.0 / (CHANNEL_MESSAGES_PER_SECOND * self._speedup), 1)]
        per_minute = TIER_PER_MINUTE.get(method)
        if per_minute is None:
            return []
        return [((method, workspace), 60.0 / (per_minute * self._speedup), max(1, int(per_minute) - TIER_BURST_RESERVE))]

    def wait(self, method: str, workspace: str, channel: str) -> float:
        """Block until this call may start; returns the seconds waited."""
        limits = self.limits(method, workspace, channel)
        if not limits:
            return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, *(self._tat.get(key, now) - (burst - 1) * interval for key, interval, burst in limits))
            for key, interval, _ in limits:
                self._tat[key] = max(self._tat.get(key, now), start) + interval
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)

    def posted(self, channel: str) -> None:
        """A chat.postMessage to ``channel`` has returned: the channel's next message waits a whole interval from
        now. Its paced start was when the call left; Slack counts when the call arrived, a little later, so a next
        message paced only from the start can arrive less than a second after it and meet a 429."""
        key, interval, _ = self.limits("chat.postMessage", "", channel)[0]
        with self._lock:
            now = self._clock()
            self._tat[key] = max(self._tat.get(key, now), now + interval)

    def push_back(self, method: str, workspace: str, channel: str, seconds: float) -> None:
        """After a 429, nothing more goes to that key for ``seconds``, and its burst is spent."""
        with self._lock:
            until = self._clock() + seconds
            for key, interval, burst in self.limits(method, workspace, channel):
                self._tat[key] = max(self._tat.get(key, 0.0), until + (burst - 1) * interval)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.cancelled += other.cancelled
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v


@dataclass(frozen=True)
class Rendered:
    """What to send for an outbox row: one or more messages (later ones go in the first one's thread).

    ``thread_ts`` posts the first message as a reply in that thread. ``post_if_missing`` (chat.update rows
    only) posts a new message when there is nothing to update: no ``update_ts`` yet, or Slack says the message
    is gone (deleted by someone); the new message's ``ts`` is what gets recorded.
    """

    messages: list[Message]
    update_ts: str | None = None
    thread_ts: str | None = None
    post_if_missing: bool = False
    #: A file to upload (files_upload_v2) instead of messages, into ``thread_ts``'s thread when set.
    upload: Upload | None = None


@dataclass(frozen=True)
class Upload:
    """A file for files_upload_v2: its bytes, name, title and the alt text screen readers read."""

    content: bytes
    filename: str
    title: str
    alt_text: str


#: chat.update errors meaning the message to update is no longer there to update.
MESSAGE_GONE = frozenset({"message_not_found", "cant_update_message"})


class Renderer:
    """Builds the message for an outbox row at send time, or None when it is no longer wanted."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], secret_key: str, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.uow_factory, self.secret_key, self.clock = uow_factory, secret_key, clock
        # Digests built together for the rows being sent (``prepare``), by digests row id.
        self._digests: dict[int, DigestView] = {}

    def prepare(self, items: Sequence[OutboxItem]) -> None:
        """Build the weekly digests of a claimed batch together (a few statements, not a dozen per digest).

        Called by the sender before it sends the batch; ``render`` then uses them, and builds any other digest on
        its own as before. A batch is sent within moments of being claimed, so the digests are as current as if
        each had been built when its message went.
        """
        ids = sorted({i.ref_id for i in items if i.purpose in DIGEST_PURPOSES and i.ref_id is not None})
        self._digests = {}
        self._digests = digest.digests_for(self.uow_factory(), digest_ids=ids, now=self.clock()) if len(ids) > 1 else {}

    def _digest_view(self, digest_id: int, now: datetime) -> DigestView | None:
        prepared = self._digests.get(digest_id)
        return prepared if prepared is not None else digest.digest_for(self.uow_factory(), digest_id=digest_id, now=now)

    def render(self, item: OutboxItem) -> Rendered | None:
        if item.purpose in REVIEW_PURPOSES:
            return self._render_review(item)
        if item.purpose is Purpose.PORTFOLIO:
            return self._render_portfolio(item)
        if item.purpose in DIGEST_PURPOSES:
            return self._render_digest(item)
        if item.purpose in ISSUE_PURPOSES:
            return self._render_issue_log(item)
        if item.purpose is Purpose.MENU:
            assert item.partnership_id is not None
            p = partnerships.get_partnership_by_id(self.uow_factory(), partnership_id=item.partnership_id)
            return Rendered([build_menu(p)]) if p else None
        if item.purpose is Purpose.NOTICE:
            text = outbox.notice_text(item)
            return Rendered([build_notice(text)]) if text else None
        if item.purpose is Purpose.SETUP_DONE:
            assert item.ref_id is not None
            done = partnerships.setup_done(self.uow_factory(), partnership_id=item.ref_id, extra=item.extra)
            return Rendered([build_setup_done(done.result, user_id=done.user_id)]) if done else None
        assert item.ref_id is not None
        context = pulses.round_context(self.uow_factory(), round_id=item.ref_id)
        if context is None:
            return None
        round_, partnership = context
        if item.purpose is Purpose.PULSE:
            return Rendered([build_pulse_message(round_, partnership)]) if round_.status == "open" else None
        if item.purpose is Purpose.PULSE_CLOSED:
            ts = outbox.sent_ts(self.uow_factory(), f"{Purpose.PULSE.value}:{round_.id}")
            return Rendered([build_pulse_message(round_, partnership, closed=True)], update_ts=ts) if ts else None
        if item.purpose is Purpose.REMINDER:
            assert item.user_id is not None
            if round_.status != "open" or pulses.has_answered(
                self.uow_factory(), round_id=round_.id, user_id=item.user_id, secret_key=self.secret_key
            ):
                return None
            return Rendered([build_reminder(round_, partnership)])
        if item.purpose is Purpose.RESULTS:
            return Rendered(build_results_messages(pulses.round_results(self.uow_factory(), round_id=round_.id)))
        raise ValueError(f"unknown outbox purpose {item.purpose}")

    def _render_issue_log(self, item: OutboxItem) -> Rendered | None:
        """Issue cards, their thread replies, overdue reminders and signals, from the database as it is now."""
        assert item.ref_id is not None
        uow = self.uow_factory
        if item.purpose is Purpose.ISSUE_CARD:
            card = issue_queries.issue_card(uow(), issue_id=item.ref_id)
            # Already on the channel (an update that found no card posted one): do not post a second card.
            if card is None or card.issue.card_ts:
                return None
            return Rendered([build_issue_card(card)])
        if item.purpose is Purpose.ISSUE_CARD_UPDATE:
            card = issue_queries.issue_card(uow(), issue_id=item.ref_id)
            if card is None:
                return None
            return Rendered([build_issue_card(card)], update_ts=card.issue.card_ts, post_if_missing=True)
        if item.purpose is Purpose.ISSUE_HISTORY:
            entry = issue_queries.history_item(uow(), event_id=item.ref_id)
            # A history line without its card would be noise at the top of the channel; the event is stored and
            # the card, once posted, shows the current state.
            if entry is None or not entry.issue.card_ts:
                return None
            return Rendered([build_history_reply(entry)], thread_ts=entry.issue.card_ts)
        if item.purpose is Purpose.ESCALATION:
            notice = issue_queries.escalation_notice(uow(), event_id=item.ref_id)
            if notice is None:
                return None
            # Without a card the escalation still has to reach people: it goes to the channel itself.
            return Rendered([build_escalation(notice)], thread_ts=notice.issue.card_ts)
        if item.purpose is Purpose.FOLLOWUP_QUESTION:
            question = issue_queries.followup_question(uow(), event_id=item.ref_id)
            if question is None:
                return None
            return Rendered([build_followup_question(question)], thread_ts=question.issue.card_ts)
        if item.purpose is Purpose.ACTIONS_OVERDUE:
            assert item.user_id is not None
            reminder = actions.overdue_reminder(uow(), partnership_id=item.ref_id, owner_id=item.user_id)
            return Rendered([build_overdue_reminder(reminder)]) if reminder else None
        if item.purpose is Purpose.SIGNAL:
            signal = signals.signal_context(uow(), signal_id=item.ref_id)
            return Rendered([build_signal(signal)]) if signal else None
        raise ValueError(f"unknown outbox purpose {item.purpose}")

    def _render_digest(self, item: OutboxItem) -> Rendered | None:
        """The weekly digest, built from the database as it is now; its chart; a subscriber's copy.

        The chart goes into the digest's thread: it belongs to that week's digest (a top-level message would
        notify the channel a second time every week), and a retried upload lands in the same place. A copy is
        the same digest in the person's direct messages, pointing to the channel for the chart.
        """
        assert item.ref_id is not None
        uow, now = self.uow_factory, self.clock()
        if item.purpose is Purpose.DIGEST_CHART:
            key = digest.message_key(uow(), digest_id=item.ref_id)
            ts = outbox.sent_ts(uow(), key) if key else None
            view = self._digest_view(item.ref_id, now) if ts else None
            if ts is None or view is None:  # the digest was never posted: a chart alone would make no sense
                return None
            upload = Upload(
                content=weekly_chart(view.chart),
                filename=f"partnerpulse-{view.week_start.isoformat()}.png",
                title=f"{view.partnership.name}: health by week",
                alt_text=alt_text(view.chart),
            )
            return Rendered([], thread_ts=ts, upload=upload)
        view = self._digest_view(item.ref_id, now)
        if view is None:
            return None
        if item.purpose is Purpose.DIGEST_COPY:
            return Rendered(build_digest_messages(view, note=copy_note(view.partnership.channel_id)))
        return Rendered(build_digest_messages(view, note=CHART_NOTE))

    def _render_portfolio(self, item: OutboxItem) -> Rendered | None:
        """The weekly portfolio digest of a workspace (ref_id), as of the Monday its key names; None when it was
        turned off or moved to another channel since it was queued."""
        assert item.ref_id is not None
        view = portfolio.scheduled_portfolio(
            self.uow_factory, workspace_id=item.ref_id, channel_id=item.channel_id, key=item.dedupe_key
        )
        return Rendered(build_portfolio_messages(view)) if view is not None else None

    def _render_review(self, item: OutboxItem) -> Rendered | None:
        """Expectation messages and the scorecard's invitation, closing and report, from the database as it is now."""
        assert item.ref_id is not None
        uow = self.uow_factory
        if item.purpose in (Purpose.EXPECTATION, Purpose.EXPECTATION_UPDATE):
            card = expectations.expectation_card(uow(), expectation_id=item.ref_id)
            if card is None:
                return None
            if item.purpose is Purpose.EXPECTATION:
                return Rendered([build_expectation_card(card)])
            # Not posted yet: the first message, when it goes, shows the current state.
            ts = outbox.sent_ts(uow(), f"{Purpose.EXPECTATION.value}:{item.ref_id}")
            return Rendered([build_expectation_card(card)], update_ts=ts) if ts else None
        if item.purpose is Purpose.SCORECARD_REPORT:
            report = scorecard.report(uow(), scorecard_id=item.ref_id)
            return Rendered(build_scorecard_report(report)) if report else None
        invite = scorecard.invite(uow(), scorecard_id=item.ref_id)
        if invite is None:
            return None
        if item.purpose is Purpose.SCORECARD_OPEN:
            # Closed before it was posted (downtime): only the report is worth posting.
            return Rendered([build_scorecard_invite(invite)]) if invite.scorecard.status == "open" else None
        ts = outbox.sent_ts(uow(), f"{Purpose.SCORECARD_OPEN.value}:{item.ref_id}")
        return Rendered([build_scorecard_invite(invite, closed=True)], update_ts=ts) if ts else None


#: Purposes the weekly digest renders (issue 4).
DIGEST_PURPOSES = frozenset({Purpose.DIGEST, Purpose.DIGEST_CHART, Purpose.DIGEST_COPY})

#: Purposes of goals, the expectations ledger and the scorecard (issue 4).
REVIEW_PURPOSES = frozenset(
    {
        Purpose.EXPECTATION,
        Purpose.EXPECTATION_UPDATE,
        Purpose.SCORECARD_OPEN,
        Purpose.SCORECARD_CLOSED,
        Purpose.SCORECARD_REPORT,
    }
)

#: Purposes the issue log renders (issue 3).
ISSUE_PURPOSES = frozenset(
    {
        Purpose.ISSUE_CARD,
        Purpose.ISSUE_CARD_UPDATE,
        Purpose.ISSUE_HISTORY,
        Purpose.ESCALATION,
        Purpose.FOLLOWUP_QUESTION,
        Purpose.ACTIONS_OVERDUE,
        Purpose.SIGNAL,
    }
)


class OutboxSender:
    """Sends what the outbox holds. Safe to call from several threads and processes at once."""

    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        client: WebClient,
        renderer: Renderer,
        pacer: Pacer | None = None,
        concurrency: int = 8,
        clock: Callable[[], datetime],
    ) -> None:
        self.uow_factory, self.client, self.renderer = uow_factory, client, renderer
        self.pacer = pacer or Pacer()
        self.concurrency = concurrency
        self.clock = clock
        self._team_by_workspace: dict[int, str] = {}

    def deliver_pending(self) -> DeliveryReport:
        """Send everything that is due now, channel by channel in parallel. Returns what happened."""
        total = DeliveryReport()
        followed_up = False
        while True:
            items = outbox.claim(self.uow_factory(), now=self.clock(), limit=CLAIM_BATCH)
            if not items:
                return total
            try:
                self.renderer.prepare(items)
            except Exception:  # each row is then rendered on its own, with the usual retry on failure
                logger.exception("could not build the batch's digests together; building them one by one")
            by_channel: dict[str, list[OutboxItem]] = defaultdict(list)
            for item in items:
                by_channel[item.channel_id].append(item)
            workers = min(self.concurrency, len(by_channel))
            if workers <= 1:
                for queue in by_channel.values():
                    total.add(self._send_channel(queue))
            else:
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox") as pool:
                    for report in pool.map(self._send_channel, by_channel.values()):
                        total.add(report)
            if len(items) < CLAIM_BATCH:
                # Sending a digest records its chart and copies: one more pass sends them now, not a tick later.
                if followed_up or not any(item.purpose in outbox.SPAWNS_FOLLOW_UPS for item in items):
                    return total
                followed_up = True

    def _send_channel(self, queue: list[OutboxItem]) -> DeliveryReport:
        report = DeliveryReport()
        for i, item in enumerate(queue):
            outcome = self._send_one(item, report)
            if outcome is ErrorKind.CHANNEL_GONE or outcome is ErrorKind.AUTH:
                # The rest of this channel's queue would fail the same way; put it back untouched.
                for rest in queue[i + 1 :]:
                    outbox.mark_retry(
                        self.uow_factory(), rest, error="waiting: channel or token unavailable", available_at=self.clock()
                    )
                break
        return report

    def _send_one(self, item: OutboxItem, report: DeliveryReport) -> ErrorKind | None:
        try:
            rendered = self.renderer.render(item)
        except Exception:
            # Often a passing database problem: retry with backoff (mark_retry gives up after MAX_ATTEMPTS).
            logger.exception("outbox %s (%s): rendering failed; will retry", item.id, item.dedupe_key)
            outbox.mark_retry(self.uow_factory(), item, error="rendering failed", available_at=self.clock() + _backoff(item))
            report.retried += 1
            return ErrorKind.OTHER
        if rendered is None:
            outbox.mark_cancelled(self.uow_factory(), item, reason="no longer needed")
            report.cancelled += 1
            return None
        try:
            ts = self._call(item, rendered)
        except SlackApiError as exc:
            return self._handle_error(item, exc, report)
        except Exception as exc:  # connection failures that outlived the retry handler
            logger.warning("outbox %s (%s): %s; will retry", item.id, item.dedupe_key, exc)
            outbox.mark_retry(self.uow_factory(), item, error=str(exc)[:200], available_at=self.clock() + _backoff(item))
            report.retried += 1
            return ErrorKind.OTHER
        outbox.mark_sent(self.uow_factory(), item, ts=ts, now=self.clock())
        report.sent += 1
        if item.purpose is Purpose.MENU and ts:
            self._pin(item, ts)
        return None

    def _team(self, workspace_id: int) -> str:
        team = self._team_by_workspace.get(workspace_id)
        if team is None:
            team = partnerships.workspace_team(self.uow_factory(), workspace_id=workspace_id)
            self._team_by_workspace[workspace_id] = team
        return team

    def _call(self, item: OutboxItem, rendered: Rendered) -> str | None:
        team = self._team(item.workspace_id)
        self.pacer.wait(item.method, team, item.channel_id)
        if rendered.upload is not None:
            self._upload(item, rendered.upload, rendered.thread_ts)
            return None
        first, *rest = rendered.messages
        if item.method == "chat.postEphemeral":
            resp = self.client.chat_postEphemeral(
                channel=item.channel_id, user=item.user_id or "", text=first.text, blocks=first.blocks
            )
            return str(resp.get("message_ts") or "") or None
        if item.method == "chat.update":
            if rendered.update_ts is None:
                if not rendered.post_if_missing:
                    raise ValueError(f"outbox {item.id}: nothing to update")
                self.pacer.wait("chat.postMessage", team, item.channel_id)
                return self._post(item, rendered)
            try:
                resp = self.client.chat_update(
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
        """chat.postMessage of the rendered messages (the caller has paced the first one)."""
        team = self._team(item.workspace_id)
        first, *rest = rendered.messages
        thread: dict[str, Any] = {"thread_ts": rendered.thread_ts} if rendered.thread_ts else {}
        resp = self.client.chat_postMessage(
            channel=item.channel_id,
            text=first.text,
            blocks=first.blocks,
            metadata=_metadata(item),
            unfurl_links=False,
            unfurl_media=False,
            **thread,
        )
        self.pacer.posted(item.channel_id)
        ts = str(resp["ts"])
        for part in rest:
            self.pacer.wait("chat.postMessage", team, item.channel_id)
            self.client.chat_postMessage(
                channel=item.channel_id,
                thread_ts=rendered.thread_ts or ts,
                text=part.text,
                blocks=part.blocks,
                metadata=_metadata(item),
            )
            self.pacer.posted(item.channel_id)
        return ts

    def _upload(self, item: OutboxItem, upload: Upload, thread_ts: str | None) -> None:
        """files_upload_v2 into the channel (in ``thread_ts``'s thread). A failure raises SlackApiError like any
        call and the row is retried alone: a half-done upload (a file reserved but never shared) shows nothing.
        """
        self.client.files_upload_v2(
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
            self.client.pins_add(channel=item.channel_id, timestamp=ts)
        except SlackApiError as exc:  # pinning is a convenience; the menu is posted either way
            logger.info("outbox %s: could not pin the menu: %s", item.id, error_code(exc))

    def _handle_error(self, item: OutboxItem, exc: SlackApiError, report: DeliveryReport) -> ErrorKind:
        code = error_code(exc)
        kind = classify(code)
        if kind is ErrorKind.CHANNEL_GONE and item.purpose in outbox.DM_PURPOSES:
            # A direct message that cannot be delivered (the person left, or is not of our workspace): drop it,
            # and never pause the partnership for it.
            kind = ErrorKind.RECIPIENT_GONE
        report.errors[code] = report.errors.get(code, 0) + 1
        now = self.clock()
        if kind is ErrorKind.CHANNEL_GONE and item.partnership_id is None:
            # A workspace-wide message (the portfolio) to a channel the bot is not in, or that is gone: there is no
            # partnership to pause and retrying cannot help. `/partner portfolio` tells the leads what to do.
            logger.warning("outbox %s (%s): cannot post in %s (%s)", item.id, item.dedupe_key, item.channel_id, code)
            outbox.mark_failed(self.uow_factory(), item, error=code)
            report.failed += 1
        elif kind is ErrorKind.CHANNEL_GONE and item.partnership_id is not None:
            partnerships.pause_for_slack_error(self.uow_factory(), partnership_id=item.partnership_id, error=code, now=now)
            outbox.mark_retry(self.uow_factory(), item, error=code, available_at=now)
            report.retried += 1
        elif kind is ErrorKind.AUTH:
            partnerships.disable_workspace_sending(self.uow_factory(), workspace_id=item.workspace_id, error=code)
            outbox.mark_retry(self.uow_factory(), item, error=code, available_at=now)
            report.retried += 1
        elif kind is ErrorKind.RATE_LIMITED:
            wait = retry_after_seconds(exc)
            self.pacer.push_back(item.method, self._team(item.workspace_id), item.channel_id, wait)
            outbox.mark_retry(self.uow_factory(), item, error=code, available_at=now + timedelta(seconds=wait))
            report.retried += 1
        elif kind is ErrorKind.RECIPIENT_GONE:
            logger.info("outbox %s (%s): Slack answered %s; message dropped", item.id, item.dedupe_key, code)
            outbox.mark_failed(self.uow_factory(), item, error=code)
            report.failed += 1
        else:
            logger.warning("outbox %s (%s): Slack answered %s (attempt %s)", item.id, item.dedupe_key, code, item.attempts)
            outbox.mark_retry(self.uow_factory(), item, error=code, available_at=now + _backoff(item))
            report.retried += 1
        return kind


def _backoff(item: OutboxItem) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (item.attempts - 1), 3600))


def _metadata(item: OutboxItem) -> dict[str, Any]:
    """Slack message metadata naming the outbox row, so a repeated message can be recognised."""
    return {"event_type": "partnerpulse_message", "event_payload": {"key": item.dedupe_key}}
