"""Check 27, single execution across processes: two ``partnerpulse serve`` processes on one database (the SQLite
file, or PostgreSQL under TEST_DATABASE_URL), both beating every second. A pulse and escalations fall due at the
same instant, then the round's close; each is posted exactly once (counted in the sandbox), because each step claims
its rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) in the transaction that queues
its one outbox row, and the sender claims each outbox row before sending it."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bot.harness import LocalStack, start_local_stack
from bot.services.outbox import Purpose
from bot.services.partnership_models import SlackProfile
from storage.models import Issue, OutboxMessage, Partnership, PulseRound
from tests.factories import setup_input
from tests.helpers import log_issue, setup_partnership, wait_for
from tests.serve_process import serving

pytestmark = [pytest.mark.fault, pytest.mark.slow]

ISSUES = 2
#: More partnerships due at the same instant, so that the two processes' ticks overlap (each opening reads the
#: channel's members from Slack) and a missing claim would show as a doubled pulse.
EXTRA_PARTNERSHIPS = 10
#: Both heartbeats every second, and no worker processes (the heartbeat runs in the serving process).
SERVE_ENV = {"PARTNERPULSE_HEARTBEAT_SECONDS": "1", "PARTNERPULSE_WORKER_PROCESSES": "0"}
#: The sandbox's record of Slack calls must stop changing for this long before the counts are read.
QUIET_SECONDS = 3.0


@pytest.fixture
def live_stack(database_url: str) -> Iterator[LocalStack]:
    """The sandbox and its demo world at the real time (``serve`` runs on the real clock)."""
    with closing(start_local_stack(database_url=database_url, start=datetime.now(UTC))) as s:
        yield s


def _add_partnerships(stack: LocalStack) -> None:
    """EXTRA_PARTNERSHIPS more partnerships of the demo world's people, each in its own shared channel."""
    from bot.services import partnership_setup

    sb, w = stack.sandbox, stack.world
    people = [w.client_lead, *w.client_members, w.provider_lead, *w.provider_members]
    now = datetime.now(UTC)
    for n in range(EXTRA_PARTNERSHIPS):
        channel = f"C0TWO{n:02d}"
        sb.add_channel(channel, f"two-{n}", w.client_team, members=[w.bot_user, *people], is_ext_shared=True)
        profiles = [SlackProfile(u, w.client_team if u.startswith("U0C") else w.provider_team, u.lower()) for u in people]
        partnership_setup.configure_partnership(
            stack.services.uow_factory(),
            team_id=w.client_team,
            channel_id=channel,
            user_id=w.client_lead,
            data=setup_input(name=f"Partnership {n}", client_leads=(w.client_lead,), provider_leads=(w.provider_lead,)),
            is_connect=True,
            channel_members=[*profiles, SlackProfile(w.bot_user, w.client_team, "bot", is_bot=True)],
            now=now,
        )


def _posts(stack: LocalStack) -> list[str]:
    sb = stack.sandbox
    return [
        json.dumps(c.args, sort_keys=True)
        for c in sb.calls
        if c.method in ("chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal") and c.response.get("ok")
    ]


def _quiet(stack: LocalStack) -> int:
    """Wait until no Slack call has come for QUIET_SECONDS (both heartbeats have beaten several times since)."""
    last, since = -1, time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() - since < QUIET_SECONDS:
        count = len(stack.sandbox.calls)
        if count != last:
            last, since = count, time.monotonic()
        assert time.monotonic() < deadline, "Slack calls never stopped"
        time.sleep(0.1)
    return last


def _sent(stack: LocalStack) -> Counter[str]:
    with stack.services.uow_factory() as uow:
        rows = uow.session.execute(
            select(OutboxMessage.purpose, func.count()).where(OutboxMessage.status == "sent").group_by(OutboxMessage.purpose)
        ).all()
    return Counter({str(purpose): int(n) for purpose, n in rows})


def test_two_serve_processes_post_each_scheduled_message_once(live_stack: LocalStack, tmp_path: Path) -> None:
    stack, sb = live_stack, live_stack.sandbox
    url = stack.settings.database_url
    with serving(sb, url, tmp_path, SERVE_ENV) as first, serving(sb, url, tmp_path, SERVE_ENV):
        sb.bot_endpoint = first.url
        setup_partnership(stack)
        _add_partnerships(stack)
        for n in range(ISSUES):
            log_issue(stack, stack.world.client_members[n], title=f"Report {n} late")
        _quiet(stack)
        before = Counter(_sent(stack))
        due, long_ago = datetime.now(UTC) - timedelta(seconds=1), datetime.now(UTC) - timedelta(days=30)
        with stack.services.uow_factory() as uow:
            uow.session.execute(update(Partnership).values(next_pulse_at=due))
            uow.session.execute(update(Issue).values(created_at=long_ago, opened_at=long_ago, next_escalation_at=due))
            uow.commit()
        wait_for(lambda: _sent(stack)[Purpose.PULSE] == 1 + EXTRA_PARTNERSHIPS, what="the pulses sent")
        wait_for(lambda: _sent(stack)[Purpose.ESCALATION] >= ISSUES, what="the escalations sent")
        _quiet(stack)
        with stack.services.uow_factory() as uow:
            uow.session.execute(update(PulseRound).values(closes_at=datetime.now(UTC) - timedelta(seconds=1)))
            uow.commit()
        wait_for(lambda: _sent(stack)[Purpose.RESULTS] == 1 + EXTRA_PARTNERSHIPS, what="the results sent")
        _quiet(stack)
        sent = _sent(stack) - before

    posts = _posts(stack)
    pulses = [p for p in posts if "pulse-answer" in p]
    doubled = {p[:120]: n for p, n in Counter(posts).items() if n > 1}
    print(f"two serve processes: sent {dict(sent)}; {len(posts)} posts, {len(pulses)} pulse, {len(doubled)} doubled")
    rounds = 1 + EXTRA_PARTNERSHIPS
    assert len(pulses) == rounds
    assert sent[Purpose.PULSE] == sent[Purpose.RESULTS] == sent[Purpose.PULSE_CLOSED] == rounds
    with stack.services.uow_factory() as uow:
        levels = uow.session.scalars(select(Issue.escalation_level)).all()
    assert all(level >= 1 for level in levels) and len(levels) == ISSUES
    assert doubled == {}, "a message was posted twice"
    assert sb.violations == []
