"""The parts of the portfolio's risk score that grow with time: open issues and overdue actions (issue 12, item 7).

An open issue counts more the longer it stays open against its policy's resolve time and the higher it has been
escalated; an overdue action counts more the longer it is overdue. Both are pure functions of the digest's read
model (plus the partnership's resolve times), returning their points and the reason in words.

======================= =================================================================================
part                    points
======================= =================================================================================
one open issue          severity weight × (1 + age factor) + 6 per escalation level reached.
                        Weights: S1 10, S2 5, S3 2, S4 1. Age factor: days open ÷ the policy's resolve time
                        in working days (8 working hours a day, each calendar day counted as one), at most 3.
                        Levels: 1 owner nudged, 2 both leads, 3 the executive sponsors (so up to 18 points).
issues (all)            the sum over open issues, at most 60.
one overdue action      2 + 0.5 per day overdue, at most 10 (12 days overdue: 8 points).
overdue actions (all)   the sum over overdue actions, at most 20.
======================= =================================================================================

A fresh S2 scores 5, as before; an S2 left unacknowledged for four weeks and escalated to the sponsors scores
5 × (1 + 3) + 3 × 6 = 38. Issues are named in the reason when they are S1 or S2, or escalated to the leads or
higher (at most ``NAMED_ISSUES``, most points first); S3/S4 everyday friction only adds its points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from bot.services.digest_models import DigestAction, DigestIssue
from bot.services.escalation_policy import DEFAULT_POLICY
from bot.services.issue_models import SEVERITIES, IssueStatus

SEVERITY_WEIGHTS = {"S1": 10.0, "S2": 5.0, "S3": 2.0, "S4": 1.0}
AGE_FACTOR_MAX = 3.0
ESCALATION_LEVEL_POINTS = 6.0
ISSUES_MAX = 60.0
WORKING_DAY = timedelta(hours=8)
OVERDUE_BASE_POINTS = 2.0
OVERDUE_POINTS_PER_DAY = 0.5
OVERDUE_ACTION_MAX = 10.0
OVERDUE_MAX = 20.0
#: At most this many issues are named in the reason; the others are counted.
NAMED_ISSUES = 3

#: What each escalation level means, as the reason says it.
LEVEL_WORDS = {1: "its owner nudged", 2: "escalated to both leads", 3: "escalated to the sponsors"}

#: The DESIGN 3.3 resolve times, for partnerships that did not change them.
DEFAULT_RESOLVE: dict[str, timedelta] = {s: DEFAULT_POLICY.for_severity(s).resolve for s in SEVERITIES}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def duration_words(days: int) -> str:
    """ "3 days", "1 day"; from two weeks on, in whole weeks ("4 weeks")."""
    return _plural(days, "day") if days < 14 else _plural(days // 7, "week")


def issue_points(issue: DigestIssue, resolve: timedelta) -> float:
    """One open issue's points (see the module docstring)."""
    resolve_days = max(resolve / WORKING_DAY, 1 / 8)  # a resolve time under an hour counts as one hour
    factor = min(issue.age_days / resolve_days, AGE_FACTOR_MAX)
    level = min(max(issue.escalation_level, 0), 3)
    return SEVERITY_WEIGHTS.get(issue.severity, 1.0) * (1.0 + factor) + ESCALATION_LEVEL_POINTS * level


def issue_words(issue: DigestIssue) -> str:
    """ "S2 #3 unacknowledged for 4 weeks, escalated to the sponsors"."""
    state = "unacknowledged" if issue.status is IssueStatus.OPEN else "open"
    said = f"{issue.severity} #{issue.number} {state} for {duration_words(issue.age_days)}"
    level = LEVEL_WORDS.get(min(issue.escalation_level, 3))
    return f"{said}, {level}" if level else said


def _named(issue: DigestIssue) -> bool:
    return issue.severity in ("S1", "S2") or issue.escalation_level >= 2


def issues_part(
    issues: Sequence[DigestIssue], resolve: Mapping[str, timedelta] = DEFAULT_RESOLVE
) -> tuple[float, str | None] | None:
    """The open issues' points (capped) and the reason naming the worst of them; None with no open issue."""
    if not issues:
        return None
    scored = sorted(
        ((issue_points(i, resolve.get(i.severity, DEFAULT_RESOLVE.get(i.severity, WORKING_DAY))), i) for i in issues),
        key=lambda pair: (-pair[0], pair[1].number),
    )
    points = min(sum(p for p, _ in scored), ISSUES_MAX)
    named = [i for _, i in scored if _named(i)]
    if not named:
        return points, None
    words = [issue_words(i) for i in named[:NAMED_ISSUES]]
    if len(named) > NAMED_ISSUES:
        words.append(f"and {len(named) - NAMED_ISSUES} more")
    return points, "; ".join(words)


def days_overdue(action: DigestAction, today: date) -> int:
    return max((today - action.due_on).days, 0)


def overdue_part(actions: Sequence[DigestAction], today: date) -> tuple[float, str] | None:
    """The overdue actions' points (capped) and the reason; None with no overdue action."""
    if not actions:
        return None
    late = [days_overdue(a, today) for a in actions]
    each = [min(OVERDUE_BASE_POINTS + OVERDUE_POINTS_PER_DAY * d, OVERDUE_ACTION_MAX) for d in late]
    points = min(sum(each), OVERDUE_MAX)
    oldest = max(late)
    if len(actions) == 1:
        return points, f"1 action overdue by {duration_words(oldest)}"
    return points, f"{len(actions)} actions overdue, the oldest by {duration_words(oldest)}"
