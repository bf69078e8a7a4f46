"""Typed SQLAlchemy 2.0 models.

Every datetime is timezone-aware UTC. Every partnership-owned row carries ``partnership_id`` so that
no query can wander into another partnership's data.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base

SIDES = ("client", "provider")
ROLES = ("member", "lead", "sponsor")
DEFAULT_WORKDAYS = "0,1,2,3,4"
DEFAULT_DAY_START = "09:00"
DEFAULT_DAY_END = "17:00"


class Workspace(Base):
    """A Slack workspace (team) where PartnerPulse is installed."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    # Cleared when Slack answers invalid_auth / account_inactive / token_revoked: sending is held (nothing is lost)
    # and the token is checked again with auth.test at auth_recheck_at, backing off after each of auth_failures;
    # the first check that passes resumes sending.
    sending_enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    auth_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    auth_recheck_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The portfolio digest (issue 4): every partnership of the workspace ranked by risk, posted weekly to this
    # channel at the digest time of this time zone. NULL channel: no scheduled portfolio digest.
    portfolio_channel_id: Mapped[str | None] = mapped_column(String(32))
    portfolio_timezone: Mapped[str | None] = mapped_column(String(64))
    portfolio_set_by: Mapped[str | None] = mapped_column(String(32))
    next_portfolio_at: Mapped[datetime | None] = mapped_column(index=True)


