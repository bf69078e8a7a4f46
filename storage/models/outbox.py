"""Outgoing messages waiting to be sent (the outbox) and incoming events already processed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.models.columns import PrimaryId, SlackId


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

    id: Mapped[PrimaryId]
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    partnership_id: Mapped[int | None] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[int | None]
    method: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[SlackId]
    user_id: Mapped[SlackId | None]
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
