"""Shared goals, the expectations ledger and the bilateral scorecard (DESIGN 3.5)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base
from storage.models.columns import PartnershipOwned, PrimaryId, RequestKey, Side, SlackId

GOAL_STATUSES = ("on_track", "at_risk", "off_track", "done")
EXPECTATION_STATUSES = ("open", "agreed", "discussing", "withdrawn")


class Goal(PartnershipOwned, Base):
    """A goal both sides share, with an owner on each side; numbered per partnership like issues."""

    __tablename__ = "goals"
    __table_args__ = (
        UniqueConstraint("partnership_id", "number"),
        UniqueConstraint("partnership_id", "request_key"),
        CheckConstraint("status IN ('on_track', 'at_risk', 'off_track', 'done')", name="status"),
    )

    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(150))
    client_owner_id: Mapped[SlackId]
    provider_owner_id: Mapped[SlackId]
    status: Mapped[str] = mapped_column(String(10), default="on_track")
    # The latest status note ("waiting on the test environment"), shown next to the status.
    note: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None]
    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    updated_by: Mapped[SlackId | None]
    updated_at: Mapped[datetime]
    request_key: Mapped[RequestKey | None]


class GoalEvent(Base):
    """One entry of a goal's history: created, or its status changed. ``status`` is the status from ``at`` on."""

    __tablename__ = "goal_events"
    __table_args__ = (
        CheckConstraint("kind IN ('created', 'status_changed')", name="kind"),
        CheckConstraint("status IN ('on_track', 'at_risk', 'off_track', 'done')", name="status"),
    )

    id: Mapped[PrimaryId]
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[SlackId | None]
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))


class Expectation(PartnershipOwned, Base):
    """What one side expects of the other (``from_side`` expects it); the other side agrees or discusses it."""

    __tablename__ = "expectations"
    __table_args__ = (
        UniqueConstraint("partnership_id", "number"),
        UniqueConstraint("partnership_id", "request_key"),
        CheckConstraint("status IN ('open', 'agreed', 'discussing', 'withdrawn')", name="status"),
        CheckConstraint("from_side IN ('client', 'provider')", name="from_side"),
    )

    number: Mapped[int]
    from_side: Mapped[Side]
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    # The other side's answer: who, when, and what they said (a reason to discuss, or a note on agreeing).
    responded_by: Mapped[SlackId | None]
    responded_at: Mapped[datetime | None]
    response: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    request_key: Mapped[RequestKey | None]


class Scorecard(PartnershipOwned, Base):
    """One bilateral scorecard round (monthly or quarterly): each side rates itself and the other."""

    __tablename__ = "scorecards"
    __table_args__ = (
        UniqueConstraint("partnership_id", "period"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        Index("ix_scorecards_due_close", "status", "closes_at"),
    )

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

    id: Mapped[PrimaryId]
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"), index=True)
    respondent_hash: Mapped[str] = mapped_column(String(64))
    side: Mapped[Side]
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

    id: Mapped[PrimaryId]
    response_id: Mapped[int] = mapped_column(ForeignKey("scorecard_responses.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(5))
    dimension: Mapped[str] = mapped_column(String(32))
    score: Mapped[int]
