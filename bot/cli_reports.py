"""The commands that only read the database or score text: ``sentiment``, ``export``, ``partnerships`` and
``workspaces``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING

from bot.cli_checks import reading_database
from bot.settings import Settings

if TYPE_CHECKING:
    from storage.uow import UowFactory


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
    bilateral scorecards of the range as CSV of aggregates (``scorecard-csv``), or the weeks' agreed KPIs beside each
    side's score (``kpi-csv``).

    Needs only the database. Every mistake (an unknown partnership, a bad date, an empty range) is one line on
    stderr and exit code 2, so a script running it fails plainly.
    """
    from pathlib import Path

    from bot import export_csv, export_html, export_kpis
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
    renderers = {
        "html": export_html.render_html,
        "csv": export_csv.render_csv,
        "scorecard-csv": export_csv.render_scorecard_csv,
        "kpi-csv": export_kpis.render_kpi_csv,
    }
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
        _tell_workspaces_to_fix(uow_factory)
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
    _print_table(rows)
    return 0


def cmd_workspaces(settings: Settings, args: argparse.Namespace) -> int:
    """Every workspace, one line each: whether PartnerPulse can post there, since when not and why. Only reads."""
    from bot.services.operator import list_workspaces

    with reading_database(settings, "workspaces") as uow_factory:
        listings = list_workspaces(uow_factory)
    if not listings:
        print("no workspaces yet")
        return 0
    rows = [("TEAM", "NAME", "SENDING", "SINCE (UTC)", "PARTNERSHIPS", "PAUSED", "WHY")]
    for ws in listings:
        since = ws.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ws.since else "-"
        rows.append(
            (ws.team_id, _one_line(ws.name), ws.state, since, str(ws.partnerships), str(ws.paused), _one_line(ws.reason))
        )
    _print_table(rows)
    for ws in listings:
        if ws.advice:
            print(f"{ws.team_id}: {ws.advice}")
    return 0


def _tell_workspaces_to_fix(uow_factory: UowFactory) -> None:
    """One line on stderr for each workspace that waits for a reinstall: its partnerships cannot post."""
    from bot.services.operator import list_workspaces

    for ws in list_workspaces(uow_factory):
        if ws.advice:
            print(f"partnerpulse: workspace {ws.team_id} is {ws.state}: {ws.advice}", file=sys.stderr)


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    """Rows under their header, each column as wide as its widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "-"
