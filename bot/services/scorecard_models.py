"""The bilateral scorecard (DESIGN 3.5): cadence, the form, its input and the report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.services.expectation_models import LedgerSummary
from bot.services.partnership_models import PartnershipView, Side

if TYPE_CHECKING:  # bot.services.figures builds on these models; its values only appear in annotations here
    from decimal import Decimal

    from bot.services.figures import Flag


class ScorecardCadence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    OFF = "off"


@dataclass(frozen=True)
class ScorecardView:
    id: int
    period: str
    status: str  # "open" or "closed"
    opened_by: str | None  # None: opened by the schedule
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    responses: dict[Side, int]  # respondents per side so far (participation is shown; who answered never is)


@dataclass(frozen=True)
class ScorecardInvite:
    """The channel message inviting everyone to fill in the scorecard (and, closed, saying it is over)."""

    partnership: PartnershipView
    scorecard: ScorecardView


@dataclass(frozen=True)
class ScorecardForm:
    """The scorecard modal for one person: their side, their earlier answers and the ledger to review."""

    partnership: PartnershipView
    scorecard: ScorecardView
    side: Side
    dimensions: tuple[str, ...]
    previous: dict[tuple[str, str], int]  # (target "self"/"other", dimension) -> score
    previous_comment: str | None
    ledger: LedgerSummary


@dataclass(frozen=True)
class ScorecardInput:
    """One person's scorecard: ``scores[(target, dimension)]`` with target "self" or "other", and a comment."""

    scores: dict[tuple[str, str], int]
    comment: str | None = None


@dataclass(frozen=True)
class RatingGap:
    """How one side is seen on one dimension: by itself and by the other side, and the gap between the two
    ratings of that same subject (``figures.GAP_SIGN``: provider − client, as everywhere).

    An average is None when its raters are below the anonymity threshold (or nobody rated); the gap then too.
    """

    dimension: str
    self_rating: Decimal | None
    other_rating: Decimal | None
    gap: Decimal | None
    level: Flag


@dataclass(frozen=True)
class ScorecardSide:
    """One side in the report: how it is seen (``about``), its respondents, and its comments when shown."""

    side: Side
    org: str
    respondents: int
    withheld: bool  # below the anonymity threshold: no averages from this side's raters and no comments
    about: tuple[RatingGap, ...]  # this side as rated by itself and by the other side, per dimension
    comments: tuple[str, ...]


@dataclass(frozen=True)
class ScorecardReport:
    """The perception-gap report posted when a scorecard closes."""

    partnership: PartnershipView
    scorecard: ScorecardView
    sides: tuple[ScorecardSide, ScorecardSide]  # client, provider
    ledger: LedgerSummary

    @property
    def threshold(self) -> int:
        return self.partnership.anonymity_threshold


@dataclass(frozen=True)
class ScorecardStatus:
    """``/partner scorecard``: the cadence, when the next one opens, and the current or last scorecard."""

    partnership: PartnershipView
    cadence: ScorecardCadence
    next_at: datetime | None
    current: ScorecardView | None
