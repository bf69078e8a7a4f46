"""Small helpers shared by the benchmarks: percentiles, waiting for the bot to go quiet, tables, databases."""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import text

from storage import migrate
from storage.db import make_engine

#: A Monday 12:00 UTC; the partnerships the benchmarks create pulse at 09:00 New York time (14:00 UTC).
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def wait_until_quiet(
    counter: Callable[[], int], *, at_least: int = 0, quiet: float = 0.3, timeout: float = 180.0
) -> tuple[int, float]:
    """Wait until ``counter()`` reaches ``at_least`` and then stops changing for ``quiet`` seconds.

    Returns the final count and the seconds waited. Used to let the bot finish its post-ack work (the
    listeners keep calling the sandbox after the HTTP response) before the next measurement starts.
    """
    started = time.monotonic()
    deadline = started + timeout
    last, last_change = counter(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now_count = counter()
        if now_count != last:
            last, last_change = now_count, time.monotonic()
        elif now_count >= at_least and time.monotonic() - last_change >= quiet:
            break
    return last, time.monotonic() - started


def fmt(value: float | int | None, digits: int = 1) -> str:
    """A number for a table cell (``-`` for None/NaN, ``inf`` for infinity)."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with right-aligned columns (the first column left-aligned)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


@contextmanager
def sqlite_database(name: str) -> Iterator[str]:
    """A migrated SQLite database in a temporary file, for the benchmark called ``name``."""
    with tempfile.TemporaryDirectory(prefix=f"pp-bench-{name}-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        yield url


@contextmanager
def postgres_database(base_url: str, name: str) -> Iterator[str]:
    """A migrated, dedicated PostgreSQL schema in ``base_url``'s database, dropped afterwards."""
    from sqlalchemy.engine import make_url

    schema = f"pp_bench_{name}_{os.getpid()}"
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        rendered = url.render_as_string(hide_password=False)
        migrate.upgrade(rendered)
        yield rendered
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


#: Loggers that report expected conditions (a server closing, post-ack work under load) a measurement ignores.
NOISY_LOGGERS = ("waitress", "bot.app", "bot.delivery")


def _child(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], conn: Connection) -> None:
    """Entry point of a measuring process: ``fn(*args)``, its result (or its traceback) sent back through ``conn``."""
    logging.basicConfig(level=logging.ERROR)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        result = fn(*args)
    except BaseException:
        result = {"error": traceback.format_exc()}
    conn.send(result)
    conn.close()


def in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any, name: str, timeout: float) -> dict[str, Any]:
    """Run one measurement, ``fn(*args)`` (a module-level function), in a fresh ``spawn``ed process and return its
    figures: nothing the parent loaded or cached counts. Raises RuntimeError if it fails or takes over ``timeout``."""
    ctx = mp.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, args, sender), name=name)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise RuntimeError(f"{name}: no result within {timeout:.0f} s")
        result: dict[str, Any] = receiver.recv()
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if "error" in result:
        raise RuntimeError(f"{name} failed in the child process:\n{result['error']}")
    return result
