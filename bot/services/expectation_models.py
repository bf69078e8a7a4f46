"""The expectations ledger (DESIGN 3.5): entries, the channel card and the ledger at a glance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.services.partnership_models import PartnershipView, Side


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
