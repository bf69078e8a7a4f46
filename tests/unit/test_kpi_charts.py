"""A KPI's chart (issue 14 item 5): the numbers plotted, which KPIs the digest's thread shows, and the export's
images. SQLite; PostgreSQL with TEST_DATABASE_URL.

The partnership (Northwind client, Contoso provider, New York, set up Mon 2 Nov 2026) has its digest of Fri 11 Dec
2026 21:00 UTC: the week's last whole local day is Thu 10 Dec, so a weekly KPI's latest period ends Sun 6 Dec and its
12 periods are the Sundays 20 Sep ... 6 Dec.

"First-contact resolution" (responsiveness, higher is better), weekly:

    version  effective from  target  amber  red
    1        2 Nov           80      75     65
    2        23 Nov          90      85     70

    period end   figure   version in force   status
    20 Sep-1 Nov  -       1 (before any agreement: the first)  gap
    8 Nov        82       1                  green (not below 75)
    15 Nov       72       1                  amber (below 75, not below 65)
    22 Nov        -       1                  gap, not a zero
    29 Nov       82       2                  amber (below 85; version 1 would say green)
    6 Dec        68       2                  red (below 70; version 1 would say amber)

One round closed Wed 9 Dec: responsiveness client 4 4 4 -> 4.0, provider 4 5 4 -> 13/3 = 4.33 -> 4.3; the weeks
before have no answers, so no score.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import export_html
from bot.services import digest, export, kpi_charts
from bot.services.digest_models import ChartLine, ChartSeries
from bot.services.kpi_chart_models import KpiChart, KpiChartPoint
from bot.services.kpi_chart_png import kpi_alt_text, kpi_chart_png
from bot.services.kpi_models import KpiDirection, KpiFigure, KpiPeriod, KpiSource, Rag
from bot.services.partnership_models import Side
from bot.services.watermelon_models import KpiLine
from storage.models import KpiVersion
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, add_closed_round, answers_for, make_issue_world
from tests.kpi_factories import add_agreed_kpi, agreed_kpi_rows, record_figure

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
DIGEST_AT = datetime(2026, 12, 11, 21, 0, tzinfo=UTC)
WEEK_START = date(2026, 12, 4)
G, A, R = Rag.GREEN, Rag.AMBER, Rag.RED


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=START)


def _seed(world: IssueWorld) -> int:
    f, pid = world.uow_factory, world.partnership_id
    answers = answers_for(Side.CLIENT, {"responsiveness": [4, 4, 4]}) + answers_for(
        Side.PROVIDER, {"responsiveness": [4, 5, 4]}
    )
    add_closed_round(f, partnership_id=pid, closed_at=datetime(2026, 12, 9, 15, 0, tzinfo=UTC), answers=answers)
    kpi_id = add_agreed_kpi(
        f, pid, effective_from=date(2026, 11, 2), now=START, name="First-contact resolution",
        dimension="responsiveness", target=80, amber=75, red=65,
    )  # fmt: skip
    # Version 2 agreed from 23 Nov: version 1 superseded, its history kept.
    with f() as uow:
        kpi = uow.kpis.get(kpi_id)
        _, v2 = agreed_kpi_rows(
            kpi.number, partnership_id=pid, effective_from=date(2026, 11, 23), now=START,
            name="First-contact resolution", dimension="responsiveness", target=90, amber=85, red=70,
        )  # fmt: skip
        v2.kpi_id, v2.version = kpi_id, 2
        uow.kpi_versions.add(v2)
        uow.session.scalars(
            select(KpiVersion).where(KpiVersion.kpi_id == kpi_id, KpiVersion.version == 1)
        ).one().status = "superseded"
        kpi.current_version = 2
        uow.commit()
    for period_end, value in (
        (date(2026, 11, 8), 82),
        (date(2026, 11, 15), 72),
        (date(2026, 11, 29), 82),
        (date(2026, 12, 6), 68),
    ):
        record_figure(f, kpi_id, period_end, value, now=DIGEST_AT)
    return kpi_id


def _charts(world: IssueWorld, *, digest_thread: bool) -> tuple[KpiChart, ...]:
    view = digest.build_digest(
        world.uow_factory(), partnership_id=world.partnership_id, week_start=WEEK_START, now=DIGEST_AT
    )
    return kpi_charts.charts_of_week(world.uow_factory(), view, digest_thread=digest_thread)


def test_the_chart_plots_each_period_judged_by_the_version_in_force_with_gaps(world: IssueWorld) -> None:
    _seed(world)
    (chart,) = _charts(world, digest_thread=False)
    sundays = [date(2026, 9, 20) + timedelta(weeks=i) for i in range(12)]
    assert [p.period_end for p in chart.points] == sundays
    assert chart.values == (None,) * 7 + (82, 72, None, 82, 68)
    assert [p.figure.rag if p.figure else None for p in chart.points] == [None] * 7 + [G, A, None, A, R]
    assert [p.figure.version if p.figure else None for p in chart.points][7:] == [1, 1, None, 2, 2]
    # The target and levels step up where version 2 takes over (29 Nov).
    assert [p.target for p in chart.points] == [80] * 10 + [90, 90]
    assert [p.amber for p in chart.points] == [75] * 10 + [85, 85]
    assert [p.red for p in chart.points] == [65] * 10 + [70, 70]
    # Beside it, each side's score of responsiveness by week: the same as the digest's watermelon check.
    assert chart.dimension == "responsiveness" and chart.scores.weeks[-1] == WEEK_START
    assert chart.side_scores(Side.CLIENT)[-1] == 4.0 and chart.side_scores(Side.PROVIDER)[-1] == 4.3
    assert all(v is None for side in Side for v in chart.side_scores(side)[:-1])
    view = digest.build_digest(
        world.uow_factory(), partnership_id=world.partnership_id, week_start=WEEK_START, now=DIGEST_AT
    )
    assert view.kpis is not None
    (check,) = view.kpis.dimensions
    assert (float(check.client or 0), float(check.provider or 0)) == (
        chart.side_scores(Side.CLIENT)[-1],
        chart.side_scores(Side.PROVIDER)[-1],
    )
    assert len(chart.scores.weeks) == len(view.chart.weeks) == len(chart.side_scores(Side.CLIENT))


def test_the_digest_thread_shows_a_red_kpi_and_the_export_every_kpi(world: IssueWorld) -> None:
    _seed(world)
    # A second KPI, green both weeks: in the export, not in the digest's thread.
    steady = add_agreed_kpi(
        world.uow_factory, world.partnership_id, effective_from=date(2026, 11, 2), now=START,
        name="Tickets triaged", dimension="responsiveness", target=90, amber=80, red=70,
    )  # fmt: skip
    record_figure(world.uow_factory, steady, date(2026, 11, 29), 95, now=DIGEST_AT)
    record_figure(world.uow_factory, steady, date(2026, 12, 6), 92, now=DIGEST_AT)
    assert [c.line.name for c in _charts(world, digest_thread=True)] == ["First-contact resolution"]
    assert [c.line.name for c in _charts(world, digest_thread=False)] == ["First-contact resolution", "Tickets triaged"]

    report = export.build_export(
        world.uow_factory, partnership_id=world.partnership_id, start=WEEK_START, end=WEEK_START, now=DIGEST_AT
    )
    page = export_html.render_html(report)
    # The health chart, then one image per agreed KPI.
    assert page.count('<img src="data:image/png;base64,') == 3
    assert page.count("against the target and levels in force then") == 2
    assert "First-contact resolution over 12 periods to 6 Dec 2026: 68%, red (target 90%)" in page


def _point(i: int, rag: Rag | None) -> KpiChartPoint:
    end = date(2026, 11, 1) + timedelta(weeks=i)
    figure = None if rag is None else KpiFigure(1, end, 1.0, rag, rag is G, 1, None, KpiSource.API)
    return KpiChartPoint(end, figure, 80, 75, 65)


def _chart(*rags: Rag | None) -> KpiChart:
    return KpiChart(
        line=KpiLine(1, 1, "k", "K", "%", KpiDirection.HIGHER, 80, Side.PROVIDER, None), period=KpiPeriod.WEEKLY,
        dimension="trust", points=tuple(_point(i, r) for i, r in enumerate(rags)), scores=ChartSeries("Trust", (), (ChartLine(Side.CLIENT, "C", ()), ChartLine(Side.PROVIDER, "P", ()))),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("previous", "latest", "posted"),
    [
        (G, G, False),  # unchanged and not red
        (A, A, False),
        (G, R, True),  # red
        (R, R, True),  # still red: shown every week it is red
        (None, R, True),  # red without a previous figure
        (G, A, True),  # changed
        (A, G, True),  # changed back
        (R, A, True),
        (None, A, False),  # no previous figure: no change to show
        (A, None, False),  # no latest figure: nothing changed that can be shown
        (R, None, False),
    ],
)
def test_the_digest_thread_shows_a_kpi_that_is_red_or_changed_status(
    previous: Rag | None, latest: Rag | None, posted: bool
) -> None:
    assert kpi_charts.worth_posting(_chart(G, previous, latest)) is posted


def test_the_image_is_the_same_bytes_for_the_same_chart_and_one_row_per_kpi() -> None:
    chart = _chart(G, None, A, R)
    one = kpi_chart_png([chart])
    assert one.startswith(b"\x89PNG") and one == kpi_chart_png([chart])
    # 640 pixels wide, 320 high per KPI (the PNG header's width and height).
    two = kpi_chart_png([chart, chart])
    assert (int.from_bytes(one[16:20]), int.from_bytes(one[20:24])) == (640, 320)
    assert (int.from_bytes(two[16:20]), int.from_bytes(two[20:24])) == (640, 640)
    assert kpi_alt_text([chart]).endswith("K over 4 periods to 22 Nov 2026: 1%, red (target 80%).")
