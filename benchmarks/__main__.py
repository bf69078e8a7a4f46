"""``python -m benchmarks [latency|fanout|sentiment|escalation|digest|all]``: run, print the tables, write benchmarks/results/latest.json."""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "which", nargs="?", choices=("latency", "fanout", "sentiment", "escalation", "digest", "all"), default="all"
    )
    parser.add_argument("--requests-c1", type=int, default=400, help="latency: requests per target at 1 client")
    parser.add_argument("--requests-c20", type=int, default=2000, help="latency: requests per target at 20 clients")
    parser.add_argument("--warmup", type=int, default=100, help="latency: unrecorded requests per target first")
    parser.add_argument(
        "--oauth",
        action="store_true",
        help="latency: the bot installed by OAuth in both organisations (each request authorized by its installation)",
    )
    parser.add_argument("--partnerships", type=int, default=200, help="fanout: partnerships (channels) in the round")
    parser.add_argument("--speedup", type=float, default=10.0, help="fanout: time compression K (limits and Pacer)")
    parser.add_argument("--answered", type=int, default=5, help="fanout: members of 6 per channel who answer")
    parser.add_argument("--issues", type=int, default=10_000, help="escalation: open issues")
    parser.add_argument("--escalation-partnerships", type=int, default=1_000, help="escalation: partnerships")
    parser.add_argument("--escalation-rounds", type=int, default=3, help="escalation: measurements of each kind")
    parser.add_argument(
        "--digest-sizes",
        default="10,100,1000",
        help="digest: partnership counts, comma-separated (each added to the same database in turn)",
    )
    parser.add_argument("--digest-rounds", type=int, default=3, help="digest: measurements of each kind per size")
    parser.add_argument("--kpis", type=int, default=0, help="digest: agreed KPIs per partnership (default none)")
    parser.add_argument("--kpi-periods", type=int, default=12, help="digest: periods of figures per KPI")
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="escalation and digest: also on PostgreSQL (default: env BENCH_POSTGRES_URL)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON results")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    # The bot logs expected conditions (waitress queue depth under load) that would drown the tables.
    logging.getLogger("waitress").setLevel(logging.ERROR)
    # Post-ack failures under overload are counted in the results (failed Slack calls); no tracebacks.
    logging.getLogger("bot.app").setLevel(logging.CRITICAL)

    from benchmarks import digest, escalation, fanout, latency, sentiment

    started = time.monotonic()
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m benchmarks " + " ".join(argv if argv is not None else sys.argv[1:]) or "all",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }
    tables: list[str] = []
    if args.which in ("latency", "all"):
        print("latency ...", flush=True)
        results["latency"] = latency.run_latency(
            requests_c1=args.requests_c1, requests_c20=args.requests_c20, warmup=args.warmup, oauth=args.oauth
        )
        tables.append(latency.render(results["latency"]))
    if args.which in ("fanout", "all"):
        print("fan-out ...", flush=True)
        results["fanout"] = fanout.run_fanout(
            partnerships_count=args.partnerships, speedup=args.speedup, answered_per_channel=args.answered
        )
        tables.append(fanout.render(results["fanout"]))
    if args.which in ("sentiment", "all"):
        print("sentiment ...", flush=True)
        results["sentiment"] = sentiment.run_sentiment()
        tables.append(sentiment.render(results["sentiment"]))
    if args.which in ("escalation", "all"):
        print("escalation ...", flush=True)
        results["escalation"] = escalation.run_escalation(
            issues=args.issues,
            partnerships=args.escalation_partnerships,
            rounds=args.escalation_rounds,
            postgres_url=args.postgres_url,
        )
        tables.append(escalation.render(results["escalation"]))
    if args.which in ("digest", "all"):
        print("digest ...", flush=True)
        results["digest"] = digest.run_digest(
            sizes=tuple(int(n) for n in args.digest_sizes.split(",") if n.strip()),
            rounds=args.digest_rounds,
            postgres_url=args.postgres_url,
            kpis=args.kpis,
            kpi_periods=args.kpi_periods,
        )
        tables.append(digest.render(results["digest"]))
    results["total_seconds"] = time.monotonic() - started
    print()
    print("\n\n".join(tables))
    print(f"\n(total {results['total_seconds']:.0f} s; JSON written to {args.output})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
