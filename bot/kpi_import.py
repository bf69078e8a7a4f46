"""``partnerpulse kpi import --partnership ID FILE.csv`` (DESIGN 3.6): a partnership's KPI figures from a CSV file.

The file is UTF-8 (a byte-order mark is fine) with a header row, then one figure a line: the KPI's key, the period's
end date (YYYY-MM-DD), the value (a number, with a point for decimals), and an optional note. The file is saved
whole or not at all: each rejected line is printed with its line number and reason, and the exit code is 1; a
figure for a period that already has one replaces it, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.kpi_entries import ParsedBatch, bad_date, period_end_from
from bot.services.kpi_models import KpiValueInput
from bot.services.kpi_value_models import ValueProblem
from bot.settings import Settings

HEADER = ("kpi", "period_end", "value", "note")


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank record with the number of the line it starts on (a quoted note may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    for row in reader:
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _line(number: int, row: list[str]) -> KpiValueInput | ValueProblem:
    def problem(key: str, reason: str) -> ValueProblem:
        return ValueProblem(index=number, kpi_key=key, period_end=None, reason=reason)

    if len(row) not in (3, 4):
        return problem("", f"Expected 3 or 4 columns (kpi, period_end, value, note), found {len(row)}.")
    key, end_text, value_text = (cell.strip() for cell in row[:3])
    if not key:
        return problem("", "The KPI key is missing.")
    period_end = period_end_from(end_text)
    if period_end is None:
        return bad_date(number, key, end_text)
    try:
        value = float(value_text)
    except ValueError:
        return ValueProblem(index=number, kpi_key=key, period_end=period_end, reason=f"'{value_text}' is not a number.")
    note = row[3] if len(row) == 4 else None
    return KpiValueInput(kpi_key=key, period_end=period_end, value=value, note=note)


def parse_csv(text: str) -> ParsedBatch:
    """The file's figures by line number; a first line that is a figure rather than the header is a problem."""
    batch = ParsedBatch()
    rows = _rows(text)
    header = next(rows, None)
    if header is not None and len(header[1]) > 1 and period_end_from(header[1][1]) is not None:
        batch.problems.append(
            ValueProblem(
                index=header[0],
                kpi_key="",
                period_end=None,
                reason=f"The first line must be the header: {','.join(HEADER)}.",
            )
        )
    for number, row in rows:
        batch.add(number, _line(number, row))
    return batch


def cmd_kpi_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import the file's figures; 0 when saved, 1 when any line was rejected (nothing saved), 2 when the command
    could not run (no such partnership or file, not UTF-8)."""
    from bot.cli_checks import reading_database
    from bot.clock import utcnow
    from bot.services import export
    from bot.services.errors import DomainError
    from bot.services.kpi_models import KpiSource
    from bot.services.kpi_values import FiguresRefused

    def fail(message: str) -> int:
        print(f"partnerpulse kpi import: {message}", file=sys.stderr)
        return 2

    path = Path(args.file)
    try:
        partnership_id = export.parse_partnership_id(args.partnership)
        text = path.read_bytes().decode("utf-8-sig")
    except DomainError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot read {args.file}: {exc.strerror or exc}")
    except UnicodeDecodeError:
        return fail(f"{args.file} is not UTF-8 text; save it as CSV UTF-8.")
    batch = parse_csv(text)
    if not batch.inputs and not batch.problems:
        print(f"{args.file}: no figures after the header line; nothing saved", file=sys.stderr)
        return 1
    with reading_database(settings, "kpi import") as uow_factory:
        try:
            result = batch.save(
                uow_factory, partnership_id, source=KpiSource.CSV, recorded_by=path.name, now=args.at or utcnow()
            )
        except FiguresRefused as refused:
            for p in refused.problems:
                again = f" It repeats line {p.same_as}." if p.same_as is not None else ""
                print(f"{args.file}:{p.index}: {p.reason}{again}", file=sys.stderr)
            count = len(refused.problems)
            print(f"nothing saved: {count} line{'s' if count != 1 else ''} rejected", file=sys.stderr)
            return 1
        except DomainError as exc:
            return fail(str(exc))
    print(
        f"saved {result.new + result.replaced} figures for partnership {partnership_id}: {result.new} new, {result.replaced} replaced"
    )
    return 0
