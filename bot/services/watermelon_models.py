"""The watermelon check's read models (DESIGN 3.6, issue 14 item 3): each dimension's agreed KPIs of a week beside
how each side rates that dimension. Decided by ``bot.services.watermelon``; shown by the digest, the signals, the
portfolio and the export, all from these values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from bot.services.kpi_models import KpiDirection, KpiFigure, Rag
from bot.services.partnership_models import Side

#: A side is unhappy with a dimension when its score is at or below this (of 5) (``bot.services.watermelon``).
UNHAPPY_AT_OR_BELOW = Decimal("3.0")
#: Both sides are happy with a dimension when both scores are at or above this (of 5).
HAPPY_AT_OR_ABOVE = Decimal("4.0")


class Pairing(StrEnum):
    """A dimension whose agreed numbers and people's feelings disagree; the values are the signal kinds."""

    GREEN_UNHAPPY = "kpis_green_unhappy"  # every KPI green, a side unhappy
    RED_HAPPY = "kpis_red_happy"  # a KPI red, both sides happy


class Attainment(StrEnum):
    """The KPIs of a dimension taken together."""

    GREEN = "green"  # every KPI has a recent figure and it is green
    RED = "red"  # at least one KPI's recent figure is red
    MIXED = "mixed"  # neither: an amber figure, or a KPI without a recent figure


@dataclass(frozen=True)
class KpiLine:
    """One agreed KPI as the week shows it: the definition in force now, and its latest recent figure (None: no data,
    never green), judged by the version in force for that figure's period (``kpi_rows.figure_of``)."""

    kpi_id: int
    number: int
    key: str
    name: str
    unit: str
    direction: KpiDirection
    target: float
    delivered_by: Side
    figure: KpiFigure | None

    @property
    def rag(self) -> Rag | None:
        return None if self.figure is None else self.figure.rag


@dataclass(frozen=True)
class DimensionCheck:
    """One relationship dimension's KPIs beside each side's score of it (None: no score, e.g. withheld)."""

    dimension: str
    kpis: tuple[KpiLine, ...]
    client: Decimal | None
    provider: Decimal | None
    attainment: Attainment
    pairing: Pairing | None
    #: The sides whose score is at or below ``watermelon.UNHAPPY_AT_OR_BELOW`` (client first).
    unhappy: tuple[Side, ...]

    def score(self, side: Side) -> Decimal | None:
        return self.client if side is Side.CLIENT else self.provider


@dataclass(frozen=True)
class WatermelonView:
    """The check of one partnership's week: ``last_day`` is the week's last whole local day (a period counts
    when it ended on or before it); ``dimensions`` in the bank's order; ``as_of`` the instant its KPIs and figures
    were read as of (when the week's digest was made; None: as they are now)."""

    last_day: date
    dimensions: tuple[DimensionCheck, ...]
    as_of: datetime | None = None

    @property
    def pairings(self) -> tuple[DimensionCheck, ...]:
        return tuple(d for d in self.dimensions if d.pairing is not None)


@dataclass(frozen=True)
class DimensionTrend:
    """Each side's score of the dimensions with agreed KPIs by week, as the watermelon check measures it (the
    latest week's value is the check's score): ``weeks`` as the digest's chart plots them, oldest first; per
    (side, dimension) one value per week (None: no score). Built by ``bot.services.kpi_charts.dimension_trend``."""

    weeks: tuple[date, ...]
    scores: tuple[tuple[Side, str, tuple[float | None, ...]], ...]

    def of(self, side: Side, dimension: str) -> tuple[float | None, ...]:
        found = next((values for s, d, values in self.scores if s is side and d == dimension), None)
        return found if found is not None else (None,) * len(self.weeks)
