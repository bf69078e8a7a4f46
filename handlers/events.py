"""Events API: keep the member list current, follow the app's uninstalls; acknowledge everything else so Slack never
sees a 404.

Member changes and uninstalls are written before the answer, so an event the database could not record is answered
500 and Slack retries it (it does not retry what got a 2xx; both writes are idempotent); only Slack calls wait until
after the answer. That write waits at most ACK_WRITE_SECONDS for a lock or a statement (``UnitOfWork.bounded``): a
database that holds it longer gets the 500 within Slack's 3 seconds, not a request that hangs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.errors import SlackApiError

from bot.ack_path import ACK_WRITE_SECONDS
from bot.after_ack import after_ack
from bot.blocks import ids
from bot.container import Services
from bot.services import channel_membership, installs, partnerships, side_groups
from bot.slack_client import error_code

logger = logging.getLogger(__name__)


def _record_member_change(
    record: Callable[..., object],
    ack: Ack,
    body: dict[str, Any],
    event: dict[str, Any],
    context: BoltContext,
    services: Services,
) -> None:
    """A person joined or left the channel: ``record`` (a service) writes it with the event's id, then the answer."""
    record(
        services.uow_factory().bounded(ACK_WRITE_SECONDS),
        team_id=str(context.team_id),
        channel_id=event["channel"],
        user_id=event["user"],
        event_id=str(body.get("event_id") or ""),
        now=services.clock(),
    )
    ack()


def ack_member_joined(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services
) -> None:
    """Record the join (and its event id) before answering: if the database cannot, the error answers 500 and
    Slack delivers the event again. A retried event that was recorded is answered 200 and changes nothing."""
    _record_member_change(channel_membership.record_join, ack, body, event, context, services)


@after_ack
def fill_joined_member(body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services) -> None:
    """After the answer: learn the recorded member's side from their organisation (one users.info call, cached)
    and from the user groups assigned to sides there (one usergroups.users.list per group)."""
    team_id = str(context.team_id)
    if not partnerships.has_partnership(services.uow_factory(), team_id=team_id, channel_id=event["channel"]):
        return
    directory = services.directory_for(team_id)
    profile = directory.profile(event["user"])
    group_members: dict[str, list[str]] = {}
    for usergroup_id in side_groups.side_group_ids(services.uow_factory(), team_id=team_id, channel_id=event["channel"]):
        try:
            group_members[usergroup_id] = directory.usergroup_member_ids(usergroup_id)
        except SlackApiError as exc:  # the group's stored members are used instead
            logger.warning("usergroups.users.list %s failed (%s); using its stored members", usergroup_id, error_code(exc))
    channel_membership.fill_member_profile(
        services.uow_factory(),
        team_id=team_id,
        channel_id=event["channel"],
        profile=profile,
        now=services.clock(),
        group_members=group_members,
    )


def ack_member_left(ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services) -> None:
    """A person left a channel: stop asking them, keep their history; recorded before answering (see above)."""
    _record_member_change(partnerships.member_left, ack, body, event, context, services)


def ack_subteam_members_changed(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services
) -> None:
    """People joined or left a user group: partnerships that put the group on a side update their sides, before
    answering (one transaction, bounded by the partnerships that assigned the group)."""
    side_groups.usergroup_members_changed(
        services.uow_factory().bounded(ACK_WRITE_SECONDS),
        team_id=str(context.team_id),
        usergroup_id=str(event.get("subteam_id") or ""),
        added=[str(u) for u in event.get("added_users") or []],
        removed=[str(u) for u in event.get("removed_users") or []],
        event_id=str(body.get("event_id") or ""),
        now=services.clock(),
    )
    ack()


def ack_app_uninstalled(ack: Ack, context: BoltContext, services: Services) -> None:
    """The app was uninstalled from a workspace: its sending held, its partnerships paused, its stored tokens
    forgotten; answered 2xx, for an unknown team too."""
    _uninstalled(services, str(context.team_id or ""), why="app_uninstalled", bot=True, user=True)
    ack()


def ack_tokens_revoked(ack: Ack, event: dict[str, Any], context: BoltContext, services: Services) -> None:
    """Slack revoked tokens of a workspace: the bot's (``tokens.bot``) is an uninstall; people's alone
    (``tokens.oauth``) are only forgotten."""
    tokens = event.get("tokens") or {}
    bot, user = bool(tokens.get("bot")), bool(tokens.get("oauth"))
    _uninstalled(services, str(context.team_id or ""), why="tokens_revoked" if bot else None, bot=bot, user=user)
    ack()


def _uninstalled(services: Services, team_id: str, *, why: installs.UninstallEvent | None, bot: bool, user: bool) -> None:
    if why is not None:
        installs.workspace_uninstalled(
            services.uow_factory().bounded(ACK_WRITE_SECONDS), team_id=team_id, why=why, now=services.clock()
        )
    if services.oauth is not None and (bot or user):
        services.oauth.forget(team_id, bot=bot, user=user)


def handle_other_event(ack: Ack) -> None:
    """Any other event: acknowledge, so Slack does not retry or disable our subscription."""
    ack()


def register(app: App) -> None:
    app.event(ids.Event.MEMBER_JOINED)(ack=ack_member_joined, lazy=[fill_joined_member])
    app.event(ids.Event.MEMBER_LEFT)(ack_member_left)
    app.event(ids.Event.SUBTEAM_MEMBERS_CHANGED)(ack_subteam_members_changed)
    app.event(ids.Event.APP_UNINSTALLED)(ack_app_uninstalled)
    app.event(ids.Event.TOKENS_REVOKED)(ack_tokens_revoked)
    app.event(re.compile(".*"))(handle_other_event)
