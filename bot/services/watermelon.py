"""The watermelon check (DESIGN 3.6, issue 14 item 3; README "How the figures are computed"): green outside, red
inside. Pure: for one partnership's digest week, each relationship dimension's agreed KPIs beside how each side
rates that dimension, and whether the two disagree.

The rules, stated once:

- **Which KPIs**: the agreed, unretired ones, grouped by the dimension of the version in force now.
- **A KPI's figure of the week**: its latest figure for a period that ended on or before the week's last whole
  local day (``last_day``: the day before the digest time's date), and at most one period old: for the latest
  period ended by then or the one before it (``FRESH_PERIODS``). Older, or none: *no data*, which is never green.
  The figure is judged by the version in force for its period (``kpi_rows.figure_of``, ``kpi_rules.rag_of``).
- **KPIs green**: every KPI of the dimension has a figure of the week and it is green. **KPIs red**: at least one
  is red. Anything else (amber, no data) is neither.
- **A side's score** of a dimension is the one the digest measures (``digest_pulse.dimension_scores``): the mean of
  that side's comparable answers on the dimension over the health index's ``figures.HEALTH_WEEKS`` weeks, only
  from rounds where the side met the anonymity threshold, and none at all when the side is withheld this week.
  No score means nothing can be said about that side.
- **People unhappy**: a side's score at or below ``UNHAPPY_AT_OR_BELOW`` (3.0 of 5; the thresholds are in ``watermelon_models``). **People happy**: both sides
  scored and both at or above ``HAPPY_AT_OR_ABOVE`` (4.0 of 5).
- **"KPIs green, people unhappy"** (``Pairing.GREEN_UNHAPPY``): KPIs green and at least one side unhappy (the
  sides named). **"People happy, KPIs red"** (``Pairing.RED_HAPPY``): KPIs red and people happy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from bot.services import kpi_rules
from bot.services.kpi_models import KpiFigure, KpiPeriod, KpiVersionView, Rag
from bot.services.kpi_rows import figure_of, kpi_view_of, version_view
from bot.services.partnership_models import Side
from bot.services.pulse_models import DIMENSIONS
from bot.services.schedule import zone
from bot.services.watermelon_models import (
    HAPPY_AT_OR_ABOVE,
    UNHAPPY_AT_OR_BELOW,
    Attainment,
    DimensionCheck,
    KpiLine,
    Pairing,
    WatermelonView,
)
from storage.models import KpiValue
from storage.repositories.kpi_figures import KpiRows, KpiValueRow

#: A figure counts for the week when it is for the latest period ended by the week's last day or one before it.
FRESH_PERIODS = 2
#: Days of figures to read back from a week's last day: two monthly periods at most (61 days) and a margin.
LOOKBACK_DAYS = 62

#: Each side's score per dimension (absent or None: no score).
SideScores = Mapping[tuple[Side, str], Decimal | None]


def last_day_of(ends_at: datetime, tz: str) -> date:
    """The week's last whole local day: the day before the local date of the digest time ``ends_at``."""
    return ends_at.astimezone(zone(tz)).date() - timedelta(days=1)


def figure_window(last_day: date) -> tuple[date, date]:
    """The period ends to read figures for (inclusive): every figure the week may use lies in it."""
    return last_day - timedelta(days=LOOKBACK_DAYS), last_day


@lru_cache(maxsize=256)
def fresh_period_ends(last_day: date, period: KpiPeriod) -> tuple[date, ...]:
    """The period ends a figure of the week may have, latest first: the latest period ended on or before
    ``last_day``, and the ``FRESH_PERIODS - 1`` before it."""
    end = kpi_rules.period_end_of(last_day, period)
    if end > last_day:
        end = kpi_rules.previous_period_end(end, period)
    ends = [end]
    while len(ends) < FRESH_PERIODS:
        ends.append(kpi_rules.previous_period_end(ends[-1], period))
    return tuple(ends)


def figure_of_week(
    values: Sequence[KpiValue | KpiValueRow], versions: Sequence[KpiVersionView], period: KpiPeriod, last_day: date
) -> KpiFigure | None:
    """The KPI's figure of the week (see the module's rules), or None: no data."""
    fresh = fresh_period_ends(last_day, period)
    recent = [v for v in values if v.period_end in fresh]
    if not recent:
        return None
    return figure_of(max(recent, key=lambda v: v.period_end), versions)


def kpi_line(rows: KpiRows, last_day: date) -> tuple[str, KpiLine] | None:
    """The KPI's dimension and its line of the week; None when no version is in force (never agreed)."""
    versions = [version_view(v, rows.kpi.delivered_by) for v in rows.versions]
    view = kpi_view_of(rows.kpi, versions)
    if view.current is None:
        return None
    d = view.current.definition
    line = KpiLine(
        kpi_id=view.id,
        number=view.number,
        key=view.key,
        name=d.name,
        unit=d.unit,
        direction=d.direction,
        target=d.target,
        delivered_by=view.delivered_by,
        figure=figure_of_week(rows.values, versions, d.period, last_day),
    )
    return d.dimension, line


def attainment(lines: Sequence[KpiLine]) -> Attainment:
    """Green when every KPI is green, red when any is red, else mixed (amber or no data)."""
    rags = [line.rag for line in lines]
    if any(r is Rag.RED for r in rags):
        return Attainment.RED
    if rags and all(r is Rag.GREEN for r in rags):
        return Attainment.GREEN
    return Attainment.MIXED


def unhappy_sides(client: Decimal | None, provider: Decimal | None) -> tuple[Side, ...]:
    """The sides whose score is at or below ``UNHAPPY_AT_OR_BELOW`` (a side without a score is neither)."""
    return tuple(
        side
        for side, score in ((Side.CLIENT, client), (Side.PROVIDER, provider))
        if score is not None and score <= UNHAPPY_AT_OR_BELOW
    )


def pairing(kpis: Attainment, client: Decimal | None, provider: Decimal | None) -> Pairing | None:
    """The pairing that holds, if any (see the module's rules)."""
    if kpis is Attainment.GREEN and unhappy_sides(client, provider):
        return Pairing.GREEN_UNHAPPY
    happy = client is not None and provider is not None and min(client, provider) >= HAPPY_AT_OR_ABOVE
    if kpis is Attainment.RED and happy:
        return Pairing.RED_HAPPY
    return None


def check_week(kpis: Sequence[KpiRows], scores: SideScores, last_day: date, as_of: datetime | None = None) -> WatermelonView:
    """The watermelon check of a week: every dimension with agreed KPIs, in the bank's order (``kpis`` read as of
    ``as_of``, None: now)."""
    by_dimension: dict[str, list[KpiLine]] = {}
    for rows in kpis:
        found = kpi_line(rows, last_day)
        if found is not None:
            by_dimension.setdefault(found[0], []).append(found[1])
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    checks = []
    for dimension in sorted(by_dimension, key=lambda d: (order.get(d, len(order)), d)):
        lines = tuple(sorted(by_dimension[dimension], key=lambda line: line.number))
        client, provider = scores.get((Side.CLIENT, dimension)), scores.get((Side.PROVIDER, dimension))
        status = attainment(lines)
        checks.append(
            DimensionCheck(
                dimension=dimension,
                kpis=lines,
                client=client,
                provider=provider,
                attainment=status,
                pairing=pairing(status, client, provider),
                unhappy=unhappy_sides(client, provider),
            )
        )
    return WatermelonView(last_day=last_day, dimensions=tuple(checks), as_of=as_of)
