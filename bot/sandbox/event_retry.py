"""Slack's retries of an Events API delivery that failed.

Slack retries an event whose delivery got no 2xx (an error status, a refused connection, or no answer within
3 seconds) up to 3 times: at once, after 1 minute and after 5 minutes, with the same ``event_id`` and the
headers ``X-Slack-Retry-Num`` (1 to 3) and ``X-Slack-Retry-Reason``. :class:`EventRetries` does the same in
background threads; a test shortens the schedule with ``sandbox.event_retry_delays`` and waits for the
retries with :meth:`EventRetries.wait_idle`. Stopping the sandbox cancels the retries still waiting.
"""

from __future__ import annotations

import threading
import time
import urllib.error
from collections.abc import Callable, Sequence

from .models import ActorResponse

#: Slack's schedule: seconds to wait before retry 1, 2 and 3.
SLACK_RETRY_DELAYS: tuple[float, ...] = (0.0, 60.0, 300.0)

#: One delivery attempt: ``retry_num`` (None for the first delivery) in, the bot's answer out.
Attempt = Callable[[int | None, str], ActorResponse]


def succeeded(response: ActorResponse) -> bool:
    return 200 <= response.status < 300


def reason_for(response: ActorResponse | None) -> str:
    """The ``X-Slack-Retry-Reason`` Slack sends after this answer (None: the connection failed)."""
    if response is None:
        return "connection_failed"
    return "http_error"


class EventRetries:
    """The retries still to come, each event on its own daemon thread."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def schedule(self, attempt: Attempt, delays: Sequence[float], first: ActorResponse | None) -> None:
        """Retry a delivery whose first answer was ``first`` until one gets a 2xx or ``delays`` run out."""
        if not delays or (first is not None and succeeded(first)):
            return
        thread = threading.Thread(
            target=self._run, args=(attempt, tuple(delays), reason_for(first)), name="sandbox-event-retry", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _run(self, attempt: Attempt, delays: tuple[float, ...], reason: str) -> None:
        for number, delay in enumerate(delays, start=1):
            if self._stopping.wait(delay):
                return
            try:
                response: ActorResponse | None = attempt(number, reason)
            except (urllib.error.URLError, OSError):
                response = None
            if response is not None and succeeded(response):
                return
            reason = reason_for(response)

    def pending(self) -> int:
        """How many events still have retries to come."""
        with self._lock:
            return sum(1 for t in self._threads if t.is_alive())

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no retry is waiting or running; False if some still are after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return self.pending() == 0

    def cancel(self) -> None:
        """Drop the retries still waiting (the sandbox stops)."""
        self._stopping.set()
