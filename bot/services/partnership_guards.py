"""Checks shared by the services that act in a partnership's channel.

Finding the channel's partnership, who is a lead, which people can own things, whether an issue belongs to the
channel, and the limits of free text and due dates. Issues, actions, follow-ups, goals, expectations and the
scorecard all use them, so a refusal reads the same everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.issue_models import DEFAULT_CATEGORIES
from bot.services.partnership_models import Role, Side
from bot.services.working_calendar import side_timezone
from storage.models import Action, Digest, Expectation, Goal, Issue, Member, Partnership, Scorecard, Signal
from storage.repositories.base import TableRepository
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

MAX_REQUEST_KEY = 100
#: A due date further ahead than this is almost certainly a typo (2062 for 2026).
MAX_DUE_AHEAD = timedelta(days=2 * 366)
#: The rows a button, a form or an outbox row names by id, each in one partnership.
Owned = TypeVar("Owned", Issue, Action, Goal, Expectation, Scorecard, Signal, Digest)
#: A message's read model.
Shown = TypeVar("Shown")
NO_PARTNERSHIP = "This channel has no partnership yet. A lead can create one with `/partner setup`."


def require_partnership(uow: UnitOfWork, team_id: str, channel_id: str) -> Partnership:
    """The channel's partnership; NotFound (``NO_PARTNERSHIP``) when it has none."""
    p = uow.partnerships.get_by_channel(team_id, channel_id)
    if p is None:
        raise NotFound(NO_PARTNERSHIP)
    return p


def partnership_by_id(uow: UnitOfWork, partnership_id: int) -> Partnership:
    """The partnership with this id; NotFound when it no longer exists."""
    p = uow.partnerships.get(partnership_id)
    if p is None:
        raise NotFound("This partnership no longer exists.")
    return p


def is_lead(uow: UnitOfWork, p: Partnership, user_id: str) -> bool:
    """Whether the user is an active lead of either side."""
    m = uow.members.get(p.id, user_id)
    return m is not None and m.role == Role.LEAD.value and not m.deleted


def require_present(m: Member | None, what: str) -> Member:
    """The rule for anything that counts in the partnership's figures (a pulse answer, a scorecard, a goal or an
    expectation): only a present member of the partnership's channel, as recorded (in the channel, an active
    account, not a bot), may give it. In a Slack Connect channel both organisations' members are recorded, so both
    count. A signed request from anyone else is refused and stores nothing.

    Raises:
        NotAllowed: saying so, and what to do.
    """
    if m is None or m.deleted or m.is_bot or not m.in_channel:
        raise NotAllowed(
            f"Only members of this partnership's channel can {what}, so nothing was saved. "
            "If you have just joined the channel, try again in a minute; otherwise ask one of its leads to invite you."
        )
    return m


def require_lead(uow: UnitOfWork, p: Partnership, user_id: str, what: str) -> None:
    """NotAllowed unless the user is a lead; ``what`` completes "Only the partnership's leads can ..."."""
    if not is_lead(uow, p, user_id):
        raise NotAllowed(f"Only the partnership's leads can {what}. Ask a lead of either side.")


def row_and_partnership(
    uow: UnitOfWork, rows: TableRepository[Owned], row_id: int, *, for_update: bool = False, for_share: bool = False
) -> tuple[Owned, Partnership] | None:
    """The row (locked as ``TableRepository.get`` says) and its partnership, or None when either is gone (a
    message rendered at send time)."""
    row = rows.get(row_id, for_update=for_update, for_share=for_share)
    p = uow.partnerships.get(row.partnership_id) if row is not None else None
    if row is None or p is None:
        return None
    return row, p


def shown_at_send_time(
    uow: UnitOfWork,
    rows: Callable[[UnitOfWork], TableRepository[Owned]],
    row_id: int,
    build: Callable[[UnitOfWork, Owned, Partnership], Shown | None],
) -> Shown | None:
    """What a queued message shows, read when it is sent (in a read-only unit of work): ``build`` from the row
    (``rows`` picks its repository) and its partnership; None when either is gone."""
    with uow.read_only():
        found = row_and_partnership(uow, rows(uow), row_id)
        return None if found is None else build(uow, *found)


def row_in_channel(
    uow: UnitOfWork, rows: TableRepository[Owned], channel_id: str, row_id: int, what: str, *, for_update: bool
) -> tuple[Owned, Partnership]:
    """The row, if it belongs to the partnership of ``channel_id`` (a button value cannot reach another one);
    NotFound naming ``what`` (issue, action, goal...) otherwise."""
    found = row_and_partnership(uow, rows, row_id, for_update=for_update)
    if found is None or found[1].channel_id != channel_id:
        raise NotFound(f"This {what} does not exist in this channel's partnership.")
    return found


