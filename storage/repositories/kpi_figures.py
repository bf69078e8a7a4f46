"""The agreed KPIs of many partnerships with their versions and recent figures, read in three statements
whatever the number of partnerships (the digest's batched way; the watermelon check and the export use them)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from storage.models import Kpi, KpiValue, KpiVersion
from storage.repositories.base import Repository


@dataclass
class KpiRows:
    """One agreed, unretired KPI: its row, all its versions (oldest first) and its figures in the window read."""

    kpi: Kpi
    versions: list[KpiVersion] = field(default_factory=list)
    values: list[KpiValue] = field(default_factory=list)


class KpiFigureQueries(Repository):
    """Batched reads of agreed KPIs and their figures."""

    def has_agreed(self, partnership_id: int) -> bool:
        """Whether the partnership has an agreed, unretired KPI."""
        stmt = select(Kpi.id).where(
            Kpi.partnership_id == partnership_id, Kpi.current_version.is_not(None), Kpi.retired_at.is_(None)
        )
        return self.session.scalars(stmt.limit(1)).first() is not None

    def agreed(self, partnership_ids: Collection[int], *, since: date, until: date) -> dict[int, list[KpiRows]]:
        """Per partnership (absent: none), its agreed, unretired KPIs by number, each with every version and its
        figures for periods ending from ``since`` to ``until`` (inclusive), oldest first."""
        if not partnership_ids:
            return {}
        chosen = (
            select(Kpi.id)
            .where(Kpi.partnership_id.in_(partnership_ids), Kpi.current_version.is_not(None), Kpi.retired_at.is_(None))
            .scalar_subquery()
        )
        kpis = self.session.scalars(select(Kpi).where(Kpi.id.in_(chosen)).order_by(Kpi.partnership_id, Kpi.number)).all()
        if not kpis:
            return {}
        by_id = {k.id: KpiRows(k) for k in kpis}
        for version in self.session.scalars(
            select(KpiVersion).where(KpiVersion.kpi_id.in_(chosen)).order_by(KpiVersion.kpi_id, KpiVersion.version)
        ):
            by_id[version.kpi_id].versions.append(version)
        for value in self.session.scalars(
            select(KpiValue)
            .where(KpiValue.kpi_id.in_(chosen), KpiValue.period_end >= since, KpiValue.period_end <= until)
            .order_by(KpiValue.kpi_id, KpiValue.period_end)
        ):
            by_id[value.kpi_id].values.append(value)
        found: dict[int, list[KpiRows]] = {}
        for rows in by_id.values():
            found.setdefault(rows.kpi.partnership_id, []).append(rows)
        return found