class Partnership(Base):
    """One client-provider relationship, living in one channel."""

    __tablename__ = "partnerships"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id"),
        CheckConstraint("anonymity_threshold >= 3", name="threshold_min"),
        CheckConstraint("installing_side IN ('client', 'provider')", name="installing_side"),
        CheckConstraint("status IN ('active', 'paused')", name="status"),
        Index("ix_partnerships_due_pulse", "status", "next_pulse_at"),
        Index("ix_partnerships_due_digest", "status", "next_digest_at"),
        CheckConstraint("scorecard_cadence IN ('monthly', 'quarterly', 'off')", name="scorecard_cadence"),
        Index("ix_partnerships_due_scorecard", "status", "next_scorecard_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(150))
    client_org: Mapped[str] = mapped_column(String(150))
    provider_org: Mapped[str] = mapped_column(String(150))
    installing_side: Mapped[str] = mapped_column(String(10))
    is_connect: Mapped[bool] = mapped_column(default=False)
    timezone: Mapped[str] = mapped_column(String(64))
    pulse_weekday: Mapped[int]  # 0 = Monday
    pulse_hour: Mapped[int]
    pulse_minute: Mapped[int]
    pulse_every_weeks: Mapped[int] = mapped_column(default=1)
    digest_weekday: Mapped[int] = mapped_column(default=0)
    digest_hour: Mapped[int] = mapped_column(default=9)
    digest_minute: Mapped[int] = mapped_column(default=0)
    anonymity_threshold: Mapped[int] = mapped_column(default=3)
    anonymous: Mapped[bool] = mapped_column(default=True)
    questions_per_round: Mapped[int] = mapped_column(default=3)
    response_window_hours: Mapped[int] = mapped_column(default=48)
    reminder_before_close_hours: Mapped[int] = mapped_column(default=24)
    status: Mapped[str] = mapped_column(String(10), default="active")
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    paused_by: Mapped[str | None] = mapped_column(String(32))
    next_pulse_at: Mapped[datetime | None]
    menu_ts: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Each side's working calendar, which escalation deadlines are counted in (DESIGN 3.3). A NULL time zone
    # means the partnership's; workdays are "0,1,2,3,4" (0 = Monday); the window is "HH:MM"-"HH:MM" local time.
    client_timezone: Mapped[str | None] = mapped_column(String(64))
    provider_timezone: Mapped[str | None] = mapped_column(String(64))
    client_workdays: Mapped[str] = mapped_column(String(20), default=DEFAULT_WORKDAYS, server_default=DEFAULT_WORKDAYS)
    provider_workdays: Mapped[str] = mapped_column(String(20), default=DEFAULT_WORKDAYS, server_default=DEFAULT_WORKDAYS)
    client_day_start: Mapped[str] = mapped_column(String(5), default=DEFAULT_DAY_START, server_default=DEFAULT_DAY_START)
    client_day_end: Mapped[str] = mapped_column(String(5), default=DEFAULT_DAY_END, server_default=DEFAULT_DAY_END)
    provider_day_start: Mapped[str] = mapped_column(String(5), default=DEFAULT_DAY_START, server_default=DEFAULT_DAY_START)
    provider_day_end: Mapped[str] = mapped_column(String(5), default=DEFAULT_DAY_END, server_default=DEFAULT_DAY_END)
    # The issue categories leads chose; NULL means the built-in list (so the defaults can improve later).
    issue_categories: Mapped[list[Any] | None]
    # Issues are numbered per partnership (#1, #2, ...); taken under the partnership's row lock.
    next_issue_number: Mapped[int] = mapped_column(default=1, server_default="1")
    # When the next weekly digest is due (DESIGN 3.4, 4.1). NULL until the heartbeat first computes it from
    # digest_weekday/hour/minute, so setup needs no change and a changed schedule can be reset by clearing it.
    next_digest_at: Mapped[datetime | None]
    # The bilateral scorecard (DESIGN 3.5): how often it runs, and when the next one opens (NULL until the
    # heartbeat first computes it, like next_digest_at).
    scorecard_cadence: Mapped[str] = mapped_column(String(10), default="quarterly", server_default="quarterly")
    next_scorecard_at: Mapped[datetime | None]

    workspace: Mapped[Workspace] = relationship(lazy="joined")


class Member(Base):
    """A person in a partnership: channel member, lead or sponsor."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("partnership_id", "user_id"),
        CheckConstraint("role IN ('member', 'lead', 'sponsor')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str | None] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    tz: Mapped[str | None] = mapped_column(String(64))
    # side = side_override when set, else group_side, else the side derived from the home team (Slack Connect)
    # or None. side_override is a lead's personal assignment; group_side comes from the most recently assigned
    # user group (SideGroup) the person is in.
    side: Mapped[str | None] = mapped_column(String(10))
    side_override: Mapped[str | None] = mapped_column(String(10))
    group_side: Mapped[str | None] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(10), default="member")
    is_bot: Mapped[bool] = mapped_column(default=False)
    in_channel: Mapped[bool] = mapped_column(default=True)
    deleted: Mapped[bool] = mapped_column(default=False)
    # A lead or sponsor who asked for a direct-message copy of the weekly digest (/partner digest subscribe).
    digest_copy: Mapped[bool] = mapped_column(default=False, server_default=false())
    joined_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SideGroup(Base):
    """A user group a lead put on a side (``/partner side @group client``): its members get that side unless they
    have a personal assignment. Among several groups, the most recently assigned (highest ``sequence``) wins."""

    __tablename__ = "side_groups"
    __table_args__ = (
        UniqueConstraint("partnership_id", "usergroup_id"),
        CheckConstraint("side IN ('client', 'provider')", name="side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    usergroup_id: Mapped[str] = mapped_column(String(32), index=True)
    # The handle as the lead's command showed it (plain text, escaped on output).
    handle: Mapped[str] = mapped_column(String(100), default="")
    side: Mapped[str] = mapped_column(String(10))
    set_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The order of assignments in the partnership (taken under its row lock): each assignment, a repeated one
    # included, gets the next number, and a person in several groups gets the side of the highest.
    sequence: Mapped[int]


class SideGroupMember(Base):
    """Who is in an assigned user group, as Slack last said (usergroups.users.list, subteam_members_changed).

    Kept so that a person removed from one group falls back to another assigned group without asking Slack."""

    __tablename__ = "side_group_members"
    __table_args__ = (UniqueConstraint("side_group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    side_group_id: Mapped[int] = mapped_column(ForeignKey("side_groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))


class Question(Base):
    """A pulse question: an *item* about one ``subject`` (the provider, the client or the relationship) with a
    wording for each rater side about that same subject. ``partnership_id`` is NULL for the built-in bank.

    ``subject`` NULL marks an item whose two wordings were about different things (retired in migration 0010):
    its answers are kept and shown per side, but never compared between the sides or across weeks.
    """

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("partnership_id", "key"),
        CheckConstraint("kind IN ('scale', 'nps')", name="kind"),
        CheckConstraint("perspective IN ('mirrored', 'other_side')", name="perspective"),
        CheckConstraint("subject IN ('provider', 'client', 'relationship')", name="subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str] = mapped_column(String(32))
    text_client: Mapped[str] = mapped_column(String(300))
    text_provider: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10), default="scale")
    perspective: Mapped[str] = mapped_column(String(12), default="mirrored")
    subject: Mapped[str | None] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class PulseRound(Base):
    """One pulse round of a partnership: posted, reminded, closed."""

    __tablename__ = "pulse_rounds"
    __table_args__ = (
        UniqueConstraint("partnership_id", "scheduled_at"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        Index("ix_pulse_rounds_due", "status", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int]
    scheduled_at: Mapped[datetime]
    opened_at: Mapped[datetime]
    remind_at: Mapped[datetime | None]
    closes_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="open")
    is_adhoc: Mapped[bool] = mapped_column(default=False)
    # How many people each side asked when the round opened: the denominator of participation.
    asked_client: Mapped[int] = mapped_column(default=0)
    asked_provider: Mapped[int] = mapped_column(default=0)
    reminded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    questions: Mapped[list[RoundQuestion]] = relationship(
        order_by="RoundQuestion.position", cascade="all, delete-orphan", lazy="selectin"
    )


class RoundQuestion(Base):
    """Which questions a round asks, in order."""

    __tablename__ = "round_questions"

    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))

    question: Mapped[Question] = relationship(lazy="joined")


class Response(Base):
    """One person's answers to one round, keyed by a keyed hash of the person (anonymous mode)."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("round_id", "respondent_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"), index=True)
    respondent_hash: Mapped[str] = mapped_column(String(64))
    # Only set when the partnership opted out of anonymity.
    user_id: Mapped[str | None] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(10))
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class Answer(Base):
    """A score (and optional comment) for one question of a response."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    #: The comment's sentiment (``bot.services.sentiment.analyse``, compound score -1..1), computed when the
    #: comment is saved so the weekly digest reads it instead of scoring every comment again. NULL when there is
    #: no comment, and for comments saved before the column existed (the digest scores those on the fly).
    sentiment: Mapped[float | None] = mapped_column(Float)


class OutboxMessage(Base):
    """A message PartnerPulse intends to send: recorded first, then sent, then its ``ts`` recorded.

    The payload is rendered at send time from ``purpose`` and ``ref_id`` so that the row is written in the
    same transaction as the domain change that caused it.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')", name="status"),
        Index("ix_outbox_pending", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[int | None]
    method: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    available_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(36))
    sent_at: Mapped[datetime | None]
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    extra: Mapped[dict[str, Any] | None]


