"""A chart of each agreed KPI against its target (issue 14 item 5; README "How the figures are computed"): what
is plotted, and which KPIs the digest's thread shows. Drawn by ``bot.services.kpi_chart_png``.

The rules, stated once:

- **The periods**: the ``PERIODS`` periods (``kpi_rules.period_ends_back``) up to the latest one ended on or before
  the week's last whole local day (``watermelon.fresh_period_ends``). A period without a figure is a gap.
- **A figure's status**: ``kpi_rows.figure_of`` (the version in force for its period judges it).
- **The target and levels** of each period: those of the version in force for it (``kpi_rules.version_in_force``),
  so a changed target shows as a step.
- **Beside it**: each side's score of the KPI's dimension by week, as the watermelon check measures it
  (``digest_pulse.dimension_scores``: the mean of the side's shown, comparable answers on the dimension over the
  ``figures.HEALTH_WEEKS`` weeks up to each week; none for a side withheld in the digest's week), over the weeks the
  digest's health chart plots.
- **Which KPIs the digest's thread shows** (``worth_posting``): those whose latest period's figure is red, or whose
  latest and previous periods both have a figure and their statuses differ. The export shows every agreed KPI.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date

from bot.services import figures, kpi_format, kpi_rules, watermelon
from bot.services.digest_models import ChartLine, ChartSeries, DigestView
from bot.services.kpi_chart_models import KpiChart, KpiChartPoint
from bot.services.kpi_models import KpiPeriod, Rag
from bot.services.kpi_rows import figure_of, version_view
from bot.services.partnership_models import Side
from bot.services.watermelon_models import DimensionTrend
from storage.repositories.kpi_figures import KpiRows
from storage.uow import UnitOfWork

#: Periods per chart.
PERIODS = 12


def dimension_trend(
    weeks: Sequence[date],
    windows: Mapping[Side, Sequence[Mapping[str, figures.Tally]]],
    withheld: Mapping[Side, bool],
    dimensions: Collection[str],
) -> DimensionTrend:
    """Each side's score of ``dimensions`` per week: ``windows[side][i]`` is the side's comparable answers per
    dimension in the ``figures.HEALTH_WEEKS`` weeks up to ``weeks[i]`` (the last: the digest's week, where a withheld
    side has no score, as in ``digest_pulse.dimension_scores``)."""
    last = len(weeks) - 1
    scores = []
    for side in Side:
        for dimension in sorted(dimensions):
            values = []
            for i, window in enumerate(windows[side]):
                tally = window.get(dimension)
                average = None if tally is None or (i == last and withheld[side]) else tally.average
                values.append(None if average is None else float(average))
            scores.append((side, dimension, tuple(values)))
    return DimensionTrend(weeks=tuple(weeks), scores=tuple(scores))


def latest_period_end(last_day: date, period: KpiPeriod) -> date:
    """The latest period ended on or before ``last_day`` (a chart's last period)."""
    return watermelon.fresh_period_ends(last_day, period)[0]


def chart_window(last_day: date) -> tuple[date, date]:
    """The period ends to read figures for (inclusive) so that every chart of the week has its ``PERIODS``."""
    firsts = [kpi_rules.period_ends_back(latest_period_end(last_day, p), p, PERIODS)[0] for p in KpiPeriod]
    return min(firsts), last_day


def kpi_chart(rows: KpiRows, last_day: date, trend: DimensionTrend, labels: tuple[str, str]) -> KpiChart | None:
    """The KPI's chart for the week whose last whole local day is ``last_day``; None when no version is in force.
    ``labels``: the client's and the provider's names."""
    found = watermelon.kpi_line(rows, last_day)
    if found is None:
        return None
    dimension, line = found
    versions = [version_view(v, rows.kpi.delivered_by) for v in rows.versions]
    period = next(v for v in versions if v.version == rows.kpi.current_version).definition.period
    by_end = {v.period_end: v for v in rows.values}
    points = []
    for end in kpi_rules.period_ends_back(latest_period_end(last_day, period), period, PERIODS):
        version = kpi_rules.version_in_force(versions, end)
        value = by_end.get(end)
        figure = None if value is None else figure_of(value, versions)
        if version is None:
            points.append(KpiChartPoint(end, figure, None, None, None))
        else:
            v = version.definition
            points.append(KpiChartPoint(end, figure, v.target, v.amber, v.red))
    return KpiChart(
        line=line,
        period=period,
        dimension=dimension,
        points=tuple(points),
        scores=ChartSeries(
            title=kpi_format.dimension_label(dimension),
            weeks=trend.weeks,
            lines=tuple(ChartLine(side, label, trend.of(side, dimension)) for side, label in zip(Side, labels, strict=True)),
        ),
    )


def _rag(point: KpiChartPoint) -> Rag | None:
    return None if point.figure is None else point.figure.rag


def worth_posting(chart: KpiChart) -> bool:
    """Whether the digest's thread shows the chart: the latest period's figure is red, or the latest and previous
    periods both have a figure and their statuses differ."""
    latest = _rag(chart.points[-1])
    if latest is Rag.RED:
        return True
    previous = _rag(chart.points[-2]) if len(chart.points) > 1 else None
    return latest is not None and previous is not None and latest is not previous


def charts_of_week(uow: UnitOfWork, view: DigestView, *, digest_thread: bool) -> tuple[KpiChart, ...]:
    """The charts of the digest week ``view``'s agreed KPIs, by number: every one, or (``digest_thread``) only those
    ``worth_posting``. One read of the partnership's KPIs and their figures over ``chart_window``, as of the instant
    the digest's check read them (``WatermelonView.as_of``)."""
    if view.kpis is None or not view.kpis.dimensions or view.dimension_trend is None:
        return ()
    p, last_day = view.partnership, view.kpis.last_day
    since, until = chart_window(last_day)
    with uow.read_only():
        rows = uow.kpi_figures.agreed([p.id], since=since, until=until, as_of=view.kpis.as_of).get(p.id, [])
        charts = [kpi_chart(r, last_day, view.dimension_trend, (p.client_org, p.provider_org)) for r in rows]
    return tuple(c for c in charts if c is not None and (not digest_thread or worth_posting(c)))
