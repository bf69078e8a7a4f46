"""The portfolio digest (issue 4 item 4; scored in bot.services.portfolio)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.services.partnership_models import PartnershipView, Side
from bot.services.pulse_models import Participation

if TYPE_CHECKING:  # bot.services.figures builds on these models; its values only appear in annotations here
    from bot.services.figures import Comparison


class RiskLevel(StrEnum):
    """How a partnership's risk score reads: ``high`` from 40 points, ``watch`` from 20, else ``low``."""

    HIGH = "high"
    WATCH = "watch"
    LOW = "low"


@dataclass(frozen=True)
class SideStanding:
    """One side's standing in the portfolio. ``health`` is None when withheld or nobody answered in four weeks;
    ``four_week`` says it is the four-week average because no pulse closed this week."""

    side: Side
    org: str
    health: float | None
    four_week: bool
    change: float | None
    participation: Participation
    withheld: bool


@dataclass(frozen=True)
class PortfolioEntry:
    """One partnership in the portfolio: its risk score (0–100), level and reasons, and the figures behind them."""

    partnership: PartnershipView
    week_start: date
    score: int
    level: RiskLevel
    reasons: tuple[str, ...]  # plain text, most points first (builders escape them)
    sides: tuple[SideStanding, SideStanding]  # client, provider
    widest_gap: Comparison | None
    open_s1: int
    open_s2: int
    overdue_actions: int
    rounds: int

    @property
    def lowest_health(self) -> float | None:
        values = [s.health for s in self.sides if s.health is not None]
        return min(values) if values else None


@dataclass(frozen=True)
class PortfolioView:
    """Every partnership of a workspace, highest risk first."""

    team_id: str
    workspace: str
    as_of: datetime
    entries: tuple[PortfolioEntry, ...]
    channel_id: str | None = None  # where the weekly post goes (None: not scheduled)
    timezone: str | None = None
    problem: str | None = None  # why the last weekly post could not be delivered, in words
