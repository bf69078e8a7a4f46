"""An issue's life (DESIGN 3.3): logging it, acknowledging, resolving, reopening, updating and reassigning it.

Every change is stored as an ``IssueEvent`` and goes to the channel through the outbox: the card is updated in
place and a line is added to its thread. Each change that moves the escalation clock reschedules the issue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.services import outbox, signals
from bot.services.errors import Conflict, InvalidInput, NotAllowed
from bot.services.escalation import reschedule
from bot.services.issue_models import (
    MAX_DETAILS,
    MAX_ISSUE_TITLE,
    SEVERITIES,
    IssueInput,
    IssueStatus,
    IssueView,
    LogIssueResult,
)
from bot.services.issue_queries import issue_view
from bot.services.partnership_guards import (
    MAX_REQUEST_KEY,
    active_member,
    categories_of,
    check_due_date,
    check_text,
    is_lead,
    issue_in_channel,
    org_of,
    require_partnership,
)
from bot.services.partnership_models import Side
from storage.models import Issue, IssueEvent, Member, Partnership
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

MAX_PERMALINK = 500


# --- history -----------------------------------------------------------------------------------------------


def record_event(
    uow: UnitOfWork,
    p: Partnership,
    issue: Issue,
    *,
    kind: str,
    actor: str | None,
    now: datetime,
    detail: str | None = None,
    level: int | None = None,
    data: dict[str, Any] | None = None,
    reply: bool = True,
) -> IssueEvent:
    """Store a history entry, update the card in place and (with ``reply``) add a line to its thread."""
    event = uow.issue_events.add(
        IssueEvent(issue_id=issue.id, at=now, actor=actor, kind=kind, level=level, detail=detail, data=data)
    )
    issue.updated_at = now
    outbox.add_new(
        uow, p, purpose=outbox.Purpose.ISSUE_CARD_UPDATE, ref_id=issue.id, key=f"issue-card:{issue.id}:{event.id}", now=now
    )
    if reply:
        outbox.add_new(
            uow, p, purpose=outbox.Purpose.ISSUE_HISTORY, ref_id=event.id, key=f"issue-history:{event.id}", now=now
        )
    return event


# --- logging -----------------------------------------------------------------------------------------------


def validate_issue(data: IssueInput, categories: Sequence[str]) -> IssueInput:
    """Check the issue form and return it stripped.

    Raises:
        InvalidInput: ``field`` names the IssueInput attribute that is wrong.
    """
    title = check_text(data.title, field="title", label="title", limit=MAX_ISSUE_TITLE, required=True)
    details = check_text(data.details or "", field="details", label="details", limit=MAX_DETAILS, required=False)
    if data.severity not in SEVERITIES:
        raise InvalidInput("Choose a severity from S1 (critical) to S4 (low).", "severity")
    if data.category not in categories:
        raise InvalidInput("Choose one of this partnership's categories.", "category")
    try:
        side = Side(data.owning_side)
    except ValueError:
        raise InvalidInput("Choose the side that owns this issue.", "owning_side") from None
    link = (data.source_permalink or "").strip()
    # Only Slack's own permalinks are kept: anything else could disguise a link on the card.
    if not (link.startswith("https://") and len(link) <= MAX_PERMALINK and not any(c in link for c in "<>| \n")):
        link = ""
    return replace(data, title=title, details=details, owning_side=side, source_permalink=link or None)


def _check_owner(uow: UnitOfWork, p: Partnership, owner_id: str, owning_side: str, *, field: str = "owner_id") -> Member:
    owner = active_member(uow, p, owner_id, field=field)
    if owner.side is not None and owner.side != owning_side:
        raise InvalidInput(
            f"The owner is on the {org_of(p, owner.side)} side. Choose an owner from the {org_of(p, owning_side)} "
            "side, or make the other side the owning side.",
            field,
        )
    return owner


def add_issue(
    uow: UnitOfWork, p: Partnership, *, actor: str, data: IssueInput, request_key: str, now: datetime
) -> tuple[Issue, bool]:
    """Inside the caller's transaction: check and store an issue with its deadlines, its "created" event and its
    card (and look for a recurring category). Returns the issue and whether it is new: the same ``request_key``
    (already cut to its width) finds the issue stored before.

    Raises:
        InvalidInput: the form is wrong (``field`` names the IssueInput attribute).
    """
    data = validate_issue(data, categories_of(p))
    # Taking the number locks the partnership row: a second delivery of the same submission waits here,
    # then finds the first one's issue.
    number = uow.issues.take_number(p.id)
    existing = uow.issues.get_by_request_key(p.id, request_key)
    if existing is not None:
        return existing, False
    _check_owner(uow, p, data.owner_id, data.owning_side.value)
    check_due_date(p, data.due_on, now)
    raiser = uow.members.get(p.id, actor)
    issue = uow.issues.add(
        Issue(
            partnership_id=p.id,
            number=number,
            title=data.title,
            details=data.details,
            severity=data.severity,
            category=data.category,
            owning_side=data.owning_side.value,
            owner_id=data.owner_id,
            raised_by=actor,
            raised_by_side=raiser.side if raiser is not None else None,
            due_on=data.due_on,
            status=IssueStatus.OPEN.value,
            created_at=now,
            opened_at=now,
            escalation_level=0,
            source_permalink=data.source_permalink,
            request_key=request_key,
            updated_at=now,
        )
    )
    reschedule(uow, p, issue)
    uow.issue_events.add(IssueEvent(issue_id=issue.id, at=now, actor=actor, kind="created", detail=None, data=None))
    outbox.add_new(uow, p, purpose=outbox.Purpose.ISSUE_CARD, ref_id=issue.id, key=f"issue-card:{issue.id}", now=now)
    signals.check_recurring(uow, p, category=issue.category, now=now)
    return issue, True


def log_issue(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    data: IssueInput,
    request_key: str,
    now: datetime,
) -> LogIssueResult:
    """Log an issue and queue its card. Anyone in the channel may. The same ``request_key`` logs it once.

    Raises:
        NotFound: no partnership in this channel.
        InvalidInput: the form is wrong (``field`` names the IssueInput attribute).
    """
    key = request_key[:MAX_REQUEST_KEY]
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        issue, created = add_issue(uow, p, actor=actor, data=data, request_key=key, now=now)
        if not created:
            return LogIssueResult(issue_view(issue), created=False)
        # Raced past the lock (it cannot on PostgreSQL or SQLite, but a unique key is the last word).
        stored = uow.commit_or_read_back(lambda: uow.issues.get_by_request_key(p.id, key))
        if stored is not None:
            return LogIssueResult(issue_view(stored), created=False)
        logger.info("partnership %s: issue #%s logged (%s, %s)", p.id, issue.number, issue.severity, issue.category)
        return LogIssueResult(issue_view(issue), created=True)


# --- the life cycle ----------------------------------------------------------------------------------------


def _require_owner_or_lead(uow: UnitOfWork, p: Partnership, issue: Issue, actor: str, what: str) -> None:
    if actor != issue.owner_id and not is_lead(uow, p, actor):
        raise NotAllowed(f"Only the issue's owner (<@{issue.owner_id}>) or a lead can {what} it.")


def _acknowledge(uow: UnitOfWork, p: Partnership, issue: Issue, actor: str, comment: str | None, now: datetime) -> None:
    _require_owner_or_lead(uow, p, issue, actor, "acknowledge")
    if issue.status == IssueStatus.RESOLVED.value:
        raise Conflict(f"Issue #{issue.number} is already resolved.")
    if issue.status == IssueStatus.ACKNOWLEDGED.value:
        raise Conflict(f"Issue #{issue.number} was already acknowledged by <@{issue.acknowledged_by}>.")
    issue.status, issue.acknowledged_at, issue.acknowledged_by = IssueStatus.ACKNOWLEDGED.value, now, actor
    reschedule(uow, p, issue)
    record_event(uow, p, issue, kind="acknowledged", actor=actor, now=now, detail=comment)


def _resolve(uow: UnitOfWork, p: Partnership, issue: Issue, actor: str, comment: str | None, now: datetime) -> None:
    _require_owner_or_lead(uow, p, issue, actor, "resolve")
    if issue.status == IssueStatus.RESOLVED.value:
        raise Conflict(f"Issue #{issue.number} is already resolved.")
    issue.status, issue.resolved_at, issue.resolved_by = IssueStatus.RESOLVED.value, now, actor
    issue.next_escalation_at = None
    event = record_event(uow, p, issue, kind="resolved", actor=actor, now=now, detail=comment)
    # The blameless question, once per resolution.
    outbox.add_new(
        uow, p, purpose=outbox.Purpose.FOLLOWUP_QUESTION, ref_id=event.id, key=f"followup-question:{event.id}", now=now
    )


def _reopen(uow: UnitOfWork, p: Partnership, issue: Issue, actor: str, comment: str | None, now: datetime) -> None:
    if actor not in (issue.owner_id, issue.raised_by) and not is_lead(uow, p, actor):
        raise NotAllowed(f"Only the issue's owner (<@{issue.owner_id}>), the person who raised it or a lead can reopen it.")
    if issue.status != IssueStatus.RESOLVED.value:
        raise Conflict(f"Issue #{issue.number} is not resolved, so there is nothing to reopen.")
    # A reopened issue starts a fresh clock: it needs acknowledging again, and escalation counts from now.
    issue.status, issue.opened_at, issue.escalation_level = IssueStatus.OPEN.value, now, 0
    issue.acknowledged_at = issue.acknowledged_by = issue.resolved_at = issue.resolved_by = None
    reschedule(uow, p, issue)
    record_event(uow, p, issue, kind="reopened", actor=actor, now=now, detail=comment)


#: What each status change does (checks, new fields, history entry), by the status it moves the issue to.
_TRANSITIONS: dict[IssueStatus, Callable[[UnitOfWork, Partnership, Issue, str, str | None, datetime], None]] = {
    IssueStatus.ACKNOWLEDGED: _acknowledge,
    IssueStatus.RESOLVED: _resolve,
    IssueStatus.OPEN: _reopen,
}


def _change_status(
    uow: UnitOfWork, channel_id: str, issue_id: int, actor: str, now: datetime, to: IssueStatus, note: str | None
) -> IssueView:
    """Acknowledge, resolve or reopen (``to``) the channel's issue under its row lock, with ``note`` in its history."""
    with uow:
        issue, p = issue_in_channel(uow, channel_id, issue_id, for_update=True)
        _TRANSITIONS[to](uow, p, issue, actor, note, now)
        uow.commit()
        return issue_view(issue)


