"""Frozen read models and inputs shared by services, builders, handlers and jobs. Never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Side(StrEnum):
    CLIENT = "client"
    PROVIDER = "provider"

    @property
    def other(self) -> Side:
        return Side.PROVIDER if self is Side.CLIENT else Side.CLIENT


class Role(StrEnum):
    MEMBER = "member"
    LEAD = "lead"
    SPONSOR = "sponsor"


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

WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class SlackProfile:
    """What the Slack edge learned about a user (from users.info or a payload)."""

    user_id: str
    team_id: str | None
    display_name: str
    tz: str | None = None
    is_bot: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class SetupInput:
    """The values of the setup modal, already parsed."""

    name: str
    client_org: str
    provider_org: str
    installing_side: Side
    client_leads: tuple[str, ...]
    provider_leads: tuple[str, ...]
    client_sponsors: tuple[str, ...]
    provider_sponsors: tuple[str, ...]
    client_members: tuple[str, ...]
    provider_members: tuple[str, ...]
    timezone: str
    pulse_weekday: int
    pulse_hour: int
    pulse_minute: int
    pulse_every_weeks: int
    digest_weekday: int
    digest_hour: int
    digest_minute: int
    anonymity_threshold: int


@dataclass(frozen=True)
class MemberView:
    user_id: str
    team_id: str | None
    display_name: str
    side: Side | None
    role: Role
    in_channel: bool
    tz: str | None


@dataclass(frozen=True)
class PartnershipView:
    id: int
    team_id: str
    channel_id: str
    name: str
    client_org: str
    provider_org: str
    installing_side: Side
    is_connect: bool
    timezone: str
    pulse_weekday: int
    pulse_hour: int
    pulse_minute: int
    pulse_every_weeks: int
    digest_weekday: int
    digest_hour: int
    digest_minute: int
    anonymity_threshold: int
    anonymous: bool
    status: str
    pause_reason: str | None
    next_pulse_at: datetime | None
    menu_ts: str | None
    paused_by: str | None = None

    def org(self, side: Side) -> str:
        return self.client_org if side is Side.CLIENT else self.provider_org


@dataclass(frozen=True)
class SetupResult:
    partnership: PartnershipView
    created: bool
    members_by_side: dict[str, int]


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
class SideStat:
    """One side's result for one dimension. ``average`` is None when the side is below the threshold."""

    average: float | None
    answers: int


@dataclass(frozen=True)
class DimensionResult:
    dimension: str
    client: SideStat
    provider: SideStat

    @property
    def gap(self) -> float | None:
        if self.client.average is None or self.provider.average is None:
            return None
        return round(self.client.average - self.provider.average, 2)


@dataclass(frozen=True)
class Participation:
    responded: int
    asked: int

    @property
    def rate(self) -> float:
        return self.responded / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class RoundResults:
    round: RoundView
    partnership: PartnershipView
    dimensions: tuple[DimensionResult, ...]
    participation: dict[Side, Participation]
    withheld: tuple[Side, ...]
    comments: dict[Side, tuple[str, ...]]


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
