"""Shared goals (DESIGN 3.5): the form's values and a stored goal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

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
