"""The KPI tables (migration 0011): one figure per KPI and period, the watermelon check's signal kinds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from storage.models import Kpi, KpiValue, Signal
from storage.uow import UnitOfWorkFactory
from tests.factories import issue_world_at_revision, make_issue_world

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


def test_stored_figures_are_judged_by_the_version_in_force_for_their_period(uow_factory: UnitOfWorkFactory) -> None:
    """Version 1 (target 80, amber 75, red 65) judges November; version 2 (target 90, amber 85, red 70), agreed
    effective 1 December, judges the week ending 6 December. The same figure, 78, is green in November (not
    worse than 75) and amber in December (worse than 85, not worse than 70)."""
    from bot.services import kpi_rows
    from bot.services.kpi_models import KpiVersionStatus, Rag
    from storage.models import KpiVersion

    _, kpi_id = _kpi(uow_factory)
    common = dict(
        measure="m", unit="%", direction="higher", period="weekly", dimension="responsiveness", proposed_side="provider"
    )
    with uow_factory() as uow:
        for number, status, levels, since in (
            (1, "superseded", (80, 75, 65), date(2026, 10, 1)),
            (2, "agreed", (90, 85, 70), date(2026, 12, 1)),
            (3, "proposed", (95, 90, 80), None),
        ):
            uow.kpi_versions.add(
                KpiVersion(
                    kpi_id=kpi_id,
                    version=number,
                    name="FCR",
                    target=levels[0],
                    amber=levels[1],
                    red=levels[2],
                    status=status,
                    proposed_by="UP1",
                    proposed_at=NOW,
                    effective_from=since,
                    **common,
                )
            )
        kpi = uow.kpis.get(kpi_id)
        assert kpi is not None
        kpi.current_version = 2
        for period_end in (date(2026, 11, 29), date(2026, 12, 6)):
            uow.kpi_values.add(
                KpiValue(kpi_id=kpi_id, period_end=period_end, value=78, source="api", recorded_by="t", recorded_at=NOW)
            )
        uow.commit()
    with uow_factory() as uow:
        kpi = uow.kpis.get(kpi_id)
        assert kpi is not None
        view = kpi_rows.kpi_view(kpi, uow.kpi_versions.of_kpi(kpi_id))
        assert view.current is not None and view.current.version == 2
        assert view.pending is not None and view.pending.status is KpiVersionStatus.PROPOSED
        assert view.latest.version == 3
        versions = [kpi_rows.version_view(v, "provider") for v in uow.kpi_versions.of_kpi(kpi_id)]
        november = uow.kpi_values.get_for_period(kpi_id, date(2026, 11, 29))
        december = uow.kpi_values.get_for_period(kpi_id, date(2026, 12, 6))
        assert november is not None and december is not None
        n, d = kpi_rows.figure_of(november, versions), kpi_rows.figure_of(december, versions)
    assert n is not None and (n.rag, n.on_target, n.version) == (Rag.GREEN, False, 1)
    assert d is not None and (d.rag, d.on_target, d.version) == (Rag.AMBER, False, 2)


def test_migrating_keeps_the_rows_that_refer_to_a_copied_table(empty_database_url: str) -> None:
    """0011 changes ``actions`` and ``signals``; on SQLite a changed table is copied and the old one dropped. With
    foreign keys on, that drop deleted every action's history (action_events, ON DELETE CASCADE); the migrations
    now run with them off and check every reference afterwards."""
    from sqlalchemy import text

    from storage import migrate

    with issue_world_at_revision(empty_database_url, "0010", now=NOW) as (engine, pid):
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO actions (id, partnership_id, title, owner_id, side, due_on, status, created_by, "
                    "created_at, updated_at) VALUES (7, :pid, 'Fix the access form', 'UC1', 'client', '2026-12-09', "
                    "'open', 'UCL', :at, :at)"
                ),
                {"pid": pid, "at": NOW},
            )
            conn.execute(
                text(
                    "INSERT INTO action_events (action_id, at, actor, kind, status) VALUES (7, :at, 'UCL', 'created', 'open')"
                ),
                {"at": NOW},
            )
        engine.dispose()
        migrate.upgrade(empty_database_url)
        with engine.connect() as conn:
            events = conn.execute(text("SELECT action_id, kind FROM action_events")).all()
            kpi_id = conn.execute(text("SELECT kpi_id FROM actions WHERE id = 7")).scalar_one()
    assert [tuple(e) for e in events] == [(7, "created")]
    assert kpi_id is None
