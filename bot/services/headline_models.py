"""The weekly digest's headline (issue 12 item 6): what changed, what needs attention, which decisions are
needed from whom. Frozen read models decided by ``bot.services.digest_headline`` from the digest's read model and
rendered by ``bot.blocks.digest``; every figure in them is a ``bot.services.figures`` value, printed by
``bot.services.figures_format``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.services.digest_models import DigestAction, DigestIssue
from bot.services.figures import Comparison, HealthIndex
from bot.services.partnership_models import Side
from bot.services.watermelon_models import DimensionCheck


@dataclass(frozen=True)
class ItemChange:
    """One side's rating of one subject within one dimension moved by a flagged amount against the same items
    the last time they were asked (``comparison.side(side).change``)."""

    comparison: Comparison
    side: Side


@dataclass(frozen=True)
class Changes:
    """What changed: each side's health index that moved (like with like: the whole bank over the same number of
    weeks), then the items whose rating moved by a flagged amount."""

    health: tuple[HealthIndex, ...]
    items: tuple[ItemChange, ...]

    def __bool__(self) -> bool:
        return bool(self.health or self.items)


class IssueReason(StrEnum):
    """Why an open issue is in the headline."""

    ESCALATED = "escalated"  # escalated (level 2 or above: the leads or sponsors were called in)
    STALLED = "stalled"  # not acknowledged after a week


@dataclass(frozen=True)
class IssueAlert:
    issue: DigestIssue
    reason: IssueReason


@dataclass(frozen=True)
class OverdueBySide:
    """A side's overdue actions (most overdue first)."""

    side: Side
    actions: tuple[DigestAction, ...]


@dataclass(frozen=True)
class Attention:
    """What needs attention, in this order: sides whose answers were withheld this week (too few answered),
    flagged perception gaps (widest first), the watermelon check's pairings (``kpis``: dimensions whose agreed KPIs
    and people's scores disagree), issues escalated or stalled, overdue actions per side."""

    gaps: tuple[Comparison, ...]
    issues: tuple[IssueAlert, ...]
    overdue: tuple[OverdueBySide, ...]
    withheld: tuple[Side, ...]
    kpis: tuple[DimensionCheck, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.gaps or self.issues or self.overdue or self.withheld or self.kpis)


class DecisionKind(StrEnum):
    ACKNOWLEDGE = "acknowledge"  # an open issue the owning side has not acknowledged
    ESCALATED = "escalated"  # an issue at level 2 or 3: the leads or the sponsors of both sides
    OVERDUE = "overdue"  # a side's overdue actions: finish them or agree a new date


@dataclass(frozen=True)
class Decision:
    """A decision needed: from one side (``side``), or from both sides' leads or sponsors (``side`` None,
    ``level`` the escalation level)."""

    kind: DecisionKind
    side: Side | None
    issues: tuple[DigestIssue, ...] = ()
    actions: int = 0
    level: int = 0


@dataclass(frozen=True)
class Headline:
    """The lines a reader sees first, in this order; ``quiet`` when there is none of them."""

    changes: Changes
    attention: Attention
    decisions: tuple[Decision, ...]

    @property
    def quiet(self) -> bool:
        return not (self.changes or self.attention or self.decisions)