def _comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    return check_text(comment, field="comment", label="comment", limit=MAX_DETAILS, required=False) or None


def acknowledge(uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, now: datetime) -> IssueView:
    """The owner or a lead acknowledges the issue: acknowledge-based escalation stops.

    Raises:
        NotFound, NotAllowed (not the owner or a lead), Conflict (already acknowledged or resolved).
    """
    return _change_status(uow, channel_id, issue_id, actor, now, IssueStatus.ACKNOWLEDGED, None)


def resolve(
    uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, now: datetime, comment: str | None = None
) -> IssueView:
    """The owner or a lead resolves the issue; escalation stops and both sides are asked the blameless question.

    Raises:
        NotFound, NotAllowed, Conflict (already resolved), InvalidInput (``comment`` too long).
    """
    return _change_status(uow, channel_id, issue_id, actor, now, IssueStatus.RESOLVED, _comment(comment))


def reopen(
    uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, now: datetime, comment: str | None = None
) -> IssueView:
    """Reopen a resolved issue (owner, raiser or lead). Its escalation clock starts again from now.

    Raises:
        NotFound, NotAllowed, Conflict (not resolved), InvalidInput (``comment`` too long).
    """
    return _change_status(uow, channel_id, issue_id, actor, now, IssueStatus.OPEN, _comment(comment))