class ProcessedEvent(Base):
    """Events API ``event_id``s already handled, so a retried delivery does its work once."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]


# --- issues, escalation, actions and signals (DESIGN 3.3) ---------------------------------------------------


class Holiday(Base):
    """A local date on which one side does not work: escalation time does not run on it."""

    __tablename__ = "holidays"
    __table_args__ = (
        UniqueConstraint("partnership_id", "side", "day"),
        CheckConstraint("side IN ('client', 'provider')", name="side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(10))
    day: Mapped[date]
    name: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class EscalationPolicyRow(Base):
    """A lead's override of one severity's deadlines, in working minutes. No row means the default."""

    __tablename__ = "escalation_policies"
    __table_args__ = (
        UniqueConstraint("partnership_id", "severity"),
        CheckConstraint("severity IN ('S1', 'S2', 'S3', 'S4')", name="severity"),
        CheckConstraint("acknowledge_minutes > 0 AND resolve_minutes > 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(2))
    acknowledge_minutes: Mapped[int]
    resolve_minutes: Mapped[int]
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime]


class Issue(Base):
    """A tracked partnership issue with an owner, a severity and an escalation clock.

    ``next_escalation_at`` is precomputed whenever the issue changes (from the policy and the owning side's
    calendar), so the heartbeat finds due escalations with one indexed range query. It is NULL once resolved
    or when every level has fired.
    """

    __tablename__ = "issues"
    __table_args__ = (
        UniqueConstraint("partnership_id", "number"),
        UniqueConstraint("partnership_id", "request_key"),
        CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="status"),
        CheckConstraint("severity IN ('S1', 'S2', 'S3', 'S4')", name="severity"),
        CheckConstraint("owning_side IN ('client', 'provider')", name="owning_side"),
        CheckConstraint("escalation_level BETWEEN 0 AND 3", name="escalation_level"),
        Index("ix_issues_due_escalation", "status", "next_escalation_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(150))
    details: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(60))
    owning_side: Mapped[str] = mapped_column(String(10))
    owner_id: Mapped[str] = mapped_column(String(32))
    raised_by: Mapped[str] = mapped_column(String(32))
    raised_by_side: Mapped[str | None] = mapped_column(String(10))
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime]
    # When the escalation clock started: creation, or the last reopening.
    opened_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    escalation_level: Mapped[int] = mapped_column(default=0)
    next_escalation_at: Mapped[datetime | None]
    card_ts: Mapped[str | None] = mapped_column(String(32))
    source_permalink: Mapped[str | None] = mapped_column(String(500))
    request_key: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class IssueEvent(Base):
    """One entry of an issue's history. ``actor`` is NULL for PartnerPulse itself (escalations)."""

    __tablename__ = "issue_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('created', 'acknowledged', 'updated', 'reassigned', 'escalated', 'resolved', 'reopened', "
            "'action_added', 'followup_added')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]


