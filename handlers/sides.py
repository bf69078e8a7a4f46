"""Which side people are on, at the Slack edge: ``/partner side @person|@group client|provider|auto``."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.blocks.common import build_error, build_notice, side_group_text
from bot.blocks.text import escape
from bot.services import partnerships, side_groups
from bot.slack_client import error_code
from handlers.command_registry import CommandContext, handles
from handlers.command_types import SideAssign, SideGroupAssign
from handlers.ui import reply

logger = logging.getLogger(__name__)

#: What usergroups.users.list answers for a group that does not exist (any more). Slack documents
#: ``no_such_subteam``; the OpenAPI file lists no group error at all, so the neighbours' codes are accepted too.
UNKNOWN_GROUP_ERRORS = frozenset({"no_such_subteam", "subteam_not_found", "invalid_usergroup", "usergroup_not_found"})


def assign_side(command: SideAssign, ctx: CommandContext) -> None:
    """``/partner side @person client|provider|auto``."""
    m = ctx.act(partnerships.set_side_override, user_id=command.user_id, side=command.side)
    where = f"on the {m.side.value} side" if m.side else "without a side (their organisation decides, once known)"
    reply(ctx.respond, build_notice(f"<@{m.user_id}> is now {where}."))


def assign_group_side(command: SideGroupAssign, ctx: CommandContext) -> None:
    """``/partner side @group client|provider|auto``: read the group's members from Slack, then one service call."""
    services, uow, now = ctx.services, ctx.services.uow_factory, ctx.services.clock()
    where = ctx.place()
    usergroup_id, handle = command.usergroup_id, command.handle
    if command.side is None:
        result = side_groups.remove_side_group(
            uow(), **where, actor=ctx.user_id, usergroup_id=usergroup_id, handle=handle, now=now
        )
        reply(ctx.respond, build_notice(side_group_text(result)))
        return
    # Refuse before asking Slack anything: only leads assign sides.
    partnerships.require_lead(uow(), **where, user_id=ctx.user_id)
    try:
        member_ids = services.directory_for(ctx.team_id).usergroup_member_ids(usergroup_id)
    except SlackApiError as exc:
        code = error_code(exc)
        if code in UNKNOWN_GROUP_ERRORS:
            text = f"Slack has no user group {escape(handle)} (it may have been deleted or disabled). Nothing changed."
        elif code == "missing_scope":
            text = (
                "I can't read user groups yet: the PartnerPulse app needs Slack's `usergroups:read` permission. "
                "A workspace admin adds it by reinstalling the app from `app_manifest.yml`. Nothing changed."
            )
        else:
            raise
        logger.info("side for user group %s in %s refused: Slack answered %s", usergroup_id, ctx.channel_id, code)
        reply(ctx.respond, build_error(text))
        return
    result = side_groups.assign_side_group(
        uow(),
        **where,
        actor=ctx.user_id,
        usergroup_id=usergroup_id,
        handle=handle,
        side=command.side,
        member_ids=member_ids,
        now=now,
    )
    reply(ctx.respond, build_notice(side_group_text(result)))


COMMAND_HANDLERS = dict([handles(SideAssign, assign_side), handles(SideGroupAssign, assign_group_side)])
