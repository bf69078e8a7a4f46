"""What the CSV import and the HTTP endpoint share when they turn text into figures to record: a period end
written as YYYY-MM-DD, and a batch saved whole with every problem named by the edge's own positions (a CSV file's
line numbers, the JSON array's indexes), the malformed entries' and the rules' together in one answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from bot.services import kpi_values
from bot.services.kpi_models import KpiSource, KpiValueInput
from bot.services.kpi_value_models import RecordedFigures, ValueProblem
from bot.services.kpi_values import FiguresRefused
from storage.uow import UowFactory

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def period_end_from(text: str) -> date | None:
    """The date written as YYYY-MM-DD, or None for anything else."""
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def bad_date(position: int, kpi_key: str, text: str) -> ValueProblem:
    return ValueProblem(
        index=position, kpi_key=kpi_key, period_end=None, reason=f"'{text}' is not a date written as YYYY-MM-DD."
    )


@dataclass
class ParsedBatch:
    """A batch as the edge read it: the well-formed entries with their positions, and the malformed ones' problems
    (each ``index`` a position)."""

    inputs: list[KpiValueInput] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    problems: list[ValueProblem] = field(default_factory=list)

    def add(self, position: int, parsed: KpiValueInput | ValueProblem) -> None:
        if isinstance(parsed, ValueProblem):
            self.problems.append(parsed)
        else:
            self.inputs.append(parsed)
            self.positions.append(position)

    def _at_positions(self, problems: Sequence[ValueProblem]) -> list[ValueProblem]:
        def at(index: int | None) -> int | None:
            return None if index is None else self.positions[index]

        return [replace(p, index=self.positions[p.index], same_as=at(p.same_as)) for p in problems]

    def save(
        self,
        uow_factory: UowFactory,
        partnership_id: int,
        *,
        source: KpiSource,
        recorded_by: str,
        now: datetime,
    ) -> RecordedFigures:
        """Save the batch whole (``kpi_values.record_values``).

        Raises:
            FiguresRefused: nothing saved; every problem, the malformed entries' and the rules', by position.
            NotFound: the partnership no longer exists.
        """
        if self.problems:
            found = kpi_values.check_values(uow_factory, partnership_id, self.inputs, now=now) if self.inputs else []
            found = self._at_positions(found)
            raise FiguresRefused(sorted(self.problems + found, key=lambda p: p.index))
        try:
            return kpi_values.record_values(
                uow_factory, partnership_id, self.inputs, source=source, recorded_by=recorded_by, now=now
            )
        except FiguresRefused as refused:
            if not self.inputs:
                raise
            raise FiguresRefused(self._at_positions(refused.problems)) from None
