"""A partnership and its people: lookups, members and their sides, lead checks, status, pausing.

Creating and editing it (the setup modal) is in ``bot.services.partnership_setup``; user groups put on a side in
``bot.services.side_groups``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.services import outbox
from bot.services.errors import NotFound
from bot.services.partnership_guards import require_lead as require_lead_of
from bot.services.partnership_guards import require_partnership
from bot.services.partnership_models import MemberView, PartnershipView, Role, SetupDone, SetupResult, Side, SlackProfile
from bot.services.pulse_models import Participation, StatusView
from bot.services.read_models_from_rows import member_view, participation, partnership_view, round_view
from bot.services.schedule import next_pulse_time
from storage.models import Member, Partnership, Workspace
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


def derive_side(partnership: Partnership, team_id: str | None) -> str | None:
    """The side a person is on by their home team, in a Slack Connect channel; None elsewhere.

    The installing workspace's people are on the installing side; anyone from another organisation is on
    the other side. In a single-workspace channel everyone shares one team, so a lead assigns sides.
    """
    if not partnership.is_connect or team_id is None:
        return None
    installing = Side(partnership.installing_side)
    return installing.value if team_id == partnership.workspace.team_id else installing.other.value


def effective_side(partnership: Partnership, member: Member) -> str | None:
    """A person's side: their personal assignment, else their user groups' side, else their home team's.

    Overrides always win: ``side_override`` (``/partner side @person``) over ``group_side`` (the most recently
    assigned user group the person is in, ``/partner side @group``) over the side derived from the home team.
    """
    return member.side_override or member.group_side or derive_side(partnership, member.team_id)


def upsert_workspace(uow: UnitOfWork, *, team_id: str, name: str, bot_user_id: str | None, now: datetime) -> Workspace:
    """Inside a unit of work: the workspace's row, created, or with its name and bot user brought up to date."""
    ws = uow.workspaces.get_by_team(team_id)
    if ws is None:
        return uow.workspaces.add(Workspace(team_id=team_id, name=name, bot_user_id=bot_user_id, created_at=now))
    ws.name, ws.bot_user_id = name, bot_user_id
    return ws


def get_partnership(uow: UnitOfWork, *, team_id: str, channel_id: str) -> PartnershipView | None:
    """The channel's partnership, if it has one."""
    with uow.read_only():
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        return partnership_view(p) if p else None


def get_partnership_by_id(uow: UnitOfWork, *, partnership_id: int) -> PartnershipView | None:
    with uow.read_only():
        p = uow.partnerships.get(partnership_id)
        return partnership_view(p) if p else None


def setup_done(uow: UnitOfWork, *, partnership_id: int, extra: Mapping[str, Any] | None) -> SetupDone | None:
    """The "setup done" message of an outbox row (``Purpose.SETUP_DONE``): the partnership as it is now, with what
    only the setup knew (``extra``: created or updated, the people per side then, who saved it). None when the
    partnership is gone."""
    facts = extra or {}
    user_id = facts.get("user_id")
    p = get_partnership_by_id(uow, partnership_id=partnership_id)
    if p is None or not user_id:
        return None
    counts = {str(side): int(n) for side, n in (facts.get("members_by_side") or {}).items()}
    result = SetupResult(partnership=p, created=bool(facts.get("created")), members_by_side=counts)
    return SetupDone(result=result, user_id=str(user_id))


def workspace_team(uow: UnitOfWork, *, workspace_id: int) -> str:
    """The Slack team id of a workspace row."""
    with uow.read_only():
        ws = uow.workspaces.get(workspace_id)
        if ws is None:
            raise NotFound(f"workspace {workspace_id} does not exist")
        return ws.team_id


def require_lead(uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str) -> None:
    """Raises NotFound (no partnership) or NotAllowed (not a lead)."""
    with uow.read_only():
        require_lead_of(uow, require_partnership(uow, team_id, channel_id), user_id, "change its configuration")


def upsert_member(uow: UnitOfWork, p: Partnership, prof: SlackProfile, *, in_channel: bool, now: datetime) -> Member:
    member = uow.members.get(p.id, prof.user_id)
    if member is None:
        member = uow.members.add(Member(partnership_id=p.id, user_id=prof.user_id, joined_at=now, updated_at=now))
    member.team_id = prof.team_id or member.team_id
    member.display_name = prof.display_name or member.display_name
    member.tz = prof.tz
    member.is_bot, member.deleted = prof.is_bot, prof.deleted
    member.in_channel = in_channel
    member.side = effective_side(p, member)
    member.updated_at = now
    return member


