"""Partnership setup, membership and sides, permissions, status, pausing."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from bot.services import outbox
from bot.services.anonymity import MIN_THRESHOLD
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.partnership_models import (
    MemberView,
    PartnershipView,
    Role,
    SetupDone,
    SetupInput,
    SetupResult,
    Side,
    SideGroupResult,
    SlackProfile,
)
from bot.services.pulse_models import Participation, StatusView
from bot.services.read_models_from_rows import member_view, participation, partnership_view, round_view
from bot.services.schedule import next_weekly_time, zone
from storage.models import Member, Partnership, SideGroup, Workspace
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

MAX_NAME = 150
MAX_THRESHOLD = 50


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


def ensure_workspace(uow: UnitOfWork, *, team_id: str, name: str, bot_user_id: str | None, now: datetime) -> int:
    """Record the workspace the bot token belongs to; a working token re-enables sending."""
    with uow:
        ws = uow.workspaces.get_by_team(team_id)
        if ws is None:
            ws = uow.workspaces.add(Workspace(team_id=team_id, name=name, bot_user_id=bot_user_id, created_at=now))
        else:
            ws.name, ws.bot_user_id = name, bot_user_id
            if not ws.sending_enabled:
                logger.info("workspace %s: token works again, sending re-enabled", team_id)
            ws.sending_enabled, ws.disabled_reason = True, None
        uow.commit()
        return ws.id


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


def _require(uow: UnitOfWork, team_id: str, channel_id: str) -> Partnership:
    p = uow.partnerships.get_by_channel(team_id, channel_id)
    if p is None:
        raise NotFound("This channel has no partnership yet. A lead can create one with `/partner setup`.")
    return p


def _require_lead(uow: UnitOfWork, p: Partnership, user_id: str) -> None:
    m = uow.members.get(p.id, user_id)
    if m is None or m.role != Role.LEAD.value:
        raise NotAllowed("Only the partnership's leads can change its configuration. Ask a lead of either side.")


def require_lead(uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str) -> None:
    """Raises NotFound (no partnership) or NotAllowed (not a lead)."""
    with uow.read_only():
        _require_lead(uow, _require(uow, team_id, channel_id), user_id)


def setup_defaults(
    uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str
) -> tuple[PartnershipView | None, list[MemberView]]:
    """What the setup modal starts from. Anyone may create a partnership; only its leads may edit it.

    Raises:
        NotAllowed: the channel has a partnership and the user is not one of its leads.
    """
    with uow.read_only():
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        if p is None:
            return None, []
        _require_lead(uow, p, user_id)
        return partnership_view(p), [member_view(m) for m in uow.members.list(p.id)]


def validate_setup(data: SetupInput, *, user_id: str) -> None:
    """Check the setup form.

    Raises:
        InvalidInput: with ``field`` naming the SetupInput attribute that is wrong.
    """
    for field, value in (("name", data.name), ("client_org", data.client_org), ("provider_org", data.provider_org)):
        if not value.strip():
            raise InvalidInput("Please fill this in.", field)
        if len(value) > MAX_NAME:
            raise InvalidInput(f"Keep this under {MAX_NAME} characters.", field)
    zone(data.timezone)
    if not MIN_THRESHOLD <= data.anonymity_threshold <= MAX_THRESHOLD:
        raise InvalidInput(
            f"The anonymity threshold must be between {MIN_THRESHOLD} and {MAX_THRESHOLD}.", "anonymity_threshold"
        )
    if not 1 <= data.pulse_every_weeks <= 4:
        raise InvalidInput("Choose every 1 to 4 weeks.", "pulse_every_weeks")
    for field, hour, minute in (
        ("pulse_time", data.pulse_hour, data.pulse_minute),
        ("digest_time", data.digest_hour, data.digest_minute),
    ):
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise InvalidInput("Choose a time of day.", field)
    if not (0 <= data.pulse_weekday < 7 and 0 <= data.digest_weekday < 7):
        raise InvalidInput("Choose a day of the week.", "pulse_weekday")
    both = set(data.client_leads) & set(data.provider_leads)
    if both:
        raise InvalidInput("A person can lead only one side.", "provider_leads")
    if user_id not in set(data.client_leads) | set(data.provider_leads):
        field = "client_leads" if data.installing_side is Side.CLIENT else "provider_leads"
        raise InvalidInput("Add yourself as a lead: leads are the people who can change this setup.", field)
    members_both = set(data.client_members) & set(data.provider_members)
    if members_both:
        raise InvalidInput("A person can be on only one side.", "provider_members")


def configure_partnership(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    data: SetupInput,
    is_connect: bool,
    channel_members: Iterable[SlackProfile],
    now: datetime,
    request_key: str | None = None,
) -> SetupResult:
    """Create or update the channel's partnership from the setup form, and record its people.

    With ``request_key`` (the Slack request that saved the form) the message telling the channel what was agreed
    is queued in the same transaction, once per request key, ahead of a new partnership's menu; without it
    (scripts, tests) nothing is announced but the menu.

    Raises:
        InvalidInput: the form is wrong.
        NotAllowed: the partnership exists and the user is not a lead.
        NotFound: the workspace is unknown (the bot never started against it).
    """
    validate_setup(data, user_id=user_id)
    with uow:
        ws = uow.workspaces.get_by_team(team_id)
        if ws is None:
            raise NotFound("PartnerPulse is not installed in this workspace yet. Ask an admin to start it.")
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        created = p is None
        if p is None:
            p = Partnership(workspace_id=ws.id, channel_id=channel_id, created_by=user_id, created_at=now, status="active")
            p.workspace = ws
        else:
            # One change at a time: a repeated delivery of the same form waits here, then finds its message queued.
            uow.lock_partnership(p.id)
            _require_lead(uow, p, user_id)
        schedule_changed = created or (
            p.timezone,
            p.pulse_weekday,
            p.pulse_hour,
            p.pulse_minute,
            p.pulse_every_weeks,
        ) != (data.timezone, data.pulse_weekday, data.pulse_hour, data.pulse_minute, data.pulse_every_weeks)
        digest_changed = (p.timezone, p.digest_weekday, p.digest_hour, p.digest_minute) != (
            data.timezone,
            data.digest_weekday,
            data.digest_hour,
            data.digest_minute,
        )
        p.name, p.client_org, p.provider_org = data.name.strip(), data.client_org.strip(), data.provider_org.strip()
        p.installing_side, p.is_connect, p.timezone = data.installing_side.value, is_connect, data.timezone
        p.pulse_weekday, p.pulse_hour, p.pulse_minute = data.pulse_weekday, data.pulse_hour, data.pulse_minute
        p.pulse_every_weeks = data.pulse_every_weeks
        p.digest_weekday, p.digest_hour, p.digest_minute = data.digest_weekday, data.digest_hour, data.digest_minute
        p.anonymity_threshold = data.anonymity_threshold
        p.updated_at = now
        if schedule_changed:
            p.next_pulse_at = next_weekly_time(
                weekday=p.pulse_weekday, hour=p.pulse_hour, minute=p.pulse_minute, tz=p.timezone, every_weeks=1, after=now
            )
        if digest_changed and not created:
            # The heartbeat computes the next digest time from the new schedule (bot/services/digest.py).
            p.next_digest_at = None
        if created:
            uow.partnerships.add(p)
        _apply_people(uow, p, data, channel_members, now)
        uow.flush()
        counts = answerable_by_side(uow, p.id)
        if request_key is not None:
            outbox.enqueue(
                uow,
                p,
                purpose=outbox.Purpose.SETUP_DONE,
                ref_id=p.id,
                key=f"{outbox.Purpose.SETUP_DONE.value}:{p.id}:{request_key}"[:200],
                now=now,
                extra={"user_id": user_id, "created": created, "members_by_side": counts},
            )
        if created:
            outbox.enqueue(uow, p, purpose=outbox.Purpose.MENU, ref_id=p.id, key=f"menu:{p.id}:setup", now=now)
        uow.commit()
        logger.info("partnership %s %s in %s by %s", p.id, "created" if created else "updated", channel_id, user_id)
        return SetupResult(partnership=partnership_view(p), created=created, members_by_side=counts)


def _apply_people(
    uow: UnitOfWork, p: Partnership, data: SetupInput, channel_members: Iterable[SlackProfile], now: datetime
) -> None:
    profiles = {prof.user_id: prof for prof in channel_members}
    for prof in profiles.values():
        upsert_member(uow, p, prof, in_channel=True, now=now)
    roles: dict[str, tuple[Role, Side]] = {}
    for side, leads, sponsors in (
        (Side.CLIENT, data.client_leads, data.client_sponsors),
        (Side.PROVIDER, data.provider_leads, data.provider_sponsors),
    ):
        for uid in sponsors:
            roles[uid] = (Role.SPONSOR, side)
        for uid in leads:
            roles[uid] = (Role.LEAD, side)
    assigned = {uid: Side.CLIENT for uid in data.client_members} | {uid: Side.PROVIDER for uid in data.provider_members}
    for member in uow.members.list(p.id):
        role_side = roles.pop(member.user_id, None)
        member.role = role_side[0].value if role_side else Role.MEMBER.value
        override = assigned.pop(member.user_id, None) or (role_side[1] if role_side else None)
        if override is not None:
            member.side_override = override.value
        member.side = effective_side(p, member)
        member.updated_at = now
    # Leads, sponsors and assigned people who are not (yet) in the channel: sponsors often are not.
    for uid in set(roles) | set(assigned):
        role, side = roles[uid] if uid in roles else (Role.MEMBER, assigned[uid])
        member = uow.members.add(
            Member(
                partnership_id=p.id,
                user_id=uid,
                role=role.value,
                side_override=assigned.get(uid, side).value,
                in_channel=False,
                joined_at=now,
                updated_at=now,
            )
        )
        member.side = effective_side(p, member)


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
        p = _require(uow, team_id, channel_id)
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
        p = _require(uow, team_id, channel_id)
        _require_lead(uow, p, actor)
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


def side_group_ids(uow: UnitOfWork, *, team_id: str, channel_id: str) -> list[str]:
    """The user groups assigned to sides in the channel's partnership (none without a partnership)."""
    with uow.read_only():
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        return [g.usergroup_id for g in uow.side_groups.list(p.id)] if p else []


