"""Weekly digest (issue 4): building every partnership's digest for N partnerships, next to one SQL query.

The **floor** is one hand-written aggregate query (``text()``) over the same rows the digests summarise: the
average and count of the 1-5 scores per partnership, round (one a week), side and dimension for the twelve weeks
of the chart, fetched fully. It is the least any digest build must do: read and aggregate every answer once.

Measured next to it, each building the same digests (the twelve-week health by side and dimension with trend
and four-week average, perception gaps, participation, comment sentiment and themes, issues, actions and goals,
and the chart series; nothing is rendered or sent):

- **one by one**: ``bot.services.digest.build_digest(uow, partnership_id=..., week_start=None, now=...)`` for
  every partnership, each in its own unit of work, as a digest is built on its own (a preview, a lone digest);
- **batched**: ``bot.services.digest.build_digests(uow, partnership_ids=[...], now=...)``, which reads 1,000
  partnerships' rows per query (``DigestBatchQueries``) and builds each digest with the same code, as the
  portfolio does and as the sender does for the queued digests of a claimed batch (``digests_for``, the same
  batched reads keyed by digests row). The target is judged on it; the run checks that both show the same
  answers, withheld sides and comments.

Data: ``benchmarks.digest_seed``.

Each measurement runs in a fresh ``spawn``ed process after a warm-up (the same call for the first partnership
only, so connection, mappers and statement caches are ready). Reported: wall and CPU time, SQL statements, peak
RSS growth during the call (``VmHWM`` reset before it) and the process's absolute peak RSS, and the time per
partnership at each N (constant means linear growth). ``rounds`` measurements of each, alternating order;
medians. Targets (reported, not asserted): digests within 3x the floor at N = 1,000, peak RSS under 300 MB,
linear growth. SQLite always, PostgreSQL with ``--postgres-url`` or ``BENCH_POSTGRES_URL`` (throwaway schema).

With ``kpis`` > 0 (``--kpis 10 --kpi-periods 12``) each partnership also has that many agreed KPIs with
``kpi_periods`` figures each (``benchmarks.digest_kpis``), which the digests' watermelon check reads, and the floor
adds one hand-written query reading the same KPI rows (each figure of the check's window with the version in force
for its period). Without it (the default) nothing about the runs changes.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select, text

from benchmarks import digest_kpis
from benchmarks.common import fmt, in_fresh_process, postgres_database, sqlite_database, table
from benchmarks.digest_seed import (
    ANSWER_RATE,
    COMMENT_RATE,
    DIMENSIONS,
    ENDS_AT,
    FIRST,
    NOW,
    PEOPLE_PER_SIDE,
    TIMEZONE,
    WEEKS,
    load_base,
    load_rows,
    seed_rows,
)
from benchmarks.measuring import _Statements, _timed
from storage.base import UTCDateTime
from storage.db import make_engine
from storage.models import Partnership

SIZES = (10, 100, 1_000)
TARGET_RATIO = 3.0
TARGET_PEAK_MB = 300.0
CHILD_TIMEOUT = 900.0
KINDS = ("floor", "digests", "batched")
#: The floor: every answer of the twelve weeks aggregated once, per partnership, round (week), side and dimension.
FLOOR_SQL = text(
    "SELECT r.partnership_id, r.id AS round_id, s.side, q.dimension, AVG(a.score) AS mean, COUNT(*) AS answers "
    "FROM answers a JOIN responses s ON s.id = a.response_id JOIN pulse_rounds r ON r.id = s.round_id "
    "JOIN questions q ON q.id = a.question_id "
    "WHERE r.status = 'closed' AND r.closed_at >= :first AND r.closed_at < :end AND q.kind = 'scale' "
    "GROUP BY r.partnership_id, r.id, s.side, q.dimension"
).bindparams(bindparam("first", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))


# --- one measurement, in a fresh process ---------------------------------------------------------------------


def _measure_floor(url: str, kpis: bool = False) -> dict[str, Any]:
    """The floor: the answers' aggregate query, and with ``kpis`` the KPI rows' query after it (both timed)."""
    engine = make_engine(url)
    statements = _Statements(engine)
    params = {"first": FIRST, "end": ENDS_AT}

    since, until = digest_kpis.kpi_window(ENDS_AT, TIMEZONE)

    def read(conn: Any, params: dict[str, Any], window: tuple[date, date]) -> tuple[list[Any], int]:
        rows = list(conn.execute(FLOOR_SQL, params).all())
        return rows, digest_kpis.floor_rows(conn, *window) if kpis else 0

    with engine.connect() as conn:
        read(conn, {"first": FIRST, "end": FIRST}, (until, since))  # warm-up (empty): connection, statements ready
        (rows, figures), m = _timed(lambda: read(conn, params, (since, until)), statements)
    engine.dispose()
    found = {**m, "rows": len(rows), "answers": sum(int(r.answers) for r in rows)}
    return {**found, "kpi_figures": figures} if kpis else found


#: What both builds must show alike (the run compares them).
SHOWN = ("shown_answers_this_week", "withheld_sides", "comments_this_week", "kpis_with_figure", "watermelons")


def _counts(views: Iterable[Any]) -> dict[str, int]:
    """What the digests show, counted as they are built (one at a time: the views are not kept)."""
    counts = dict.fromkeys(SHOWN, 0)
    for view in views:
        counts["shown_answers_this_week"] += sum(i.client.answers + i.provider.answers for i in view.items)
        counts["withheld_sides"] += sum(s.withheld for s in view.sides)
        counts["comments_this_week"] += sum(len(s.comments) for s in view.sides)
        checks = view.kpis.dimensions if view.kpis is not None else ()
        counts["kpis_with_figure"] += sum(line.figure is not None for d in checks for line in d.kpis)
        counts["watermelons"] += sum(d.pairing is not None for d in checks)
    return counts


def _measure_digests(url: str) -> dict[str, Any]:
    from bot.services.digest import build_digest
    from storage.db import make_session_factory
    from storage.uow import UnitOfWorkFactory

    engine = make_engine(url)
    uow_factory = UnitOfWorkFactory(make_session_factory(engine))
    with engine.connect() as conn:
        ids = [int(i) for i in conn.scalars(select(Partnership.id).order_by(Partnership.id))]
    build_digest(uow_factory(), partnership_id=ids[0], week_start=None, now=NOW)  # warm-up
    statements = _Statements(engine)

    def build_all() -> dict[str, int]:
        return _counts(build_digest(uow_factory(), partnership_id=pid, week_start=None, now=NOW) for pid in ids)

    counts, m = _timed(build_all, statements)
    engine.dispose()
    return {**m, "rows": len(ids), **counts}


def _measure_batched(url: str) -> dict[str, Any]:
    from bot.services.digest import build_digests
    from storage.db import make_session_factory
    from storage.uow import UnitOfWorkFactory

    engine = make_engine(url)
    uow_factory = UnitOfWorkFactory(make_session_factory(engine))
    with engine.connect() as conn:
        ids = [int(i) for i in conn.scalars(select(Partnership.id).order_by(Partnership.id))]
    build_digests(uow_factory(), partnership_ids=ids[:1], now=NOW)  # warm-up
    statements = _Statements(engine)

    def build_all() -> dict[str, int]:
        views = build_digests(uow_factory(), partnership_ids=ids, now=NOW)
        return {"built": len(views), **_counts(views)}

    counts, m = _timed(build_all, statements)
    engine.dispose()
    return {**m, "rows": len(ids), **counts}


MEASURES: dict[str, Callable[..., dict[str, Any]]] = {
    "floor": _measure_floor,
    "digests": _measure_digests,
    "batched": _measure_batched,
}


def measure(kind: str, url: str, *, kpis: bool = False) -> dict[str, Any]:
    """Run one measurement in a fresh ``spawn``ed process and return its figures (``kpis``: the floor reads the
    KPI rows too; the digests read them whenever they are there)."""
    args = (url, True) if kind == "floor" and kpis else (url,)
    return in_fresh_process(MEASURES[kind], *args, name=f"bench-digest-{kind}", timeout=CHILD_TIMEOUT)


# --- the run -------------------------------------------------------------------------------------------------


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ms": statistics.median(s["ms"] for s in samples),
        "cpu_ms": statistics.median(s["cpu_ms"] for s in samples),
        "ms_all": [round(s["ms"], 2) for s in samples],
        "queries": samples[0]["queries"],
        "rows": samples[0]["rows"],
        "rss_growth_mb": max(s["rss_growth_mb"] for s in samples),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in samples),
    }
    for key in ("answers", "kpi_figures", *SHOWN):
        if key in samples[-1]:
            out[key] = samples[-1][key]
    return out


def run_database(
    label: str, url: str, sizes: tuple[int, ...], rounds: int, *, kpis: int = 0, kpi_periods: int = 12
) -> dict[str, Any]:
    """Add each size's partnerships to ``url`` in turn (with ``kpis`` agreed KPIs of ``kpi_periods`` figures each)
    and measure floor and digests at each."""
    engine = make_engine(url)
    try:
        load_base(engine)
        results = []
        loaded = 0
        for n in sizes:
            started = time.monotonic()
            rows = seed_rows(loaded + 1, n, kpis=kpis, kpi_periods=kpi_periods)
            answers = load_rows(engine, rows)
            load_s = time.monotonic() - started
            loaded = n
            samples: dict[str, list[dict[str, Any]]] = {k: [] for k in KINDS}
            size_rounds = rounds if n < 1_000 else max(1, min(rounds, 3))
            for r in range(size_rounds):
                for kind in KINDS if r % 2 == 0 else tuple(reversed(KINDS)):
                    samples[kind].append(measure(kind, url, kpis=kpis > 0))
            floor, digests, batched = (_summary(samples[k]) for k in KINDS)
            ratio = digests["ms"] / floor["ms"] if floor["ms"] else math.nan
            batched_ratio = batched["ms"] / floor["ms"] if floor["ms"] else math.nan
            # The same digests either way: the batched build must show what the one-by-one build shows.
            same = all(digests.get(k) == batched.get(k) for k in SHOWN)
            entry = {
                "partnerships": n,
                "answers": floor.get("answers"),
                "kpi_figures": floor.get("kpi_figures"),
                "answers_loaded_now": answers,
                "load_seconds": load_s,
                "rounds": size_rounds,
                "floor": floor,
                "digests": digests,
                "batched": batched,
                "ratio": ratio,
                "batched_ratio": batched_ratio,
                "same_figures": same,
                "digest_ms_per_partnership": digests["ms"] / n,
                "batched_ms_per_partnership": batched["ms"] / n,
                "floor_ms_per_partnership": floor["ms"] / n,
                "meets_targets": batched_ratio <= TARGET_RATIO and batched["peak_rss_mb"] < TARGET_PEAK_MB,
                "one_by_one_meets_targets": ratio <= TARGET_RATIO and digests["peak_rss_mb"] < TARGET_PEAK_MB,
            }
            results.append(entry)
            print(
                f"  {label} N={n}: floor {floor['ms']:.1f} ms; one by one {digests['ms']:.1f} ms ({ratio:.1f}x, "
                f"{digests['ms'] / n:.2f} ms each); batched {batched['ms']:.1f} ms ({batched_ratio:.1f}x, "
                f"{batched['ms'] / n:.2f} ms each), peak {max(digests['peak_rss_mb'], batched['peak_rss_mb']):.0f} MB",
                flush=True,
            )
        for key in ("digest", "batched"):
            base = results[0][f"{key}_ms_per_partnership"] if results else math.nan
            for entry in results:
                entry[f"{key}_growth_vs_smallest"] = entry[f"{key}_ms_per_partnership"] / base if base else math.nan
        return {"database": label, "sizes": results}
    finally:
        engine.dispose()


def run_digest(
    *,
    sizes: tuple[int, ...] = SIZES,
    rounds: int = 3,
    postgres_url: str | None = None,
    kpis: int = 0,
    kpi_periods: int = 12,
) -> dict[str, Any]:
    """SQLite always, PostgreSQL when ``postgres_url`` (or ``BENCH_POSTGRES_URL``) is given; ``kpis`` agreed KPIs
    per partnership with ``kpi_periods`` figures each (none by default). JSON-ready results."""
    postgres_url = postgres_url or os.environ.get("BENCH_POSTGRES_URL") or None
    sizes = tuple(sorted(set(sizes)))
    databases = []
    with sqlite_database("digest") as url:
        databases.append(run_database("SQLite", url, sizes, rounds, kpis=kpis, kpi_periods=kpi_periods))
    if postgres_url:
        with postgres_database(postgres_url, "digest") as url:
            databases.append(run_database("PostgreSQL", url, sizes, rounds, kpis=kpis, kpi_periods=kpi_periods))
    return {
        "sizes": list(sizes),
        "weeks": WEEKS,
        "people_per_side": PEOPLE_PER_SIDE,
        "questions": len(DIMENSIONS),
        "answer_rate": ANSWER_RATE,
        "comment_rate": COMMENT_RATE,
        "kpis_per_partnership": kpis,
        "kpi_periods": kpi_periods if kpis else 0,
        "rounds": rounds,
        "now": NOW.isoformat(),
        "targets": {"ratio_max": TARGET_RATIO, "peak_rss_mb_max": TARGET_PEAK_MB, "judged_at": max(sizes)},
        "memory": "VmHWM of a fresh spawned process: peak during the call minus RSS before it, and the absolute peak",
        "databases": databases,
    }


def _kpi_note(results: dict[str, Any]) -> str:
    kpis = results.get("kpis_per_partnership", 0)
    return f", {kpis} agreed KPIs x {results['kpi_periods']} periods" if kpis else ""


def render(results: dict[str, Any]) -> str:
    """The digest tables, one per database."""
    parts = [
        f"Digest: build every partnership's weekly digest ({results['weeks']} weeks x {2 * results['people_per_side']} "
        f"people x {results['questions']} questions, answer rate {results['answer_rate']:g}{_kpi_note(results)}) next to "
        f"one aggregate SQL query over the same answers{' and one over the same KPI rows' if _kpi_note(results) else ''}; "
        f"median of {results['rounds']} fresh processes each. Target at N = "
        f"{results['targets']['judged_at']:,}: <= {results['targets']['ratio_max']:g}x the floor, peak RSS < "
        f"{results['targets']['peak_rss_mb_max']:g} MB, linear growth (ms per partnership flat)."
    ]
    headers = [
        "N",
        "answers",
        "measured",
        "ms",
        "cpu ms",
        "x floor",
        "ms/partn.",
        "growth",
        "SQL stmts",
        "RSS +MB",
        "peak MB",
    ]
    floor = "floor: 2 SQL queries (answers, KPIs)" if _kpi_note(results) else "floor: 1 SQL query"
    labels = {"floor": floor, "digests": "build_digest, one by one", "batched": "build_digests (batched)"}
    for db in results["databases"]:
        rows = []
        for e in db["sizes"]:
            first = True
            for kind in KINDS:
                m = e[kind]
                per = {"floor": "floor", "digests": "digest", "batched": "batched"}[kind]
                ratio = {"floor": 1.0, "digests": e["ratio"], "batched": e["batched_ratio"]}[kind]
                growth = e.get(f"{per}_growth_vs_smallest") if kind != "floor" else None
                rows.append(
                    [
                        f"{e['partnerships']:,}" if first else "",
                        (f"{e['answers']:,}" if e.get("answers") is not None else "-") if first else "",
                        labels[kind],
                        fmt(m["ms"]),
                        fmt(m["cpu_ms"]),
                        fmt(ratio, 2),
                        fmt(e[f"{per}_ms_per_partnership"], 3),
                        fmt(growth, 2) if growth is not None else "",
                        "-" if m["queries"] is None else str(m["queries"]),
                        fmt(m["rss_growth_mb"]),
                        fmt(m["peak_rss_mb"]),
                    ]
                )
                first = False
        largest = db["sizes"][-1] if db["sizes"] else None
        verdict = ""
        if largest:
            verdict = (
                f"N = {largest['partnerships']:,}: meets targets (batched): {'yes' if largest['meets_targets'] else 'no'}; "
                f"one by one: {'yes' if largest['one_by_one_meets_targets'] else 'no'}; same figures both ways: "
                f"{'yes' if all(e['same_figures'] for e in db['sizes']) else 'NO'}"
            )
        parts.append(f"{db['database']}\n" + table(headers, rows) + ("\n" + verdict if verdict else ""))
    return "\n\n".join(parts)