def update_issue(
    uow: UnitOfWork,
    *,
    channel_id: str,
    issue_id: int,
    actor: str,
    status: IssueStatus | None,
    comment: str | None,
    now: datetime,
) -> IssueView:
    """The card's "Update" button: a new status and/or a comment, recorded as one history entry.

    Anyone in the channel can comment. Changing the status follows the rules of acknowledge, resolve and
    reopen (owner or lead; the raiser may also reopen).

    Raises:
        InvalidInput: neither a status change nor a comment (``field`` "comment"), or a comment over 3,000
            characters.
        NotFound, NotAllowed, Conflict.
    """
    note = _comment(comment)
    with uow:
        issue, p = issue_in_channel(uow, channel_id, issue_id, for_update=True)
        new_status = status if status is not None and status.value != issue.status else None
        if new_status is None and note is None:
            raise InvalidInput("Write a comment or choose a new status.", "comment")
        if new_status is None:
            record_event(uow, p, issue, kind="updated", actor=actor, now=now, detail=note)
        elif new_status is IssueStatus.OPEN and issue.status != IssueStatus.RESOLVED.value:
            raise Conflict(f"Issue #{issue.number} is acknowledged; it stays so until it is resolved.")
        else:
            _TRANSITIONS[new_status](uow, p, issue, actor, note, now)
        uow.commit()
        return issue_view(issue)


def reassign(uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, new_owner_id: str, now: datetime) -> IssueView:
    """The owner or a lead hands the issue to someone else in the channel.

    When the new owner is on the other side, the owning side follows them, and with it the working calendar
    the escalation clock runs in.

    Raises:
        NotFound, NotAllowed, Conflict (resolved), InvalidInput (``field`` "owner_id": unknown, deactivated,
            not in the channel, or already the owner).
    """
    with uow:
        issue, p = issue_in_channel(uow, channel_id, issue_id, for_update=True)
        _require_owner_or_lead(uow, p, issue, actor, "reassign")
        if issue.status == IssueStatus.RESOLVED.value:
            raise Conflict(f"Issue #{issue.number} is resolved. Reopen it first.")
        if new_owner_id == issue.owner_id:
            raise InvalidInput("That person already owns this issue.", "owner_id")
        owner = active_member(uow, p, new_owner_id, field="owner_id")
        previous, previous_side = issue.owner_id, issue.owning_side
        issue.owner_id = new_owner_id
        if owner.side is not None:
            issue.owning_side = owner.side
        reschedule(uow, p, issue)
        record_event(
            uow,
            p,
            issue,
            kind="reassigned",
            actor=actor,
            now=now,
            data={"from": previous, "to": new_owner_id, "from_side": previous_side, "to_side": issue.owning_side},
        )
        uow.commit()
        return issue_view(issue)
