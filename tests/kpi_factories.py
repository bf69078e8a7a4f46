"""Agreed KPIs and their figures, built as rows and stored straight through the repositories (the ledger's and the
recording's services are built apart; these tests need only what they store)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot.services.kpi_models import KpiDefinition, KpiDirection, KpiPeriod
from bot.services.partnership_models import Side
from storage.models import Kpi, KpiValue, KpiVersion

#: First-contact resolution, delivered by the provider, weekly: aim 80 %, amber below 75 %, red below 65 %.
FCR = KpiDefinition(
    name="First-contact resolution",
    measure="Tickets closed on the first contact / all tickets closed",
    unit="%",
    direction=KpiDirection.HIGHER,
    target=80,
    amber=75,
    red=65,
    period=KpiPeriod.WEEKLY,
    dimension="responsiveness",
    delivered_by=Side.PROVIDER,
)


def agreed_kpi_rows(
    number: int, *, partnership_id: int, effective_from: date, now: datetime, **definition: Any
) -> tuple[Kpi, KpiVersion]:
    """An agreed KPI numbered ``number`` and its version 1 (not stored). ``definition``: ``name``, ``dimension``,
    ``target``, ``amber``, ``red`` and optionally ``direction`` (higher), ``unit`` (%), ``period`` (weekly),
    ``delivered_by`` (provider)."""
    delivered_by = definition.pop("delivered_by", "provider")
    wording = {"direction": "higher", "unit": "%", "period": "weekly", **definition}
    kpi = Kpi(
        partnership_id=partnership_id, number=number, key=f"kpi-{number}", delivered_by=delivered_by,
        current_version=1, created_by="UPL", created_at=now,
    )  # fmt: skip
    version = KpiVersion(
        version=1, measure=f"How {wording['name'].lower()} is measured", status="agreed", proposed_side="provider",
        proposed_by="UPL", proposed_at=now, responded_by="UCL", responded_at=now, effective_from=effective_from,
        **wording,
    )  # fmt: skip
    return kpi, version


def add_agreed_kpi(uow_factory: Any, partnership_id: int, *, effective_from: date, now: datetime, **definition: Any) -> int:
    """Store ``agreed_kpi_rows`` under the partnership's next KPI number; returns the KPI's id."""
    with uow_factory() as uow:
        p = uow.partnerships.get(partnership_id)
        p.next_kpi_number += 1
        kpi, version = agreed_kpi_rows(
            p.next_kpi_number - 1, partnership_id=partnership_id, effective_from=effective_from, now=now, **definition
        )
        uow.kpis.add(kpi)
        version.kpi_id = kpi.id
        uow.kpi_versions.add(version)
        uow.commit()
        return kpi.id


def figure_row(kpi_id: int, period_end: date, value: float, *, now: datetime | None = None) -> KpiValue:
    return KpiValue(kpi_id=kpi_id, period_end=period_end, value=value, source="api", recorded_by="monitor", recorded_at=now)


def record_figure(uow_factory: Any, kpi_id: int, period_end: date, value: float, *, now: datetime) -> None:
    """Store one figure for the period ending ``period_end``."""
    with uow_factory() as uow:
        uow.kpi_values.add(figure_row(kpi_id, period_end, value, now=now))
        uow.commit()


def add_kpi(
    uow_factory: Any,
    partnership_id: int,
    *,
    key: str,
    now: datetime,
    number: int = 1,
    effective_from: date = date(2026, 10, 1),
    agreed: bool = True,
    retired: bool = False,
    owner_id: str | None = None,
    **definition: Any,
) -> int:
    """A KPI named by ``key`` with one version (``agreed_kpi_rows``'s, target 80, amber 75, red 65 unless
    ``definition`` says otherwise), left proposed when not ``agreed``, retired when ``retired``; its id."""
    wording = {"name": key.replace("-", " ").capitalize(), "dimension": "responsiveness", **definition}
    wording = {"target": 80.0, "amber": 75.0, "red": 65.0, **wording}
    kpi, version = agreed_kpi_rows(number, partnership_id=partnership_id, effective_from=effective_from, now=now, **wording)
    kpi.key, kpi.retired_at, version.owner_id = key, now if retired else None, owner_id
    if not agreed:
        kpi.current_version = None
        version.status, version.effective_from, version.responded_by, version.responded_at = "proposed", None, None, None
    with uow_factory() as uow:
        uow.kpis.add(kpi)
        version.kpi_id = kpi.id
        uow.kpi_versions.add(version)
        uow.commit()
        return kpi.id


def stored_values(uow_factory: Any, kpi_id: int) -> list[tuple[date, float, str | None, str]]:
    """The KPI's stored figures, oldest period first: (period end, value, note, source)."""
    from sqlalchemy import select

    with uow_factory() as uow:
        rows = uow.session.scalars(select(KpiValue).where(KpiValue.kpi_id == kpi_id).order_by(KpiValue.period_end))
        return [(r.period_end, r.value, r.note, r.source) for r in rows]
