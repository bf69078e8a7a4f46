"""The ``partnerpulse`` command line: the commands, their arguments and ``main``.

Each command's work is in bot/cli_serving.py (running the bot, the schema, the demo) or bot/cli_reports.py
(commands that only read); what a command checks before it starts is in bot/cli_checks.py.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata

from bot.cli_checks import CommandFailed, check_before_start
from bot.cli_keys import cmd_keys_new, cmd_keys_rotate
from bot.cli_reports import cmd_export, cmd_partnerships, cmd_sentiment, cmd_workspaces
from bot.cli_serving import cmd_db_revision, cmd_db_upgrade, cmd_demo, cmd_run, cmd_serve, cmd_tick
from bot.kpi_import import cmd_kpi_import
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
        within: argparse._SubParsersAction[argparse.ArgumentParser] = sub,
    ) -> argparse.ArgumentParser:
        """A command (``within`` a group's actions: one of them), with what it needs before it starts."""
        p = within.add_parser(name, help=help, description=description)
        p.set_defaults(requires=requires, database=database, slack=slack)
        return p

    def actions(name: str, help: str, description: str) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        """A command that only groups its actions (``partnerpulse NAME ACTION``)."""
        return command(name, help, description).add_subparsers(dest=f"{name}_command", required=True, metavar="ACTION")

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
    db = actions("db", "database schema: upgrade, revision", "Manage the database schema (Alembic migrations).")
    upgrade = command(
        "upgrade",
        "apply all migrations",
        "Bring the database at DATABASE_URL up to this version's schema (run and serve also do this).",
        database=True,
        within=db,
    )
    upgrade.set_defaults(func=cmd_db_upgrade)
    rev = command(
        "revision",
        "(developers) autogenerate a migration from model changes",
        "(Developers) write a new Alembic migration from the difference between the models and the "
        "database at DATABASE_URL.",
        database=True,
        within=db,
    )
    rev.add_argument("-m", "--message", required=True, help="what the migration does, for its file name")
    rev.set_defaults(func=cmd_db_revision)
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
    demo.add_argument(
        "--both-installed",
        action="store_true",
        help="run as a distributed app that both organisations install through /slack/install (OAuth)",
    )
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
        choices=("html", "csv", "scorecard-csv", "kpi-csv"),
        help="html (report with chart, scorecards, goals and expectations), csv (weekly aggregates), "
        "scorecard-csv (per scorecard closed in the range, rated side and dimension: self and other averages, gap) or "
        "kpi-csv (per week, dimension and agreed KPI: its figure and status beside each side's score)",
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
    workspaces = command(
        "workspaces",
        "list every workspace: whether PartnerPulse can post there, and what to do when it cannot",
        "List every workspace, one line each: team id, name, sending (sending, held while the token is checked "
        "again, needs reinstalling, or uninstalled), since when, partnerships and how many are paused, and why; then "
        "what to do for each that waits for a reinstall. Needs only the database.",
        database=True,
    )
    workspaces.set_defaults(func=cmd_workspaces)
    kpi = actions("kpi", "agreed KPIs: import figures", "Agreed KPIs (see README, 'Agreed KPIs').")
    kpi_import = command(
        "import",
        "record a partnership's KPI figures from a CSV file, all or nothing",
        "Record a partnership's KPI figures from a UTF-8 CSV file with a header row and the columns "
        "kpi (the KPI's key), period_end (YYYY-MM-DD), value and an optional note. Nothing is saved when any line "
        "is bad: each is printed with its line number and reason, and the exit code is 1. A figure for a period "
        "that already has one replaces it. Needs only the database.",
        database=True,
        within=kpi,
    )
    kpi_import.add_argument("--partnership", required=True, metavar="ID", help="the partnership's id (see `partnerships`)")
    kpi_import.add_argument("file", metavar="FILE.csv", help="the CSV file")
    kpi_import.add_argument("--at", type=parse_at, default=None, help="as of this ISO-8601 instant (default now)")
    kpi_import.set_defaults(func=cmd_kpi_import)
    keys = actions(
        "keys", "the keys encrypting stored Slack tokens: new, rotate", "The keys in PARTNERPULSE_TOKEN_KEYS (see README)."
    )
    command(
        "new", "print a new random key", "Print a new random Fernet key for PARTNERPULSE_TOKEN_KEYS.", within=keys
    ).set_defaults(func=cmd_keys_new)
    command(
        "rotate",
        "re-encrypt every stored token with the first key",
        "Re-encrypt every stored Slack token with the first key of PARTNERPULSE_TOKEN_KEYS (put a new key first, "
        "keeping the old ones after it; once this ran, the old ones can go). All or nothing. Needs only the database.",
        requires=("token_keys",),
        database=True,
        within=keys,
    ).set_defaults(func=cmd_keys_rotate)
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
