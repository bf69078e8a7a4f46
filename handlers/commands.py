"""``/partner``: parse the subcommand, call one service, reply ephemerally."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.blocks.common import build_error, build_help, build_notice, build_questions, build_status, side_group_text
from bot.blocks.text import escape, local_time_label
from bot.container import Services
from bot.services import partnerships, pulses
from bot.services.errors import DomainError
from bot.services.models import Side
from bot.slack_client import error_code
from handlers.digest import DIGEST_COMMANDS, run_digest_command
from handlers.forms import CommandError, ParsedCommand, parse_command
from handlers.goals import REVIEW_NAMES, run_review_command
from handlers.issue_log import ISSUE_LOG_COMMANDS, run_issue_log_command
from handlers.modals import open_setup_modal
from handlers.portfolio import PORTFOLIO_COMMANDS, run_portfolio_command
from handlers.ui import reply, unless_held

logger = logging.getLogger(__name__)

#: What usergroups.users.list answers for a group that does not exist (any more). Slack documents
#: ``no_such_subteam``; the OpenAPI file lists no group error at all, so the neighbours' codes are accepted too.
UNKNOWN_GROUP_ERRORS = frozenset({"no_such_subteam", "subteam_not_found", "invalid_usergroup", "usergroup_not_found"})


def ack_partner_command(ack: Ack, command: dict[str, Any]) -> None:
    """/partner <subcommand>: answer help and malformed commands at once, acknowledge the rest."""
    try:
        parsed = parse_command(command.get("text"))
    except CommandError as exc:
        message = build_error(str(exc))
        ack(text=message.text, blocks=message.blocks)
        return
    if parsed.name == "help":
        message = build_help()
        ack(text=message.text, blocks=message.blocks)
        return
    ack()


@after_ack
def carry_out_partner_command(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext, services: Services
) -> None:
    """/partner <subcommand> after the ack (the ack function already answered help and malformed commands)."""
    command = body  # a slash command's payload is the request body
    try:
        parsed = parse_command(command.get("text"))
    except CommandError:
        return
    if parsed.name == "help":
        return
    run_command(
        parsed,
        team_id=str(context.team_id),
        channel_id=str(command["channel_id"]),
        user_id=str(command["user_id"]),
        trigger_id=str(command.get("trigger_id", "")),
        respond=respond,
        client=client,
        services=services,
    )


def run_command(
    parsed: ParsedCommand,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    trigger_id: str,
    respond: Respond,
    client: WebClient,
    services: Services,
) -> None:
    """Carry out a parsed subcommand (shared with the menu buttons). Domain errors propagate to the caller."""
    uow, now = services.uow_factory, services.clock()
    if parsed.name == "setup":
        open_setup_modal(client, services, trigger_id=trigger_id, team_id=team_id, channel_id=channel_id, user_id=user_id)
    elif parsed.name == "status":
        reply(respond, build_status(partnerships.status(uow(), team_id=team_id, channel_id=channel_id)))
    elif parsed.name == "menu":
        partnerships.request_menu(
            uow(), team_id=team_id, channel_id=channel_id, request_key=trigger_id or now.isoformat(), now=now
        )
        services.sender.deliver_pending()
        done = "Posted the partnership menu in this channel (and pinned it, when I'm allowed to)."
        reply(respond, build_notice(unless_held(services, team_id, done, saved="the menu")))
    elif parsed.name == "questions":
        p = partnerships.get_partnership(uow(), team_id=team_id, channel_id=channel_id)
        if p is None:
            raise DomainError("This channel has no partnership yet. A lead can create one with `/partner setup`.")
        questions = pulses.list_questions(uow(), team_id=team_id, channel_id=channel_id)
        reply(respond, build_questions(p.name, questions, team_id=team_id, channel_id=channel_id))
    elif parsed.name == "pulse" and parsed.arg == "now":
        r = pulses.start_round_now(uow(), team_id=team_id, channel_id=channel_id, actor=user_id, now=now)
        services.sender.deliver_pending()
        p = partnerships.get_partnership(uow(), team_id=team_id, channel_id=channel_id)
        closes = local_time_label(r.closes_at, p.timezone) if p else r.closes_at.isoformat()
        done = f"Started pulse round {r.sequence}; it is open until {closes}."
        opening = f"Pulse round {r.sequence} is open until {closes}. "
        reply(respond, build_notice(unless_held(services, team_id, done, saved="your round", opening=opening)))
    elif parsed.name == "pulse":
        paused = parsed.arg == "pause"
        p = partnerships.set_paused(uow(), team_id=team_id, channel_id=channel_id, actor=user_id, paused=paused, now=now)
        if paused:
            reply(respond, build_notice("Pulses are paused. Resume with `/partner pulse resume`."))
        else:
            services.sender.deliver_pending()  # messages held while paused go now
            nxt = local_time_label(p.next_pulse_at, p.timezone) if p.next_pulse_at else "not scheduled"
            reply(respond, build_notice(f"Pulses are back on. Next pulse: {nxt}."))
    elif parsed.name == "side" and parsed.group is not None:
        run_side_group_command(
            parsed, team_id=team_id, channel_id=channel_id, user_id=user_id, respond=respond, services=services
        )
    elif parsed.name == "side":
        assert parsed.user is not None
        side = None if parsed.arg == "auto" else Side(str(parsed.arg))
        m = partnerships.set_side_override(
            uow(), team_id=team_id, channel_id=channel_id, actor=user_id, user_id=parsed.user, side=side, now=now
        )
        where = f"on the {m.side.value} side" if m.side else "without a side (their organisation decides, once known)"
        reply(respond, build_notice(f"<@{m.user_id}> is now {where}."))
    elif parsed.name in ISSUE_LOG_COMMANDS:
        run_issue_log_command(
            parsed,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            trigger_id=trigger_id,
            respond=respond,
            client=client,
            services=services,
        )
    elif parsed.name in DIGEST_COMMANDS:
        run_digest_command(
            parsed, team_id=team_id, channel_id=channel_id, user_id=user_id, respond=respond, services=services
        )
    elif parsed.name in PORTFOLIO_COMMANDS:
        run_portfolio_command(
            parsed,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            respond=respond,
            client=client,
            services=services,
        )
    elif parsed.name in REVIEW_NAMES:
        run_review_command(
            parsed,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            trigger_id=trigger_id,
            respond=respond,
            client=client,
            services=services,
        )
    else:  # pragma: no cover - parse_command only returns the names above
        raise DomainError("Unknown command.")


def run_side_group_command(
    parsed: ParsedCommand, *, team_id: str, channel_id: str, user_id: str, respond: Respond, services: Services
) -> None:
    """``/partner side @group client|provider|auto``: read the group's members from Slack, then one service call."""
    uow, now = services.uow_factory, services.clock()
    usergroup_id, handle = str(parsed.group), parsed.text or ""
    if parsed.arg == "auto":
        result = partnerships.remove_side_group(
            uow(), team_id=team_id, channel_id=channel_id, actor=user_id, usergroup_id=usergroup_id, handle=handle, now=now
        )
        reply(respond, build_notice(side_group_text(result)))
        return
    # Refuse before asking Slack anything: only leads assign sides.
    partnerships.require_lead(uow(), team_id=team_id, channel_id=channel_id, user_id=user_id)
    try:
        member_ids = services.directory.usergroup_member_ids(usergroup_id)
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
        logger.info("side for user group %s in %s refused: Slack answered %s", usergroup_id, channel_id, code)
        reply(respond, build_error(text))
        return
    result = partnerships.assign_side_group(
        uow(),
        team_id=team_id,
        channel_id=channel_id,
        actor=user_id,
        usergroup_id=usergroup_id,
        handle=handle,
        side=Side(str(parsed.arg)),
        member_ids=member_ids,
        now=now,
    )
    reply(respond, build_notice(side_group_text(result)))


def register(app: App) -> None:
    app.command(ids.Command.PARTNER)(ack=ack_partner_command, lazy=[carry_out_partner_command])
