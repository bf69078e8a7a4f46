"""The weekly digest's headline (issue 12 item 6; README "The weekly digest"): a pure decision, from the digest's
read model, of what a reader needs in 30 seconds. No I/O, no wording (``bot.blocks.digest`` words it).

- **What changed**: only changes the figures call real. Each side's health index when its trend is up or down
  (the whole bank over ``figures.HEALTH_WEEKS`` weeks against the weeks before: like with like), and a side's
  rating of an item that moved against the same items the last time they were asked by at least the watch level
  (``figures.flag`` of the change). Too little data is no change: nothing is said about it here.
- **What needs attention**: a side whose answers are withheld this week because too few of its people answered,
  flagged perception gaps (widest first), each dimension where the watermelon check's pairing holds
  (``bot.services.watermelon``: KPIs green and people unhappy, or people happy and KPIs red), open issues escalated to the leads or sponsors (level 2 or above) or
  not acknowledged after ``STALLED_DAYS``, and overdue actions per side.
- **Decisions needed, from whom**: the owning side acknowledges an issue it has not acknowledged; the leads
  (level 2) or sponsors (level 3) of both sides decide on an escalated issue; a side with overdue actions
  finishes them or agrees new dates.
"""

from __future__ import annotations

from decimal import Decimal

from bot.services import figures
from bot.services.digest_models import DigestIssue, DigestView
from bot.services.figures import Comparison, Flag
from bot.services.headline_models import (
    Attention,
    Changes,
    Decision,
    DecisionKind,
    Headline,
    IssueAlert,
    IssueReason,
    ItemChange,
    OverdueBySide,
)
from bot.services.issue_models import IssueStatus
from bot.services.partnership_models import Side
from bot.services.pulse_models import Trend

#: An open issue nobody acknowledged for this many days is stalled.
STALLED_DAYS = 7
#: From this escalation level the leads (2) or the sponsors (3) of both sides are needed.
DECIDING_LEVEL = 2


def headline(view: DigestView) -> Headline:
    """What changed, what needs attention and which decisions are needed, from ``view`` alone."""
    return Headline(changes=changes(view), attention=attention(view), decisions=decisions(view))


def _shown(view: DigestView) -> list[Side]:
    return [side for side in Side if not view.side(side).withheld]


def changes(view: DigestView) -> Changes:
    """Health indexes that moved, then items whose rating moved by a flagged amount (largest first)."""
    health = tuple(
        h for side in _shown(view) if (h := view.health_of(side)).value is not None and h.trend in (Trend.UP, Trend.DOWN)
    )
    moved: list[tuple[Decimal, tuple[int, int, str], int, ItemChange]] = []
    for item in view.items:
        if item.subject is None:
            continue
        for order, side in enumerate(_shown(view)):
            delta = item.side(side).change
            if delta is not None and figures.flag(delta) is not Flag.NONE:
                moved.append((-abs(delta), figures.order_key(item.subject, item.dimension), order, ItemChange(item, side)))
    moved.sort(key=lambda t: t[:3])
    return Changes(health=health, items=tuple(change for *_, change in moved))


def _flagged(view: DigestView) -> tuple[Comparison, ...]:
    """Flagged gaps, widest first; none while a side is withheld (a gap needs both sides' figures)."""
    if len(_shown(view)) < len(Side):
        return ()
    return tuple(c for c in view.gaps if c.flag is not Flag.NONE)


def _alert(issue: DigestIssue) -> IssueAlert | None:
    if issue.escalation_level >= DECIDING_LEVEL:
        return IssueAlert(issue, IssueReason.ESCALATED)
    if issue.status is IssueStatus.OPEN and issue.age_days >= STALLED_DAYS:
        return IssueAlert(issue, IssueReason.STALLED)
    return None


def attention(view: DigestView) -> Attention:
    """Withheld sides, flagged gaps, escalated or stalled issues (highest level, then oldest, first), overdue
    actions per side."""
    alerts = [a for a in map(_alert, view.issues.open) if a is not None]
    alerts.sort(key=lambda a: (-a.issue.escalation_level, -a.issue.age_days, a.issue.number))
    overdue = tuple(
        OverdueBySide(side, actions)
        for side in Side
        if (actions := tuple(a for a in view.actions.overdue if a.side is side))
    )
    withheld = tuple(side for side in Side if view.side(side).withheld)
    kpis = view.kpis.pairings if view.kpis is not None else ()
    return Attention(gaps=_flagged(view), issues=tuple(alerts), overdue=overdue, withheld=withheld, kpis=kpis)


def decisions(view: DigestView) -> tuple[Decision, ...]:
    """Acknowledgements owed per side, then escalated issues for both sides' leads or sponsors (highest level
    first), then each side's overdue actions."""
    found: list[Decision] = []
    open_issues = view.issues.open
    for side in Side:
        waiting = tuple(i for i in open_issues if i.status is IssueStatus.OPEN and i.owning_side is side)
        if waiting:
            found.append(Decision(DecisionKind.ACKNOWLEDGE, side, issues=waiting))
    for level in sorted({i.escalation_level for i in open_issues if i.escalation_level >= DECIDING_LEVEL}, reverse=True):
        at_level = tuple(i for i in open_issues if i.escalation_level == level)
        found.append(Decision(DecisionKind.ESCALATED, None, issues=at_level, level=level))
    for side in Side:
        late = sum(1 for a in view.actions.overdue if a.side is side)
        if late:
            found.append(Decision(DecisionKind.OVERDUE, side, actions=late))
    return tuple(found)
