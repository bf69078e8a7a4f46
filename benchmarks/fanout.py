"""Fan-out: one pulse round for N partnerships against the sandbox enforcing Slack's rate limits.

Each phase of the round is one ``tick`` (what the heartbeat does): open (a pulse per channel via
chat.postMessage), reminders (per member who has not answered: a message from the app to the installing
organisation's people, chat.postEphemeral to the other organisation's), close (chat.update of
each pulse and the results via chat.postMessage). For each phase: messages sent, duration, the rate
achieved against the ceiling Slack's limits allow for exactly that traffic, 429s, duplicates and losses.

Time compression: Slack's per-minute tiers make the close phase take minutes at real scale, so the
sandbox's rate-limit clock runs K times faster than real time and the bot's ``Pacer(speedup=K)`` is
given the same K. This scales every rate by K and leaves every burst as it is, which is what compressing
time means. (Scaling the per-minute numbers given to ``set_rate_limits`` would also multiply each tier
bucket's capacity, i.e. Slack's burst allowance, by K.) A second round's open phase runs at K=1.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from benchmarks.common import START, fmt, table
from bot.delivery.pacer import Pacer
from bot.harness import SANDBOX_BOT_TOKEN, SANDBOX_SIGNING_SECRET, LocalStack, start_local_stack
from bot.sandbox import RecordedCall, SlackSandbox
from bot.sandbox.ratelimit import RateLimitConfig, RateLimiter
from bot.services import partnership_setup, pulses
from bot.services.partnership_models import SlackProfile
from bot.services.pulse_models import AnswerInput
from storage.models import OutboxMessage
from tests.factories import setup_input
from tests.helpers import submit_as

logger = logging.getLogger(__name__)

CHANNEL_BURST = 1
PER_CHANNEL_PER_SECOND = 1.0
#: The round's schedule for partnerships pulsing Mondays 09:00 in New York (14:00 UTC in winter).
OPEN_AT = START.replace(hour=14)
ANSWER_AT = OPEN_AT + timedelta(minutes=30)
REMIND_AT = OPEN_AT + timedelta(hours=24, minutes=1)  # 48 h window, reminder 24 h before close
CLOSE_AT = OPEN_AT + timedelta(hours=48, minutes=1)
NEXT_OPEN_AT = OPEN_AT + timedelta(days=7)


class CompressedClock:
    """A monotonic clock that runs ``factor`` times faster than real time; the factor can change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._real0, self._virtual0, self._factor = time.monotonic(), 0.0, 1.0

    def __call__(self) -> float:
        with self._lock:
            return self._virtual0 + (time.monotonic() - self._real0) * self._factor

    def set_factor(self, factor: float) -> None:
        with self._lock:
            now = time.monotonic()
            self._virtual0 += (now - self._real0) * self._factor
            self._real0, self._factor = now, factor


@dataclass
class Phase:
    name: str
    speedup: float
    sent: int
    by_method: dict[str, int]
    duration_s: float
    send_span_s: float
    floor_s: float
    steady_floor_s: float
    rate: float
    ceiling_rate: float
    pct_of_ceiling: float | None
    ratelimited: int
    bound_by: str


def _ok(call: RecordedCall) -> bool:
    return call.http_status == 200 and bool(call.response.get("ok"))


def limit_floor(calls: list[RecordedCall], limiter: RateLimiter, speedup: float) -> tuple[float, float, str]:
    """The least real time Slack's limits allow for these calls: max over keys of (calls − burst) / rate.

    Also returns the floor without bursts (calls / rate, what an evenly spacing sender needs) and the key
    that binds. Rates are per real second, i.e. multiplied by ``speedup``.
    """
    per_key: Counter[tuple[str, str]] = Counter()
    for call in calls:
        per_minute = limiter.per_minute(call.method)
        if per_minute is not None:
            per_key[(call.method, str(call.team_id))] += 1
        if call.method == "chat.postMessage":
            per_key[("channel", str(call.args.get("channel")))] += 1
    floor, steady, bound = 0.0, 0.0, "-"
    for (kind, ident), count in per_key.items():
        if kind == "channel":
            burst, rate = CHANNEL_BURST, PER_CHANNEL_PER_SECOND * speedup
        else:
            per_minute = limiter.per_minute(kind)
            assert per_minute is not None
            burst, rate = per_minute, per_minute / 60.0 * speedup
        key_floor = max(0, count - burst) / rate
        steady = max(steady, count / rate)
        if key_floor > floor:
            floor, bound = (
                key_floor,
                (
                    f"{kind} ({count} calls, burst {burst}, {rate:g}/s)"
                    if kind != "channel"
                    else f"per channel ({count} in {ident}, burst {burst}, {rate:g}/s)"
                ),
            )
    return floor, steady, bound