def answerable_by_side(uow: UnitOfWork, partnership_id: int) -> dict[str, int]:
    """How many people each side asks to answer (in the channel, with a side, not bots), inside a unit of work."""
    counts = {Side.CLIENT.value: 0, Side.PROVIDER.value: 0}
    for m in uow.members.list_answerable(partnership_id):
        if m.side:
            counts[m.side] += 1
    return counts


def request_menu(uow: UnitOfWork, *, team_id: str, channel_id: str, request_key: str, now: datetime) -> None:
    """Post the partnership menu again (``/partner menu``); ``request_key`` makes a repeated request post once."""
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        outbox.enqueue(uow, p, purpose=outbox.Purpose.MENU, ref_id=p.id, key=f"menu:{p.id}:{request_key}"[:200], now=now)
        uow.commit()


def has_partnership(uow: UnitOfWork, *, team_id: str, channel_id: str) -> bool:
    with uow.read_only():
        return uow.partnerships.get_by_channel(team_id, channel_id) is not None


def member_left(uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str, event_id: str, now: datetime) -> bool:
    """A person left: keep their history and role, stop asking them."""
    with uow:
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        member = uow.members.get(p.id, user_id) if p else None
        if member is None or (event_id and not uow.events.record_once(event_id, now)):
            return False
        member.in_channel, member.updated_at = False, now
        uow.commit()
        return True


def set_side_override(
    uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, user_id: str, side: Side | None, now: datetime
) -> MemberView:
    """A lead puts a person on a side (``None`` returns them to the side of their home team)."""
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        require_lead_of(uow, p, actor, "change its configuration")
        member = uow.members.get(p.id, user_id)
        if member is None:
            member = uow.members.add(
                Member(partnership_id=p.id, user_id=user_id, in_channel=False, joined_at=now, updated_at=now)
            )
        member.side_override = side.value if side else None
        member.side = effective_side(p, member)
        member.updated_at = now
        uow.commit()
        return member_view(member)


def set_paused(
    uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, paused: bool, now: datetime
) -> PartnershipView:
    """Pause or resume the pulse (lead only). Resuming schedules the next pulse from now."""
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        require_lead_of(uow, p, actor, "change its configuration")
        if paused:
            p.status, p.pause_reason, p.paused_by, p.updated_at = "paused", "paused by a lead", actor, now
        else:
            resume(p, now=now)
        uow.commit()
        return partnership_view(p)


def resume(p: Partnership, *, now: datetime) -> None:
    """Make a paused partnership active again, its next pulse scheduled from ``now`` (a lead's resume, a reinstall)."""
    p.status, p.pause_reason, p.paused_by = "active", None, None
    p.next_pulse_at = next_pulse_time(p, after=now)
    p.updated_at = now


def pause_for_slack_error(uow: UnitOfWork, *, partnership_id: int, error: str, now: datetime) -> None:
    """Slack says the channel is gone, archived or closed to the bot: pause this partnership only."""
    with uow:
        p = uow.partnerships.get(partnership_id, for_update=True)
        if p is None or p.status == "paused":
            return
        p.status, p.pause_reason, p.paused_by, p.updated_at = "paused", f"Slack answered {error}", None, now
        uow.commit()
    logger.warning("partnership %s paused: Slack answered %s for channel %s", partnership_id, error, p.channel_id)


def status(uow: UnitOfWork, *, team_id: str, channel_id: str) -> StatusView:
    """Next pulse, members per side, leads and sponsors, and the last round's participation per side."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        members = uow.members.list(p.id)
        counts = answerable_by_side(uow, p.id)
        unassigned = sum(1 for m in members if m.in_channel and not m.is_bot and not m.deleted and m.side is None)
        open_round = uow.rounds.latest(p.id, status="open")
        last_closed = uow.rounds.latest(p.id, status="closed")
        last_participation: dict[Side, Participation] = participation(uow, last_closed) if last_closed else {}
        return StatusView(
            partnership=partnership_view(p),
            members_by_side=counts,
            unassigned=unassigned,
            leads=tuple(member_view(m) for m in members if m.role == Role.LEAD.value),
            sponsors=tuple(member_view(m) for m in members if m.role == Role.SPONSOR.value),
            open_round=round_view(open_round) if open_round else None,
            last_round=round_view(last_closed) if last_closed else None,
            last_participation=last_participation,
        )
