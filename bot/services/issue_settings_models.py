"""What leads configure for issues: the deadlines per severity and what one save of the policy form changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.services.partnership_models import PartnershipView


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
