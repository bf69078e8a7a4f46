"""Reads of the partnership's work with its history: issues, actions and shared goals, each with its event rows.

``bot.services.work_history`` works out from these rows what each item was at any instant of a window, so the
digest and the export show a past week as it was. One ``read`` answers for many partnerships at once (a batch of
digests): six statements whatever the number of partnerships, each row a plain named tuple.

What is read for a window ``[start, end)``: every item created before ``end`` that could have been open or changed
in the window (unresolved or not yet closed now, or with a history entry at or after ``start``; an item closed
before ``start`` and untouched since was closed all window long), with its whole history before ``end``. Shared
goals are few: all of them are read.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import aliased

from storage.models import Action, ActionEvent, Goal, GoalEvent, Issue, IssueEvent
from storage.repositories.base import Repository
from storage.repositories.issues import UNRESOLVED

#: The issue history entries that change what the digest counts (status, clock, level, owning side).
ISSUE_STATE_KINDS = ("created", "acknowledged", "resolved", "reopened", "escalated", "reassigned")


class IssueRow(NamedTuple):
    id: int
    partnership_id: int
    number: int
    title: str
    severity: str
    owning_side: str
    status: str
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


class IssueHistoryRow(NamedTuple):
    """An issue history entry; ``from_side``/``to_side`` are set on a reassignment that moved the owning side."""

    issue_id: int
    kind: str
    at: datetime
    level: int | None
    from_side: str | None
    to_side: str | None


class ActionRow(NamedTuple):
    id: int
    partnership_id: int
    title: str
    side: str
    due_on: date
    status: str
    created_at: datetime
    closed_at: datetime | None
    issue_number: int | None


class ActionHistoryRow(NamedTuple):
    action_id: int
    at: datetime
    status: str | None
    due_on: date | None


class GoalRow(NamedTuple):
    id: int
    partnership_id: int
    number: int
    title: str
    client_owner_id: str
    provider_owner_id: str
    status: str
    created_at: datetime
    updated_at: datetime


class GoalHistoryRow(NamedTuple):
    goal_id: int
    at: datetime
    status: str


@dataclass
class WorkRows:
    """One partnership's items and their history (oldest entry first, per item), as ``WorkHistoryRepository.read``
    found them."""

    issues: list[IssueRow] = field(default_factory=list)
    issue_events: dict[int, list[IssueHistoryRow]] = field(default_factory=dict)
    actions: list[ActionRow] = field(default_factory=list)
    action_events: dict[int, list[ActionHistoryRow]] = field(default_factory=dict)
    goals: list[GoalRow] = field(default_factory=list)
    goal_events: dict[int, list[GoalHistoryRow]] = field(default_factory=dict)


def _side(data: Any, key: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


class WorkHistoryRepository(Repository):
    """Issues, actions and goals with their history, for a window, for many partnerships in one set of reads."""

    def read(self, partnership_ids: Collection[int], *, start: datetime, end: datetime) -> dict[int, WorkRows]:
        """Every given partnership's rows (an empty ``WorkRows`` for one without any) for the window [start, end)."""
        ids = sorted(set(partnership_ids))
        found: dict[int, WorkRows] = {pid: WorkRows() for pid in ids}
        if not ids:
            return found
        conn = self.session.connection()
        # The "touched since ``start``" tests read the history tables under another name, so the queries that join
        # the same table to list the history do not correlate them away.
        later_issue, later_action = aliased(IssueEvent), aliased(ActionEvent)

        issue_scope = and_(
            Issue.partnership_id.in_(ids),
            Issue.created_at < end,
            or_(
                Issue.status.in_(UNRESOLVED),
                exists().where(later_issue.issue_id == Issue.id, later_issue.at >= start).correlate(Issue),
            ),
        )
        issues = select(
            Issue.id,
            Issue.partnership_id,
            Issue.number,
            Issue.title,
            Issue.severity,
            Issue.owning_side,
            Issue.status,
            Issue.created_at,
            Issue.acknowledged_at,
            Issue.resolved_at,
        ).where(issue_scope)
        for row in conn.execute(issues.order_by(Issue.partnership_id, Issue.number)):
            issue = IssueRow._make(row)
            found[issue.partnership_id].issues.append(issue)
        issue_events = (
            select(
                Issue.partnership_id, IssueEvent.issue_id, IssueEvent.kind, IssueEvent.at, IssueEvent.level, IssueEvent.data
            )
            .join(Issue, Issue.id == IssueEvent.issue_id)
            .where(issue_scope, IssueEvent.at < end, IssueEvent.kind.in_(ISSUE_STATE_KINDS))
            .order_by(IssueEvent.at, IssueEvent.id)
        )
        for pid, issue_id, kind, at, level, data in conn.execute(issue_events):
            entry = IssueHistoryRow(issue_id, kind, at, level, _side(data, "from_side"), _side(data, "to_side"))
            found[pid].issue_events.setdefault(issue_id, []).append(entry)

        action_scope = and_(
            Action.partnership_id.in_(ids),
            Action.created_at < end,
            or_(
                Action.status == "open",
                Action.closed_at >= start,
                exists().where(later_action.action_id == Action.id, later_action.at >= start).correlate(Action),
            ),
        )
        actions = (
            select(
                Action.id,
                Action.partnership_id,
                Action.title,
                Action.side,
                Action.due_on,
                Action.status,
                Action.created_at,
                Action.closed_at,
                Issue.number,
            )
            .outerjoin(Issue, Issue.id == Action.issue_id)
            .where(action_scope)
            .order_by(Action.partnership_id, Action.id)
        )
        for action_row in conn.execute(actions):
            action = ActionRow._make(action_row)
            found[action.partnership_id].actions.append(action)
        action_events = (
            select(Action.partnership_id, ActionEvent.action_id, ActionEvent.at, ActionEvent.status, ActionEvent.due_on)
            .select_from(ActionEvent)
            .join(Action, Action.id == ActionEvent.action_id)
            .where(action_scope, ActionEvent.at < end)
            .order_by(ActionEvent.at, ActionEvent.id)
        )
        for pid, action_id, at, status, due_on in conn.execute(action_events):
            found[pid].action_events.setdefault(action_id, []).append(ActionHistoryRow(action_id, at, status, due_on))

        goal_scope: Sequence[ColumnElement[bool]] = (Goal.partnership_id.in_(ids), Goal.created_at < end)
        goals = select(
            Goal.id,
            Goal.partnership_id,
            Goal.number,
            Goal.title,
            Goal.client_owner_id,
            Goal.provider_owner_id,
            Goal.status,
            Goal.created_at,
            Goal.updated_at,
        ).where(*goal_scope)
        for goal_row in conn.execute(goals.order_by(Goal.partnership_id, Goal.number)):
            goal = GoalRow._make(goal_row)
            found[goal.partnership_id].goals.append(goal)
        goal_events = (
            select(Goal.partnership_id, GoalEvent.goal_id, GoalEvent.at, GoalEvent.status)
            .select_from(GoalEvent)
            .join(Goal, Goal.id == GoalEvent.goal_id)
            .where(*goal_scope, GoalEvent.at < end)
            .order_by(GoalEvent.at, GoalEvent.id)
        )
        for pid, goal_id, at, status in conn.execute(goal_events):
            found[pid].goal_events.setdefault(goal_id, []).append(GoalHistoryRow(goal_id, at, status))
        return found
