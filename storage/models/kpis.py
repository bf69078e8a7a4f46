"""Agreed KPIs (DESIGN 3.6): the ledger both sides agree, its versions, the figures recorded per period, and the
bearer tokens a ticketing or monitoring system uses to push figures.

A KPI (``Kpi``) is numbered per partnership like issues and has a stable ``key`` that the CSV import and the HTTP
endpoint name it by. What it measures lives in versions (``KpiVersion``): one side proposes a version, the other
agrees or asks to discuss it; a change to an agreed KPI is a new version, so the old one's history stays. The
version in force for a period is the latest agreed version whose ``effective_from`` is on or before the period's
end (``bot.services.kpi_rules``). A figure (``KpiValue``) is one per KPI and period end: a repeated figure for the
same period replaces the stored one, which is kept (``KpiValueHistory``) so a digest reads its figures as they were
when it was made.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base

KPI_DIRECTIONS = ("higher", "lower")
KPI_PERIODS = ("weekly", "monthly")
KPI_VERSION_STATUSES = ("proposed", "agreed", "discussing", "withdrawn", "superseded")
KPI_VALUE_SOURCES = ("slack", "csv", "api")


class Kpi(Base):
    """One agreed measure of the service (delivered by the provider) or of the client's contribution."""

    __tablename__ = "kpis"
    __table_args__ = (
        UniqueConstraint("partnership_id", "number"),
        UniqueConstraint("partnership_id", "key"),
        UniqueConstraint("partnership_id", "request_key"),
        CheckConstraint("delivered_by IN ('client', 'provider')", name="delivered_by"),
        Index("ix_kpis_due_request", "next_request_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    # Lower-case letters, digits and dashes ("first-contact-resolution"): what the CSV import and the API name.
    key: Mapped[str] = mapped_column(String(40))
    delivered_by: Mapped[str] = mapped_column(String(10))
    # The version in force now (the latest agreed one); NULL until a version is first agreed.
    current_version: Mapped[int | None]
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # Retired by a lead: no more figures asked for; its history stays.
    retired_at: Mapped[datetime | None]
    request_key: Mapped[str | None] = mapped_column(String(100))
    # The owner's form for the last period: when it is next due (NULL: not scheduled) and the last period asked.
    next_request_at: Mapped[datetime | None]
    requested_period_end: Mapped[date | None]
    # The blameless question is asked once per red period (the last period asked).
    red_question_period_end: Mapped[date | None]
    # The red-KPI pass has looked at every figure recorded up to this instant (bot.services.kpi_red).
    red_checked_at: Mapped[datetime | None]
    # Red for the partnership's kpi_red_periods_to_escalate periods in a row: the issue logged for it, which then
    # escalates along the partnership's path as every issue does.
    escalation_issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"))


class KpiVersion(Base):
    """What a KPI measures, as one side proposed it; agreed, under discussion, withdrawn or superseded."""

    __tablename__ = "kpi_versions"
    __table_args__ = (
        UniqueConstraint("kpi_id", "version"),
        CheckConstraint("direction IN ('higher', 'lower')", name="direction"),
        CheckConstraint("period IN ('weekly', 'monthly')", name="period"),
        CheckConstraint(
            "status IN ('proposed', 'agreed', 'discussing', 'withdrawn', 'superseded')",
            name="status",
        ),
        CheckConstraint("proposed_side IN ('client', 'provider')", name="proposed_side"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(80))
    # What is measured and how ("tickets closed on the first contact / all tickets closed, from the service desk").
    measure: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(16))
    # Whether a higher or a lower figure is better.
    direction: Mapped[str] = mapped_column(String(6))
    target: Mapped[float] = mapped_column(Float)
    # A figure worse than ``amber`` is amber; worse than ``red`` is red (so red is at or beyond amber, and amber at
    # or beyond the target, in the KPI's direction).
    amber: Mapped[float] = mapped_column(Float)
    red: Mapped[float] = mapped_column(Float)
    period: Mapped[str] = mapped_column(String(8))
    # The relationship dimension it relates to (bot.services.pulse_models.DIMENSIONS).
    dimension: Mapped[str] = mapped_column(String(32))
    # Who on the delivering side records its figure each period (NULL: any lead of that side).
    owner_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    proposed_side: Mapped[str] = mapped_column(String(10))
    proposed_by: Mapped[str] = mapped_column(String(32))
    proposed_at: Mapped[datetime]
    # The other side's answer: who, when, and what they said (a reason to discuss, or a note on agreeing).
    responded_by: Mapped[str | None] = mapped_column(String(32))
    responded_at: Mapped[datetime | None]
    response: Mapped[str | None] = mapped_column(Text)
    # Set when agreed: the first period end this version judges (figures of earlier periods keep their version).
    effective_from: Mapped[date | None]


class KpiFigureColumns:
    """What a figure of a KPI for the period ending ``period_end`` holds, stored (``KpiValue``) or kept after a
    later one replaced it (``KpiValueHistory``)."""

    period_end: Mapped[date]
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(5))
    # A Slack user id (form), the operator's CSV file name, or the API token's label.
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime]


#: The columns a figure is copied by, from ``kpi_values`` to ``kpi_value_history``.
KPI_FIGURE_FIELDS = ("kpi_id", "period_end", "value", "note", "source", "recorded_by", "recorded_at")


class KpiValue(KpiFigureColumns, Base):
    """The figure of one KPI for the period ending ``period_end``; one per KPI and period (a repeat replaces it)."""

    __tablename__ = "kpi_values"
    __table_args__ = (
        UniqueConstraint("kpi_id", "period_end"),
        CheckConstraint("source IN ('slack', 'csv', 'api')", name="source"),
        # The red-KPI pass's claim: a KPI's figures recorded since it last looked (bot.services.kpi_red).
        Index("ix_kpi_values_recorded", "kpi_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"), index=True)


class KpiValueHistory(KpiFigureColumns, Base):
    """A figure as it was before a later one for the same KPI and period replaced it: in force from
    ``recorded_at`` until ``replaced_at`` (the replacing figure's ``recorded_at``)."""

    __tablename__ = "kpi_value_history"
    __table_args__ = (
        CheckConstraint("source IN ('slack', 'csv', 'api')", name="source"),
        # A digest's figures read as of its making: a KPI's replaced figures by period.
        Index("ix_kpi_value_history_kpi_period", "kpi_id", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"))
    replaced_at: Mapped[datetime]


class ApiToken(Base):
    """A partnership's bearer token for ``POST /api/v1/kpis/values``; shown once, stored only as its SHA-256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's last four characters, so a lead can tell tokens apart without the token.
    hint: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    revoked_by: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
