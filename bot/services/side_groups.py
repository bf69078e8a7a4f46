"""User groups put on a side (``/partner side @group``): assigning, removing, and Slack's changes to their members."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from bot.services.partnership_guards import partnership_a_lead_changes
from bot.services.partnership_models import Side, SideGroupResult
from bot.services.partnerships import effective_side
from storage.models import Member, Partnership, SideGroup
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


def side_group_ids(uow: UnitOfWork, *, team_id: str, channel_id: str) -> list[str]:
    """The user groups assigned to sides in the channel's partnership (none without a partnership)."""
    with uow.read_only():
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        return [g.usergroup_id for g in uow.side_groups.list(p.id)] if p else []


def apply_group_sides(uow: UnitOfWork, p: Partnership, now: datetime) -> set[str]:
    """Give every member of the partnership the side of their most recently assigned group (``group_side``) and
    recompute their side. Returns the user ids whose side changed."""
    members_of = uow.side_groups.members(p.id)
    group_side: dict[str, str] = {}
    for group in uow.side_groups.list(p.id):  # oldest assignment first: the most recent one wins
        for uid in members_of.get(group.id, ()):
            group_side[uid] = group.side
    changed: set[str] = set()
    for m in uow.members.list(p.id):
        new_group_side = group_side.get(m.user_id)
        if m.group_side == new_group_side and m.side == effective_side(p, m):
            continue
        before = m.side
        m.group_side = new_group_side
        m.side = effective_side(p, m)
        m.updated_at = now
        if m.side != before:
            changed.add(m.user_id)
    return changed


def usergroup_members_changed(
    uow: UnitOfWork,
    *,
    team_id: str,
    usergroup_id: str,
    added: Collection[str],
    removed: Collection[str],
    event_id: str,
    now: datetime,
) -> int:
    """Slack says people joined or left a user group (event ``subteam_members_changed``): in every partnership
    of the workspace that assigned the group, added people get its side and removed people fall back (another
    assigned group they are in, else their home team). Returns how many partnerships changed (0 for a retried
    event or a group no partnership assigned)."""
    with uow:
        ws = uow.workspaces.get_by_team(team_id)
        partnership_ids = uow.side_groups.partnership_ids_with(ws.id, usergroup_id) if ws else []
        if not partnership_ids or (event_id and not uow.events.record_once(event_id, now)):
            return 0
        for partnership_id in partnership_ids:
            p = uow.partnerships.get(partnership_id, for_update=True)
            group = uow.side_groups.get(partnership_id, usergroup_id)
            if p is None or group is None:
                continue
            uow.side_groups.remove_members(group, set(removed) - set(added))
            uow.side_groups.add_members(group, set(added))
            apply_group_sides(uow, p, now)
        uow.commit()
        return len(partnership_ids)


def _regrouped(
    uow: UnitOfWork,
    p: Partnership,
    now: datetime,
    usergroup_id: str,
    handle: str,
    side: Side | None,
    existed: bool,
    group_ids: Collection[str],
) -> SideGroupResult:
    """After an assignment (``side``) or its removal (None): everyone's side recomputed (``apply_group_sides``), and
    what that means for the people of the group who are in the channel."""
    changed = apply_group_sides(uow, p, now)
    in_group = set(group_ids)
    here = [m for m in uow.members.list(p.id) if m.user_id in in_group and m.in_channel and not m.is_bot and not m.deleted]
    personal = [m for m in here if m.side_override and (side is None or m.side_override != side.value)]
    conflicts: list[Member] = []
    other_handles: list[str] = []
    if side is not None:
        members_of = uow.side_groups.members(p.id)
        others = [g for g in uow.side_groups.list(p.id) if g.usergroup_id != usergroup_id and g.side != side.value]
        for m in here:
            if m.side_override:
                continue
            hit = [g for g in others if m.user_id in members_of.get(g.id, ())]
            if hit:
                conflicts.append(m)
                other_handles.extend(g.handle for g in hit if g.handle not in other_handles)
    return SideGroupResult(
        usergroup_id=usergroup_id,
        handle=handle,
        side=side,
        existed=existed,
        group_size=len(in_group),
        in_channel=len(here),
        moved=sum(1 for m in here if m.user_id in changed),
        personal=len(personal),
        conflicts=len(conflicts),
        other_handles=tuple(other_handles),
    )


def assign_side_group(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    usergroup_id: str,
    handle: str,
    side: Side,
    member_ids: Collection[str],
    now: datetime,
) -> SideGroupResult:
    """A lead puts a user group on a side (lead only). ``member_ids`` are the group's members as Slack lists
    them. The group's people get its side unless they have a personal assignment; a person in several
    assigned groups gets the side of the most recently assigned one. Assigning again is harmless.
    Raises NotFound (no partnership) or NotAllowed (not a lead).
    """
    with uow:
        # One change at a time: the sequence below is taken under the partnership's row lock.
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "change its configuration")
        group = uow.side_groups.get(p.id, usergroup_id)
        sequence = uow.side_groups.next_sequence(p.id)
        existed = group is not None
        if group is None:
            group = uow.side_groups.add(
                SideGroup(
                    partnership_id=p.id,
                    usergroup_id=usergroup_id,
                    handle=handle[:100],
                    side=side.value,
                    set_by=actor,
                    created_at=now,
                    updated_at=now,
                    sequence=sequence,
                )
            )
        else:
            group.handle, group.side, group.set_by = handle[:100] or group.handle, side.value, actor
            group.updated_at, group.sequence = now, sequence
        uow.side_groups.replace_members(group, member_ids)
        result = _regrouped(uow, p, now, usergroup_id, group.handle, side, existed, member_ids)
        uow.commit()
        logger.info("partnership %s: %s put user group %s on the %s side", p.id, actor, usergroup_id, side.value)
        return result


def remove_side_group(
    uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, usergroup_id: str, handle: str, now: datetime
) -> SideGroupResult:
    """A lead removes a user group's side (``/partner side @group auto``): its people fall back to another
    assigned group they are in, else their home team. Personal assignments are untouched.
    Raises NotFound (no partnership) or NotAllowed (not a lead).
    """
    with uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "change its configuration")
        group = uow.side_groups.get(p.id, usergroup_id)
        if group is None:
            return SideGroupResult(usergroup_id, handle, None, False, 0, 0, 0, 0, 0)
        shown = group.handle or handle
        member_ids = uow.side_groups.members(p.id).get(group.id, set())
        uow.side_groups.delete(group)
        result = _regrouped(uow, p, now, usergroup_id, shown, None, True, member_ids)
        uow.commit()
        logger.info("partnership %s: %s removed user group %s from its side", p.id, actor, usergroup_id)
        return result
