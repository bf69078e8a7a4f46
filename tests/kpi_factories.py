"""Agreed KPIs and their figures stored straight through the repositories (the ledger's and the recording's
services are built apart; these tests need only what they store)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from storage.models import Kpi, KpiValue, KpiVersion


def add_agreed_kpi(
    uow_factory: Any,
    partnership_id: int,
    *,
    name: str,
    dimension: str,
    target: float,
    amber: float,
    red: float,
    effective_from: date,
    now: datetime,
    direction: str = "higher",
    unit: str = "%",
    period: str = "weekly",
    delivered_by: str = "provider",
) -> int:
    """A KPI with one agreed version (version 1, effective from ``effective_from``); returns its id."""
    with uow_factory() as uow:
        p = uow.partnerships.get(partnership_id)
        number = p.next_kpi_number
        p.next_kpi_number = number + 1
        kpi = uow.kpis.add(
            Kpi(
                partnership_id=partnership_id,
                number=number,
                key=f"kpi-{number}",
                delivered_by=delivered_by,
                current_version=1,
                created_by="UPL",
                created_at=now,
            )
        )
        uow.kpi_versions.add(
            KpiVersion(
                kpi_id=kpi.id,
                version=1,
                name=name,
                measure=f"How {name.lower()} is measured",
                unit=unit,
                direction=direction,
                target=target,
                amber=amber,
                red=red,
                period=period,
                dimension=dimension,
                status="agreed",
                proposed_side="provider",
                proposed_by="UPL",
                proposed_at=now,
                responded_by="UCL",
                responded_at=now,
                effective_from=effective_from,
            )
        )
        uow.commit()
        return kpi.id


def record_figure(uow_factory: Any, kpi_id: int, period_end: date, value: float, *, now: datetime) -> None:
    """One figure for the period ending ``period_end``."""
    with uow_factory() as uow:
        uow.kpi_values.add(
            KpiValue(kpi_id=kpi_id, period_end=period_end, value=value, source="api", recorded_by="monitor", recorded_at=now)
        )
        uow.commit()