def _profiles(sb: SlackSandbox, user_ids: list[str]) -> list[SlackProfile]:
    profiles = []
    for uid in user_ids:
        u = sb.snapshot_user(uid)
        profiles.append(SlackProfile(user_id=u.id, team_id=u.team_id, display_name=u.real_name, tz=u.tz, is_bot=u.is_bot))
    return profiles


def _setup(stack: LocalStack, count: int) -> list[str]:
    """Create ``count`` Slack Connect channels and their partnerships (through the service layer)."""
    sb, w = stack.sandbox, stack.world
    people = [w.client_lead, *w.client_members[:2], w.provider_lead, *w.provider_members[:2]]
    channels = []
    for i in range(count):
        channel = f"C{i + 1:07d}X"
        sb.add_channel(channel, f"partner-{i + 1:04d}", w.client_team, members=[w.bot_user, *people], is_ext_shared=True)
        data = setup_input(name=f"Partnership {i + 1}", client_leads=(w.client_lead,), provider_leads=(w.provider_lead,))
        partnership_setup.configure_partnership(
            stack.services.uow_factory(),
            team_id=w.client_team,
            channel_id=channel,
            user_id=w.client_lead,
            data=data,
            is_connect=True,
            channel_members=_profiles(sb, [w.bot_user, *people]),
            now=START,
        )
        channels.append(channel)
    return channels


def _answer(stack: LocalStack, channels: list[str], answered_per_channel: int) -> int:
    """Most members answer through the service layer, so only the rest get reminders. Returns answers."""
    services, w = stack.services, stack.world
    people = [w.client_lead, *w.client_members[:2], w.provider_lead, *w.provider_members[:2]]
    profiles = _profiles(stack.sandbox, people)
    done = 0
    for i, channel in enumerate(channels):
        round_id = pulses.open_round_id(services.uow_factory(), team_id=w.client_team, channel_id=channel)
        context = pulses.round_context(services.uow_factory(), round_id=round_id)
        assert context is not None
        questions = context[0].questions
        answers = [AnswerInput(question_id=q.id, score=8 if q.kind == "nps" else 4, comment=None) for q in questions]
        # A different member stays silent in each channel.
        skip = {(i + k) % len(profiles) for k in range(len(profiles) - answered_per_channel)}
        for j, profile in enumerate(profiles):
            if j in skip:
                continue
            submit_as(services, profile, round_id, answers, now=ANSWER_AT)
            done += 1
    return done


def _phase(stack: LocalStack, name: str, at: datetime, speedup: float, limiter: RateLimiter) -> Phase:
    sb = stack.sandbox
    first_call, ratelimited = len(sb.calls), sb.ratelimited_count
    started = time.monotonic()
    report = stack.tick(at)
    duration = time.monotonic() - started
    if report.failures:
        logger.warning("phase %s: tick steps failed: %s", name, report.failures)
    calls = [c for c in sb.calls[first_call:] if _ok(c)]
    span = (calls[-1].at - calls[0].at) / speedup if len(calls) > 1 else 0.0
    floor, steady, bound = limit_floor(calls, limiter, speedup)
    rate = len(calls) / duration if duration else float("nan")
    ceiling = len(calls) / floor if floor else float("inf")
    phase = Phase(
        name=name,
        speedup=speedup,
        sent=len(calls),
        by_method=dict(Counter(c.method for c in calls)),
        duration_s=duration,
        send_span_s=span,
        floor_s=floor,
        steady_floor_s=steady,
        rate=rate,
        ceiling_rate=ceiling,
        pct_of_ceiling=(floor / duration * 100) if floor else None,
        ratelimited=sb.ratelimited_count - ratelimited,
        bound_by=bound,
    )
    print(
        f"  {name} (K={speedup:g}): {phase.sent} sent in {duration:.1f} s, floor {floor:.1f} s, {report.summary()}",
        flush=True,
    )
    return phase


