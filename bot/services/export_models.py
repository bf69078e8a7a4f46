"""The quarterly business review export as its renderers read it (``bot.services.export`` builds it; ``bot.export_csv``
and ``bot.export_html`` render it): the weekly digests of the range, the scorecards closed in it, and the shared goals
and expectations ledger as they stand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.services.digest_models import ChartSeries, DigestView
from bot.services.kpi_chart_models import KpiChart
from bot.services.partnership_models import PartnershipView
from bot.services.review_models import ExpectationView, GoalStatus, ScorecardReport

#: Goals and ledger entries per export: far more than a partnership keeps, and a bound on the file's size.
MAX_GOALS = 200
MAX_EXPECTATIONS = 500


@dataclass(frozen=True)
class ExportGoal:
    """A shared goal as the export lists it: the owners by display name (their Slack id when no name is known)."""

    number: int
    title: str
    client_owner: str
    provider_owner: str
    status: GoalStatus
    due_on: date | None


@dataclass(frozen=True)
class ExportReport:
    """The weeks of one partnership to export, oldest first, and the chart over them; the scorecards that closed in
    those weeks (oldest first), and the shared goals and expectations ledger as of ``generated_at``."""

    partnership: PartnershipView
    weeks: tuple[DigestView, ...]
    generated_at: datetime
    chart: ChartSeries
    scorecards: tuple[ScorecardReport, ...] = ()
    goals: tuple[ExportGoal, ...] = ()
    expectations: tuple[ExpectationView, ...] = ()
    #: Every agreed KPI's chart as of the last week (``bot.services.kpi_charts``), by number.
    kpi_charts: tuple[KpiChart, ...] = ()
