"""Frozen read models and inputs shared by services, builders, handlers and jobs. Never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # bot.services.figures builds on these models; its values only appear in annotations here
    from decimal import Decimal

    from bot.services.figures import Comparison, Flag, HealthIndex, NpsFigure


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
class SideGroupResult:
    """What ``/partner side @group client|provider|auto`` did. ``side`` None: the group's assignment was removed
    (``existed`` says whether there was one). Counts are of people in the channel unless named otherwise."""

    usergroup_id: str
    handle: str
    side: Side | None
    existed: bool
    group_size: int  # people in the group, in the channel or not (Slack's list; the stored one for a removal)
    in_channel: int
    moved: int  # whose side changed
    personal: int  # whose personal assignment puts them on another side than the group's
    conflicts: int  # also in another assigned group of the other side, with no personal assignment
    other_handles: tuple[str, ...] = ()  # those other groups


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
class SetupDone:
    """The "setup done" message as it goes out: what the setup saved, and the lead who saved it."""

    result: SetupResult
    user_id: str


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


# --- issues, escalation, actions, follow-ups and signals (DESIGN 3.3) -------------------------------------------

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
class IssueCard:
    """Everything the issue card shows, read at send time."""

    issue: IssueView
    partnership: PartnershipView
    actions: tuple[ActionView, ...]
    timezone: str  # the owning side's, for dates and times on the card


@dataclass(frozen=True)
class HistoryItem:
    """One history entry with what its thread reply needs (the follow-up, for a contribution)."""

    event: IssueEventView
    issue: IssueView
    partnership: PartnershipView
    timezone: str
    followup: FollowupView | None = None
    action: ActionView | None = None


@dataclass(frozen=True)
class EscalationNotice:
    """An escalation message: what, since when, what is needed and from whom. Never who is at fault.

    ``reason`` is ``acknowledge`` (waiting to be acknowledged), ``resolve`` (resolution time) or ``manual``
    (someone pressed "Escalate now"). ``recipients`` are the people brought in at this level; ``missing_sides``
    are sides with nobody in that role, so the message can say so.
    """

    event: IssueEventView
    issue: IssueView
    partnership: PartnershipView
    level: int
    reason: str
    recipients: tuple[str, ...]
    missing_sides: tuple[Side, ...]
    acknowledge_within: timedelta
    resolve_within: timedelta
    timezone: str
    skipped_levels: tuple[int, ...] = ()


@dataclass(frozen=True)
class FollowupQuestion:
    issue: IssueView
    partnership: PartnershipView


@dataclass(frozen=True)
class OverdueReminder:
    """One owner's overdue actions in one partnership, for the one reminder they get that day."""

    partnership: PartnershipView
    owner_id: str
    actions: tuple[ActionView, ...]
    as_of: date


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


@dataclass(frozen=True)
class IssueDraft:
    """Prefilled values for the issue modal (from a signal's "Log issue" button or a message shortcut)."""

    title: str
    details: str
    category: str | None
    severity: str | None


# --- the weekly digest (DESIGN 3.4) -------------------------------------------------------------------------------

#: Open issues by age: under a week, one to four weeks, four weeks or more.
AGE_BUCKETS: tuple[str, ...] = ("under 1 week", "1–4 weeks", "4 weeks or more")
AGE_BUCKET_DAYS: tuple[int, ...] = (7, 28)
#: Weeks of pulse answers a digest reads; its chart shows the health index of every week whose whole window
#: (``figures.HEALTH_WEEKS``) lies inside them.
CHART_WEEKS = 12


class Trend(StrEnum):
    """A figure against the same figure earlier: ``none`` when either is unknown (not enough data yet)."""

    UP = "up"
    DOWN = "down"
    STEADY = "steady"
    NONE = "none"


@dataclass(frozen=True)
class SentimentSummary:
    """The tone of one side's comments of the week (``bot.services.sentiment``): mean compound score and labels."""

    comments: int
    mean: float
    label: str
    positive: int
    neutral: int
    negative: int


@dataclass(frozen=True)
class ThemeView:
    """A phrase that several comments of one side used, and in how many comments."""

    phrase: str
    comments: int


@dataclass(frozen=True)
class SideDigest:
    """One side's week: participation, and what it said, unless withheld.

    ``withheld`` means a pulse closed this week but fewer than the threshold answered on this side (in every
    round of the week): then ``sentiment``, ``themes`` and ``comments`` are empty and its averages are None.
    """

    side: Side
    org: str
    participation: Participation
    withheld: bool
    sentiment: SentimentSummary | None
    themes: tuple[ThemeView, ...]
    comments: tuple[str, ...]


