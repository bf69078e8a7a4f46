"""The ``partnerpulse`` command line."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from types import FrameType
from typing import TYPE_CHECKING, Any

from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from storage.uow import UnitOfWorkFactory

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


def int_between(low: int, high: int, why: str = "") -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high`` (argparse shows the message and exits 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}{why}, not {text!r}")
        return value

    return parse


def package_version() -> str:
    """The installed distribution's version (``unknown`` when running from a source tree that is not installed)."""
    try:
        return metadata.version("partnerpulse")
    except metadata.PackageNotFoundError:
        return "unknown"


class CommandFailed(Exception):
    """A command cannot go on; ``main`` prints ``partnerpulse[ <command>]: <message>`` and exits 2."""

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.prefix = f"partnerpulse {command}" if command else "partnerpulse"


def check_before_start(settings: Settings, args: argparse.Namespace) -> None:
    """Fail fast, in one line, when the command's database or Slack cannot be used (bot/operator_checks.py).

    Raises:
        CommandFailed: the database cannot be opened or reached, Slack cannot be reached or rejects the token.
    """
    if not (args.database or args.slack):
        return
    from bot.operator_checks import OperatorError, check_database, check_slack

    try:
        if args.database:
            check_database(settings.database_url)
        if args.slack:
            check_slack(settings.secret("slack_bot_token"), settings.slack_api_url)
    except OperatorError as exc:
        raise CommandFailed(str(exc)) from None


