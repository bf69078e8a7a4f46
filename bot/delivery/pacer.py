"""Pacing calls to Slack's published limits: about one message per second per channel for chat.postMessage, and
each tiered method's allowance per minute per workspace, with the bursts Slack allows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: Calls per minute per workspace by Slack's tiers, for the methods the sender uses.
TIER_PER_MINUTE: dict[str, float] = {
    "chat.postEphemeral": 100.0,
    "chat.update": 50.0,
    # Profiles (bot/directory.py): Tier 4.
    "users.info": 100.0,
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
