"""Small helpers shared by the benchmarks: percentiles, waiting for the bot to go quiet, tables, databases."""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

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
