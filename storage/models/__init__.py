"""Typed SQLAlchemy 2.0 models, one module per table group.

Every datetime is timezone-aware UTC. Every partnership-owned row carries ``partnership_id`` so that
no query can wander into another partnership's data.

Import models from here (``from storage.models import Issue``), never from the modules below: importing this package
registers every table on ``Base.metadata``, which Alembic and ``create_all`` need whole.
"""

from __future__ import annotations

from storage.models.digests import Digest
from storage.models.installations import SlackBot, SlackInstallation, SlackOAuthState
from storage.models.issues import Action, ActionEvent, EscalationPolicyRow, Followup, Holiday, Issue, IssueEvent, Signal
from storage.models.kpis import (
    KPI_DIRECTIONS,
    KPI_FIGURE_FIELDS,
    KPI_PERIODS,
    KPI_VALUE_SOURCES,
    KPI_VERSION_STATUSES,
    ApiToken,
    Kpi,
    KpiValue,
    KpiValueHistory,
    KpiVersion,
)
from storage.models.outbox import OutboxMessage, ProcessedEvent
from storage.models.partnerships import (
    DEFAULT_DAY_END,
    DEFAULT_DAY_START,
    DEFAULT_WORKDAYS,
    DISABLED_REASON_LENGTH,
    ROLES,
    SIDES,
    Member,
    Partnership,
    SideGroup,
    SideGroupMember,
    Workspace,
    disabled_reason,
    held_for_reinstall,
    held_without_rechecks,
)
from storage.models.pulses import Answer, PulseRound, Question, Response, RoundQuestion
from storage.models.reviews import (
    EXPECTATION_STATUSES,
    GOAL_STATUSES,
    Expectation,
    Goal,
    GoalEvent,
    Scorecard,
    ScorecardResponse,
    ScorecardScore,
)

__all__ = [
    "Action",
    "ActionEvent",
    "ApiToken",
    "Answer",
    "DEFAULT_DAY_END",
    "DEFAULT_DAY_START",
    "DEFAULT_WORKDAYS",
    "DISABLED_REASON_LENGTH",
    "Digest",
    "EXPECTATION_STATUSES",
    "EscalationPolicyRow",
    "Expectation",
    "Followup",
    "GOAL_STATUSES",
    "Goal",
    "GoalEvent",
    "Holiday",
    "Issue",
    "IssueEvent",
    "KPI_DIRECTIONS",
    "KPI_FIGURE_FIELDS",
    "KPI_PERIODS",
    "KPI_VALUE_SOURCES",
    "KPI_VERSION_STATUSES",
    "Kpi",
    "KpiValue",
    "KpiValueHistory",
    "KpiVersion",
    "Member",
    "OutboxMessage",
    "Partnership",
    "ProcessedEvent",
    "PulseRound",
    "Question",
    "ROLES",
    "Response",
    "RoundQuestion",
    "SIDES",
    "Scorecard",
    "ScorecardResponse",
    "ScorecardScore",
    "SideGroup",
    "SideGroupMember",
    "Signal",
    "SlackBot",
    "SlackInstallation",
    "SlackOAuthState",
    "Workspace",
    "disabled_reason",
    "held_for_reinstall",
    "held_without_rechecks",
]
