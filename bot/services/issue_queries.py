"""Reading the issue log (DESIGN 3.3): read models, the issue list and history, and what the sender renders.

The outbox sender renders issue messages at send time from these: the card (``issue_card``), a history line in its
thread (``history_item``), an escalation message (``escalation_notice``) and the blameless question
(``followup_question``); each returns None when the message is no longer wanted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from bot.services.escalation_policy import policy_from_rows
from bot.services.issue_models import (
    ActionStatus,
    ActionView,
    EscalationNotice,
    FollowupQuestion,
    FollowupView,
    HistoryItem,
    IssueCard,
    IssueEventView,
    IssueFilter,
    IssueStatus,
    IssueView,
)
from bot.services.partnership_guards import (
    Shown,
    issue_in_channel,
    require_partnership,
    row_and_partnership,
    shown_at_send_time,
)
from bot.services.partnership_models import Role, Side
from bot.services.read_models_from_rows import partnership_view, view_from_row
from bot.services.working_calendar import side_timezone
from storage.models import Action, Followup, Issue, IssueEvent, Partnership
from storage.repositories.issues import UNRESOLVED
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


# --- read models ------------------------------------------------------------------------------------------


def issue_view(issue: Issue) -> IssueView:
    """Read model of a stored issue."""
    return view_from_row(
        IssueView,
        issue,
        owning_side=Side(issue.owning_side),
        raised_by_side=Side(issue.raised_by_side) if issue.raised_by_side else None,
        status=IssueStatus(issue.status),
    )


def event_view(event: IssueEvent) -> IssueEventView:
    """Read model of a history entry."""
    return view_from_row(IssueEventView, event, data=dict(event.data or {}))


def action_view(action: Action, *, issue_number: int | None = None, today: date | None = None) -> ActionView:
    """Read model of an action; ``overdue`` is only known when the caller says what day it is for the owner."""
    return view_from_row(
        ActionView,
        action,
        issue_number=issue_number,
        side=Side(action.side),
        status=ActionStatus(action.status),
        overdue=today is not None and action.status == ActionStatus.OPEN.value and action.due_on < today,
    )


def followup_view(followup: Followup, *, issue_number: int, action_id: int | None) -> FollowupView:
    """Read model of an answer to the blameless question (``action_id``: the action made from it, if any)."""
    return view_from_row(FollowupView, followup, issue_number=issue_number, side=Side(followup.side), action_id=action_id)


# --- reading -----------------------------------------------------------------------------------------------


def get_issue(uow: UnitOfWork, *, channel_id: str, issue_id: int) -> IssueView:
    """One issue of the channel's partnership (for the update and reassign modals). Raises NotFound."""
    with uow.read_only():
        issue, _ = issue_in_channel(uow, channel_id, issue_id)
        return issue_view(issue)


