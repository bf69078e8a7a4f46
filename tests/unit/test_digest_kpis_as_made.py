"""A digest's KPI part reads as it did when the digest was made ("history is shown as it was"), wherever it is
rendered again: at send time, in its thread, in the batched sender, its signals, and the export's past weeks.

The partnership (Northwind client, Contoso provider, New York, digest Fridays 16:00, threshold 3) has its digest
of Fri 11 Dec 2026 21:00 UTC (the week of Fri 4 Dec), made at that instant. Its week's KPI figures are for the
period ending Sun 6 Dec, recorded the day before:

    #1 First-contact resolution   responsiveness   target 80, amber 75, red 65   60 -> red
    #2 Handover notes on time     trust            target 95, amber 90, red 80   96 -> green

One round closed on Wed 9 Dec: the client rates trust 2.7 (unhappy), both sides responsiveness 4.0 and 4.3
(happy), so the digest pairs trust "KPIs green, people unhappy" and responsiveness "people happy, KPIs red".

Two days after it was made, #1's figure is replaced by 85 (green), #2 is retired, and #3 (Value reviews held,
value) is agreed with a figure of 4 for the same period. None of that may change how the digest reads.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.services import digest, digest_schedule, export, kpi_charts, kpi_values, kpis, watermelon_signals
from bot.services.kpi_models import KpiSource, KpiValueInput, Rag
from bot.services.partnership_models import Side
from bot.services.watermelon_models import Pairing
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, add_closed_round, answers_for, make_issue_world
from tests.kpi_factories import add_agreed_kpi

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
DIGEST_AT = datetime(2026, 12, 11, 21, 0, tzinfo=UTC)
WEEK_START = date(2026, 12, 4)
PERIOD = date(2026, 12, 6)
LATER = DIGEST_AT + timedelta(days=2)

#: How the digest reads: (KPI key, figure, status) by dimension in the bank's order.
AS_MADE = [("kpi-2", 96.0, Rag.GREEN), ("kpi-1", 60.0, Rag.RED)]


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    w = make_issue_world(uow_factory, now=START)
    f, pid = w.uow_factory, w.partnership_id
    client = answers_for(Side.CLIENT, {"trust": [2, 3, 3], "responsiveness": [4, 4, 4]})
    provider = answers_for(Side.PROVIDER, {"trust": [4, 4, 5], "responsiveness": [4, 5, 4]})
    add_closed_round(f, partnership_id=pid, closed_at=datetime(2026, 12, 9, 15, 0, tzinfo=UTC), answers=client + provider)
    for name, dimension, target, amber, red in (
        ("First-contact resolution", "responsiveness", 80, 75, 65),
        ("Handover notes on time", "trust", 95, 90, 80),
    ):
        add_agreed_kpi(
            f, pid, effective_from=date(2026, 11, 2), now=START, name=name, dimension=dimension, target=target,
            amber=amber, red=red,
        )  # fmt: skip
    _record(w, {"kpi-1": 60, "kpi-2": 96}, now=DIGEST_AT - timedelta(days=1))
    return w


def _record(world: IssueWorld, figures: dict[str, float], *, now: datetime) -> None:
    kpi_values.record_values(
        world.uow_factory,
        world.partnership_id,
        [KpiValueInput(kpi_key=key, period_end=PERIOD, value=value) for key, value in figures.items()],
        source=KpiSource.API,
        recorded_by="monitor",
        now=now,
    )


def _queue_digest(world: IssueWorld) -> int:
    """The week's digest made at ``DIGEST_AT`` (its signals not sent); its row's id."""
    with world.uow_factory() as uow:
        uow.partnerships.get(world.partnership_id).next_digest_at = DIGEST_AT
        uow.commit()
    assert digest_schedule.queue_due_digests(world.uow_factory, now=DIGEST_AT) == 1
    with world.uow_factory() as uow:
        row = uow.digests.get_for_week(world.partnership_id, WEEK_START)
        assert row is not None and row.created_at == DIGEST_AT
        return row.id


def _change_everything_later(world: IssueWorld) -> None:
    """After the digest was made: #1's figure replaced, #2 retired, #3 agreed with a figure for the same period."""
    _record(world, {"kpi-1": 85}, now=LATER)
    kpis.retire(world.uow_factory(), **world.where, actor=world.client_lead, key="kpi-2", notice=None, now=LATER)
    add_agreed_kpi(
        world.uow_factory, world.partnership_id, effective_from=date(2026, 12, 1), now=LATER,
        name="Value reviews held", dimension="value", target=4, amber=3, red=2, unit="", delivered_by="client",
    )  # fmt: skip
    _record(world, {"kpi-3": 4}, now=LATER)