def _apply_group_sides(uow: UnitOfWork, p: Partnership, now: datetime) -> set[str]:
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


def _side_group_result(
    uow: UnitOfWork,
    p: Partnership,
    *,
    usergroup_id: str,
    handle: str,
    side: Side | None,
    existed: bool,
    group_ids: Collection[str],
    changed: set[str],
) -> SideGroupResult:
    """Count what an assignment (or its removal) means for the people of the group who are in the channel."""
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

    Raises:
        NotFound: the channel has no partnership.
        NotAllowed: the actor is not a lead.
    """
    with uow:
        p = _require(uow, team_id, channel_id)
        _require_lead(uow, p, actor)
        # One change at a time: the sequence below is taken under the partnership's row lock.
        uow.lock_partnership(p.id)
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
        changed = _apply_group_sides(uow, p, now)
        result = _side_group_result(
            uow,
            p,
            usergroup_id=usergroup_id,
            handle=group.handle,
            side=side,
            existed=existed,
            group_ids=member_ids,
            changed=changed,
        )
        uow.commit()
        logger.info("partnership %s: %s put user group %s on the %s side", p.id, actor, usergroup_id, side.value)
        return result


def remove_side_group(
    uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, usergroup_id: str, handle: str, now: datetime
) -> SideGroupResult:
    """A lead removes a user group's side (``/partner side @group auto``): its people fall back to another
    assigned group they are in, else their home team. Personal assignments are untouched.

    Raises:
        NotFound: the channel has no partnership.
        NotAllowed: the actor is not a lead.
    """
    with uow:
        p = _require(uow, team_id, channel_id)
        _require_lead(uow, p, actor)
        uow.lock_partnership(p.id)
        group = uow.side_groups.get(p.id, usergroup_id)
        if group is None:
            return SideGroupResult(usergroup_id, handle, None, False, 0, 0, 0, 0, 0)
        shown = group.handle or handle
        member_ids = uow.side_groups.members(p.id).get(group.id, set())
        uow.side_groups.delete(group)
        changed = _apply_group_sides(uow, p, now)
        result = _side_group_result(
            uow,
            p,
            usergroup_id=usergroup_id,
            handle=shown,
            side=None,
            existed=True,
            group_ids=member_ids,
            changed=changed,
        )
        uow.commit()
        logger.info("partnership %s: %s removed user group %s from its side", p.id, actor, usergroup_id)
        return result


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
            _apply_group_sides(uow, p, now)
        uow.commit()
        return len(partnership_ids)


def set_paused(
    uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, paused: bool, now: datetime
) -> PartnershipView:
    """Pause or resume the pulse (lead only). Resuming schedules the next pulse from now."""
    with uow:
        p = _require(uow, team_id, channel_id)
        _require_lead(uow, p, actor)
        if paused:
            p.status, p.pause_reason, p.paused_by = "paused", "paused by a lead", actor
        else:
            p.status, p.pause_reason, p.paused_by = "active", None, None
            p.next_pulse_at = next_weekly_time(
                weekday=p.pulse_weekday, hour=p.pulse_hour, minute=p.pulse_minute, tz=p.timezone, every_weeks=1, after=now
            )
        p.updated_at = now
        uow.commit()
        return partnership_view(p)


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
        p = _require(uow, team_id, channel_id)
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
