"""Token buckets that reproduce Slack's Web API rate limits closely enough to test a sender against.

Slack limits ``chat.postMessage`` to about one message per second per channel (short bursts allowed)
and most other methods per workspace and method per minute, by tier (Tier 2 = 20, Tier 3 = 50,
Tier 4 = 100). Over a limit it answers HTTP 429 with ``Retry-After`` in whole seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Clock = Callable[[], float]

TIER_PER_MINUTE: dict[str, int] = {"tier1": 1, "tier2": 20, "tier3": 50, "tier4": 100}

# Slack's method reference (cross-checked with the Java SDK's MethodsRateLimits). None = no tier limit
# (auth.test is "Special" and effectively unlimited; chat.postMessage is limited per channel instead).
METHOD_TIERS: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": None,
    "chat.postEphemeral": "tier4",
    "chat.update": "tier3",
    "chat.delete": "tier3",
    "chat.getPermalink": "tier3",
    "conversations.info": "tier3",
    "conversations.members": "tier4",
    "conversations.open": "tier3",
    "users.info": "tier4",
    "users.list": "tier2",
    "views.open": "tier4",
    "views.update": "tier4",
    "views.push": "tier4",
    "views.publish": "tier4",
    # pins.add is Tier 2 in Slack's reference.
    "pins.add": "tier2",
    "files.getUploadURLExternal": "tier4",
    "files.completeUploadExternal": "tier4",
    "apps.connections.open": "tier1",
}
# Methods the table does not name get Tier 3, the most common tier.
DEFAULT_TIER = "tier3"


def retry_after_seconds(wait: float) -> int:
    """Slack's ``Retry-After``: whole seconds, rounded up, never 0."""
    return max(1, math.ceil(wait - 1e-9))


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``rate`` tokens per second."""

    def __init__(self, capacity: float, rate: float, clock: Clock = time.monotonic) -> None:
        if capacity <= 0 or rate <= 0:
            raise ValueError("capacity and rate must be positive")
        self.capacity = float(capacity)
        self.rate = float(rate)
        self._clock = clock
        self._tokens = float(capacity)
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0.0 when one is available now); takes nothing."""
        self._refill()
        if self._tokens >= 1.0:
            return 0.0
        return (1.0 - self._tokens) / self.rate

    def take(self) -> float:
        """Take one token if available and return 0.0; otherwise take nothing and return the wait."""
        wait = self.wait_time()
        if wait == 0.0:
            self._tokens -= 1.0
        return wait

    @property
    def tokens(self) -> float:
        """Tokens available now (for tests and diagnostics)."""
        self._refill()
        return self._tokens


@dataclass(frozen=True)
class RateLimitConfig:
    """What :class:`RateLimiter` enforces."""

    per_channel_per_second: float = 1.0
    channel_burst: int = 1
    # Overrides of per-minute limits: keys are method names or tier names ("tier2".."tier4").
    tiers: Mapping[str, int] | None = None


class RateLimiter:
    """Per-channel buckets for ``chat.postMessage`` and per (team, method) per-minute buckets."""

    def __init__(self, config: RateLimitConfig, clock: Clock = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._channel_buckets: dict[str, TokenBucket] = {}
        self._method_buckets: dict[tuple[str, str], TokenBucket] = {}

    def per_minute(self, method: str) -> int | None:
        """The per-minute limit for a method (None when the method has no tier limit)."""
        overrides = self.config.tiers or {}
        if method in overrides:
            return int(overrides[method])
        tier = METHOD_TIERS.get(method, DEFAULT_TIER)
        if tier is None:
            return None
        return int(overrides.get(tier, TIER_PER_MINUTE[tier]))

    def _method_bucket(self, team_id: str, method: str) -> TokenBucket | None:
        limit = self.per_minute(method)
        if limit is None:
            return None
        key = (team_id, method)
        bucket = self._method_buckets.get(key)
        if bucket is None:
            # Capacity = the whole minute's allowance (Slack tolerates bursts), refilled evenly.
            bucket = TokenBucket(capacity=limit, rate=limit / 60.0, clock=self._clock)
            self._method_buckets[key] = bucket
        return bucket

    def _channel_bucket(self, channel_id: str) -> TokenBucket:
        bucket = self._channel_buckets.get(channel_id)
        if bucket is None:
            bucket = TokenBucket(
                capacity=max(1, self.config.channel_burst),
                rate=self.config.per_channel_per_second,
                clock=self._clock,
            )
            self._channel_buckets[channel_id] = bucket
        return bucket

    def check(self, team_id: str, method: str, channel_id: str | None = None) -> int | None:
        """Admit one call (and take its tokens) or return the ``Retry-After`` seconds for a 429."""
        buckets: list[TokenBucket] = []
        method_bucket = self._method_bucket(team_id, method)
        if method_bucket is not None:
            buckets.append(method_bucket)
        if method == "chat.postMessage" and channel_id:
            buckets.append(self._channel_bucket(channel_id))
        # Look at every bucket before taking from any, so a refused call costs nothing.
        wait = max((bucket.wait_time() for bucket in buckets), default=0.0)
        if wait > 0.0:
            return retry_after_seconds(wait)
        for bucket in buckets:
            bucket.take()
        return None
