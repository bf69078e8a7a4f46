"""Shared goals (DESIGN 3.5): a goal both sides share, with an owner on each side and a status.

Anyone on either side may add a goal; its two owners or a lead change its status (on track, at risk, off track,
done) with an optional note. Goals are numbered per partnership (#1, #2, ...) under the partnership's row lock,
and the weekly digest reports them as they stood each week (``bot.services.work_history``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.services.created_once import created_once
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.partnership_guards import (
    MAX_REQUEST_KEY,
    active_member,
    check_due_date,
    check_text,
    is_lead,
    org_of,
    partnership_to_change,
    require_partnership,
    require_present,
    row_in_channel,
)
from bot.services.partnership_models import Side
from bot.services.read_models_from_rows import view_from_row
from bot.services.review_models import MAX_GOAL_TITLE, MAX_REVIEW_TEXT, GoalInput, GoalStatus, SharedGoal
from storage.models import Goal, Partnership
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

#: The input each owner's refusal is shown at (the goal modal's block ids).
OWNER_FIELDS = {Side.CLIENT: "client_owner_id", Side.PROVIDER: "provider_owner_id"}


def goal_view(goal: Goal) -> SharedGoal:
    return view_from_row(SharedGoal, goal, status=GoalStatus(goal.status))


def require_side_member(uow: UnitOfWork, p: Partnership, user_id: str, what: str) -> Side:
    """The actor's side; people the bot has not placed on a side cannot speak for one."""
    m = require_present(uow.members.get(p.id, user_id), what)
    if m.side is None:
        raise NotAllowed(
            f"Only people on one of the two sides can {what}. Ask a lead to put you on a side "
            "(`/partner side @you client` or `provider`)."
        )
    return Side(m.side)


def _check_owner(uow: UnitOfWork, p: Partnership, user_id: str, side: Side) -> str:
    field = OWNER_FIELDS[side]
    role = f"{org_of(p, side.value)} owner"
    if not user_id:
        raise InvalidInput(f"Choose the {role}.", field)
    m = active_member(uow, p, user_id, field=field, role=role)
    if m.side != side.value:
        where = f"on the {org_of(p, m.side)} side" if m.side else "not on either side yet"
        raise InvalidInput(
            f"That person is {where}. Choose someone from the {org_of(p, side.value)} side as its owner.", field
        )
    return m.user_id


def validate_goal(uow: UnitOfWork, p: Partnership, data: GoalInput, now: datetime) -> tuple[str, str, str]:
    """Check the form (title, the two owners, due date). Returns (title, client owner, provider owner).

    Raises:
        InvalidInput: ``field`` is the goal modal's block id.
    """
    title = check_text(data.title, field="title", label="goal", limit=MAX_GOAL_TITLE, required=True)
    client_owner = _check_owner(uow, p, data.client_owner_id, Side.CLIENT)
    provider_owner = _check_owner(uow, p, data.provider_owner_id, Side.PROVIDER)
    check_due_date(p, data.due_on, now)
    return title, client_owner, provider_owner


def check_goal_form(uow: UnitOfWork, *, team_id: str, channel_id: str, data: GoalInput, now: datetime) -> None:
    """Check a goal form before it closes, so each refusal shows at its field. Reads only."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        validate_goal(uow, p, data, now)


def create_goal(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    data: GoalInput,
    request_key: str,
    now: datetime,
) -> SharedGoal:
    """Add a shared goal. Anyone on either side may; the same ``request_key`` adds it once.

    Raises:
        NotFound: no partnership here. NotAllowed: the actor is on no side.
        InvalidInput: empty or long title, an owner who is not on their side, a due date in the past.
    """
    key = request_key[:MAX_REQUEST_KEY]
    with uow:
        p = partnership_to_change(uow, team_id, channel_id)
        goal, added = created_once(uow, uow.goals, p.id, key, lambda: _add_goal(uow, p, actor, data, key, now))
        if added:
            logger.info("partnership %s: goal #%s added", p.id, goal.number)
        return goal_view(goal)


def _add_goal(uow: UnitOfWork, p: Partnership, actor: str, data: GoalInput, key: str, now: datetime) -> Goal:
    require_side_member(uow, p, actor, "add a shared goal")
    title, client_owner, provider_owner = validate_goal(uow, p, data, now)
    goal = uow.goals.add(
        Goal(
            partnership_id=p.id,
            number=uow.goals.next_number(p.id),
            title=title,
            client_owner_id=client_owner,
            provider_owner_id=provider_owner,
            status=data.status.value,
            due_on=data.due_on,
            created_by=actor,
            created_at=now,
            updated_at=now,
            request_key=key,
        )
    )
    uow.goals.record(goal, kind="created", at=now, actor=actor)
    return goal


def _require_owner_or_lead(uow: UnitOfWork, p: Partnership, goal: Goal, actor: str) -> None:
    if actor not in (goal.client_owner_id, goal.provider_owner_id) and not is_lead(uow, p, actor):
        raise NotAllowed(
            f"Only the goal's owners (<@{goal.client_owner_id}> and <@{goal.provider_owner_id}>) or a lead can "
            "change its status."
        )


def goal_for_update(uow: UnitOfWork, *, channel_id: str, goal_id: int, actor: str) -> SharedGoal:
    """The goal, for its status form, if the actor may change it.

    Raises:
        NotFound, NotAllowed.
    """
    with uow.read_only():
        goal, p = row_in_channel(uow, uow.goals, channel_id, goal_id, "goal", for_update=False)
        _require_owner_or_lead(uow, p, goal, actor)
        return goal_view(goal)


def set_goal_status(
    uow: UnitOfWork,
    *,
    channel_id: str,
    goal_id: int,
    actor: str,
    status: GoalStatus,
    note: str | None,
    now: datetime,
) -> SharedGoal:
    """Change a goal's status and note: one of its owners or a lead. Submitting the same again changes nothing.

    Raises:
        NotFound, NotAllowed, InvalidInput (``note`` too long).
    """
    text = check_text(note or "", field="note", label="note", limit=MAX_REVIEW_TEXT, required=False) or None
    with uow:
        goal, p = row_in_channel(uow, uow.goals, channel_id, goal_id, "goal", for_update=True)
        _require_owner_or_lead(uow, p, goal, actor)
        if goal.status != status.value or goal.note != text:
            changed = goal.status != status.value
            goal.status, goal.note, goal.updated_by, goal.updated_at = status.value, text, actor, now
            if changed:
                uow.goals.record(goal, kind="status_changed", at=now, actor=actor)
        uow.commit()
        return goal_view(goal)


def list_goals(uow: UnitOfWork, *, team_id: str, channel_id: str, limit: int = 100) -> tuple[SharedGoal, ...]:
    """``/partner goals``: goals being worked on first, then the done ones."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        return tuple(goal_view(g) for g in uow.goals.list(p.id, limit=limit))
