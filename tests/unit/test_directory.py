"""Profiles and channel members from Slack (bot/directory.py): check 18 of a trustworthy Slack bot.

A 1,000-member channel: conversations.members is paged with the cursor until Slack returns none, users.info is
called at most once per person per TTL (also when several callers ask at once) and at most at Tier 4's rate, as
Slack's own token bucket counts it (the sandbox's limiter: a minute's allowance, refilled evenly).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.delivery.pacer import TIER_BURST_RESERVE, Pacer
from bot.directory import MEMBERS_PAGE, PROFILE_TTL_SECONDS, SlackDirectory
from bot.sandbox.ratelimit import RateLimitConfig, RateLimiter

MEMBERS = [f"U{n:05d}" for n in range(1000)]


class FakeTime:
    """A clock that moves only when the pacer sleeps, or the test advances it."""

    def __init__(self) -> None:
        self.now = 5000.0
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class FakeSlack:
    """conversations.members in pages of ``limit`` with a cursor, and users.info checked against Tier 4."""

    def __init__(self, t: FakeTime, *, slow: float = 0.0) -> None:
        self.t = t
        self.slow = slow
        self.limiter = RateLimiter(RateLimitConfig(), clock=t.clock)
        self.profile_calls: list[tuple[str, float]] = []
        self.rejected = 0
        self.pages: list[str | None] = []
        self._lock = threading.Lock()

    def conversations_members(self, *, channel: str, limit: int, cursor: str | None) -> dict[str, Any]:
        self.pages.append(cursor)
        start = int(cursor or 0)
        end = start + limit
        nxt = str(end) if end < len(MEMBERS) else ""
        return {"ok": True, "members": MEMBERS[start:end], "response_metadata": {"next_cursor": nxt}}

    def users_info(self, *, user: str) -> dict[str, Any]:
        with self._lock:
            if self.limiter.check("T1", "users.info", None) is not None:
                self.rejected += 1
            self.profile_calls.append((user, self.t.now))
        if self.slow:
            time.sleep(self.slow)  # real time: lets concurrent callers pile up on the same person
        return {"ok": True, "user": {"id": user, "team_id": "T1", "name": user, "tz": "Europe/Berlin"}}


def _directory(t: FakeTime, slack: FakeSlack) -> SlackDirectory:
    pacer = Pacer(clock=t.clock, sleep=t.sleep)
    return SlackDirectory(slack, clock=t.clock, pacer=pacer, workspace="T1")  # type: ignore[arg-type]


def test_18_members_are_paged_to_the_end_and_profiles_fetched_once_per_person_per_ttl() -> None:
    t = FakeTime()
    slack = FakeSlack(t)
    directory = _directory(t, slack)
    profiles = directory.channel_profiles("C1")
    assert [p.user_id for p in profiles] == MEMBERS
    # 1,000 members in pages of 200: five pages, the first without a cursor, then each cursor Slack returned.
    assert MEMBERS_PAGE == 200 and slack.pages == [None, "200", "400", "600", "800"]
    assert sorted(u for u, _ in slack.profile_calls) == MEMBERS
    # Asked again within the TTL: no call. After it: one more call each.
    directory.channel_profiles("C1")
    assert len(slack.profile_calls) == 1000
    t.now += PROFILE_TTL_SECONDS
    directory.profile(MEMBERS[0])
    assert [u for u, _ in slack.profile_calls[1000:]] == [MEMBERS[0]]


def test_18_users_info_stays_within_tier_4_as_slack_counts_it() -> None:
    t = FakeTime()
    slack = FakeSlack(t)
    start = t.now
    _directory(t, slack).channel_profiles("C1")
    assert slack.rejected == 0, "no call over Slack's 100 a minute"
    times = [at - start for _, at in slack.profile_calls]
    # A minute's allowance less the reserve at once (97 calls), then one call every 60/100 = 0.6 s:
    # the 1,000th call starts (1,000 - 97) x 0.6 = 541.8 s after the first.
    burst = 100 - TIER_BURST_RESERVE
    assert max(times[:burst]) < 1e-6 < times[burst]
    assert abs(times[-1] - (1000 - burst) * 0.6) < 1e-6
    assert all(b - a > 0.6 - 1e-6 for a, b in zip(times[burst - 1 :], times[burst:], strict=False))
    # After the burst, any minute holds at most 100 calls.
    after = times[burst:]
    assert max(sum(1 for x in after if s <= x < s + 60) for s in after) <= 100


def test_18_callers_asking_for_one_person_at_once_share_one_users_info_call() -> None:
    t = FakeTime()
    slack = FakeSlack(t, slow=0.2)
    directory = _directory(t, slack)
    start = threading.Barrier(8)
    results: list[str] = []

    def ask() -> None:
        start.wait(timeout=10)
        results.append(directory.profile("U00042").display_name)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=10)
    assert results == ["U00042"] * 8
    assert [u for u, _ in slack.profile_calls] == ["U00042"]
