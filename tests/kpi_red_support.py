"""Agreed KPIs and their figures stored straight through the repositories, for the red-KPI tests (the ledger's
own forms and imports are tested elsewhere)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from storage.models import KpiValue
from tests.kpi_factories import agreed_kpi_rows


def add_agreed_kpi(
    uow_factory: Any,
    partnership_id: int,
    *,
    now: datetime,
    name: str = "First-contact resolution",
    key: str = "first-contact-resolution",
    delivered_by: str = "provider",
    owner_id: str | None = "UP1",
    created_by: str = "UCL",
    target: float = 75.0,
    amber: float = 70.0,
    red: float = 65.0,
    direction: str = "higher",
    period: str = "weekly",
    effective_from: date = date(2026, 1, 4),
) -> int:
    """An agreed KPI (version 1, proposed by the provider, agreed by the client); higher is better by default:
    below 65 is red, below 70 amber."""
    with uow_factory() as uow:
        p = uow.lock_partnership(partnership_id)
        number = p.next_kpi_number
        p.next_kpi_number = number + 1
        kpi, version = agreed_kpi_rows(
            number,
            partnership_id=partnership_id,
            effective_from=effective_from,
            now=now,
            name=name,
            dimension="quality",
            target=target,
            amber=amber,
            red=red,
            direction=direction,
            period=period,
            delivered_by=delivered_by,
            owner_id=owner_id,
        )
        kpi.key, kpi.created_by = key, created_by
        version.measure = "Tickets closed on the first contact / all tickets closed"
        uow.kpis.add(kpi)
        version.kpi_id = kpi.id
        uow.kpi_versions.add(version)
        uow.commit()
        return kpi.id


def record_figure(uow_factory: Any, kpi_id: int, period_end: date, value: float, *, now: datetime) -> None:
    """The KPI's figure for the period; a repeat replaces it (as every way of recording does)."""
    with uow_factory() as uow:
        row = uow.kpi_values.get_for_period(kpi_id, period_end)
        if row is None:
            uow.kpi_values.add(
                KpiValue(
                    kpi_id=kpi_id, period_end=period_end, value=value, source="api", recorded_by="test", recorded_at=now
                )
            )
        else:
            row.value, row.recorded_at = value, now
        uow.commit()
