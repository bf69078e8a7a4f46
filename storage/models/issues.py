"""Issues, escalation, actions and signals (DESIGN 3.3): holidays, the policy per severity, issues and their
events, follow-ups, actions and their events, early-warning signals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.models.columns import PartnershipOwned, PrimaryId, RequestKey, Side, SlackId


class Holiday(PartnershipOwned, Base):
    """A local date on which one side does not work: escalation time does not run on it."""

    __tablename__ = "holidays"
    __table_args__ = (
        UniqueConstraint("partnership_id", "side", "day"),
        CheckConstraint("side IN ('client', 'provider')", name="side"),
    )

    side: Mapped[Side]
    day: Mapped[date]
    name: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]


class EscalationPolicyRow(PartnershipOwned, Base):
    """A lead's override of one severity's deadlines, in working minutes. No row means the default."""

    __tablename__ = "escalation_policies"
    __table_args__ = (
        UniqueConstraint("partnership_id", "severity"),
        CheckConstraint("severity IN ('S1', 'S2', 'S3', 'S4')", name="severity"),
        CheckConstraint("acknowledge_minutes > 0 AND resolve_minutes > 0", name="positive"),
    )

    severity: Mapped[str] = mapped_column(String(2))
    acknowledge_minutes: Mapped[int]
    resolve_minutes: Mapped[int]
    updated_by: Mapped[SlackId]
    updated_at: Mapped[datetime]


class Issue(PartnershipOwned, Base):
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

    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(150))
    details: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(60))
    owning_side: Mapped[Side]
    owner_id: Mapped[SlackId]
    raised_by: Mapped[SlackId]
    raised_by_side: Mapped[Side | None]
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime]
    # When the escalation clock started: creation, or the last reopening.
    opened_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[SlackId | None]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[SlackId | None]
    escalation_level: Mapped[int] = mapped_column(default=0)
    next_escalation_at: Mapped[datetime | None]
    card_ts: Mapped[str | None] = mapped_column(String(32))
    source_permalink: Mapped[str | None] = mapped_column(String(500))
    request_key: Mapped[RequestKey | None]
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

    id: Mapped[PrimaryId]
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[SlackId | None]
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

    id: Mapped[PrimaryId]
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    side: Mapped[Side]
    author_id: Mapped[SlackId]
    text: Mapped[str] = mapped_column(Text)
    request_key: Mapped[RequestKey | None]
    created_at: Mapped[datetime]


class Action(PartnershipOwned, Base):
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

    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"), index=True)
    followup_id: Mapped[int | None] = mapped_column(ForeignKey("followups.id", ondelete="SET NULL"))
    # An answer to a red KPI's blameless question ("what can each side do to get it back?").
    kpi_id: Mapped[int | None] = mapped_column(ForeignKey("kpis.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(150))
    owner_id: Mapped[SlackId]
    side: Mapped[Side]
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[SlackId | None]
    # The owner's local date of the last overdue reminder: at most one a day.
    last_reminded_on: Mapped[date | None]
    # The earliest instant the next overdue reminder may go (start of the owner's next working window after the
    # due date or the last reminder), so a tick reads only the actions whose reminder is due. NULL: not yet
    # computed (rows from before the column existed); the reminder job computes it.
    next_reminder_at: Mapped[datetime | None]
    request_key: Mapped[RequestKey | None]
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

    id: Mapped[PrimaryId]
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[SlackId | None]
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(10))
    due_on: Mapped[date | None]


class Signal(PartnershipOwned, Base):
    """An early warning sent to the leads once (``dedupe_key``). It suggests an issue; it never escalates."""

    __tablename__ = "signals"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('drop', 'gap', 'recurring_category', 'kpis_green_unhappy', 'kpis_red_happy')", name="kind"
        ),
        Index("ix_signals_subject", "partnership_id", "kind", "subject", "created_at"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    # The dimension (drop, gap, and the watermelon check's kpis_green_unhappy and kpis_red_happy) or category
    # (recurring_category) the signal is about.
    subject: Mapped[str] = mapped_column(String(60))
    side: Mapped[Side | None]
    round_id: Mapped[int | None] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    detail: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