class Followup(Base):
    """One side's answer to "What can we do to keep this from happening again?" after an issue is resolved."""

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("issue_id", "request_key"),
        CheckConstraint("side IN ('client', 'provider')", name="side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    request_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Action(Base):
    """Something one person will do by a date. A follow-up becomes at most one action (unique ``followup_id``)."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("partnership_id", "request_key"),
        UniqueConstraint("followup_id"),
        CheckConstraint("status IN ('open', 'done', 'dropped')", name="status"),
        CheckConstraint("side IN ('client', 'provider')", name="side"),
        Index("ix_actions_overdue", "status", "due_on"),
        Index("ix_actions_reminder", "status", "next_reminder_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"), index=True)
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(150))
    owner_id: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    # The owner's local date of the last overdue reminder: at most one a day.
    last_reminded_on: Mapped[date | None]
    # The earliest instant the next overdue reminder may go (start of the owner's next working window after the
    # due date or the last reminder), so a tick reads only the actions whose reminder is due. NULL: not yet
    # computed (rows from before the column existed); the reminder job computes it.
    next_reminder_at: Mapped[datetime | None]
    request_key: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]


class ActionEvent(Base):
    """One entry of an action's history: created, marked done or dropped, reopened, or given a new due date.

    ``status`` and ``due_on`` are what the action has from ``at`` on (NULL: unchanged by this entry), so the state
    at any instant is the last values set before it (``bot.services.work_history``).
    """

    __tablename__ = "action_events"
    __table_args__ = (
        CheckConstraint("kind IN ('created', 'status_changed', 'due_changed')", name="kind"),
        CheckConstraint("status IS NULL OR status IN ('open', 'done', 'dropped')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(10))
    due_on: Mapped[date | None]


class Signal(Base):
    """An early warning sent to the leads once (``dedupe_key``). It suggests an issue; it never escalates."""

    __tablename__ = "signals"
    __table_args__ = (
        CheckConstraint("kind IN ('drop', 'gap', 'recurring_category')", name="kind"),
        Index("ix_signals_subject", "partnership_id", "kind", "subject", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The dimension (drop, gap) or category (recurring_category) the signal is about.
    subject: Mapped[str] = mapped_column(String(60))
    side: Mapped[str | None] = mapped_column(String(10))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    detail: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


# --- the weekly digest (DESIGN 3.4) --------------------------------------------------------------------------


class Digest(Base):
    """One partnership's weekly digest, recorded once per week (the unique key makes queuing idempotent).

    ``week_start`` is the local date (partnership time zone) on which the digest's week began; the week is the
    seven local days ending at ``ends_at``, the digest's scheduled time.
    """

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("partnership_id", "week_start"),
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    week_start: Mapped[date]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="queued")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


# --- shared goals, the expectations ledger and the bilateral scorecard (DESIGN 3.5) ---------------------------

GOAL_STATUSES = ("on_track", "at_risk", "off_track", "done")
EXPECTATION_STATUSES = ("open", "agreed", "discussing", "withdrawn")


class Goal(Base):
    """A goal both sides share, with an owner on each side; numbered per partnership like issues."""

    __tablename__ = "goals"
    __table_args__ = (
        UniqueConstraint("partnership_id", "number"),
        UniqueConstraint("partnership_id", "request_key"),
        CheckConstraint("status IN ('on_track', 'at_risk', 'off_track', 'done')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(150))
    client_owner_id: Mapped[str] = mapped_column(String(32))
    provider_owner_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(10), default="on_track")
    # The latest status note ("waiting on the test environment"), shown next to the status.
    note: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None]
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime]
    request_key: Mapped[str | None] = mapped_column(String(100))


class GoalEvent(Base):
    """One entry of a goal's history: created, or its status changed. ``status`` is the status from ``at`` on."""

    __tablename__ = "goal_events"
    __table_args__ = (
        CheckConstraint("kind IN ('created', 'status_changed')", name="kind"),
        CheckConstraint("status IN ('on_track', 'at_risk', 'off_track', 'done')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))


class Expectation(Base):
    """What one side expects of the other (``from_side`` expects it); the other side agrees or discusses it."""

    __tablename__ = "expectations"
    __table_args__ = (
        UniqueConstraint("partnership_id", "number"),
        UniqueConstraint("partnership_id", "request_key"),
        CheckConstraint("status IN ('open', 'agreed', 'discussing', 'withdrawn')", name="status"),
        CheckConstraint("from_side IN ('client', 'provider')", name="from_side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    from_side: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # The other side's answer: who, when, and what they said (a reason to discuss, or a note on agreeing).
    responded_by: Mapped[str | None] = mapped_column(String(32))
    responded_at: Mapped[datetime | None]
    response: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    request_key: Mapped[str | None] = mapped_column(String(100))


class Scorecard(Base):
    """One bilateral scorecard round (monthly or quarterly): each side rates itself and the other."""

    __tablename__ = "scorecards"
    __table_args__ = (
        UniqueConstraint("partnership_id", "period"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        Index("ix_scorecards_due_close", "status", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    # "2026-11" (monthly) or "2026-Q4" (quarterly): at most one scorecard per period.
    period: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_by: Mapped[str | None] = mapped_column(String(32))  # NULL: opened by the schedule
    opened_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # The one nudge to people who have not filled it in: when it is due (NULL: none) and when it was queued.
    remind_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]

    responses: Mapped[list[ScorecardResponse]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ScorecardResponse(Base):
    """One person's scorecard, keyed by the same keyed hash as pulse responses (anonymous)."""

    __tablename__ = "scorecard_responses"
    __table_args__ = (
        UniqueConstraint("scorecard_id", "respondent_hash"),
        CheckConstraint("side IN ('client', 'provider')", name="side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"), index=True)
    respondent_hash: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    scores: Mapped[list[ScorecardScore]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ScorecardScore(Base):
    """A 1-5 rating of one dimension, of the rater's own side (``self``) or of the other side (``other``)."""

    __tablename__ = "scorecard_scores"
    __table_args__ = (
        UniqueConstraint("response_id", "target", "dimension"),
        CheckConstraint("target IN ('self', 'other')", name="target"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("scorecard_responses.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(5))
    dimension: Mapped[str] = mapped_column(String(32))
    score: Mapped[int]
