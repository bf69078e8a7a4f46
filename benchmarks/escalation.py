"""Escalation (issue 3): ``tick()`` with 10,000 open issues across 1,000 partnerships, next to the SQL floor.

The **floor** is one hand-written SQL query (``text()``) selecting the issues whose escalation is due at
``now`` — unresolved, ``next_escalation_at <= now``, the rows ``escalate_due`` claims — fetched fully (every
column). Measured next to it, each in a fresh child process (multiprocessing ``spawn``):

- **floor + writes (Core)**: the same query, then the writes ``escalate_due`` makes, by hand with SQLAlchemy
  Core in one transaction: one executemany UPDATE of the due issues, one executemany INSERT of a history entry
  each, one of two outbox rows each. No working-time arithmetic, no ORM: the least the database work can cost.
- **escalate_due**: ``bot.services.escalation.escalate_due(uow_factory, now=now)``, the tick's escalation step:
  claims the due issues (one indexed query per batch of 200), decides each one's level in its owning side's
  working hours, records the history entries, queues the outbox rows (card update + escalation message) and
  reschedules each issue. Nothing is sent.
- **tick (no send)**: ``bot.jobs.tick(services, now)`` exactly as the heartbeat calls it, with an
  ``OutboxSender`` whose ``deliver_pending`` sends nothing: open, remind and close rounds (none are due),
  escalate, overdue-action reminders. This is what the target is judged on.
- **tick + send**: ``LocalStack.tick(now)`` (the same ``tick`` with the real sender) against the Slack sandbox
  with the demo world: the queued rows are rendered and sent. The bot's pacer is switched off
  (``Pacer(speedup=1e6)``) and the sandbox's rate limits are off, so this is the bot's own throughput, not
  Slack's limits. Once per scenario; the sandbox runs in the measured process, so its memory counts.

Data: ``benchmarks.escalation_seed``; the floor and the least writes: ``benchmarks.escalation_floor``; each
measurement in its fresh process: ``benchmarks.escalation_measure``.

Scenarios: **steady**, a tick when ~1 % of the issues have become due since the last tick, and **catch-up**,
a tick after downtime when ~10 % have (``now``: the whole minute by which the number of due issues is nearest
1 %/10 %; due times cluster at the starts and ends of working days). Between measurements the changed rows are restored, so every measurement starts from the same state.

Each measured call runs in a fresh process after a warm-up that touches nothing (the same call at a ``now``
when nothing is due: connection, mappers and the claim queries are ready). Reported: wall and CPU time,
SQL statements as the driver gets them (an executemany counts once; on SQLite the ORM's INSERT ... RETURNING
goes one row per statement), peak RSS growth during the call (the kernel's peak-RSS mark
``VmHWM``, reset just before the call, minus the RSS before it) and the process's absolute peak RSS (``VmHWM``;
not ``ru_maxrss``, which a spawned child inherits from its parent). ``rounds`` measurements of each, in alternating
order (floor, floor + writes, escalate_due, tick, then the reverse); the medians are reported. Targets (reported, not
asserted): tick (no send) within 3x the floor, and its process's peak RSS under 200 MB.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from typing import Any

from benchmarks.common import fmt, postgres_database, sqlite_database, table
from benchmarks.escalation_measure import measure, reset, reset_state
from benchmarks.escalation_seed import LAST_TICK, Seed, build_seed, load_seed, scenario_now
from storage.db import make_engine

SCENARIOS = (("steady", 0.01), ("catch-up", 0.10))
TARGET_RATIO = 3.0
TARGET_PEAK_MB = 200.0
KINDS = ("floor", "set_rollback", "set_writes", "floor_writes", "escalate_due", "tick")


# --- the run -------------------------------------------------------------------------------------------------


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    if not samples:
        return {}
    out: dict[str, Any] = {
        "ms": statistics.median(s["ms"] for s in samples),
        "cpu_ms": statistics.median(s["cpu_ms"] for s in samples),
        "ms_all": [round(s["ms"], 2) for s in samples],
        "cold_ms": statistics.median(s["cold_ms"] for s in samples) if "cold_ms" in samples[0] else None,
        "queries": samples[0]["queries"],
        "rows": samples[0]["rows"],
        "rss_growth_mb": max(s["rss_growth_mb"] for s in samples),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in samples),
    }
    for key in ("action_reminders", "sent", "slack_calls", "slack_errors", "outbox", "failures"):
        if key in samples[-1]:
            out[key] = samples[-1][key]
    return out


def run_database(label: str, url: str, seed: Seed, *, issues: int, rounds: int, send: bool) -> dict[str, Any]:
    """Load the seed into ``url`` and measure every scenario there."""
    engine = make_engine(url)
    try:
        started = time.monotonic()
        last_event_id = load_seed(engine, seed)
        load_s = time.monotonic() - started
        nows = {name: scenario_now(seed, share, issues) for name, share in SCENARIOS}
        state = reset_state(seed, last_event_id, max(nows.values()))
        scenarios = []
        dirty = False
        for name, share in SCENARIOS:
            now = nows[name]
            samples: dict[str, list[dict[str, Any]]] = {k: [] for k in (*KINDS, "tick_send")}
            for r in range(rounds):
                for kind in KINDS if r % 2 == 0 else tuple(reversed(KINDS)):
                    if dirty:
                        reset(engine, state)
                    samples[kind].append(measure(kind, url, now, state))
                    dirty = kind != "floor"
            if send:
                if dirty:
                    reset(engine, state)
                samples["tick_send"].append(measure("tick_send", url, now, state))
                dirty = True
            summaries = {k: _summary(v) for k, v in samples.items() if v}
            floor_ms = summaries["floor"]["ms"]
            writes_ms = summaries["floor_writes"]["ms"]
            set_ms = summaries["set_writes"]["ms"]
            for s in summaries.values():
                s["ratio"] = s["ms"] / floor_ms if floor_ms else math.nan
                s["ratio_vs_set"] = s["ms"] / set_ms if set_ms else math.nan
                s["ratio_vs_writes"] = s["ms"] / writes_ms if writes_ms else math.nan
            tick = summaries["tick"]
            escalate = summaries["escalate_due"]
            scenario = {
                "name": name,
                "target_share": share,
                "now": now.isoformat(),
                "since_last_tick": str(now - LAST_TICK),
                "due": summaries["floor"]["rows"],
                "escalated": escalate["rows"],
                "same_set": escalate["rows"] == summaries["floor"]["rows"],
                "measured": summaries,
                "meets_targets": tick["ratio"] <= TARGET_RATIO and tick["peak_rss_mb"] < TARGET_PEAK_MB,
                "escalate_due_meets_targets": escalate["ratio"] <= TARGET_RATIO and escalate["peak_rss_mb"] < TARGET_PEAK_MB,
            }
            scenarios.append(scenario)
            print(
                f"  {label} {name}: {scenario['due']} due; floor {floor_ms:.1f} ms, escalate_due "
                f"{escalate['ms']:.1f} ms ({escalate['ratio']:.1f}x), tick {tick['ms']:.1f} ms "
                f"({tick['ratio']:.1f}x), peak {tick['peak_rss_mb']:.0f} MB",
                flush=True,
            )
        if dirty:
            reset(engine, state)
        return {"database": label, "load_seconds": load_s, "scenarios": scenarios}
    finally:
        engine.dispose()


def run_escalation(
    *,
    issues: int = 10_000,
    partnerships: int = 1_000,
    rounds: int = 3,
    postgres_url: str | None = None,
    send: bool = True,
) -> dict[str, Any]:
    """SQLite always, PostgreSQL when ``postgres_url`` (or ``BENCH_POSTGRES_URL``) is given. JSON-ready results."""
    postgres_url = postgres_url or os.environ.get("BENCH_POSTGRES_URL") or None
    seed = build_seed(issues=issues, partnerships=partnerships)
    print(f"  seed: {issues} issues, {partnerships} partnerships computed in {seed.seconds:.1f} s", flush=True)
    databases = []
    with sqlite_database("escalation") as url:
        databases.append(run_database("SQLite", url, seed, issues=issues, rounds=rounds, send=send))
    if postgres_url:
        with postgres_database(postgres_url, "escalation") as url:
            databases.append(run_database("PostgreSQL", url, seed, issues=issues, rounds=rounds, send=send))
    return {
        "issues": issues,
        "partnerships": partnerships,
        "unresolved_with_next_escalation": len(seed.due_times),
        "actions": len(seed.actions),
        "last_tick": LAST_TICK.isoformat(),
        "rounds": rounds,
        "seed_seconds": seed.seconds,
        "targets": {"ratio_max": TARGET_RATIO, "peak_rss_mb_max": TARGET_PEAK_MB, "judged_on": "tick (no send)"},
        "memory": "VmHWM of a fresh spawned process: peak during the call minus RSS before it, and the absolute peak",
        "databases": databases,
    }


LABELS = {
    "floor": "floor: 1 SQL query",
    "set_rollback": "set-based writes, rolled back",
    "set_writes": "set-based writes, committed",
    "floor_writes": "floor + writes (Core)",
    "escalate_due": "escalate_due",
    "tick": "tick (no send)",
    "tick_send": "tick + send (sandbox)",
}


def render(results: dict[str, Any]) -> str:
    """The escalation tables, one per database."""
    parts = [
        f"Escalation: {results['issues']:,} open issues in {results['partnerships']:,} partnerships "
        f"({results['unresolved_with_next_escalation']:,} with a next escalation, {results['actions']:,} actions); "
        f"median of {results['rounds']} fresh processes each (tick + send: 1). Target: tick (no send) <= "
        f"{results['targets']['ratio_max']:g}x the floor and peak RSS < {results['targets']['peak_rss_mb_max']:g} MB."
    ]
    headers = [
        "scenario",
        "measured",
        "rows",
        "ms",
        "cpu ms",
        "1st call ms",
        "SQL stmts",
        "x floor",
        "x set",
        "x f+w",
        "RSS +MB",
        "peak MB",
    ]
    for db in results["databases"]:
        rows = []
        verdicts = []
        for sc in db["scenarios"]:
            title = f"{sc['name']} ({sc['due']} due, +{sc['since_last_tick']})"
            for kind in (*KINDS, "tick_send"):
                s = sc["measured"].get(kind)
                if not s:
                    continue
                rows.append(
                    [
                        title,
                        LABELS[kind],
                        str(s["rows"]),
                        fmt(s["ms"]),
                        fmt(s["cpu_ms"]),
                        "-" if s.get("cold_ms") is None else fmt(s["cold_ms"]),
                        "-" if s["queries"] is None else str(s["queries"]),
                        fmt(s["ratio"], 2),
                        fmt(s["ratio_vs_set"], 2),
                        fmt(s["ratio_vs_writes"], 2),
                        fmt(s["rss_growth_mb"]),
                        fmt(s["peak_rss_mb"]),
                    ]
                )
                title = ""
            send = sc["measured"].get("tick_send")
            extra = ""
            if send:
                extra = (
                    f"; tick + send: {send.get('sent', 0)} sent in {send['slack_calls']} Slack calls "
                    f"({send['slack_errors']} errors), outbox {send.get('outbox')}"
                )
            verdicts.append(
                f"{sc['name']}: meets targets: {'yes' if sc['meets_targets'] else 'no'} "
                f"(escalate_due alone: {'yes' if sc['escalate_due_meets_targets'] else 'no'}); "
                f"escalated {sc['escalated']} of {sc['due']} due{extra}"
            )
        parts.append(f"{db['database']} (seed loaded in {db['load_seconds']:.1f} s)\n" + table(headers, rows))
        parts.append("\n".join(verdicts))
    return "\n\n".join(parts)
