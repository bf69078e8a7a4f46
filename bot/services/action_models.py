"""Action items and issue follow-ups (DESIGN 3.3): their inputs, views and the daily overdue reminder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.services.partnership_models import PartnershipView, Side


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class ActionFilter(StrEnum):
    """``/partner actions [mine|overdue|all]``."""

    MINE = "mine"
    OVERDUE = "overdue"
    ALL = "all"


@dataclass(frozen=True)
class ActionInput:
    """The action modal's values. ``side`` defaults to the owner's side; ``issue_id`` links it to an issue."""

    title: str
    owner_id: str
    due_on: date
    side: Side | None = None
    issue_id: int | None = None


@dataclass(frozen=True)
class ActionView:
    id: int
    partnership_id: int
    issue_id: int | None
    issue_number: int | None
    followup_id: int | None
    title: str
    owner_id: str
    side: Side
    due_on: date
    status: ActionStatus
    created_by: str
    created_at: datetime
    closed_at: datetime | None
    overdue: bool = False


@dataclass(frozen=True)
class FollowupView:
    id: int
    issue_id: int
    issue_number: int
    side: Side
    author_id: str
    text: str
    created_at: datetime
    action_id: int | None


@dataclass(frozen=True)
class OverdueReminder:
    """One owner's overdue actions in one partnership, for the one reminder they get that day."""

    partnership: PartnershipView
    owner_id: str
    actions: tuple[ActionView, ...]
    as_of: date
