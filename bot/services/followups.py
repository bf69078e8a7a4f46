"""Blameless follow-up (DESIGN 3.3): after an issue is resolved, each side says what it can do to keep it from
happening again. Each contribution is tagged with its side and can become an action in one click.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.services.actions import add_action
from bot.services.created_once import created_once
from bot.services.errors import NotAllowed, NotFound
from bot.services.issue_lifecycle import record_event
from bot.services.issue_models import MAX_DETAILS, MAX_ISSUE_TITLE, ActionInput, ActionView, FollowupView
from bot.services.issue_queries import action_view, followup_view
from bot.services.partnership_guards import MAX_REQUEST_KEY, check_text, issue_in_channel, today_in
from bot.services.partnership_models import Side
from storage.models import Followup, Issue, Partnership
from storage.uow import UnitOfWork

#: Due date of an action made in one click from a contribution, unless one is given.
DEFAULT_ACTION_DAYS = 14


def contribute(
    uow: UnitOfWork,
    *,
    channel_id: str,
    issue_id: int,
    actor: str,
    side: Side | None,
    text: str,
    request_key: str,
    now: datetime,
) -> FollowupView:
    """Record what one side can do to keep the issue from happening again, and post it in the issue's thread.

    Anyone in the channel may contribute. The contribution is tagged with the contributor's side; ``side`` (the
    button they pressed) is used only for people not yet on a side. The same ``request_key`` records it once.

    Raises:
        NotFound: the issue is not this channel's.
        NotAllowed: the contributor is on no side and none was given.
        InvalidInput: empty text, or over 3,000 characters (``field`` "text").
    """
    body = check_text(text, field="text", label="suggestion", limit=MAX_DETAILS, required=True)
    key = request_key[:MAX_REQUEST_KEY]
    with uow:
        issue, p = issue_in_channel(uow, channel_id, issue_id, for_update=True)
        followup, _ = created_once(
            uow, uow.followups, issue.id, key, lambda: _add_followup(uow, p, issue, actor, side, body, key, now)
        )
        return followup_view(followup, issue_number=issue.number, action_id=None)


def _add_followup(
    uow: UnitOfWork, p: Partnership, issue: Issue, actor: str, side: Side | None, body: str, key: str, now: datetime
) -> Followup:
    member = uow.members.get(p.id, actor)
    tagged = (Side(member.side) if member is not None and member.side else None) or side
    if tagged is None:
        raise NotAllowed("You're not on a side of this partnership yet. Ask a lead to put you on one.")
    followup = uow.followups.add(
        Followup(issue_id=issue.id, side=tagged.value, author_id=actor, text=body, request_key=key, created_at=now)
    )
    record_event(
        uow, p, issue, kind="followup_added", actor=actor, now=now, data={"followup_id": followup.id, "side": tagged.value}
    )
    return followup


def list_followups(uow: UnitOfWork, *, channel_id: str, issue_id: int) -> tuple[FollowupView, ...]:
    """The contributions to an issue's follow-up, oldest first."""
    with uow.read_only():
        issue, _ = issue_in_channel(uow, channel_id, issue_id)
        rows = list(uow.followups.for_issue(issue.id))
        linked = uow.actions.for_followups([f.id for f in rows])
        return tuple(followup_view(f, issue_number=issue.number, action_id=linked.get(f.id)) for f in rows)


def to_action(
    uow: UnitOfWork,
    *,
    channel_id: str,
    followup_id: int,
    actor: str,
    now: datetime,
    owner_id: str | None = None,
    due_on: date | None = None,
    title: str | None = None,
) -> ActionView:
    """Turn a contribution into an action, in one click: by default its author owns it, on its side, due in
    14 days, titled with its first line. A contribution becomes at most one action: asking again returns it.

    Raises:
        NotFound: the contribution is not this channel's.
        InvalidInput: the owner is unknown, deactivated or not in the channel; the due date is in the past.
    """
    with uow:
        followup = uow.followups.get(followup_id)
        if followup is None:
            raise NotFound("This suggestion does not exist in this channel's partnership.")
        issue, p = issue_in_channel(uow, channel_id, followup.issue_id, for_update=True)
        existing = uow.actions.get_by_followup(followup.id)
        if existing is not None:
            return action_view(existing, issue_number=issue.number, today=today_in(p, now, existing.side))
        owner = owner_id or followup.author_id
        first_line = next((line.strip() for line in followup.text.splitlines() if line.strip()), followup.text.strip())
        if len(first_line) > MAX_ISSUE_TITLE:
            first_line = first_line[: MAX_ISSUE_TITLE - 1].rstrip() + "…"
        data = ActionInput(
            title=title if title is not None else first_line,
            owner_id=owner,
            due_on=due_on or today_in(p, now) + timedelta(days=DEFAULT_ACTION_DAYS),
            side=Side(followup.side) if owner == followup.author_id else None,
            issue_id=issue.id,
        )
        action = add_action(uow, p, actor=actor, data=data, request_key=None, now=now, issue=issue, followup_id=followup.id)
        again = uow.commit_or_read_back(lambda: uow.actions.get_by_followup(followup_id))
        if again is not None:  # two clicks at once: the other one made it
            return action_view(again, issue_number=issue.number)
        return action_view(action, issue_number=issue.number, today=today_in(p, now, action.side))