@contextmanager
def reading_database(settings: Settings, command: str) -> Iterator[UnitOfWorkFactory]:
    """A unit-of-work factory on the database for a command that only reads it: never migrates.

    Raises:
        CommandFailed: the database is behind (or ahead of) this version's schema.
    """
    from storage import migrate
    from storage.db import make_engine, make_session_factory
    from storage.uow import UnitOfWorkFactory

    engine = make_engine(settings.database_url)
    try:
        # A database behind this version is told, not half-read.
        if (found := migrate.current_revision(engine)) != (needed := migrate.head_revision()):
            raise CommandFailed(
                f"the database is at schema revision {found or 'none'}, this version needs {needed}: "
                "run `partnerpulse db upgrade` first.",
                command,
            )
        yield UnitOfWorkFactory(make_session_factory(engine))
    finally:
        engine.dispose()


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

    services = build_services(settings)
    app = create_app(settings, services)
    workers = start_workers(settings, app)
    server = make_server(
        app,
        services.engine,
        signing_secret=settings.secret("slack_signing_secret"),
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

    def write(text: str) -> None:
        result = analyse(text)
        out = json.dumps({"text": text, "score": result.score, "label": result.label}, ensure_ascii=False)
        sys.stdout.buffer.write(out.encode("utf-8") + b"\n")
        sys.stdout.buffer.flush()

    if args.texts:  # each argument is one text: one JSON line each, in order
        try:
            for text in args.texts:
                write(text)
        except BrokenPipeError:
            return 0
        return 0
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
            write(text)
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

    def fail(message: str) -> int:
        print(f"partnerpulse export: {message}", file=sys.stderr)
        return 2

    try:
        partnership_id = export.parse_partnership_id(args.partnership)
        start = export.parse_day(args.start, "--from") if args.start else None
        end = export.parse_day(args.end, "--to") if args.end else None
    except DomainError as exc:
        return fail(str(exc))
    with reading_database(settings, "export") as uow_factory:
        try:
            report = export.build_export(
                uow_factory,
                partnership_id=partnership_id,
                start=start,
                end=end,
                now=args.at or utcnow(),
                weekly=args.format != "scorecard-csv",
            )
        except DomainError as exc:
            return fail(str(exc))
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


def cmd_partnerships(settings: Settings, args: argparse.Namespace) -> int:
    """Every partnership, one line each under a header: what ``export --partnership ID`` needs. Only reads."""
    from bot.services.operator import list_partnerships

    with reading_database(settings, "partnerships") as uow_factory:
        listings = list_partnerships(uow_factory)
    if not listings:
        print("no partnerships yet")
        return 0
    rows = [("ID", "NAME", "CHANNEL", "CLIENT", "PROVIDER", "NEXT PULSE (UTC)", "OPEN ISSUES")]
    for p in listings:
        if p.paused:
            next_pulse = "paused"
        elif p.next_pulse_at is None:
            next_pulse = "-"
        else:
            next_pulse = p.next_pulse_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(
            (
                str(p.id),
                _one_line(p.name),
                p.channel_id,
                _one_line(p.client_org),
                _one_line(p.provider_org),
                next_pulse,
                str(p.open_issues),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "-"


#: What each command needs before it starts: the settings it requires, a reachable database, a working bot token.
SLACK_COMMAND = ("slack_bot_token", "secret_key")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partnerpulse",
        description="PartnerPulse: pulse checks, issues and a weekly digest for client-provider partnerships.",
    )
    parser.add_argument("--version", action="version", version=f"partnerpulse {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str,
        help: str,
        description: str,
        *,
        requires: tuple[str, ...] = (),
        database: bool = False,
        slack: bool = False,
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description)
        p.set_defaults(requires=requires, database=database, slack=slack)
        return p

    run = command(
        "run",
        "run the bot over Socket Mode (needs SLACK_APP_TOKEN), with the heartbeat",
        "Run the bot over Socket Mode (an outgoing WebSocket; no public URL needed) with the heartbeat that does "
        "scheduled work. Brings the database schema up to date first.",
        requires=("slack_app_token", *SLACK_COMMAND),
        database=True,
        slack=True,
    )
    run.set_defaults(func=cmd_run)
    serve = command(
        "serve",
        "serve Slack over HTTP on /slack/events (needs SLACK_SIGNING_SECRET), with the heartbeat",
        "Serve Slack's requests over HTTP on POST /slack/events (liveness on GET /healthz), with the heartbeat "
        "unless --no-heartbeat. Brings the database schema up to date first.",
        requires=("slack_signing_secret", *SLACK_COMMAND),
        database=True,
        slack=True,
    )
    serve.add_argument("--host", default=None, help="address to bind (default PARTNERPULSE_HTTP_HOST or 0.0.0.0)")
    serve.add_argument(
        "--port",
        type=int_between(0, 65535),
        default=None,
        help="port, 0 to 65535 (default PARTNERPULSE_HTTP_PORT, PORT or 3000; 0 picks a free one)",
    )
    serve.add_argument(
        "--no-heartbeat", action="store_true", help="do not run scheduled work in this process (use `tick` from cron)"
    )
    serve.set_defaults(func=cmd_serve)
    db = command("db", "database schema: upgrade, revision", "Manage the database schema (Alembic migrations).")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser(
        "upgrade",
        help="apply all migrations",
        description="Bring the database at DATABASE_URL up to this version's schema (run and serve also do this).",
    )
    upgrade.set_defaults(func=cmd_db_upgrade, requires=(), database=True, slack=False)
    rev = db_sub.add_parser(
        "revision",
        help="(developers) autogenerate a migration from model changes",
        description="(Developers) write a new Alembic migration from the difference between the models and the "
        "database at DATABASE_URL.",
    )
    rev.add_argument("-m", "--message", required=True, help="what the migration does, for its file name")
    rev.set_defaults(func=cmd_db_revision, requires=(), database=True, slack=False)
    tick = command(
        "tick",
        "do all work due by --at (default now) once, then exit",
        "Do all scheduled work due by --at (default now) once, send what it produced, then exit: for running "
        "from cron next to `serve --no-heartbeat`.",
        requires=SLACK_COMMAND,
        database=True,
        slack=True,
    )
    tick.add_argument("--at", type=parse_at, default=None, help="ISO-8601 instant with offset, e.g. 2026-12-07T14:00:00Z")
    tick.set_defaults(func=cmd_tick)
    demo = command(
        "demo",
        "a complete offline run against the built-in Slack sandbox; no Slack account needed",
        "Run the real bot against the built-in Slack sandbox for some weeks and print what everyone sees; no Slack "
        "account, network or settings needed.",
    )
    demo.add_argument("--output", default="partnerpulse-demo", help="folder for the demo's database and transcript")
    demo.add_argument(
        "--weeks",
        type=int_between(1, 52, " (the demo needs at least 1 week)"),
        default=8,
        help="how many weekly rounds to run, 1 to 52 (default 8)",
    )
    demo.add_argument("--verbose", action="store_true", help="show the bot's log lines")
    demo.set_defaults(func=cmd_demo)
    sentiment = command(
        "sentiment",
        "score each TEXT, or each line of stdin: one JSON object per text (text, score, label)",
        "Score the sentiment of each TEXT argument or, with none, of each line of standard input; one JSON line "
        "out per text in: text, score (-1..1) and label.",
    )
    sentiment.add_argument("texts", nargs="*", metavar="TEXT", help="texts to score (default: read lines from stdin)")
    sentiment.set_defaults(func=cmd_sentiment)
    export = command(
        "export",
        "a partnership's weekly figures for a business review: self-contained HTML, or CSV of aggregates only",
        "Export a partnership's weekly figures for a business review: a self-contained HTML report, or CSV of "
        "aggregates only. Needs only the database; `partnerpulse partnerships` shows the ids.",
        database=True,
    )
    export.add_argument("--partnership", required=True, metavar="ID", help="the partnership's id (see `partnerships`)")
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
    partnerships = command(
        "partnerships",
        "list every partnership: id, name, channel, organisations, next pulse, open issues",
        "List every partnership, one line each: id (for `export --partnership`), name, channel id, client and "
        "provider organisations, next pulse (UTC) or paused, and open issues. Needs only the database.",
        database=True,
    )
    partnerships.set_defaults(func=cmd_partnerships)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load(require=args.requires)
        if args.command != "demo":
            configure_logging(settings.log_level)
        check_before_start(settings, args)
        return int(args.func(settings, args))
    except CommandFailed as exc:
        print(f"{exc.prefix}: {exc}", file=sys.stderr)
        return 2
    except SettingsError as exc:
        print(f"partnerpulse: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
