"""The read models of a KPI's chart (issue 14 item 5): its figures over ``kpi_charts.PERIODS`` periods against the
target and levels of the version in force for each, beside each side's score of the KPI's dimension by week.
Built by ``bot.services.kpi_charts``; drawn by ``bot.services.kpi_chart_png`` (the digest's thread, the export)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.services.digest_models import ChartSeries
from bot.services.kpi_models import KpiFigure, KpiPeriod
from bot.services.partnership_models import Side
from bot.services.watermelon_models import KpiLine


@dataclass(frozen=True)
class KpiChartPoint:
    """One period: its figure (None: none recorded, a gap, never a zero), judged by ``kpi_rows.figure_of``, and the
    target and levels of the version in force for it (None: no version was ever agreed)."""

    period_end: date
    figure: KpiFigure | None
    target: float | None
    amber: float | None
    red: float | None


@dataclass(frozen=True)
class KpiChart:
    """One agreed KPI's chart: ``points`` oldest first, ending with the latest period ended by the week's last day;
    beside them each side's score of ``dimension`` per week (None: no score that week), oldest first."""

    #: The KPI as the week shows it (the watermelon check's line: the definition in force now, its figure of the week).
    line: KpiLine
    period: KpiPeriod
    dimension: str
    points: tuple[KpiChartPoint, ...]
    #: Each side's score of ``dimension`` by week (titled with the dimension), drawn as the digest's chart is.
    scores: ChartSeries

    @property
    def values(self) -> tuple[float | None, ...]:
        """The figures plotted, one per period (None: a gap)."""
        return tuple(None if p.figure is None else p.figure.value for p in self.points)

    def side_scores(self, side: Side) -> tuple[float | None, ...]:
        """A side's score of the dimension, one per week of ``scores``."""
        return next(line.values for line in self.scores.lines if line.side is side)
