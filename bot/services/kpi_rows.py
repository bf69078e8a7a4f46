"""Stored KPI rows turned into the read models of ``bot.services.kpi_models``, each figure judged by the version
in force for its period (``kpi_rules.version_in_force``): the one place a stored figure gets its status."""

from __future__ import annotations

from collections.abc import Sequence

from bot.services import kpi_rules
from bot.services.kpi_models import (
    KpiDefinition,
    KpiDirection,
    KpiFigure,
    KpiPeriod,
    KpiSource,
    KpiVersionStatus,
    KpiVersionView,
    KpiView,
)
from bot.services.partnership_models import Side
from bot.services.read_models_from_rows import view_from_row
from storage.models import Kpi, KpiValue, KpiVersion
from storage.repositories.kpi_figures import KpiRow, KpiValueRow, KpiVersionRow

_AWAITING = (KpiVersionStatus.PROPOSED, KpiVersionStatus.DISCUSSING)


def version_view(row: KpiVersion | KpiVersionRow, delivered_by: str) -> KpiVersionView:
    definition = view_from_row(
        KpiDefinition,
        row,
        direction=KpiDirection(row.direction),
        period=KpiPeriod(row.period),
        delivered_by=Side(delivered_by),
    )
    return view_from_row(
        KpiVersionView,
        row,
        definition=definition,
        status=KpiVersionStatus(row.status),
        proposed_side=Side(row.proposed_side),
    )


def kpi_view(kpi: Kpi | KpiRow, versions: Sequence[KpiVersion | KpiVersionRow]) -> KpiView:
    """``versions``: all of the KPI's versions (any order)."""
    return kpi_view_of(kpi, [version_view(v, kpi.delivered_by) for v in versions])


def kpi_view_of(kpi: Kpi | KpiRow, versions: Sequence[KpiVersionView]) -> KpiView:
    """``kpi_view`` from the KPI's versions already made views (any order)."""
    views = sorted(versions, key=lambda v: v.version)
    current = next((v for v in views if v.version == kpi.current_version), None)
    awaiting = [v for v in views if v.status in _AWAITING]
    return KpiView(
        id=kpi.id,
        partnership_id=kpi.partnership_id,
        number=kpi.number,
        key=kpi.key,
        delivered_by=Side(kpi.delivered_by),
        current=current,
        pending=awaiting[-1] if awaiting else None,
        retired=kpi.retired_at is not None,
    )


def figure_of(value: KpiValue | KpiValueRow, versions: Sequence[KpiVersionView]) -> KpiFigure | None:
    """The figure judged by the version in force for its period; None when no version was ever agreed (a figure
    is only recorded for an agreed KPI, so this is a stored row from before its agreement was withdrawn)."""
    version = kpi_rules.version_in_force(versions, value.period_end)
    if version is None:
        return None
    return KpiFigure(
        kpi_id=value.kpi_id,
        period_end=value.period_end,
        value=value.value,
        rag=kpi_rules.rag_of(value.value, version.definition),
        on_target=kpi_rules.on_target(value.value, version.definition),
        version=version.version,
        note=value.note,
        source=KpiSource(value.source),
    )