@dataclass(frozen=True)
class DigestIssue:
    """One issue as the digest lists it (no owner names: the digest is public in the channel)."""

    number: int
    title: str
    severity: str
    owning_side: Side
    status: IssueStatus
    escalation_level: int
    age_days: int


@dataclass(frozen=True)
class SeverityAges:
    """Unresolved issues of one severity, counted per ``AGE_BUCKETS``."""

    severity: str
    by_age: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.by_age)


@dataclass(frozen=True)
class IssueSummary:
    """Issues of the week: logged, resolved and escalated in it; unresolved ones at digest time by severity and age."""

    new: tuple[DigestIssue, ...]
    resolved: tuple[DigestIssue, ...]
    escalated: tuple[DigestIssue, ...]  # escalation_level: the highest level reached this week
    open: tuple[DigestIssue, ...]  # oldest first
    open_by_severity: tuple[SeverityAges, ...]  # S1..S4, every severity present (zeros included)

    @property
    def open_total(self) -> int:
        return len(self.open)


@dataclass(frozen=True)
class DigestAction:
    """One action as the digest lists it (no owner names: reminders go to owners privately)."""

    title: str
    side: Side
    due_on: date
    issue_number: int | None = None


@dataclass(frozen=True)
class ActionSummary:
    """Actions at digest time: open (and of those, overdue), and done during the week."""

    open_by_side: dict[Side, int]
    overdue: tuple[DigestAction, ...]  # most overdue first
    done: tuple[DigestAction, ...]

    @property
    def open_total(self) -> int:
        return sum(self.open_by_side.values())


@dataclass(frozen=True)
class GoalView:
    """A shared goal (DESIGN 3.5). Goals are not stored yet; the digest section is typed so it can be filled later."""

    title: str
    status: str
    client_owner: str | None = None
    provider_owner: str | None = None


@dataclass(frozen=True)
class GoalsSection:
    tracked: bool = False  # False until shared goals exist: the digest says so
    goals: tuple[GoalView, ...] = ()


@dataclass(frozen=True)
class ChartLine:
    """One side's health index (``figures.HealthIndex``) by week, oldest week first; None where it is not known
    (its window did not cover every dimension, or had no answers the side could show)."""

    side: Side
    label: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class ChartSeries:
    """What the trend chart draws: ``weeks`` are the local start dates of the weeks, oldest first."""

    title: str
    weeks: tuple[date, ...]
    lines: tuple[ChartLine, ...]


@dataclass(frozen=True)
class DigestView:
    """Everything the weekly digest shows (DESIGN 3.4), read in a few aggregate queries.

    The week is ``starts_at`` (inclusive) to ``ends_at`` (exclusive): the seven local days ending at the digest time.
    Pulse figures come from rounds closed in each week. ``as_of`` is when open issues and actions were counted.
    """

    partnership: PartnershipView
    week_start: date
    starts_at: datetime
    ends_at: datetime
    as_of: datetime
    rounds: int  # pulse rounds closed this week
    #: This week's comparisons (``bot.services.figures``), one per subject and dimension asked, each side's
    #: ``previous`` being the same items the last time they were asked.
    items: tuple[Comparison, ...]
    gaps: tuple[Comparison, ...]  # the items with a gap, widest first
    health: tuple[HealthIndex, HealthIndex]  # client, provider
    sides: tuple[SideDigest, SideDigest]  # client, provider
    issues: IssueSummary
    actions: ActionSummary
    goals: GoalsSection
    chart: ChartSeries
    #: Each side's NPS of the week's rounds (client, provider), under the anonymity threshold as round results
    #: show it; None when no round of the week asked it.
    nps: tuple[NpsFigure, NpsFigure] | None = None

    def side(self, side: Side) -> SideDigest:
        return self.sides[0] if side is Side.CLIENT else self.sides[1]

    def health_of(self, side: Side) -> HealthIndex:
        return self.health[0] if side is Side.CLIENT else self.health[1]

    @property
    def threshold(self) -> int:
        return self.partnership.anonymity_threshold


# --- shared goals, the expectations ledger and the bilateral scorecard (DESIGN 3.5, issue 4 items 5, 6) ---------

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


# --- the portfolio digest (issue 4 item 4; scored in bot.services.portfolio) ------------------------------------


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
