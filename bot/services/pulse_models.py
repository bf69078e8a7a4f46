"""Pulse rounds: the question bank's dimensions, the answer form, a round's results and a partnership's status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.services.partnership_models import MemberView, PartnershipView, Side

if TYPE_CHECKING:  # bot.services.figures builds on these models; its values only appear in annotations here
    from bot.services.figures import Comparison, NpsFigure


DIMENSIONS: tuple[str, ...] = (
    "trust",
    "communication",
    "responsiveness",
    "value",
    "alignment",
    "expectations",
    "collaboration",
    "accountability",
)

#: What a question rates (its *subject*); the last one is a lead's question's default.
SUBJECTS: tuple[str, ...] = ("provider", "client", "relationship")

DIMENSION_LABELS: dict[str, str] = {
    "trust": "Trust",
    "communication": "Communication",
    "responsiveness": "Responsiveness",
    "value": "Value delivered",
    "alignment": "Alignment on goals",
    "expectations": "Clarity of expectations",
    "collaboration": "Collaboration",
    "accountability": "Accountability",
    "nps": "Relationship NPS",
}

#: Slack's limit for a section text, and so for a pulse comment.
MAX_COMMENT = 3000


@dataclass(frozen=True)
class QuestionView:
    id: int
    key: str
    dimension: str
    text_client: str
    text_provider: str
    kind: str
    perspective: str
    custom: bool
    #: What was rated: "provider", "client" or "relationship"; None for a retired item that is not comparable.
    subject: str | None = None

    def text_for(self, side: Side) -> str:
        return self.text_client if side is Side.CLIENT else self.text_provider


@dataclass(frozen=True)
class RoundView:
    id: int
    partnership_id: int
    sequence: int
    opened_at: datetime
    closes_at: datetime
    status: str
    questions: tuple[QuestionView, ...]


@dataclass(frozen=True)
class PreviousAnswer:
    score: int
    comment: str | None


@dataclass(frozen=True)
class AnswerForm:
    """What the answer modal needs: the round, the user's side and any answers given before."""

    round: RoundView
    partnership_name: str
    side: Side
    other_org: str
    previous: dict[int, PreviousAnswer] = field(default_factory=dict)


@dataclass(frozen=True)
class AnswerInput:
    question_id: int
    score: int
    comment: str | None


@dataclass(frozen=True)
class SubmitResult:
    round_id: int
    created: bool  # False when an earlier response was updated


@dataclass(frozen=True)
class Participation:
    responded: int
    asked: int

    @property
    def rate(self) -> float:
        return self.responded / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class RoundResults:
    """A closed round's figures (``bot.services.figures``): one comparison per subject and dimension asked, the
    NPS per side when it was asked, and the comments of the sides shown."""

    round: RoundView
    partnership: PartnershipView
    items: tuple[Comparison, ...]
    participation: dict[Side, Participation]
    withheld: tuple[Side, ...]
    comments: dict[Side, tuple[str, ...]]
    nps: tuple[NpsFigure, NpsFigure] | None = None  # client, provider


@dataclass(frozen=True)
class StatusView:
    partnership: PartnershipView
    members_by_side: dict[str, int]
    unassigned: int
    leads: tuple[MemberView, ...]
    sponsors: tuple[MemberView, ...]
    open_round: RoundView | None
    last_round: RoundView | None
    last_participation: dict[Side, Participation]


@dataclass(frozen=True)
class Reminder:
    round_id: int
    user_id: str


class Trend(StrEnum):
    """A figure against the same figure earlier: ``none`` when either is unknown (not enough data yet)."""

    UP = "up"
    DOWN = "down"
    STEADY = "steady"
    NONE = "none"
