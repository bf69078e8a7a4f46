"""Pulse rounds: the question bank, rounds and their questions, responses (keyed by a hash) and answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base
from storage.models.columns import PartnershipOwned, PrimaryId, Side, SlackId


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

    id: Mapped[PrimaryId]
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str] = mapped_column(String(32))
    text_client: Mapped[str] = mapped_column(String(300))
    text_provider: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10), default="scale")
    perspective: Mapped[str] = mapped_column(String(12), default="mirrored")
    subject: Mapped[str | None] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[SlackId | None]
    created_at: Mapped[datetime]


class PulseRound(PartnershipOwned, Base):
    """One pulse round of a partnership: posted, reminded, closed."""

    __tablename__ = "pulse_rounds"
    __table_args__ = (
        UniqueConstraint("partnership_id", "scheduled_at"),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        Index("ix_pulse_rounds_due", "status", "closes_at"),
    )

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
    position: Mapped[PrimaryId]
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))

    question: Mapped[Question] = relationship(lazy="joined")


class Response(Base):
    """One person's answers to one round, keyed by a keyed hash of the person (anonymous mode)."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("round_id", "respondent_hash"),)

    id: Mapped[PrimaryId]
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"), index=True)
    respondent_hash: Mapped[str] = mapped_column(String(64))
    # Only set when the partnership opted out of anonymity.
    user_id: Mapped[SlackId | None]
    side: Mapped[Side]
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class Answer(Base):
    """A score (and optional comment) for one question of a response."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[PrimaryId]
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="RESTRICT"))
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    #: The comment's sentiment (``bot.services.sentiment.analyse``, compound score -1..1), computed when the
    #: comment is saved so the weekly digest reads it instead of scoring every comment again. NULL when there is
    #: no comment, and for comments saved before the column existed (the digest scores those on the fly).
    sentiment: Mapped[float | None] = mapped_column(Float)