def issue_in_channel(
    uow: UnitOfWork, channel_id: str, issue_id: int, *, for_update: bool = False
) -> tuple[Issue, Partnership]:
    """The issue, if it belongs to the partnership of ``channel_id``."""
    return row_in_channel(uow, uow.issues, channel_id, issue_id, "issue", for_update=for_update)


def today_in(p: Partnership, now: datetime, side: str | None = None) -> date:
    """The local date at ``now`` for a side (or the partnership)."""
    tz = side_timezone(p, side) if side else p.timezone
    return now.astimezone(ZoneInfo(tz)).date()


def active_member(uow: UnitOfWork, p: Partnership, user_id: str, *, field: str, role: str = "owner") -> Member:
    """A person who can own things: known, in the channel, an active account and not a bot.

    Raises:
        InvalidInput: with ``field``, saying what is wrong and what to do instead.
    """
    m = uow.members.get(p.id, user_id) if user_id else None
    if m is None:
        raise InvalidInput(f"The {role} must be someone in this channel. Choose a member of this channel.", field)
    if m.deleted:
        raise InvalidInput(f"That person's Slack account is deactivated. Choose someone else as the {role}.", field)
    if m.is_bot:
        raise InvalidInput(f"A bot cannot be the {role}. Choose a person.", field)
    if not m.in_channel:
        raise InvalidInput(
            f"That person is not in this channel, so they would not see it. Choose someone here as the {role}, "
            "or invite them first.",
            field,
        )
    return m


def check_due_date(p: Partnership, due_on: date | None, now: datetime, *, field: str = "due_on") -> None:
    """InvalidInput (``field``) for a due date in the past or more than two years ahead; None is fine."""
    if due_on is None:
        return
    today = today_in(p, now)
    if due_on < today:
        raise InvalidInput("The due date is in the past. Choose today or a later day.", field)
    if due_on > today + MAX_DUE_AHEAD:
        raise InvalidInput("The due date is more than two years away. Check the year.", field)


def check_text(value: str, *, field: str, label: str, limit: int, required: bool) -> str:
    """Strip and check a text field's length. Returns the stripped text."""
    text = value.strip()
    if required and not text:
        raise InvalidInput(f"Please write a {label}.", field)
    if len(text) > limit:
        raise InvalidInput(f"The {label} can be at most {limit:,} characters (this one has {len(text):,}).", field)
    return text


def org_of(p: Partnership, side: str) -> str:
    """The organisation name of ``side``."""
    return p.client_org if side == Side.CLIENT.value else p.provider_org


@dataclass(frozen=True)
class Proposal:
    """What one side put to the other (an expectation, a KPI version): only the other side may answer it, and only
    the proposing side may withdraw it. ``answer_refusal`` tells the proposing side who answers (``{answerer}``: the
    other side's organisation); ``withdraw_refusal`` tells the other side whose it is (``{proposer}``)."""

    proposed_side: str
    answer_refusal: str
    withdraw_refusal: str


def require_answering_side(p: Partnership, side: Side, proposal: Proposal) -> None:
    """NotAllowed (``answer_refusal``) unless ``side`` is the one the proposal was put to."""
    if side.value == proposal.proposed_side:
        raise NotAllowed(proposal.answer_refusal.format(answerer=org_of(p, Side(proposal.proposed_side).other.value)))


def require_proposing_side(p: Partnership, side: Side, proposal: Proposal) -> None:
    """NotAllowed (``withdraw_refusal``) unless ``side`` made the proposal."""
    if side.value != proposal.proposed_side:
        raise NotAllowed(proposal.withdraw_refusal.format(proposer=org_of(p, proposal.proposed_side)))


def categories_of(p: Partnership) -> tuple[str, ...]:
    """The partnership's issue categories: its own list, or the defaults."""
    stored = p.issue_categories
    if not stored:
        return DEFAULT_CATEGORIES
    return tuple(str(c) for c in stored)


def partnership_to_change(uow: UnitOfWork, team_id: str, channel_id: str) -> Partnership:
    """The partnership, row-locked until the transaction ends, for a change to its configuration or a numbered
    entry added (a goal, an expectation).

    Changes (and the notices announcing them) go one at a time, so a repeated delivery of the same request waits
    for the first and finds its notice recorded. On SQLite the write transaction serialises anyway.
    """
    p = require_partnership(uow, team_id, channel_id)
    uow.lock_partnership(p.id)
    return p


def partnership_a_lead_changes(uow: UnitOfWork, team_id: str, channel_id: str, actor: str, what: str) -> Partnership:
    """``partnership_to_change``, for a lead only: NotAllowed otherwise (``what`` as for ``require_lead``)."""
    p = partnership_to_change(uow, team_id, channel_id)
    require_lead(uow, p, actor, what)
    return p
