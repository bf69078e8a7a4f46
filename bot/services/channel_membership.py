"""Who is in a partnership's channel: joins recorded before their event is acknowledged, profiles filled in after,
and the member list reconciled with Slack's before a round opens.

Slack retries an event only when it gets no 2xx answer, so a join is written (with its event id, for dedupe) in
one short transaction before the answer; the person's profile, which needs Slack calls, follows after it. Events
can still be lost (Slack does not replay an outage's backlog), hence the reconciliation when a round opens.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import datetime

from bot.services.partnership_models import SlackProfile
from bot.services.partnerships import effective_side, upsert_member
from bot.services.side_groups import apply_group_sides
from storage.models import Member
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

#: Partnerships whose members are reconciled per heartbeat, at most (the rest follow at the next one).
RECONCILE_BATCH = 50


def record_join(uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str, event_id: str, now: datetime) -> bool:
    """A person joined a channel: record the event id and the person as in the channel, in one transaction.

    Returns False when there is nothing to do (no partnership in the channel, or a retried event). Raises when the
    database cannot record it, so the event is not acknowledged and Slack delivers it again.
    """
    with uow:
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        if p is None or (event_id and not uow.events.record_once(event_id, now)):
            return False
        member = uow.members.get(p.id, user_id)
        if member is None:
            member = uow.members.add(Member(partnership_id=p.id, user_id=user_id, joined_at=now, updated_at=now))
        member.in_channel, member.updated_at = True, now
        member.side = effective_side(p, member)
        uow.commit()
        return True


def fill_member_profile(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    profile: SlackProfile,
    now: datetime,
    group_members: Mapping[str, Collection[str]] | None = None,
) -> bool:
    """Give a recorded member their profile (home team, name, time zone) and their user groups' side.

    ``group_members`` are the members of the partnership's assigned user groups as Slack lists them now
    (usergroup id → user ids; a group Slack could not list is left out and its stored members are used). Whether
    the person is in the channel is left as recorded. Returns False when the person is not a recorded member.
    """
    with uow:
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        member = uow.members.get(p.id, profile.user_id) if p else None
        if p is None or member is None:
            return False
        upsert_member(uow, p, profile, in_channel=member.in_channel, now=now)
        if group_members:
            for group in uow.side_groups.list(p.id):
                if group.usergroup_id in group_members:
                    uow.side_groups.replace_members(group, group_members[group.usergroup_id])
        apply_group_sides(uow, p, now)
        uow.commit()
        return True


def channels_due(uow: UnitOfWork, *, now: datetime) -> list[tuple[str, str]]:
    """(team id, channel id) of the partnerships whose pulse is due by ``now``: their members are reconciled first."""
    with uow:
        # The claim's query, rolled back at once: the rows are only read here; opening claims them again.
        due = uow.partnerships.claim_due_pulses(now, RECONCILE_BATCH)
        return [(p.workspace.team_id, p.channel_id) for p in due]


def unknown_member_ids(uow: UnitOfWork, *, team_id: str, channel_id: str, member_ids: Collection[str]) -> list[str]:
    """Of the people Slack lists in the channel, those the partnership has no profile for (their profile is needed)."""
    with uow.read_only():
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        if p is None:
            return []
        known = {m.user_id for m in uow.members.list(p.id) if m.team_id}
        return [uid for uid in member_ids if uid not in known]


def reconcile_members(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    member_ids: Collection[str],
    profiles: Collection[SlackProfile],
    now: datetime,
) -> tuple[int, int]:
    """Make the channel's recorded members what Slack lists (``member_ids``, with ``profiles`` for new people):
    missing people are added, people no longer there stop being asked (their history stays).

    Returns (joined, left): how many changed, so a lost event shows in the log.
    """
    present = set(member_ids)
    by_id = {prof.user_id: prof for prof in profiles}
    joined = left = 0
    with uow:
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        if p is None:
            return 0, 0
        members = {m.user_id: m for m in uow.members.list(p.id)}
        for uid in present:
            member = members.get(uid)
            if member is not None and member.in_channel:
                continue
            joined += 1
            if uid in by_id:
                upsert_member(uow, p, by_id[uid], in_channel=True, now=now)
            elif member is not None:
                member.in_channel, member.updated_at = True, now
        for uid, member in members.items():
            if member.in_channel and uid not in present:
                member.in_channel, member.updated_at = False, now
                left += 1
        if joined:
            apply_group_sides(uow, p, now)
        uow.commit()
    if joined or left:
        logger.info("partnership %s: members reconciled with Slack: %s joined, %s left", p.id, joined, left)
    return joined, left
