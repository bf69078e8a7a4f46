"""The KPI rules, pure and in one place (DESIGN 3.6): a figure's status, which version judges a period, when
periods end, and whether a definition's levels make sense. Every surface (ledger, form, digest, watermelon check,
portfolio, export, chart) uses these; none decides again.

Levels: a figure *worse* than the amber level is amber, worse than the red level is red, otherwise green ("worse"
is lower for a higher-is-better KPI, higher for a lower-is-better one); a figure exactly at a level is not worse
than it. The target is the aim (shown on charts, counted as "on target"); the amber level may sit at the target or
leave some tolerance below it. So, for a higher-is-better KPI, red <= amber <= target.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable
from datetime import date, timedelta

from bot.services.kpi_models import KpiDefinition, KpiDirection, KpiPeriod, KpiVersionStatus, KpiVersionView, Rag

KEY_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


def _worse(value: float, level: float, direction: KpiDirection) -> bool:
    return value < level if direction is KpiDirection.HIGHER else value > level


def rag_of(value: float, definition: KpiDefinition) -> Rag:
    """The figure's status against the definition's levels (see the module's docstring)."""
    if _worse(value, definition.red, definition.direction):
        return Rag.RED
    if _worse(value, definition.amber, definition.direction):
        return Rag.AMBER
    return Rag.GREEN


def on_target(value: float, definition: KpiDefinition) -> bool:
    """Whether the figure meets the target (at it or better)."""
    return not _worse(value, definition.target, definition.direction)


def levels_problem(definition: KpiDefinition) -> str | None:
    """Why the definition's target and levels cannot work, in words for the person; None when they can."""
    numbers = (definition.target, definition.amber, definition.red)
    if not all(math.isfinite(n) for n in numbers):
        return "The target and the amber and red levels must be numbers."
    if definition.direction is KpiDirection.HIGHER:
        if not definition.red <= definition.amber <= definition.target:
            return (
                "When higher is better, the red level must be at or below the amber level, and amber at or below the target."
            )
    elif not definition.red >= definition.amber >= definition.target:
        return "When lower is better, the red level must be at or above the amber level, and amber at or above the target."
    return None


def key_problem(key: str) -> str | None:
    """Why ``key`` cannot name a KPI (the CSV import and the API use it); None when it can."""
    if KEY_PATTERN.match(key) is None:
        return "A KPI key is 1 to 40 lower-case letters, digits and dashes, not starting or ending with a dash."
    return None


def key_from_name(name: str) -> str:
    """A key made from a KPI's name ("First-contact resolution" -> "first-contact-resolution")."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40].rstrip("-") or "kpi"


def period_end_of(day: date, period: KpiPeriod) -> date:
    """The end of the period ``day`` falls in: the Sunday of its ISO week, or its month's last day."""
    if period is KpiPeriod.WEEKLY:
        return day + timedelta(days=6 - day.weekday())
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def is_period_end(day: date, period: KpiPeriod) -> bool:
    return period_end_of(day, period) == day


def previous_period_end(end: date, period: KpiPeriod) -> date:
    """The end of the period before the one ending on ``end``."""
    if period is KpiPeriod.WEEKLY:
        return end - timedelta(days=7)
    return end.replace(day=1) - timedelta(days=1)


def period_ends_back(end: date, period: KpiPeriod, count: int) -> list[date]:
    """The ``count`` period ends up to and including ``end``'s period, oldest first (a chart's 12 periods)."""
    ends = [period_end_of(end, period)]
    while len(ends) < count:
        ends.append(previous_period_end(ends[-1], period))
    return ends[::-1]


def version_in_force(versions: Iterable[KpiVersionView], period_end: date) -> KpiVersionView | None:
    """The version that judges the period ending ``period_end``: the latest agreed (or since superseded) version
    effective on or before it; for a period before the first agreement, the first agreed version; None if no
    version was ever agreed."""
    agreed = sorted(
        (v for v in versions if v.status in (KpiVersionStatus.AGREED, KpiVersionStatus.SUPERSEDED) and v.effective_from),
        key=lambda v: v.version,
    )
    if not agreed:
        return None
    in_force = [v for v in agreed if v.effective_from is not None and v.effective_from <= period_end]
    return in_force[-1] if in_force else agreed[0]
