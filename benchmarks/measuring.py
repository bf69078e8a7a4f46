"""Measuring one call in a benchmark's process: wall and CPU time, SQL statements, and peak RSS (``VmHWM``)."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Engine,
)


def _proc_status_mb(field_name: str) -> float:
    """A ``VmRSS``/``VmHWM`` figure of this process from /proc/self/status, in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024.0
    raise LookupError(field_name)


def _reset_peak() -> bool:
    """Reset this process's peak RSS (``VmHWM``) to its current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


class _Memory:
    """Peak RSS of the measured call: growth over the RSS before it, and the process's absolute peak.

    ``VmHWM`` from /proc rather than ``ru_maxrss``: a spawned child's ``ru_maxrss`` starts at its parent's
    RSS (it survives fork and exec), which would hide anything smaller. Without /proc it falls back to
    ``ru_maxrss`` (peak since the process started) and says so.
    """

    def __init__(self) -> None:
        self.proc = os.path.exists("/proc/self/status")
        if self.proc:
            self.peak_before = _proc_status_mb("VmHWM")
            self.rss_before = _proc_status_mb("VmRSS")
            self.reset = _reset_peak()
        else:
            self.peak_before = self.rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
            self.reset = False

    def figures(self) -> dict[str, Any]:
        if self.proc:
            peak = _proc_status_mb("VmHWM")
            source = "VmHWM (reset before the call)" if self.reset else "VmHWM"
        else:
            peak, source = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "ru_maxrss"
        return {
            "rss_before_mb": self.rss_before,
            "rss_growth_mb": max(0.0, peak - self.rss_before)
            if self.reset or not self.proc
            else max(0.0, peak - self.peak_before),
            "peak_rss_mb": max(peak, self.peak_before),
            "memory_source": source,
        }


class _Statements:
    """Counts SQL statements sent through an engine (an executemany counts once)."""

    def __init__(self, engine: Engine) -> None:
        from sqlalchemy import event

        self.count = 0
        self.executemany = 0
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        self.count += 1
        self.executemany += int(executemany)


def _timed(fn: Callable[[], Any], statements: _Statements | None) -> tuple[Any, dict[str, Any]]:
    queries_before = statements.count if statements else 0
    memory = _Memory()
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return value, {
        "ms": wall * 1000,
        "cpu_ms": cpu * 1000,
        "queries": (statements.count - queries_before) if statements else None,
        **memory.figures(),
    }
