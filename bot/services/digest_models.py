"""The weekly digest (DESIGN 3.4): its sections, chart and the view the builders render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.services.issue_models import IssueStatus
from bot.services.partnership_models import PartnershipView, Side
from bot.services.pulse_models import Participation

if TYPE_CHECKING:  # bot.services.figures builds on these models; its values only appear in annotations here
    from bot.services.figures import Comparison, HealthIndex, NpsFigure
    from bot.services.watermelon_models import DimensionTrend, WatermelonView


#: Open issues by age: under a week, one to four weeks, four weeks or more.
AGE_BUCKETS: tuple[str, ...] = ("under 1 week", "1–4 weeks", "4 weeks or more")
AGE_BUCKET_DAYS: tuple[int, ...] = (7, 28)
#: Weeks of pulse answers a digest reads; its chart shows the health index of every week whose whole window
#: (``figures.HEALTH_WEEKS``) lies inside them.
CHART_WEEKS = 12


@dataclass(frozen=True)
class SentimentSummary:
    """The tone of one side's comments of the week (``bot.services.sentiment``): mean compound score and labels."""

    comments: int
    mean: float
    label: str
    positive: int
    neutral: int
    negative: int


@dataclass(frozen=True)
class ThemeView:
    """A phrase that several comments of one side used, and in how many comments."""

    phrase: str
    comments: int


@dataclass(frozen=True)
class SideDigest:
    """One side's week: participation, and what it said, unless withheld.

    ``withheld`` means a pulse closed this week but fewer than the threshold answered on this side (in every
    round of the week): then ``sentiment``, ``themes`` and ``comments`` are empty and its averages are None.
    """

    side: Side
    org: str
    participation: Participation
    withheld: bool
    sentiment: SentimentSummary | None
    themes: tuple[ThemeView, ...]
    comments: tuple[str, ...]


@dataclass(frozen=True)
class DigestIssue:
    """One issue as the digest lists it (no owner names: the digest is public in the channel)."""

    number: int
    title: str
    severity: str
    owning_side: Side
    status: IssueStatus
    escalation_level: int
    age_days: int


@dataclass(frozen=True)
class SeverityAges:
    """Unresolved issues of one severity, counted per ``AGE_BUCKETS``."""

    severity: str
    by_age: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.by_age)


@dataclass(frozen=True)
class IssueSummary:
    """Issues of the week: logged, resolved and escalated in it; unresolved ones at digest time by severity and age."""

    new: tuple[DigestIssue, ...]
    resolved: tuple[DigestIssue, ...]
    escalated: tuple[DigestIssue, ...]  # escalation_level: the highest level reached this week
    open: tuple[DigestIssue, ...]  # oldest first
    open_by_severity: tuple[SeverityAges, ...]  # S1..S4, every severity present (zeros included)

    @property
    def open_total(self) -> int:
        return len(self.open)


@dataclass(frozen=True)
class DigestAction:
    """One action as the digest lists it (no owner names: reminders go to owners privately)."""

    title: str
    side: Side
    due_on: date
    issue_number: int | None = None


@dataclass(frozen=True)
class ActionSummary:
    """Actions at digest time: open (and of those, overdue), and done during the week."""

    open_by_side: dict[Side, int]
    overdue: tuple[DigestAction, ...]  # most overdue first
    done: tuple[DigestAction, ...]

    @property
    def open_total(self) -> int:
        return sum(self.open_by_side.values())


@dataclass(frozen=True)
class GoalView:
    """A shared goal (DESIGN 3.5). Goals are not stored yet; the digest section is typed so it can be filled later."""

    title: str
    status: str
    client_owner: str | None = None
    provider_owner: str | None = None


@dataclass(frozen=True)
class GoalsSection:
    tracked: bool = False  # False until shared goals exist: the digest says so
    goals: tuple[GoalView, ...] = ()


@dataclass(frozen=True)
class ChartLine:
    """One side's health index (``figures.HealthIndex``) by week, oldest week first; None where it is not known
    (its window did not cover every dimension, or had no answers the side could show)."""

    side: Side
    label: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class ChartSeries:
    """What the trend chart draws: ``weeks`` are the local start dates of the weeks, oldest first."""

    title: str
    weeks: tuple[date, ...]
    lines: tuple[ChartLine, ...]


@dataclass(frozen=True)
class DigestView:
    """Everything the weekly digest shows (DESIGN 3.4), read in a few aggregate queries.

    The week is ``starts_at`` (inclusive) to ``ends_at`` (exclusive): the seven local days ending at the digest time.
    Pulse figures come from rounds closed in each week. ``as_of`` is when open issues and actions were counted.
    """

    partnership: PartnershipView
    week_start: date
    starts_at: datetime
    ends_at: datetime
    as_of: datetime
    rounds: int  # pulse rounds closed this week
    #: This week's comparisons (``bot.services.figures``), one per subject and dimension asked, each side's
    #: ``previous`` being the same items the last time they were asked.
    items: tuple[Comparison, ...]
    gaps: tuple[Comparison, ...]  # the items with a gap, widest first
    health: tuple[HealthIndex, HealthIndex]  # client, provider
    sides: tuple[SideDigest, SideDigest]  # client, provider
    issues: IssueSummary
    actions: ActionSummary
    goals: GoalsSection
    chart: ChartSeries
    #: Each side's NPS of the week's rounds (client, provider), under the anonymity threshold as round results
    #: show it; None when no round of the week asked it.
    nps: tuple[NpsFigure, NpsFigure] | None = None
    #: The watermelon check of the week (``bot.services.watermelon``): each dimension's agreed KPIs beside each
    #: side's score of it; None where a digest is built without it.
    kpis: WatermelonView | None = None
    #: Each side's score of the dimensions with agreed KPIs by week, beside each KPI's chart
    #: (``bot.services.kpi_charts``); None where a digest is built without it.
    dimension_trend: DimensionTrend | None = None

    def side(self, side: Side) -> SideDigest:
        return self.sides[0] if side is Side.CLIENT else self.sides[1]

    def health_of(self, side: Side) -> HealthIndex:
        return self.health[0] if side is Side.CLIENT else self.health[1]

    def health_shown(self, side: Side) -> Decimal | None:
        """A side's health index that week as a report shows it: None when the side is withheld or has too few data."""
        return None if self.side(side).withheld else self.health_of(side).value

    @property
    def threshold(self) -> int:
        return self.partnership.anonymity_threshold
