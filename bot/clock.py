"""Clocks. Domain code never reads the time itself: it is given ``now`` by whoever calls it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


class SettableClock:
    """A clock that stands still until set (``partnerpulse demo`` and tests travel through time with it)."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        with self._lock:
            self._now = when
