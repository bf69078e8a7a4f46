"""Events API: keep the member list current; acknowledge everything else so Slack never sees a 404."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.container import Services
from bot.services import partnerships
from bot.slack_client import error_code

logger = logging.getLogger(__name__)


def ack_event(ack: Ack) -> None:
    """Events are acknowledged at once, so Slack does not retry them."""
    ack()


@after_ack
def record_member_joined(body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services) -> None:
    """A person joined a channel: learn their side from their organisation (one users.info call, cached) and from
    the user groups assigned to sides there (one usergroups.users.list per group)."""
    team_id, event_id = str(context.team_id), str(body.get("event_id") or "")
    if not partnerships.has_partnership(services.uow_factory(), team_id=team_id, channel_id=event["channel"]):
        return
    profile = services.directory.profile(event["user"])
    group_members: dict[str, list[str]] = {}
    for usergroup_id in partnerships.side_group_ids(services.uow_factory(), team_id=team_id, channel_id=event["channel"]):
        try:
            group_members[usergroup_id] = services.directory.usergroup_member_ids(usergroup_id)
        except SlackApiError as exc:  # the group's stored members are used instead
            logger.warning("usergroups.users.list %s failed (%s); using its stored members", usergroup_id, error_code(exc))
    partnerships.member_joined(
        services.uow_factory(),
        team_id=team_id,
        channel_id=event["channel"],
        profile=profile,
        event_id=event_id,
        now=services.clock(),
        group_members=group_members,
    )


@after_ack
def record_member_left(body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services) -> None:
    """A person left a channel: stop asking them, keep their history."""
    partnerships.member_left(
        services.uow_factory(),
        team_id=str(context.team_id),
        channel_id=event["channel"],
        user_id=event["user"],
        event_id=str(body.get("event_id") or ""),
        now=services.clock(),
    )


@after_ack
def record_subteam_members_changed(
    body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services
) -> None:
    """People joined or left a user group: partnerships that put the group on a side update their sides."""
    partnerships.usergroup_members_changed(
        services.uow_factory(),
        team_id=str(context.team_id),
        usergroup_id=str(event.get("subteam_id") or ""),
        added=[str(u) for u in event.get("added_users") or []],
        removed=[str(u) for u in event.get("removed_users") or []],
        event_id=str(body.get("event_id") or ""),
        now=services.clock(),
    )


def handle_other_event(ack: Ack) -> None:
    """Any other event: acknowledge, so Slack does not retry or disable our subscription."""
    ack()


def register(app: App) -> None:
    app.event(ids.Event.MEMBER_JOINED)(ack=ack_event, lazy=[record_member_joined])
    app.event(ids.Event.MEMBER_LEFT)(ack=ack_event, lazy=[record_member_left])
    app.event(ids.Event.SUBTEAM_MEMBERS_CHANGED)(ack=ack_event, lazy=[record_subteam_members_changed])
    app.event(re.compile(".*"))(handle_other_event)
