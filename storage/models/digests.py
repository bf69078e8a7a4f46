"""The weekly digest (DESIGN 3.4): one row per partnership and week."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.models.columns import PartnershipOwned


class Digest(PartnershipOwned, Base):
    """One partnership's weekly digest, recorded once per week (the unique key makes queuing idempotent).

    ``week_start`` is the local date (partnership time zone) on which the digest's week began; the week is the
    seven local days ending at ``ends_at``, the digest's scheduled time.
    """

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("partnership_id", "week_start"),
        CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status"),
    )

    week_start: Mapped[date]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="queued")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
