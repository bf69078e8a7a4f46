"""The figures recorded for KPIs (one per KPI and period end) and the partnership tokens the HTTP endpoint takes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select

from storage.models import KPI_FIGURE_FIELDS, ApiToken, KpiValue, KpiValueHistory
from storage.repositories.base import TableRepository


class KpiValueRepository(TableRepository[KpiValue]):
    """Figures by KPI and period end."""

    model = KpiValue

    def get_for_period(self, kpi_id: int, period_end: date) -> KpiValue | None:
        return self.find_one(KpiValue.kpi_id == kpi_id, KpiValue.period_end == period_end)

    def replace(
        self, row: KpiValue, *, value: float, note: str | None, source: str, recorded_by: str, recorded_at: datetime
    ) -> None:
        """Overwrite the stored figure with a new one for its KPI and period, keeping the old one in
        ``kpi_value_history`` (replaced at the new one's ``recorded_at``): a digest reads it as it was."""
        self.session.add(KpiValueHistory(**{f: getattr(row, f) for f in KPI_FIGURE_FIELDS}, replaced_at=recorded_at))
        row.value, row.note, row.source, row.recorded_by, row.recorded_at = value, note, source, recorded_by, recorded_at

    def latest(self, kpi_id: int, count: int) -> Sequence[KpiValue]:
        """The KPI's ``count`` figures of the latest periods, latest first."""
        stmt = select(KpiValue).where(KpiValue.kpi_id == kpi_id).order_by(KpiValue.period_end.desc()).limit(count)
        return self.session.scalars(stmt).all()

    def last_recorded(self, kpi_ids: Sequence[int]) -> dict[int, datetime]:
        """When each KPI's figures were last recorded (or replaced)."""
        stmt = (
            select(KpiValue.kpi_id, func.max(KpiValue.recorded_at))
            .where(KpiValue.kpi_id.in_(kpi_ids))
            .group_by(KpiValue.kpi_id)
        )
        return {kpi_id: at for kpi_id, at in self.session.execute(stmt)}


class ApiTokenRepository(TableRepository[ApiToken]):
    """Bearer tokens, found by the SHA-256 of the token presented."""

    model = ApiToken

    def get_by_hash(self, token_hash: str) -> ApiToken | None:
        return self.find_one(ApiToken.token_hash == token_hash)

    def of_partnership(self, partnership_id: int) -> list[ApiToken]:
        """The partnership's tokens, oldest first (revoked ones too)."""
        stmt = select(ApiToken).where(ApiToken.partnership_id == partnership_id).order_by(ApiToken.id)
        return list(self.session.scalars(stmt))
