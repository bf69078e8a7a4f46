"""Recording KPI figures (DESIGN 3.6), the one path for the Slack form, the CSV import and the HTTP endpoint.

A batch is saved whole or not at all: every entry is checked first (its KPI, its period, its value, its note, and
that no KPI and period appear twice), and one bad entry refuses the batch with every problem listed. A figure for
a KPI and period that already has one replaces it (a repeated import or push never duplicates); the figure it
replaces is kept, so a digest made before reads it as it was. What a period is and which version judges it comes
from ``kpi_rules``; the status shown for each figure from ``kpi_rows``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime

from bot.services import kpi_rows, kpi_rules
from bot.services.errors import DomainError, NotFound
from bot.services.kpi_models import MAX_KPI_TEXT, KpiFigure, KpiSource, KpiValueInput, KpiVersionView
from bot.services.kpi_value_models import RecordedFigures, ValueProblem
from bot.services.partnership_guards import today_in
from bot.text_hygiene import clean_text
from storage.models import Kpi, KpiValue, Partnership
from storage.uow import UnitOfWork, UowFactory

#: Who recorded a figure is a Slack user id, a file name or a token's label; longer names are cut to the column.
MAX_RECORDED_BY = 100


class FiguresRefused(DomainError):
    """The batch was refused whole; ``problems`` lists each bad entry with its reason."""

    def __init__(self, problems: Sequence[ValueProblem]) -> None:
        count = len(problems)
        super().__init__(f"Nothing was saved: {count} {'entry has' if count == 1 else 'entries have'} a problem.")
        self.problems = tuple(problems)


class _Checked:
    """One entry that passed every check, with its KPI and cleaned note."""

    def __init__(self, kpi: Kpi, versions: list[KpiVersionView], entry: KpiValueInput, note: str | None) -> None:
        self.kpi, self.versions, self.entry, self.note = kpi, versions, entry, note


def _clean_note(note: str | None) -> str | None:
    text = clean_text(note or "").strip()
    return text or None


def version_views(uow: UnitOfWork, kpi: Kpi) -> list[KpiVersionView]:
    """All the KPI's versions as read models (what ``kpi_rules.version_in_force`` chooses from)."""
    return [kpi_rows.version_view(v, kpi.delivered_by) for v in uow.kpi_versions.of_kpi(kpi.id)]


def _entry_problem(
    p: Partnership, found: tuple[Kpi, list[KpiVersionView]] | None, entry: KpiValueInput, note: str | None, now: datetime
) -> str | None:
    """Why this entry cannot be saved, in words for the person; None when it can."""
    if found is None:
        return f"There is no KPI with the key '{entry.kpi_key}' in this partnership."
    kpi, versions = found
    if kpi.retired_at is not None:
        return f"KPI '{kpi.key}' is retired; it takes no more figures."
    version = kpi_rules.version_in_force(versions, entry.period_end)
    if kpi.current_version is None or version is None:
        return f"KPI '{kpi.key}' is not agreed yet; figures are recorded once both sides agree it."
    period = version.definition.period
    if not kpi_rules.is_period_end(entry.period_end, period):
        due = kpi_rules.period_end_of(entry.period_end, period)
        return (
            f"{entry.period_end.isoformat()} is not the end of a {period.value} period of '{kpi.key}' "
            f"(that period ends {due.isoformat()})."
        )
    current_end = kpi_rules.period_end_of(today_in(p, now, kpi.delivered_by), period)
    if entry.period_end > current_end:
        return f"The period ending {entry.period_end.isoformat()} has not started yet."
    if not math.isfinite(entry.value):
        return "The value must be a number."
    if note is not None and len(note) > MAX_KPI_TEXT:
        return f"The note can be at most {MAX_KPI_TEXT:,} characters (this one has {len(note):,})."
    return None


def check_figures(
    uow: UnitOfWork, p: Partnership, inputs: Sequence[KpiValueInput], now: datetime
) -> tuple[list[_Checked], list[ValueProblem]]:
    """Every entry checked: the ones that can be saved, and the problems of the others."""
    checked: list[_Checked] = []
    problems: list[ValueProblem] = []
    first_seen: dict[tuple[str, date], int] = {}
    kpis: dict[str, tuple[Kpi, list[KpiVersionView]] | None] = {}
    for index, entry in enumerate(inputs):
        if entry.kpi_key not in kpis:
            kpi = uow.kpis.get_by_key(p.id, entry.kpi_key)
            kpis[entry.kpi_key] = (kpi, version_views(uow, kpi)) if kpi is not None else None
        found = kpis[entry.kpi_key]
        note = _clean_note(entry.note)
        reason = _entry_problem(p, found, entry, note, now)
        seen = first_seen.setdefault((entry.kpi_key, entry.period_end), index)
        same_as = seen if reason is None and seen != index else None
        if same_as is not None:
            reason = "The same KPI and period are given twice."
        if reason is not None:
            problems.append(
                ValueProblem(index=index, kpi_key=entry.kpi_key, period_end=entry.period_end, reason=reason, same_as=same_as)
            )
        elif found is not None:
            checked.append(_Checked(found[0], found[1], entry, note))
    return checked, problems


def check_values(
    uow_factory: UowFactory, partnership_id: int, inputs: Sequence[KpiValueInput], *, now: datetime
) -> list[ValueProblem]:
    """The problems ``record_values`` would refuse these entries for, saving nothing: an edge that found some of a
    batch's entries malformed reports the rules' problems with the rest in the same answer."""
    with uow_factory() as uow:
        p = uow.partnerships.get(partnership_id)
        if p is None:
            raise NotFound("This partnership no longer exists.")
        return check_figures(uow, p, inputs, now)[1]


def record_values(
    uow_factory: UowFactory,
    partnership_id: int,
    inputs: Sequence[KpiValueInput],
    *,
    source: KpiSource,
    recorded_by: str,
    now: datetime,
) -> RecordedFigures:
    """Save the batch whole: each figure new or replacing the stored one for its KPI and period.

    Raises:
        FiguresRefused: nothing saved; every bad entry with its reason (also for an empty batch).
        NotFound: the partnership no longer exists.
    """
    if not inputs:
        raise FiguresRefused([ValueProblem(index=0, kpi_key="", period_end=None, reason="No figures were given.")])
    with uow_factory() as uow:
        try:
            p = uow.lock_partnership(partnership_id)
        except LookupError:
            raise NotFound("This partnership no longer exists.") from None
        checked, problems = check_figures(uow, p, inputs, now)
        if problems:
            raise FiguresRefused(problems)
        new = replaced = 0
        figures: list[KpiFigure] = []
        by = recorded_by[:MAX_RECORDED_BY]
        for item in checked:
            row = uow.kpi_values.get_for_period(item.kpi.id, item.entry.period_end)
            if row is None:
                row = uow.kpi_values.add(
                    KpiValue(
                        kpi_id=item.kpi.id,
                        period_end=item.entry.period_end,
                        value=float(item.entry.value),
                        note=item.note,
                        source=source.value,
                        recorded_by=by,
                        recorded_at=now,
                    )
                )
                new += 1
            else:
                uow.kpi_values.replace(
                    row, value=float(item.entry.value), note=item.note, source=source.value, recorded_by=by, recorded_at=now
                )
                replaced += 1
            figure = kpi_rows.figure_of(row, item.versions)
            assert figure is not None, "a figure is only saved for an agreed KPI"
            figures.append(figure)
        uow.commit()
    return RecordedFigures(new=new, replaced=replaced, figures=tuple(figures))
