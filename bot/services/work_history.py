"""The partnership's work as it was at an instant: issues, actions and shared goals replayed from their history.

Pure functions over the rows ``storage.repositories.work_history`` reads. The state at instant ``at`` is what the
entries *before* ``at`` made it: a week ``[start, end)`` is reported as it stood at its end, so an entry at the
exact digest time belongs to the next week. The digest (``bot.services.digest``) and, through it, the export use
these functions, so every surface shows a past week as it was, never by today's state.

An item with no history entries at all (written by hand, or by an old version without the backfill) is replayed
from what its row says: created at ``created_at``, closed (resolved, done or dropped) at its closing time.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.services.digest_models import (
    AGE_BUCKET_DAYS,
    ActionSummary,
    DigestAction,
    DigestIssue,
    GoalsSection,
    GoalView,
    IssueSummary,
    SeverityAges,
)
from bot.services.issue_models import SEVERITIES, ActionStatus, IssueStatus
from bot.services.partnership_models import Side
from bot.services.review_models import GOAL_STATUS_LABELS, GoalStatus
from storage.repositories.work_history import (
    ActionHistoryRow,
    ActionRow,
    GoalHistoryRow,
    GoalRow,
    IssueHistoryRow,
    IssueRow,
    WorkRows,
)

#: Goals the digest lists per partnership (it shows at most a screenful of them anyway).
MAX_DIGEST_GOALS = 200
#: The local date of one side at an instant (``bot.services.issues.today_in`` for a partnership).
TodayOf = Callable[[Side, datetime], date]


# --- one item at an instant ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueState:
    """An issue at an instant: ``opened_at`` is when its clock last started (created or reopened)."""

    status: IssueStatus
    opened_at: datetime
    resolved_at: datetime | None
    escalation_level: int
    owning_side: Side


def _issue_history(issue: IssueRow, events: Sequence[IssueHistoryRow]) -> Sequence[IssueHistoryRow]:
    if events:
        return events
    made = [IssueHistoryRow(issue.id, "created", issue.created_at, None, None, None)]
    if issue.acknowledged_at is not None:
        made.append(IssueHistoryRow(issue.id, "acknowledged", issue.acknowledged_at, None, None, None))
    if issue.status == IssueStatus.RESOLVED.value and issue.resolved_at is not None:
        made.append(IssueHistoryRow(issue.id, "resolved", issue.resolved_at, None, None, None))
    return made


def issue_state_at(issue: IssueRow, events: Sequence[IssueHistoryRow], at: datetime) -> IssueState | None:
    """The issue as it stood at ``at``; None if it was not logged yet."""
    if issue.created_at >= at:
        return None
    history = _issue_history(issue, events)
    # The owning side before the first reassignment that moved it (after ``at`` too): where it started.
    moves = [e for e in history if e.kind == "reassigned" and e.from_side and e.to_side]
    side = moves[0].from_side if moves else issue.owning_side
    status, opened_at, resolved_at, level = IssueStatus.OPEN, issue.created_at, None, 0
    for e in history:
        if e.at >= at:
            break
        if e.kind == "created":
            status, opened_at = IssueStatus.OPEN, e.at
        elif e.kind == "acknowledged":
            status = IssueStatus.ACKNOWLEDGED
        elif e.kind == "resolved":
            status, resolved_at = IssueStatus.RESOLVED, e.at
        elif e.kind == "reopened":  # a fresh clock: unacknowledged, not escalated
            status, opened_at, resolved_at, level = IssueStatus.OPEN, e.at, None, 0
        elif e.kind == "escalated" and e.level is not None:
            level = e.level
        elif e.kind == "reassigned" and e.to_side:
            side = e.to_side
    return IssueState(status, opened_at, resolved_at, level, Side(side or issue.owning_side))


@dataclass(frozen=True)
class ActionState:
    status: ActionStatus
    due_on: date
    closed_at: datetime | None


def _action_history(action: ActionRow, events: Sequence[ActionHistoryRow]) -> Sequence[ActionHistoryRow]:
    if events:
        return events
    made = [ActionHistoryRow(action.id, action.created_at, ActionStatus.OPEN.value, action.due_on)]
    if action.status != ActionStatus.OPEN.value and action.closed_at is not None:
        made.append(ActionHistoryRow(action.id, action.closed_at, action.status, None))
    return made


def action_state_at(action: ActionRow, events: Sequence[ActionHistoryRow], at: datetime) -> ActionState | None:
    """The action as it stood at ``at``; None if it did not exist yet."""
    if action.created_at >= at:
        return None
    history = _action_history(action, events)
    first_due = next((e.due_on for e in history if e.due_on is not None), action.due_on)
    status, due_on, closed_at = ActionStatus.OPEN, first_due, None
    for e in history:
        if e.at >= at:
            break
        if e.status is not None:
            status = ActionStatus(e.status)
            closed_at = None if status is ActionStatus.OPEN else e.at
        if e.due_on is not None:
            due_on = e.due_on
    return ActionState(status, due_on, closed_at)


def _goal_history(goal: GoalRow, events: Sequence[GoalHistoryRow]) -> Sequence[GoalHistoryRow]:
    if events:
        return events
    if goal.status == GoalStatus.DONE.value and goal.updated_at > goal.created_at:
        return [
            GoalHistoryRow(goal.id, goal.created_at, GoalStatus.ON_TRACK.value),
            GoalHistoryRow(goal.id, goal.updated_at, GoalStatus.DONE.value),
        ]
    return [GoalHistoryRow(goal.id, goal.created_at, goal.status)]


def goal_status_at(goal: GoalRow, events: Sequence[GoalHistoryRow], at: datetime) -> tuple[GoalStatus, datetime] | None:
    """The goal's status at ``at`` and since when; None if it did not exist yet."""
    if goal.created_at >= at:
        return None
    history = _goal_history(goal, events)
    status, since = GoalStatus(history[0].status), goal.created_at
    for e in history:
        if e.at >= at:
            break
        if e.status != status.value:
            status, since = GoalStatus(e.status), e.at
    return status, since


