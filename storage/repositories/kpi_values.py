"""The figures recorded for KPIs (one per KPI and period end) and the partnership tokens the HTTP endpoint takes."""

from __future__ import annotations

from datetime import date

from storage.models import ApiToken, KpiValue
from storage.repositories.base import TableRepository


class KpiValueRepository(TableRepository[KpiValue]):
    """Figures by KPI and period end."""

    model = KpiValue

    def get_for_period(self, kpi_id: int, period_end: date) -> KpiValue | None:
        return self.find_one(KpiValue.kpi_id == kpi_id, KpiValue.period_end == period_end)


class ApiTokenRepository(TableRepository[ApiToken]):
    """Bearer tokens, found by the SHA-256 of the token presented."""

    model = ApiToken

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        return self.find_one(ApiToken.token_hash == token_hash)
