"""A partnership's agreed KPIs and their figures read as of an instant (``KpiFigureQueries.agreed(as_of=...)``,
what a digest made then reads), and the table of replaced figures it needs (migration 0014).

One KPI, worked by hand (UTC; the partnership is in New York). The provider's lead proposes First-contact resolution
(weekly, target 80) and the client's lead agrees it at T0; its figure for the period ending Sun 6 Dec is recorded
three times; a change (target 90) proposed at T1 is agreed at T4; the KPI is retired at T5:

    T0  Tue 1 Dec 15:00   version 1 agreed
    T1  Mon 7 Dec 14:00   6 Dec: 60 recorded; version 2 proposed
    T2  Tue 8 Dec 14:00   6 Dec: 70 replaces 60
    T3  Wed 9 Dec 14:00   6 Dec: 80 replaces 70
    T4  Thu 10 Dec 14:00  version 2 agreed (version 1 superseded)
    T5  Fri 11 Dec 14:00  retired

    as of             KPI read   in force   versions   6 Dec
    T0 - 1 s          no         -          -          -
    T0                yes        1          1          none
    T1 - 1 s          yes        1          1          none
    T1                yes        1          1          60
    T2 - 1 s          yes        1          1          60
    T2                yes        1          1          70
    T3 - 1 s          yes        1          1          70
    T3                yes        1          1          80
    T4 - 1 s          yes        1          1          80
    T4                yes        2          1, 2       80
    T5 - 1 s          yes        2          1, 2       80    (not yet retired)
    T5                no
    now (no as_of)    no                                     (retired)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import inspect, select

from bot.services import kpi_values, kpis
from bot.services.kpi_ledger_models import KpiProposalInput
from bot.services.kpi_models import KpiSource, KpiValueInput
from storage import migrate
from storage.db import make_engine
from storage.models import KpiValueHistory
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world
from tests.kpi_factories import FCR

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
T2 = datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
T3 = datetime(2026, 12, 9, 14, 0, tzinfo=UTC)
T4 = datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
T5 = datetime(2026, 12, 11, 14, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
PERIOD = date(2026, 12, 6)


def _propose_and_agree(world: IssueWorld, data: KpiProposalInput, *, proposed: datetime, agreed: datetime) -> None:
    card = kpis.propose(world.uow_factory(), **world.where, actor="UPL", data=data, request_key=f"r{proposed}", now=proposed)
    kpis.respond(
        world.uow_factory(), **world.where, kpi_id=card.kpi.id, version=card.version.version, actor="UCL",
        agree=True, reason=None, now=agreed,
    )  # fmt: skip


def _record(world: IssueWorld, value: float, now: datetime) -> None:
    kpi_values.record_values(
        world.uow_factory, world.partnership_id, [KpiValueInput("first-contact-resolution", PERIOD, value)],
        source=KpiSource.API, recorded_by="monitor", now=now,
    )  # fmt: skip


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    """The story of the module's table, told through the services."""
    w = make_issue_world(uow_factory, now=T0 - timedelta(days=30))
    _propose_and_agree(w, KpiProposalInput(FCR), proposed=T0 - timedelta(hours=1), agreed=T0)
    _record(w, 60, T1)
    change = KpiProposalInput(replace(FCR, target=90, amber=85), "first-contact-resolution", change=True)
    card = kpis.propose(w.uow_factory(), **w.where, actor="UPL", data=change, request_key="change", now=T1)
    _record(w, 70, T2)
    _record(w, 80, T3)
    kpis.respond(w.uow_factory(), **w.where, kpi_id=card.kpi.id, version=2, actor="UCL", agree=True, reason=None, now=T4)
    kpis.retire(w.uow_factory(), **w.where, actor="UCL", key="first-contact-resolution", notice=None, now=T5)
    return w


