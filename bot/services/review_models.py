"""Shared goals, the expectations ledger and the bilateral scorecard (DESIGN 3.5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.services.partnership_models import PartnershipView, Side

if TYPE_CHECKING:
    from decimal import Decimal

    from bot.services.figures import Flag


#: A goal's title: the column's width; an expectation, a note or a scorecard comment: one section's worth.
MAX_GOAL_TITLE = 150
MAX_REVIEW_TEXT = 3000


class GoalStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    DONE = "done"


GOAL_STATUS_LABELS: dict[str, str] = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "done": "Done",
}


@dataclass(frozen=True)
class GoalInput:
    """The goal form's values, parsed but not yet checked (the service checks owners, length and date)."""

    title: str
    client_owner_id: str
    provider_owner_id: str
    due_on: date | None = None
    status: GoalStatus = GoalStatus.ON_TRACK


@dataclass(frozen=True)
class SharedGoal:
    """A stored shared goal with everything a list or a form shows (GoalView is the digest's short form)."""

    id: int
    number: int
    title: str
    client_owner_id: str
    provider_owner_id: str
    status: GoalStatus
    note: str | None
    due_on: date | None
    created_by: str
    updated_by: str | None
    updated_at: datetime

    @property
    def status_label(self) -> str:
        return GOAL_STATUS_LABELS[self.status.value]


class ExpectationStatus(StrEnum):
    OPEN = "open"
    AGREED = "agreed"
    DISCUSSING = "discussing"
    WITHDRAWN = "withdrawn"


EXPECTATION_STATUS_LABELS: dict[str, str] = {
    "open": "Waiting for an answer",
    "agreed": "Agreed",
    "discussing": "To discuss",
    "withdrawn": "Withdrawn",
}


@dataclass(frozen=True)
class ExpectationView:
    """One entry of the expectations ledger: ``from_side`` expects ``text`` of the other side."""

    id: int
    number: int
    from_side: Side
    text: str
    status: ExpectationStatus
    created_by: str
    created_at: datetime
    responded_by: str | None
    responded_at: datetime | None
    response: str | None

    @property
    def to_side(self) -> Side:
        return self.from_side.other


@dataclass(frozen=True)
class ExpectationCard:
    """What the channel message about an expectation shows: the entry and its partnership."""

    partnership: PartnershipView
    expectation: ExpectationView


@dataclass(frozen=True)
class LedgerSummary:
    """The ledger at a glance (the scorecard form and report): counts by status and the entries still in play."""

    counts: dict[ExpectationStatus, int]
    entries: tuple[ExpectationView, ...]  # agreed, open and to-discuss entries, oldest first


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
class ScorecardMessage:
    """What every message or form about a scorecard is read with: the scorecard and its partnership."""

    partnership: PartnershipView
    scorecard: ScorecardView


@dataclass(frozen=True)
class ScorecardInvite(ScorecardMessage):
    """The channel message inviting everyone to fill in the scorecard (and, closed, saying it is over)."""


@dataclass(frozen=True)
class ScorecardForm(ScorecardMessage):
    """The scorecard modal for one person: their side, their earlier answers and the ledger to review."""

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
class ScorecardReport(ScorecardMessage):
    """The perception-gap report posted when a scorecard closes."""

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
