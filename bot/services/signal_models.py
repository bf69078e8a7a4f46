"""Early-warning signals for the leads (DESIGN 3.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.services.partnership_models import PartnershipView, Side


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