def _read(world: IssueWorld, as_of: datetime | None) -> tuple[int | None, list[int], list[float]] | None:
    """The KPI as read as of ``as_of``: (its version in force, its versions, its 6 Dec figure); None: not read."""
    with world.uow_factory() as uow:
        found = uow.kpi_figures.agreed([world.partnership_id], since=PERIOD, until=PERIOD, as_of=as_of)
    if not found:
        return None
    (rows,) = found[world.partnership_id]
    assert rows.kpi.retired_at is None
    return rows.kpi.current_version, [v.version for v in rows.versions], [v.value for v in rows.values]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (T0 - SECOND, None),
        (T0, (1, [1], [])),
        (T1 - SECOND, (1, [1], [])),
        (T1, (1, [1], [60])),
        (T2 - SECOND, (1, [1], [60])),
        (T2, (1, [1], [70])),
        (T3 - SECOND, (1, [1], [70])),
        (T3, (1, [1], [80])),
        (T4 - SECOND, (1, [1], [80])),
        (T4, (2, [1, 2], [80])),
        (T5 - SECOND, (2, [1, 2], [80])),
        (T5, None),
        (None, None),
    ],
)
def test_the_kpi_and_its_figure_as_they_were(world: IssueWorld, as_of: datetime | None, expected: object) -> None:
    assert _read(world, as_of) == expected


def test_each_replaced_figure_is_kept_with_when_it_was_in_force(world: IssueWorld) -> None:
    with world.uow_factory() as uow:
        kept = uow.session.scalars(select(KpiValueHistory).order_by(KpiValueHistory.id)).all()
        got = [(h.period_end, h.value, h.source, h.recorded_by, h.recorded_at, h.replaced_at) for h in kept]
        current = uow.kpi_values.get_for_period(kept[0].kpi_id, PERIOD)
        assert current is not None and (current.value, current.recorded_at) == (80, T3)
    assert got == [(PERIOD, 60, "api", "monitor", T1, T2), (PERIOD, 70, "api", "monitor", T2, T3)]


def test_a_figure_first_recorded_after_the_instant_is_not_read_and_others_are(uow_factory: UnitOfWorkFactory) -> None:
    world = make_issue_world(uow_factory, now=T0 - timedelta(days=30))
    _propose_and_agree(world, KpiProposalInput(FCR), proposed=T0, agreed=T0)
    kpi_values.record_values(
        world.uow_factory, world.partnership_id,
        [KpiValueInput("first-contact-resolution", date(2026, 11, 29), 50), KpiValueInput("first-contact-resolution", PERIOD, 60)],
        source=KpiSource.CSV, recorded_by="nov.csv", now=T1,
    )  # fmt: skip
    _record(world, 90, T3)  # 6 Dec replaced; 29 Nov stays as recorded at T1
    with world.uow_factory() as uow:
        read = uow.kpi_figures.agreed([world.partnership_id], since=date(2026, 11, 29), until=PERIOD, as_of=T2)
    ((rows,),) = read.values()
    assert [(v.period_end, v.value, v.source) for v in rows.values] == [
        (date(2026, 11, 29), 50, "csv"),
        (PERIOD, 60, "csv"),
    ]


def test_migration_0014_adds_the_table_and_goes_down_and_up_again(empty_database_url: str) -> None:
    config = migrate.alembic_config(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        migrate.upgrade(empty_database_url)
        assert "kpi_value_history" in inspect(engine).get_table_names()
        command.downgrade(config, "0013_installations")
        engine.dispose()
        assert "kpi_value_history" not in inspect(engine).get_table_names()
        command.upgrade(config, "head")
        engine.dispose()
        assert migrate.current_revision(engine) == migrate.head_revision() == "0014_kpi_value_history"
        columns = {c["name"] for c in inspect(engine).get_columns("kpi_value_history")}
        assert columns == {
            "id", "kpi_id", "period_end", "value", "note", "source", "recorded_by", "recorded_at", "replaced_at",
        }  # fmt: skip
    finally:
        engine.dispose()
