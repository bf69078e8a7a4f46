"""A reminder to 1,000 people against a Slack that enforces its limits: no 429, paced by the token bucket (check 17).

One Slack Connect channel with 1,000 people of the other organisation who have not answered: each gets the round's
reminder as an ephemeral in the channel (chat.postEphemeral, Tier 4: 100 a minute per workspace). The sandbox
enforces Slack's limits on a clock running K times faster than real time, and the bot's pacer is given the same K
(what benchmarks/fanout.py does at 200 channels): every rate is scaled by K, every burst stays as it is. K = 20 keeps
the bucket, not the sender's own cost per message (about 30 ms here), the binding limit: sent unpaced, the same
reminders meet 429s. The test takes about 30 s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta

import pytest

from bot.delivery.pacer import TIER_BURST_RESERVE, Pacer
from bot.harness import SANDBOX_BOT_TOKEN, SANDBOX_SIGNING_SECRET, LocalStack, start_local_stack
from bot.sandbox import SlackSandbox
from bot.services import partnership_setup
from bot.services.partnership_models import SlackProfile
from tests.conftest import START
from tests.factories import setup_input

K = 20.0
PEOPLE = [f"U1K{n:05d}" for n in range(1000)]
CHANNEL = "C0BROADCAST"
OPEN_AT = START.replace(hour=14)  # Monday 09:00 in New York
REMIND_AT = OPEN_AT + timedelta(hours=24, minutes=1)  # 48 h round, reminder 24 h before it closes


class CompressedClock:
    """A monotonic clock running ``K`` times faster than real time (the sandbox's rate-limit clock)."""

    def __init__(self, factor: float) -> None:
        self._real0, self._factor = time.monotonic(), factor
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return (time.monotonic() - self._real0) * self._factor


@pytest.fixture
def compressed_stack(database_url: str) -> Iterator[LocalStack]:
    sandbox = SlackSandbox(signing_secret=SANDBOX_SIGNING_SECRET, bot_token=SANDBOX_BOT_TOKEN, clock=CompressedClock(K))
    with closing(start_local_stack(database_url=database_url, start=START, sandbox=sandbox)) as stack:
        yield stack


def _partnership_of_1000(stack: LocalStack) -> None:
    sb, w = stack.sandbox, stack.world
    for uid in PEOPLE:
        sb.add_user(uid, w.provider_team, uid.lower(), f"Person {uid}", tz="Europe/Berlin")
    leads = [w.client_lead, w.provider_lead]
    sb.add_channel(CHANNEL, "partner-broadcast", w.client_team, members=[w.bot_user, *leads, *PEOPLE], is_ext_shared=True)
    profiles = [
        SlackProfile(user_id=u.id, team_id=u.team_id, display_name=u.real_name, tz=u.tz)
        for u in (sb.snapshot_user(uid) for uid in [*leads, *PEOPLE])
    ]
    partnership_setup.configure_partnership(
        stack.services.uow_factory(),
        team_id=w.client_team,
        channel_id=CHANNEL,
        user_id=w.client_lead,
        data=setup_input(name="Broadcast", client_leads=(w.client_lead,), provider_leads=(w.provider_lead,)),
        is_connect=True,
        channel_members=profiles,
        now=START,
    )
    # The setup's own messages and the round's pulse go out unlimited; only the reminders are measured.
    stack.services.sender.pacer = Pacer(speedup=1e6)
    stack.tick(START + timedelta(minutes=1))
    assert stack.tick(OPEN_AT).opened == 1


def test_17_a_reminder_to_1000_people_meets_no_429_and_takes_what_the_token_bucket_allows(
    compressed_stack: LocalStack,
) -> None:
    stack, sb = compressed_stack, compressed_stack.sandbox
    _partnership_of_1000(stack)
    sb.set_rate_limits(enabled=True, per_channel_per_second=1.0, channel_burst=1)
    stack.services.sender.pacer = Pacer(speedup=K)
    sb.clear_calls()
    report = stack.tick(REMIND_AT)
    assert report.reminders >= 1000 and not report.failures
    while stack.services.sender.deliver_pending().sent:  # anything a first pass left for later
        pass
    calls = [c for c in sb.calls_to("chat.postEphemeral") if c.args.get("user") in set(PEOPLE)]
    assert sb.ratelimited_count == 0
    assert sorted(c.args["user"] for c in calls if c.ok) == PEOPLE, "each of the 1,000 reminded once"
    # Tier 4 is 100 a minute: the pacer sends a minute's allowance less its reserve at once (97 calls), then one call
    # every 60 / 100 = 0.6 s (in the sandbox's compressed seconds). The 1,000 calls therefore span at least
    # (1,000 - 97) x 0.6 = 541.8 s; and the sandbox's own bucket (100 at once, then 100 a minute), which refused
    # none of them, allows no less than (1,000 - 100) x 0.6 = 540 s.
    burst = 100 - TIER_BURST_RESERVE
    span = calls[-1].at - calls[0].at
    assert span >= (1000 - burst) * 0.6 - 0.5, span
    print(f"1,000 reminders: {span:.1f} s of Slack time at K={K:g} (bucket floor {(1000 - burst) * 0.6:.1f} s)")
