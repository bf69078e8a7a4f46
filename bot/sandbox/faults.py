"""Faults a test can inject into the sandbox's Web API: errors, 429s, slow answers, revoked tokens.

:class:`Faults` holds what is queued (per method, consumed one call at a time) and the optional
enforcement of Slack's rate limits. It does no locking: :class:`~bot.sandbox.server.SlackSandbox`
calls it under its one lock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .ratelimit import RateLimitConfig, RateLimiter

Json = dict[str, Any]
Answer = tuple[int, dict[str, str], Json]


class Faults:
    """Queued failures, forced 429s and delays per method, a steady latency per method, a token state and an optional rate limiter."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._failures: dict[str, list[str]] = {}
        self._forced_429: dict[str, list[int]] = {}
        self._delays: dict[str, list[float]] = {}
        self._latency: dict[str, float] = {}
        self._limiter: RateLimiter | None = None
        #: How many HTTP 429s have been answered (forced or enforced).
        self.ratelimited = 0
        #: The error every call with the bot token answers while the token is revoked, else None.
        self.token_error: str | None = None

    # ------------------------------------------------------------------ what a test queues

    def fail_next(self, method: str, error: str, times: int) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}``."""
        self._failures.setdefault(method, []).extend([error] * times)

    def ratelimit_next(self, method: str, retry_after: int, times: int) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 with ``Retry-After: retry_after``."""
        self._forced_429.setdefault(method, []).extend([retry_after] * times)

    def delay_next(self, method: str, seconds: float, times: int) -> None:
        """The next ``times`` calls of ``method`` wait ``seconds`` before being answered."""
        self._delays.setdefault(method, []).extend([seconds] * times)

    def set_latency(self, method: str, seconds: float) -> None:
        """Every call of ``method`` waits ``seconds`` before being answered, until set again (0 ends it)."""
        if seconds > 0:
            self._latency[method] = seconds
        else:
            self._latency.pop(method, None)

    def set_rate_limits(
        self, enabled: bool, per_channel_per_second: float, channel_burst: int, tiers: Mapping[str, int] | None
    ) -> None:
        """Enforce Slack's limits, or stop enforcing them."""
        if not enabled:
            self._limiter = None
            return
        config = RateLimitConfig(
            per_channel_per_second=per_channel_per_second, channel_burst=channel_burst, tiers=dict(tiers or {})
        )
        self._limiter = RateLimiter(config, clock=self._clock)

    # ------------------------------------------------------------------ what a call meets

    def take_delay(self, method: str) -> float:
        """Seconds the next call of ``method`` must wait: a queued delay (consumed), else the method's latency, else 0."""
        delays = self._delays.get(method)
        return delays.pop(0) if delays else self._latency.get(method, 0.0)

    def intercept(self, method: str, team_id: str, args: Mapping[str, Any], headers: dict[str, str]) -> Answer | None:
        """The answer an injected fault gives this call (a 429 before an error), or None to go on.

        A forced 429 or error is consumed by the call it answers; the rate limiter counts every call
        that reaches it.
        """
        forced = self._forced_429.get(method)
        if forced:
            self.ratelimited += 1
            return 429, {**headers, "Retry-After": str(forced.pop(0))}, {"ok": False, "error": "ratelimited"}
        failures = self._failures.get(method)
        if failures:
            return 200, headers, {"ok": False, "error": failures.pop(0)}
        if self._limiter is not None:
            # Slack limits chat.postMessage per channel; other methods per workspace and tier.
            channel = args.get("channel") if method == "chat.postMessage" else None
            retry_after = self._limiter.check(team_id, method, str(channel) if channel else None)
            if retry_after is not None:
                self.ratelimited += 1
                return 429, {**headers, "Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
        return None
