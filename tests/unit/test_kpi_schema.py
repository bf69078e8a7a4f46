"""The KPI tables (migration 0011): one figure per KPI and period, the watermelon check's signal kinds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from storage.models import Kpi, KpiValue, Signal
from storage.uow import UnitOfWorkFactory
from tests.factories import make_issue_world

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


def _kpi(uow_factory: UnitOfWorkFactory) -> tuple[int, int]:
    partnership_id = make_issue_world(uow_factory, now=NOW).partnership_id
    with uow_factory() as uow:
        kpi = uow.kpis.add(
            Kpi(partnership_id=partnership_id, number=1, key="fcr", delivered_by="provider", created_by="U1", created_at=NOW)
        )
        uow.commit()
        return partnership_id, kpi.id


def test_one_figure_per_kpi_and_period(uow_factory: UnitOfWorkFactory) -> None:
    _, kpi_id = _kpi(uow_factory)
    with uow_factory() as uow:
        uow.kpi_values.add(
            KpiValue(kpi_id=kpi_id, period_end=date(2026, 11, 29), value=80, source="csv", recorded_by="f", recorded_at=NOW)
        )
        uow.commit()
    with uow_factory() as uow, pytest.raises(IntegrityError):
        uow.kpi_values.add(
            KpiValue(kpi_id=kpi_id, period_end=date(2026, 11, 29), value=70, source="api", recorded_by="t", recorded_at=NOW)
        )
    with uow_factory() as uow:
        stored = uow.kpi_values.get_for_period(kpi_id, date(2026, 11, 29))
        assert stored is not None and stored.value == 80


def test_the_watermelon_signal_kinds_are_accepted_and_others_refused(uow_factory: UnitOfWorkFactory) -> None:
    partnership_id, _ = _kpi(uow_factory)
    with uow_factory() as uow:
        for kind in ("kpis_green_unhappy", "kpis_red_happy"):
            uow.session.add(
                Signal(partnership_id=partnership_id, kind=kind, subject="responsiveness", dedupe_key=kind, created_at=NOW)
            )
        uow.commit()
    with uow_factory() as uow, pytest.raises(IntegrityError):
        uow.session.add(Signal(partnership_id=partnership_id, kind="melon", subject="x", dedupe_key="m", created_at=NOW))
        uow.session.flush()