def _integrity(stack: LocalStack) -> dict[str, Any]:
    """Duplicates (per outbox key) and losses (rows not sent, sent rows with nothing in the sandbox)."""
    sb = stack.sandbox
    with Session(stack.services.engine) as session:
        rows = list(session.scalars(select(OutboxMessage)))
    statuses = Counter(r.status for r in rows)
    ok_calls = [c for c in sb.calls if _ok(c)]
    # chat.postMessage: top-level messages per outbox key, from the calls and from the channels' messages.
    posted: Counter[str] = Counter()
    for c in ok_calls:
        if c.method == "chat.postMessage" and not c.args.get("thread_ts"):
            posted[str(((c.args.get("metadata") or {}).get("event_payload") or {}).get("key"))] += 1
    stored: Counter[str] = Counter()
    for channel in {r.channel_id for r in rows}:
        for m in sb.messages(channel, include_thread_replies=False):
            key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
            if key:
                stored[str(key)] += 1
    dup_posts = max(sum(n - 1 for n in posted.values() if n > 1), sum(n - 1 for n in stored.values() if n > 1))
    ephemerals = Counter((c.args.get("channel"), c.args.get("user")) for c in ok_calls if c.method == "chat.postEphemeral")
    updates = Counter((c.args.get("channel"), c.args.get("ts")) for c in ok_calls if c.method == "chat.update")
    dup_ephemerals = sum(n - 1 for n in ephemerals.values() if n > 1)
    dup_updates = sum(n - 1 for n in updates.values() if n > 1)
    # Losses: every row must be sent, and every sent row must have left its trace in the sandbox.
    delivered_ephemerals = Counter((e["channel"], e["recipient"]) for e in sb.ephemerals())
    missing = 0
    for r in rows:
        if r.status != "sent":
            continue
        if r.method == "chat.postMessage":
            missing += int(stored[r.dedupe_key] < 1 and sb.message(r.channel_id, str(r.ts)) is None)
        elif r.method == "chat.postEphemeral":
            # A reminder goes as a message from the app to people of the installing organisation (DESIGN 3.2).
            missing += int(delivered_ephemerals[(r.channel_id, r.user_id)] < 1 and posted[r.dedupe_key] < 1)
        elif r.method == "chat.update":
            message = sb.message(r.channel_id, str(r.ts))
            missing += int(message is None or "edited" not in message)
    return {
        "outbox_rows": len(rows),
        "outbox_by_status": dict(statuses),
        "duplicates": {"chat.postMessage": dup_posts, "chat.postEphemeral": dup_ephemerals, "chat.update": dup_updates},
        "duplicates_total": dup_posts + dup_ephemerals + dup_updates,
        "not_sent": len(rows) - statuses.get("sent", 0),
        "sent_but_missing_in_sandbox": missing,
        "losses_total": len(rows) - statuses.get("sent", 0) + missing,
    }


