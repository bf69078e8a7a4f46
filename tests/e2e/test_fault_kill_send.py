"""Fault: ``partnerpulse tick`` killed with SIGKILL in the middle of sending a large batch, then the sender run
again after the lease. Nothing may be lost, and only the calls in flight at the kill may be doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.harness import SANDBOX_SECRET_KEY, LocalStack
from bot.services import outbox_sending
from storage.models import OutboxMessage
from tests.conftest import START
from tests.helpers import wait_for
from tests.outbox_support import queue_notices

pytestmark = [pytest.mark.fault, pytest.mark.slow]

CHANNELS = 12
PER_CHANNEL = 4
#: Slack's answer to each chat.postMessage takes this long, so that several calls are in flight at any instant.
SLACK_LATENCY = 0.3


def _counts(stack: LocalStack, channels: list[str], texts: list[str]) -> Counter[str]:
    wanted = set(texts)
    seen: Counter[str] = Counter()
    for channel in channels:
        for message in stack.sandbox.messages(channel):
            if (text := str(message.get("text"))) in wanted:
                seen[text] += 1
    return seen


def _settled(stack: LocalStack, channels: list[str], texts: list[str]) -> int:
    """Wait until the calls in flight at the kill have landed (the count stops moving); returns the count."""
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 4 * SLACK_LATENCY + 1.0:
        now = sum(_counts(stack, channels, texts).values())
        if now != last:
            last, stable_since = now, time.monotonic()
        time.sleep(0.05)
    return last


def _start_sending(stack: LocalStack, tmp_path: Path) -> tuple[subprocess.Popen[bytes], list[str], list[str]]:
    """Queue a large batch over many channels and start ``partnerpulse tick`` on it in another process."""
    sb, w = stack.sandbox, stack.world
    channels = [f"C0FAULT{i:02d}" for i in range(CHANNELS)]
    for channel in channels:
        sb.add_channel(channel, channel.lower(), w.client_team, members=[w.bot_user])
    texts = [f"fault notice {i:03d}" for i in range(CHANNELS * PER_CHANNEL)]
    queue_notices(stack, texts, channel_ids=channels)
    sb.delay_next("chat.postMessage", SLACK_LATENCY, times=10 * len(texts))
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": sb.bot_token,
        "SLACK_SIGNING_SECRET": sb.signing_secret,
        "SLACK_API_URL": sb.api_url,
        "PARTNERPULSE_SECRET_KEY": SANDBOX_SECRET_KEY,
        "DATABASE_URL": stack.settings.database_url,
        "PARTNERPULSE_SEND_CONCURRENCY": str(stack.settings.send_concurrency),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "tick", "--at", START.isoformat()],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, channels, texts


def _lost_and_doubled(stack: LocalStack, channels: list[str], texts: list[str]) -> tuple[list[str], int]:
    seen = _counts(stack, channels, texts)
    return [t for t in texts if seen[t] == 0], sum(n - 1 for n in seen.values() if n > 1)


def _recorded_sent(stack: LocalStack) -> int:
    with stack.services.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).where(OutboxMessage.status == "sent")) or 0)


def test_kill_9_mid_send_loses_nothing_and_doubles_at_most_the_calls_in_flight(stack: LocalStack, tmp_path: Path) -> None:
    proc, channels, texts = _start_sending(stack, tmp_path)
    total, concurrency = len(texts), stack.settings.send_concurrency
    try:
        wait_for(lambda: sum(_counts(stack, channels, texts).values()) >= total // 3, timeout=60, what="a third sent")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    landed = _settled(stack, channels, texts)
    recorded = _recorded_sent(stack)
    assert landed < total, "the kill came before the batch was done"

    # The next heartbeat after the lease (a later `partnerpulse tick --at`, a restarted serve).
    report = stack.tick(START + outbox_sending.LEASE + timedelta(seconds=1))
    lost, doubled = _lost_and_doubled(stack, channels, texts)
    print(
        f"kill -9 mid-send: {total} messages, {landed} had reached Slack at the kill ({recorded} recorded as sent); "
        f"after the lease: {report.delivery.sent} sent, {len(lost)} lost, {doubled} doubled "
        f"(bound: {concurrency} calls in flight)"
    )
    assert lost == []
    assert doubled <= concurrency
    assert doubled == landed - recorded, "exactly the messages Slack had but the database had not were doubled"
    with stack.services.uow_factory() as uow:
        statuses = uow.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    assert dict(statuses) == {"sent": total}


def test_a_second_sender_after_the_lease_takes_over_without_doubling_the_batch(stack: LocalStack, tmp_path: Path) -> None:
    """The sending process's clock stands still (``tick --at``), so its batch has outlived its lease the moment
    another sender looks at it one lease later: as a batch stalled past its lease does. The other sender takes the
    rest over while the first still runs; the first must not send what was taken over."""
    proc, channels, texts = _start_sending(stack, tmp_path)
    total, concurrency = len(texts), stack.settings.send_concurrency
    try:
        wait_for(lambda: sum(_counts(stack, channels, texts).values()) >= total // 3, timeout=60, what="a third sent")
        report = stack.tick(START + outbox_sending.LEASE + timedelta(seconds=1))
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    _settled(stack, channels, texts)
    lost, doubled = _lost_and_doubled(stack, channels, texts)
    print(
        f"second sender after the lease: {total} messages, it sent {report.delivery.sent}; "
        f"{len(lost)} lost, {doubled} doubled (bound: {concurrency} calls in flight at the takeover)"
    )
    assert lost == []
    assert doubled <= concurrency
