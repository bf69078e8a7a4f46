"""Buttons: Answer, the partnership menu, Add a question. Anyone in the channel can click; services decide."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.blocks.common import build_help
from bot.blocks.metadata import ChannelRef, RoundRef
from bot.blocks.setup import build_question_modal
from bot.container import Services
from bot.services import partnerships, pulses
from bot.services.errors import DomainError
from handlers.commands import run_command
from handlers.forms import ParsedCommand, actor_profile
from handlers.issues import open_issue_form
from handlers.modals import open_answer_modal, open_loading, replace_view
from handlers.ui import STALE, ack_button, decode_clicked, from_home, reply

MENU_COMMANDS = {
    ids.Action.MENU_STATUS: ParsedCommand("status"),
    ids.Action.MENU_SETUP: ParsedCommand("setup"),
    ids.Action.MENU_PULSE_NOW: ParsedCommand("pulse", "now"),
    ids.Action.MENU_PAUSE: ParsedCommand("pulse", "pause"),
    ids.Action.MENU_RESUME: ParsedCommand("pulse", "resume"),
    ids.Action.MENU_LOG_ISSUE: ParsedCommand("issue"),
    ids.Action.MENU_ISSUES: ParsedCommand("issues", "open"),
    ids.Action.MENU_ACTIONS: ParsedCommand("actions", "mine"),
    ids.Action.MENU_POLICY: ParsedCommand("policy"),
}


@after_ack
def open_answer_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """Answer on a pulse message or reminder: open the answer modal."""
    ref = decode_clicked(body, RoundRef)
    open_answer_modal(client, services, trigger_id=body["trigger_id"], round_id=ref.round_id, profile=actor_profile(body))


@after_ack
def carry_out_menu_button(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """A partnership-menu button: the same actions as ``/partner``, for people who cannot run it."""
    action_id = (body.get("actions") or [{}])[0].get("action_id")
    ref = decode_clicked(body, ChannelRef)
    if ref.team_id != context.team_id:
        raise DomainError(STALE)
    user = actor_profile(body)
    if action_id == ids.Action.MENU_HELP:
        reply(respond, build_help())
    elif action_id == ids.Action.MENU_LOG_ISSUE and from_home(body):
        # From the Home tab: the form remembers it, so the tab is published again once the issue is logged.
        open_issue_form(
            client, services, trigger_id=body["trigger_id"], team_id=ref.team_id, channel_id=ref.channel_id, from_home=True
        )
    elif action_id == ids.Action.MENU_ANSWER:
        round_id = pulses.open_round_id(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id)
        open_answer_modal(client, services, trigger_id=body["trigger_id"], round_id=round_id, profile=user)
    else:
        run_command(
            MENU_COMMANDS[action_id],
            team_id=ref.team_id,
            channel_id=ref.channel_id,
            user_id=user.user_id,
            trigger_id=body["trigger_id"],
            respond=respond,
            client=client,
            services=services,
        )


@after_ack
def open_question_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """Add a question: leads only, checked before the form opens."""
    ref = decode_clicked(body, ChannelRef)
    user_id = actor_profile(body).user_id
    partnerships.require_lead(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id, user_id=user_id)
    view_id = open_loading(client, body["trigger_id"])
    replace_view(client, view_id, build_question_modal(team_id=ref.team_id, channel_id=ref.channel_id))


def register(app: App) -> None:
    app.action(ids.Action.PULSE_ANSWER)(ack=ack_button, lazy=[open_answer_form])
    for action in (ids.Action.MENU_ANSWER, ids.Action.MENU_HELP, *MENU_COMMANDS):
        app.action(action)(ack=ack_button, lazy=[carry_out_menu_button])
    app.action(ids.Action.QUESTION_ADD)(ack=ack_button, lazy=[open_question_form])