def run_fanout(*, partnerships_count: int = 200, speedup: float = 10.0, answered_per_channel: int = 5) -> dict[str, Any]:
    """Run two rounds' phases (round 1 at K=speedup, round 2's open at K=1); returns JSON-ready results."""
    clock = CompressedClock()
    sb = SlackSandbox(signing_secret=SANDBOX_SIGNING_SECRET, bot_token=SANDBOX_BOT_TOKEN, clock=clock)
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="pp-bench-fanout-") as tmp:
        stack = start_local_stack(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", start=START, sandbox=sb)
        try:
            setup_started = time.monotonic()
            channels = _setup(stack, partnerships_count)
            # The setup's partnership menus (postMessage + pins.add each) go out unpaced and unlimited: not measured.
            stack.services.sender.pacer = Pacer(speedup=1e6)
            stack.tick(START + timedelta(minutes=1))
            setup_s = time.monotonic() - setup_started
            limits = RateLimitConfig(per_channel_per_second=PER_CHANNEL_PER_SECOND, channel_burst=CHANNEL_BURST)
            limiter = RateLimiter(limits)

            def compress(k: float) -> None:
                clock.set_factor(k)
                sb.set_rate_limits(enabled=True, per_channel_per_second=PER_CHANNEL_PER_SECOND, channel_burst=CHANNEL_BURST)
                stack.services.sender.pacer = Pacer(speedup=k)

            compress(speedup)
            phases.append(_phase(stack, "open", OPEN_AT, speedup, limiter))
            answer_started = time.monotonic()
            answers = _answer(stack, channels, answered_per_channel)
            answer_s = time.monotonic() - answer_started
            phases.append(_phase(stack, "reminders", REMIND_AT, speedup, limiter))
            phases.append(_phase(stack, "close", CLOSE_AT, speedup, limiter))
            compress(1.0)
            phases.append(_phase(stack, "open (round 2)", NEXT_OPEN_AT, 1.0, limiter))
            integrity = _integrity(stack)
            violations = [f"{v.method}: {v.reason}" for v in stack.sandbox.violations][:5]
            send_concurrency = stack.settings.send_concurrency
        finally:
            stack.close()
    return {
        "partnerships": partnerships_count,
        "speedup_K": speedup,
        "members_per_channel": 6,
        "answered_per_channel": answered_per_channel,
        "answers_submitted": answers,
        "setup_seconds": setup_s,
        "answering_seconds": answer_s,
        "send_concurrency": send_concurrency,
        "limits": {
            "chat.postMessage": f"{PER_CHANNEL_PER_SECOND:g}/s per channel, burst {CHANNEL_BURST}",
            "chat.postEphemeral": f"{limiter.per_minute('chat.postEphemeral')}/min per workspace (Tier 4)",
            "chat.update": f"{limiter.per_minute('chat.update')}/min per workspace (Tier 3)",
        },
        "phases": [asdict(p) for p in phases],
        "integrity": integrity,
        "sandbox_violations": violations,
    }


def render(results: dict[str, Any]) -> str:
    """The fan-out table."""
    rows = []
    for p in results["phases"]:
        pct = p["pct_of_ceiling"]
        rows.append(
            [
                p["name"],
                fmt(p["speedup"], 0),
                str(p["sent"]),
                " ".join(f"{m.removeprefix('chat.')}={n}" for m, n in sorted(p["by_method"].items())),
                fmt(p["duration_s"]),
                fmt(p["floor_s"]),
                fmt(p["steady_floor_s"]),
                fmt(p["rate"]),
                fmt(p["ceiling_rate"]),
                "-" if pct is None else f"{pct:.0f}%",
                str(p["ratelimited"]),
            ]
        )
    headers = ["phase", "K", "sent", "calls", "secs", "floor s", "no-burst s", "msg/s", "ceiling/s", "% ceiling", "429s"]
    integ = results["integrity"]
    lines = [
        f"Fan-out: {results['partnerships']} partnerships, {results['members_per_channel']} members each, "
        f"{results['answered_per_channel']} answer; sender concurrency {results['send_concurrency']}. "
        "K = time compression (sandbox limit clock and Pacer both x K).",
        table(headers, rows),
        "binding limit per phase: " + "; ".join(f"{p['name']}: {p['bound_by']}" for p in results["phases"]),
        f"duplicates: {integ['duplicates_total']} {integ['duplicates']}; losses: {integ['losses_total']} "
        f"(rows not sent {integ['not_sent']}, sent but missing {integ['sent_but_missing_in_sandbox']}); "
        f"outbox {integ['outbox_by_status']}; sandbox violations: {len(results['sandbox_violations'])}",
    ]
    return "\n".join(lines)
