"""The ``partnerpulse`` command line."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import signal
import sys
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from bot.settings import Settings, SettingsError

logger = logging.getLogger("partnerpulse")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # slack_sdk logs request bodies at DEBUG; keep them out unless asked for explicitly.
    logging.getLogger("slack_sdk").setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("alembic").setLevel(logging.WARNING)


def parse_at(value: str) -> datetime:
    """An ISO-8601 instant with an offset (``Z`` accepted)."""
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {value!r}") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone offset, e.g. {value}Z or {value}-05:00")
    return at.astimezone(UTC)


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)


def freeze_startup_objects() -> None:
    """Keep the ~100,000 objects made at start (modules, SQLAlchemy, Bolt) out of the garbage collector's scans.

    A full collection over them takes about 60 ms on a CI machine, and one lands on some request's thread now and
    then: a 60 ms acknowledgement. Frozen objects are never scanned (nor freed, which start-up objects never are).
    """
    gc.collect()
    gc.freeze()


def start_workers(settings: Settings, app: Any) -> Any:
    """Worker processes for post-ack work (bot/workers.py), unless PARTNERPULSE_WORKER_PROCESSES is 0."""
    from bot.workers import WorkerPool, use_worker_pool

    if settings.worker_processes == 0:
        return None
    pool = WorkerPool(settings.worker_processes, settings.worker_threads, settings.log_level).start()
    use_worker_pool(app, pool)
    return pool


def stop_workers(pool: Any, app: Any) -> None:
    """Finish post-ack work that was handed over (in worker processes, or on the app's own threads)."""
    if pool is not None:
        pool.close()
    app.listener_runner.listener_executor.shutdown(wait=True)


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from storage import migrate

    migrate.upgrade(settings.database_url)
    print(f"database at revision {migrate.head_revision()}")
    return 0


def cmd_db_revision(settings: Settings, args: argparse.Namespace) -> int:
    from storage import migrate

    migrate.new_revision(settings.database_url, args.message)
    return 0


def cmd_tick(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SettableClock, utcnow
    from bot.container import build_services
    from bot.jobs import tick

    at = args.at or utcnow()
    services = build_services(settings, clock=SettableClock(at))
    report = tick(services, at)
    print(f"tick at {at.isoformat()}: {report.summary()}")
    return 1 if report.failures else 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import create_app
    from bot.container import build_services
    from bot.http import make_server
    from bot.scheduler import build_scheduler

    settings.require("slack_signing_secret", "slack_bot_token", "secret_key")
    services = build_services(settings)
    app = create_app(settings, services)
    workers = start_workers(settings, app)
    server = make_server(
        app,
        services.engine,
        host=args.host or settings.http_host,
        port=args.port if args.port is not None else settings.http_port,
        threads=settings.http_threads,
    )
    scheduler = build_scheduler(services) if not args.no_heartbeat else None
    if scheduler:
        scheduler.start()
    _stop_on_sigterm()
    freeze_startup_objects()
    print(f"PartnerPulse listening on http://{server.effective_host}:{server.effective_port}/slack/events", flush=True)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler:
            scheduler.shutdown(wait=False)
        server.close()
        stop_workers(workers, app)
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create_app
    from bot.container import build_services
    from bot.scheduler import build_scheduler

    settings.require("slack_app_token", "slack_bot_token", "secret_key")
    services = build_services(settings)
    app = create_app(settings, services, socket_mode=True)
    workers = start_workers(settings, app)
    scheduler = build_scheduler(services)
    scheduler.start()
    _stop_on_sigterm()
    freeze_startup_objects()
    try:
        SocketModeHandler(app, settings.secret("slack_app_token")).start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        scheduler.shutdown(wait=False)
        stop_workers(workers, app)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(output_dir=args.output, weeks=args.weeks, verbose=args.verbose)


def cmd_sentiment(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.sentiment import analyse

    # Bytes in, so one bad line is reported and replaced instead of ending the run; one flushed JSON line out
    # per line in (empty lines too), so the output lines up with the input in a pipe.
    try:
        for number, raw in enumerate(sys.stdin.buffer, start=1):
            line = raw.removesuffix(b"\n").removesuffix(b"\r")
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                text = line.decode("utf-8", errors="replace")
                print(f"partnerpulse sentiment: line {number} is not valid UTF-8; replaced the bad bytes", file=sys.stderr)
            result = analyse(text)
            out = json.dumps({"text": text, "score": result.score, "label": result.label}, ensure_ascii=False)
            sys.stdout.buffer.write(out.encode("utf-8") + b"\n")
            sys.stdout.buffer.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error
        return 0
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """A partnership's weekly figures for a business review: self-contained HTML, or CSV of aggregates; or the
    bilateral scorecards of the range as CSV of aggregates (``scorecard-csv``).

    Needs only the database. Every mistake (an unknown partnership, a bad date, an empty range) is one line on
    stderr and exit code 2, so a script running it fails plainly.
    """
    from pathlib import Path

    from bot.clock import utcnow
    from bot.services import export
    from bot.services.errors import DomainError
    from storage import migrate
    from storage.db import make_engine, make_session_factory
    from storage.uow import UnitOfWorkFactory

    def fail(message: str) -> int:
        print(f"partnerpulse export: {message}", file=sys.stderr)
        return 2

    try:
        partnership_id = export.parse_partnership_id(args.partnership)
        start = export.parse_day(args.start, "--from") if args.start else None
        end = export.parse_day(args.end, "--to") if args.end else None
    except DomainError as exc:
        return fail(str(exc))
    engine = make_engine(settings.database_url)
    # A report only reads: it never migrates. A database behind this version is told, not half-read.
    if (found := migrate.current_revision(engine)) != (needed := migrate.head_revision()):
        engine.dispose()
        return fail(
            f"the database is at schema revision {found or 'none'}, this version needs {needed}: "
            "run `partnerpulse db upgrade` first."
        )
    try:
        report = export.build_export(
            UnitOfWorkFactory(make_session_factory(engine)),
            partnership_id=partnership_id,
            start=start,
            end=end,
            now=args.at or utcnow(),
            weekly=args.format != "scorecard-csv",
        )
    except DomainError as exc:
        return fail(str(exc))
    finally:
        engine.dispose()
    renderers = {"html": export.render_html, "csv": export.render_csv, "scorecard-csv": export.render_scorecard_csv}
    content = renderers[args.format](report)
    if args.output is None:
        sys.stdout.write(content)
        return 0
    try:
        Path(args.output).write_text(content, encoding="utf-8", newline="")
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    count, noun = (len(report.scorecards), "scorecard") if args.format == "scorecard-csv" else (len(report.weeks), "week")
    what = f"{count} {noun}{'s' if count != 1 else ''}"
    print(f"wrote {args.output} ({what})", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partnerpulse",
        description="PartnerPulse: pulse checks, issues and a weekly digest for client-provider partnerships.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the bot over Socket Mode (needs SLACK_APP_TOKEN), with the heartbeat")
    run.set_defaults(func=cmd_run)
    serve = sub.add_parser(
        "serve", help="serve Slack over HTTP on /slack/events (needs SLACK_SIGNING_SECRET), with the heartbeat"
    )
    serve.add_argument("--host", default=None, help="address to bind (default PARTNERPULSE_HTTP_HOST or 0.0.0.0)")
    serve.add_argument(
        "--port", type=int, default=None, help="port (default PARTNERPULSE_HTTP_PORT, PORT or 3000; 0 picks one)"
    )
    serve.add_argument(
        "--no-heartbeat", action="store_true", help="do not run scheduled work in this process (use `tick` from cron)"
    )
    serve.set_defaults(func=cmd_serve)
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply all migrations").set_defaults(func=cmd_db_upgrade)
    rev = db_sub.add_parser("revision", help="(developers) autogenerate a migration from model changes")
    rev.add_argument("-m", "--message", required=True)
    rev.set_defaults(func=cmd_db_revision)
    tick = sub.add_parser("tick", help="do all work due by --at (default now) once, then exit")
    tick.add_argument("--at", type=parse_at, default=None, help="ISO-8601 instant with offset, e.g. 2026-12-07T14:00:00Z")
    tick.set_defaults(func=cmd_tick)
    demo = sub.add_parser("demo", help="a complete offline run against the built-in Slack sandbox; no Slack account needed")
    demo.add_argument("--output", default="partnerpulse-demo", help="folder for the demo's database and transcript")
    demo.add_argument("--weeks", type=int, default=8, help="how many weekly rounds to run (default 8)")
    demo.add_argument("--verbose", action="store_true", help="show the bot's log lines")
    demo.set_defaults(func=cmd_demo)
    sentiment = sub.add_parser(
        "sentiment", help="score comments from stdin, one per line: one JSON object per line (text, score, label)"
    )
    sentiment.set_defaults(func=cmd_sentiment)
    export = sub.add_parser(
        "export",
        help="a partnership's weekly figures for a business review: self-contained HTML, or CSV of aggregates only",
    )
    export.add_argument("--partnership", required=True, metavar="ID", help="the partnership's id")
    export.add_argument(
        "--format",
        required=True,
        choices=("html", "csv", "scorecard-csv"),
        help="html (report with chart, scorecards, goals and expectations), csv (weekly aggregates) or "
        "scorecard-csv (per scorecard closed in the range, rated side and dimension: self and other averages, gap)",
    )
    export.add_argument(
        "--from", dest="start", metavar="DATE", help="first week to include (YYYY-MM-DD; default: 13 weeks back)"
    )
    export.add_argument(
        "--to", dest="end", metavar="DATE", help="last week to include (YYYY-MM-DD; default: the latest complete week)"
    )
    export.add_argument("--output", metavar="PATH", help="file to write (default: standard output)")
    export.add_argument("--at", type=parse_at, default=None, help="as of this ISO-8601 instant (default now)")
    export.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load()
        if args.command != "demo":
            configure_logging(settings.log_level)
        return int(args.func(settings, args))
    except SettingsError as exc:
        print(f"partnerpulse: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