# --- a week, as the digest reports it --------------------------------------------------------------------------


def _digest_issue(issue: IssueRow, state: IssueState, at: datetime, level: int | None = None) -> DigestIssue:
    until = state.resolved_at if state.status is IssueStatus.RESOLVED and state.resolved_at is not None else at
    return DigestIssue(
        number=issue.number,
        title=issue.title,
        severity=issue.severity,
        owning_side=state.owning_side,
        status=state.status,
        escalation_level=state.escalation_level if level is None else level,
        age_days=max((until - state.opened_at).days, 0),
    )


def issue_summary(rows: WorkRows, start: datetime, at: datetime) -> IssueSummary:
    """Issues of the week ``[start, at)`` as they stood at ``at``: logged, resolved (and still resolved at ``at``)
    and escalated in it (with the highest level reached in it); unresolved at ``at``, oldest first, by severity
    and age."""
    new: list[DigestIssue] = []
    resolved: list[DigestIssue] = []
    escalated: list[DigestIssue] = []
    unresolved: list[tuple[datetime, int, DigestIssue]] = []
    for issue in rows.issues:  # by number
        events = rows.issue_events.get(issue.id, ())
        state = issue_state_at(issue, events, at)
        if state is None:
            continue
        item = _digest_issue(issue, state, at)
        in_week = [e for e in _issue_history(issue, events) if start <= e.at < at]
        if start <= issue.created_at:
            new.append(item)
        if state.status is IssueStatus.RESOLVED and any(e.kind == "resolved" for e in in_week):
            resolved.append(item)
        levels = [e.level for e in in_week if e.kind == "escalated" and e.level is not None]
        if levels:
            escalated.append(_digest_issue(issue, state, at, max(levels)))
        if state.status is not IssueStatus.RESOLVED:
            unresolved.append((state.opened_at, issue.number, item))
    open_items = tuple(item for _, _, item in sorted(unresolved, key=lambda t: (t[0], t[1])))
    by_severity = []
    for severity in SEVERITIES:
        counts = [0] * (len(AGE_BUCKET_DAYS) + 1)
        for item in open_items:
            if item.severity == severity:
                counts[bisect.bisect_right(AGE_BUCKET_DAYS, item.age_days)] += 1
        by_severity.append(SeverityAges(severity, tuple(counts)))
    return IssueSummary(
        new=tuple(new),
        resolved=tuple(resolved),
        escalated=tuple(escalated),
        open=open_items,
        open_by_severity=tuple(by_severity),
    )


def action_summary(rows: WorkRows, start: datetime, at: datetime, today_of: TodayOf) -> ActionSummary:
    """Actions as they stood at ``at``: open per side, overdue (open with a due date before the owner's side's
    local date at ``at``; most overdue first), and done in ``[start, at)`` and still done at ``at``."""
    open_by_side = {Side.CLIENT: 0, Side.PROVIDER: 0}
    today = {side: today_of(side, at) for side in Side}
    listed: list[tuple[date, int, ActionRow, ActionState]] = []
    for action in rows.actions:
        state = action_state_at(action, rows.action_events.get(action.id, ()), at)
        if state is not None:
            listed.append((state.due_on, action.id, action, state))
    overdue: list[DigestAction] = []
    done: list[tuple[datetime, DigestAction]] = []
    for due_on, _, action, state in sorted(listed, key=lambda t: (t[0], t[1])):
        side = Side(action.side)
        item = DigestAction(title=action.title, side=side, due_on=due_on, issue_number=action.issue_number)
        if state.status is ActionStatus.OPEN:
            open_by_side[side] += 1
            if due_on < today[side]:
                overdue.append(item)
        elif state.status is ActionStatus.DONE and state.closed_at is not None and state.closed_at >= start:
            done.append((state.closed_at, item))
    done.sort(key=lambda pair: pair[0])
    return ActionSummary(open_by_side=open_by_side, overdue=tuple(overdue), done=tuple(item for _, item in done))


def goals_section(rows: WorkRows, start: datetime, at: datetime) -> GoalsSection:
    """Shared goals as they stood at ``at``: those being worked on, and those done in ``[start, at)``.

    ``tracked`` is True once the partnership had any goal at ``at``, so the digest can tell "no goals yet" from
    "goals not tracked". At most ``MAX_DIGEST_GOALS`` are considered, those being worked on first.
    """
    states: list[tuple[GoalRow, GoalStatus, datetime]] = []
    for goal in rows.goals:
        found = goal_status_at(goal, rows.goal_events.get(goal.id, ()), at)
        if found is not None:
            states.append((goal, *found))
    if not states:
        return GoalsSection()
    considered = sorted(states, key=lambda s: (s[1] is GoalStatus.DONE, s[0].number))[:MAX_DIGEST_GOALS]
    shown = sorted(
        (s for s in considered if s[1] is not GoalStatus.DONE or start <= s[2]),
        key=lambda s: s[0].number,
    )
    return GoalsSection(
        tracked=True,
        goals=tuple(
            GoalView(
                title=goal.title,
                status=GOAL_STATUS_LABELS[status.value],
                client_owner=goal.client_owner_id,
                provider_owner=goal.provider_owner_id,
            )
            for goal, status, _ in shown
        ),
    )
