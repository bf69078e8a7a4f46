"""The issue log and everything around it (DESIGN 3.3): severities, categories, issues, their events, card and
notices; actions and follow-ups; the policy leads configure and each side's working calendar; early-warning signals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from bot.services.partnership_models import PartnershipView, Side
from bot.services.pulse_models import MAX_COMMENT


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
    """The action modal's values. ``side`` defaults to the owner's side; ``issue_id`` links it to an issue, and
    ``kpi_id`` to a red KPI it helps get back (``kpi_red``)."""

    title: str
    owner_id: str
    due_on: date
    side: Side | None = None
    issue_id: int | None = None
    kpi_id: int | None = None


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


#: Slack's limit for a section text, and so for an issue's details, a comment and a follow-up.
MAX_DETAILS = MAX_COMMENT
MAX_ISSUE_TITLE = 150
MAX_CATEGORY = 60

SEVERITIES: tuple[str, ...] = ("S1", "S2", "S3", "S4")
SEVERITY_LABELS: dict[str, str] = {"S1": "S1 critical", "S2": "S2 high", "S3": "S3 medium", "S4": "S4 low"}
#: One-line definitions shown next to each severity (DESIGN 3.3).
SEVERITY_DEFINITIONS: dict[str, str] = {
    "S1": "Service down, customers or contract at risk",
    "S2": "A commitment will be missed without action",
    "S3": "Friction that costs time or trust",
    "S4": "Worth fixing, no deadline pressure",
}
DEFAULT_CATEGORIES: tuple[str, ...] = (
    "Delivery quality",
    "Timeliness",
    "Communication",
    "Staffing",
    "Commercial and billing",
    "Security and compliance",
    "Access and dependencies",
    "Other",
)
ESCALATION_LEVEL_LABELS: dict[int, str] = {
    0: "not escalated",
    1: "level 1: owner nudged",
    2: "level 2: leads of both sides",
    3: "level 3: executive sponsors",
}


class IssueStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class IssueFilter(StrEnum):
    """``/partner issues [open|mine|all]``."""

    OPEN = "open"
    MINE = "mine"
    ALL = "all"


@dataclass(frozen=True)
class IssueInput:
    """The issue modal's values, already parsed. ``InvalidInput.field`` names one of these attributes."""

    title: str
    details: str
    severity: str
    category: str
    owning_side: Side
    owner_id: str
    due_on: date | None = None
    source_permalink: str | None = None


@dataclass(frozen=True)
class IssueView:
    id: int
    partnership_id: int
    number: int
    title: str
    details: str
    severity: str
    category: str
    owning_side: Side
    owner_id: str
    raised_by: str
    raised_by_side: Side | None
    due_on: date | None
    status: IssueStatus
    created_at: datetime
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    escalation_level: int
    next_escalation_at: datetime | None
    card_ts: str | None
    source_permalink: str | None


@dataclass(frozen=True)
class LogIssueResult:
    issue: IssueView
    created: bool  # False when the same submission had already created it


@dataclass(frozen=True)
class IssueEventView:
    id: int
    issue_id: int
    at: datetime
    actor: str | None  # None: PartnerPulse itself
    kind: str
    level: int | None
    detail: str | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IssueMessage:
    """What every message about an issue is read with: the issue and its partnership."""

    issue: IssueView
    partnership: PartnershipView


@dataclass(frozen=True)
class IssueCard(IssueMessage):
    """Everything the issue card shows, read at send time."""

    actions: tuple[ActionView, ...]
    timezone: str  # the owning side's, for dates and times on the card


@dataclass(frozen=True)
class HistoryItem(IssueMessage):
    """One history entry with what its thread reply needs (the follow-up, for a contribution)."""

    event: IssueEventView
    timezone: str
    followup: FollowupView | None = None
    action: ActionView | None = None


@dataclass(frozen=True)
class EscalationNotice(IssueMessage):
    """An escalation message: what, since when, what is needed and from whom. Never who is at fault.

    ``reason`` is ``acknowledge`` (waiting to be acknowledged), ``resolve`` (resolution time) or ``manual``
    (someone pressed "Escalate now"). ``recipients`` are the people brought in at this level; ``missing_sides``
    are sides with nobody in that role, so the message can say so.
    """

    event: IssueEventView
    level: int
    reason: str
    recipients: tuple[str, ...]
    missing_sides: tuple[Side, ...]
    acknowledge_within: timedelta
    resolve_within: timedelta
    timezone: str
    skipped_levels: tuple[int, ...] = ()


@dataclass(frozen=True)
class FollowupQuestion(IssueMessage):
    """The blameless question both sides are asked when an issue is resolved."""


@dataclass(frozen=True)
class IssueDraft:
    """Prefilled values for the issue modal (from a signal's "Log issue" button or a message shortcut)."""

    title: str
    details: str
    category: str | None
    severity: str | None


@dataclass(frozen=True)
class SeverityPolicy:
    severity: str
    acknowledge: timedelta  # working time
    resolve: timedelta  # working time
    custom: bool  # False: the DESIGN 3.3 default


@dataclass(frozen=True)
class PolicyView:
    partnership: PartnershipView
    severities: tuple[SeverityPolicy, ...]


@dataclass(frozen=True)
class PolicyChange:
    """What one save of the policy form changed: the new categories (None: unchanged) and the severities whose
    deadlines changed, in order; ``policy`` is the policy as saved."""

    policy: PolicyView
    categories: tuple[str, ...] | None
    severities: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.categories is not None or bool(self.severities)


@dataclass(frozen=True)
class HolidayView:
    side: Side
    day: date
    name: str


@dataclass(frozen=True)
class CalendarView:
    """One side's working calendar: escalation time runs only inside it."""

    side: Side
    timezone: str
    workdays: tuple[int, ...]  # 0 = Monday
    day_start: time
    day_end: time
    holidays: tuple[HolidayView, ...]


class SignalKind(StrEnum):
    DROP = "drop"
    GAP = "gap"
    RECURRING_CATEGORY = "recurring_category"
    #: The watermelon check (``bot.services.watermelon``): a dimension's KPIs and how people rate it disagree.
    KPIS_GREEN_UNHAPPY = "kpis_green_unhappy"
    KPIS_RED_HAPPY = "kpis_red_happy"


@dataclass(frozen=True)
class SignalView:
    """An early warning for the leads. ``detail`` holds the figures (averages, gap, count)."""

    id: int
    partnership: PartnershipView
    kind: SignalKind
    subject: str  # the dimension, or the category
    side: Side | None
    detail: dict[str, Any]
    created_at: datetime