def list_issues(
    uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str, filter: IssueFilter = IssueFilter.OPEN, limit: int = 50
) -> tuple[IssueView, ...]:
    """``/partner issues``: unresolved ones (open), unresolved ones the user owns (mine), or all; newest first."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        statuses = None if filter is IssueFilter.ALL else UNRESOLVED
        owner = user_id if filter is IssueFilter.MINE else None
        return tuple(issue_view(i) for i in uow.issues.list(p.id, statuses=statuses, owner_id=owner, limit=limit))


def history(uow: UnitOfWork, *, channel_id: str, issue_id: int) -> tuple[IssueEventView, ...]:
    """The stored history of an issue, oldest first."""
    with uow.read_only():
        issue, _ = issue_in_channel(uow, channel_id, issue_id)
        return tuple(event_view(e) for e in uow.issue_events.list_for_issue(issue.id))


def issue_card(uow: UnitOfWork, *, issue_id: int) -> IssueCard | None:
    """What the card shows now (the sender renders it at send time). None when the issue is gone."""
    return shown_at_send_time(uow, lambda u: u.issues, issue_id, _issue_card)


def _issue_card(uow: UnitOfWork, issue: Issue, p: Partnership) -> IssueCard:
    actions = tuple(action_view(a, issue_number=issue.number) for a in uow.actions.for_issue(issue.id))
    return IssueCard(
        issue=issue_view(issue),
        partnership=partnership_view(p),
        actions=actions,
        timezone=side_timezone(p, issue.owning_side),
    )


def _from_event(
    uow: UnitOfWork, event_id: int, build: Callable[[UnitOfWork, IssueEvent, Issue, Partnership], Shown | None]
) -> Shown | None:
    """What a message about a history entry shows, read when it is sent: ``build`` from the entry, its issue and
    partnership; None when any of them is gone."""
    with uow.read_only():
        event = uow.issue_events.get(event_id)
        found = row_and_partnership(uow, uow.issues, event.issue_id) if event is not None else None
        return None if event is None or found is None else build(uow, event, *found)


def history_item(uow: UnitOfWork, *, event_id: int) -> HistoryItem | None:
    """A history entry and what its thread reply shows."""
    return _from_event(uow, event_id, _history_item)


def _history_item(uow: UnitOfWork, event: IssueEvent, issue: Issue, p: Partnership) -> HistoryItem:
    data = event.data or {}
    followup = None
    if event.kind == "followup_added" and isinstance(data.get("followup_id"), int):
        row = uow.followups.get(data["followup_id"])
        if row is not None:
            linked = uow.actions.get_by_followup(row.id)
            followup = followup_view(row, issue_number=issue.number, action_id=linked.id if linked else None)
    action = None
    if event.kind == "action_added" and isinstance(data.get("action_id"), int):
        row_a = uow.actions.get(data["action_id"])
        if row_a is not None:
            action = action_view(row_a, issue_number=issue.number)
    return HistoryItem(
        event=event_view(event),
        issue=issue_view(issue),
        partnership=partnership_view(p),
        timezone=side_timezone(p, issue.owning_side),
        followup=followup,
        action=action,
    )


def _people(uow: UnitOfWork, p: Partnership, role: Role) -> dict[Side, list[str]]:
    found: dict[Side, list[str]] = {Side.CLIENT: [], Side.PROVIDER: []}
    for m in uow.members.list(p.id):
        if m.role == role.value and not m.deleted and m.side is not None:
            found[Side(m.side)].append(m.user_id)
    return found


def escalation_notice(uow: UnitOfWork, *, event_id: int) -> EscalationNotice | None:
    """The escalation message for a stored escalation, or None when it is no longer wanted.

    An escalation for a missing acknowledgement is dropped if the issue was acknowledged before it went out;
    any escalation is dropped once the issue is resolved.
    """
    return _from_event(uow, event_id, _escalation_notice)


def _escalation_notice(uow: UnitOfWork, event: IssueEvent, issue: Issue, p: Partnership) -> EscalationNotice | None:
    data = event.data or {}
    reason = str(data.get("reason") or "resolve")
    if event.kind != "escalated" or issue.status == IssueStatus.RESOLVED.value:
        return None
    if reason == "acknowledge" and issue.acknowledged_at is not None and issue.acknowledged_at >= event.at:
        return None
    level = event.level or 1
    missing: tuple[Side, ...] = ()
    if level == 1:
        recipients: tuple[str, ...] = (issue.owner_id,)
    else:
        people = _people(uow, p, Role.LEAD if level == 2 else Role.SPONSOR)
        recipients = tuple(people[Side.CLIENT] + people[Side.PROVIDER])
        missing = tuple(side for side in Side if not people[side])
    deadlines = policy_from_rows(uow.policies.for_partnership(p.id)).for_severity(issue.severity)
    return EscalationNotice(
        event=event_view(event),
        issue=issue_view(issue),
        partnership=partnership_view(p),
        level=level,
        reason=reason,
        recipients=recipients,
        missing_sides=missing,
        acknowledge_within=deadlines.acknowledge,
        resolve_within=deadlines.resolve,
        timezone=side_timezone(p, issue.owning_side),
        skipped_levels=tuple(int(x) for x in data.get("skipped") or ()),
    )


def followup_question(uow: UnitOfWork, *, event_id: int) -> FollowupQuestion | None:
    """The blameless question for a resolution, or None if the issue was reopened before it went out."""
    return _from_event(uow, event_id, _followup_question)


def _followup_question(uow: UnitOfWork, event: IssueEvent, issue: Issue, p: Partnership) -> FollowupQuestion | None:
    if event.kind != "resolved" or issue.status != IssueStatus.RESOLVED.value:
        return None
    return FollowupQuestion(issue=issue_view(issue), partnership=partnership_view(p))
