"""The KPI ledger (DESIGN 3.6): KPIs numbered per partnership, and their versions as proposed and agreed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select

from storage.models import Kpi, KpiValue, KpiVersion, Partnership
from storage.repositories.base import TableRepository, claiming


class KpiRepository(TableRepository[Kpi]):
    """A partnership's KPIs, found by id, number or key."""

    model = Kpi

    def get_by_key(self, partnership_id: int, key: str) -> Kpi | None:
        return self.find_one(Kpi.partnership_id == partnership_id, Kpi.key == key)

    def _claim_agreed(self, condition: ColumnElement[bool], limit: int, *, with_partnership: bool = False) -> Sequence[Kpi]:
        """Agreed, unretired KPIs meeting ``condition``, claimed (``claiming``). ``with_partnership``: each KPI's
        partnership is claimed with it, in the same statement, for a pass that goes on to change the partnership
        (a lead's answer locks the partnership first, then the KPI: taking the KPI alone first would invert that
        order, and the two could deadlock)."""
        stmt = (
            select(Kpi)
            .where(Kpi.retired_at.is_(None), Kpi.current_version.is_not(None), condition)
            .order_by(Kpi.id)
            .limit(limit)
        )
        if not with_partnership:
            return self.session.scalars(claiming(stmt, Kpi)).all()
        stmt = stmt.join(Partnership, Partnership.id == Kpi.partnership_id)
        return self.session.scalars(claiming(stmt, Kpi, Partnership)).all()

    def claim_unchecked_figures(self, limit: int) -> Sequence[Kpi]:
        """Agreed, unretired KPIs with a figure recorded after their ``red_checked_at``, each claimed with its
        partnership (the red-KPI pass, ``bot.services.kpi_red``, may log an issue, which takes the partnership's
        next issue number)."""
        since = func.coalesce(Kpi.red_checked_at, datetime.min)
        condition = exists().where(KpiValue.kpi_id == Kpi.id, KpiValue.recorded_at > since)
        return self._claim_agreed(condition, limit, with_partnership=True)

    def claim_due_requests(self, now: datetime, limit: int) -> Sequence[Kpi]:
        """Agreed, unretired KPIs whose owner's form is due (``next_request_at`` come), and those agreed but not
        yet scheduled (``next_request_at`` NULL); claimed without their partnerships (``kpi_requests`` only queues
        messages)."""
        return self._claim_agreed(or_(Kpi.next_request_at.is_(None), Kpi.next_request_at <= now), limit)

    def get_by_request_key(self, partnership_id: int, request_key: str) -> Kpi | None:
        return self.find_one(Kpi.partnership_id == partnership_id, Kpi.request_key == request_key)

    def of_partnership(self, partnership_id: int) -> list[Kpi]:
        """The ledger: every KPI of the partnership (retired ones too), by number."""
        stmt = select(Kpi).where(Kpi.partnership_id == partnership_id).order_by(Kpi.number)
        return list(self.session.scalars(stmt))

    def recent_values(self, kpi_id: int, limit: int) -> list[KpiValue]:
        """The KPI's ``limit`` latest figures, oldest first (what its card shows)."""
        stmt = select(KpiValue).where(KpiValue.kpi_id == kpi_id).order_by(KpiValue.period_end.desc()).limit(limit)
        return list(self.session.scalars(stmt))[::-1]


class KpiVersionRepository(TableRepository[KpiVersion]):
    """The versions of KPIs, oldest first."""

    model = KpiVersion

    def of_kpi(self, kpi_id: int) -> list[KpiVersion]:
        stmt = select(KpiVersion).where(KpiVersion.kpi_id == kpi_id).order_by(KpiVersion.version)
        return list(self.session.scalars(stmt))

    def get_version(self, kpi_id: int, version: int) -> KpiVersion | None:
        return self.find_one(KpiVersion.kpi_id == kpi_id, KpiVersion.version == version)

    def of_kpis(self, kpi_ids: Sequence[int]) -> list[KpiVersion]:
        """The versions of several KPIs in one read (the ledger), by KPI and version."""
        if not kpi_ids:
            return []
        stmt = select(KpiVersion).where(KpiVersion.kpi_id.in_(list(kpi_ids))).order_by(KpiVersion.kpi_id, KpiVersion.version)
        return list(self.session.scalars(stmt))
