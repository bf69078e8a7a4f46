"""The KPI ledger (DESIGN 3.6): KPIs numbered per partnership, and their versions as proposed and agreed."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Kpi, KpiVersion
from storage.repositories.base import TableRepository


class KpiRepository(TableRepository[Kpi]):
    """A partnership's KPIs, found by id, number or key."""

    model = Kpi

    def get_by_key(self, partnership_id: int, key: str) -> Kpi | None:
        return self.find_one(Kpi.partnership_id == partnership_id, Kpi.key == key)


class KpiVersionRepository(TableRepository[KpiVersion]):
    """The versions of KPIs, oldest first."""

    model = KpiVersion

    def of_kpi(self, kpi_id: int) -> list[KpiVersion]:
        stmt = select(KpiVersion).where(KpiVersion.kpi_id == kpi_id).order_by(KpiVersion.version)
        return list(self.session.scalars(stmt))