def _figures(view: digest.DigestView) -> list[tuple[str, float | None, Rag | None]]:
    assert view.kpis is not None
    return [(k.key, None if k.figure is None else k.figure.value, k.rag) for c in view.kpis.dimensions for k in c.kpis]


def test_a_digest_rendered_again_reads_its_kpis_as_they_were_when_it_was_made(world: IssueWorld) -> None:
    f = world.uow_factory
    digest_id = _queue_digest(world)
    sent = digest.digest_for(f(), digest_id=digest_id, now=DIGEST_AT)
    assert sent is not None and _figures(sent) == AS_MADE
    charts = kpi_charts.charts_of_week(f(), sent, digest_thread=False)
    assert [(c.line.key, c.points[-1].figure.value if c.points[-1].figure else None) for c in charts] == [
        ("kpi-1", 60.0),
        ("kpi-2", 96.0),
    ]

    _change_everything_later(world)

    # The sender (one digest, and a claimed batch), its thread and DM copies: the same view.
    again = digest.digest_for(f(), digest_id=digest_id, now=LATER)
    assert again is not None and _figures(again) == AS_MADE and again.kpis == sent.kpis
    batched = digest.digests_for(f(), digest_ids=[digest_id], now=LATER)[digest_id]
    assert batched.kpis == sent.kpis
    # The KPI charts in its thread.
    assert kpi_charts.charts_of_week(f(), again, digest_thread=False) == charts
    # The export of that past week.
    report = export.build_export(f, partnership_id=world.partnership_id, start=WEEK_START, end=WEEK_START, now=LATER)
    (week,) = report.weeks
    assert week.kpis == sent.kpis
    assert report.kpi_charts == charts
    # The ledger and a digest made now see today's figures.
    assert _figures(digest.build_digest(f(), partnership_id=world.partnership_id, week_start=WEEK_START, now=LATER)) == [
        ("kpi-1", 85.0, Rag.GREEN),
        ("kpi-3", 4.0, Rag.GREEN),
    ]


def test_the_weeks_signals_are_the_pairings_of_the_digest_as_it_was_made(world: IssueWorld) -> None:
    _queue_digest(world)
    _change_everything_later(world)
    with world.uow_factory() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert watermelon_signals.signal_week(uow, p, DIGEST_AT, LATER) == 2
        view = digest.build_in(uow, p, ends_at=DIGEST_AT, now=LATER, kpis_as_of=DIGEST_AT)
    assert view.kpis is not None
    assert [(c.dimension, c.pairing) for c in view.kpis.pairings] == [
        ("trust", Pairing.GREEN_UNHAPPY),
        ("responsiveness", Pairing.RED_HAPPY),
    ]


def test_a_batch_of_digests_made_at_different_instants_reads_each_as_it_was_made(world: IssueWorld) -> None:
    # The week before's digest, made Fri 4 Dec 21:00, read #1's figure for the period ending Sun 29 Nov: 70,
    # replaced by 50 on Tue 8 Dec, before this week's digest was made.
    f, first_made = world.uow_factory, DIGEST_AT - timedelta(days=7)
    kpi_values.record_values(
        f, world.partnership_id, [KpiValueInput("kpi-1", date(2026, 11, 29), 70)], source=KpiSource.CSV,
        recorded_by="nov.csv", now=first_made - timedelta(days=3),
    )  # fmt: skip
    with f() as uow:
        uow.partnerships.get(world.partnership_id).next_digest_at = first_made
        uow.commit()
    assert digest_schedule.queue_due_digests(f, now=first_made) == 1
    kpi_values.record_values(
        f, world.partnership_id, [KpiValueInput("kpi-1", date(2026, 11, 29), 50)], source=KpiSource.CSV,
        recorded_by="nov-fixed.csv", now=first_made + timedelta(days=4),
    )  # fmt: skip
    latest = _queue_digest(world)
    with f() as uow:
        row = uow.digests.get_for_week(world.partnership_id, WEEK_START - timedelta(days=7))
        assert row is not None and row.created_at == first_made
        earlier = row.id
    _change_everything_later(world)

    batch = digest.digests_for(f(), digest_ids=[earlier, latest], now=LATER)
    assert _figures(batch[earlier]) == [("kpi-2", None, None), ("kpi-1", 70.0, Rag.AMBER)]
    assert _figures(batch[latest]) == AS_MADE
    for digest_id, view in batch.items():
        alone = digest.digest_for(f(), digest_id=digest_id, now=LATER)
        assert alone is not None and alone.kpis == view.kpis
