"""Buttons: Answer, the partnership menu, Add a question. Anyone in the channel can click; services decide."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks import ids
from bot.blocks.common import build_error, build_help
from bot.blocks.metadata import ChannelRef, MetadataError, RoundRef, decode
from bot.blocks.setup import build_question_modal
from bot.container import Services
from bot.services import partnerships, pulses
from bot.services.errors import DomainError
from handlers.commands import reply, run_command
from handlers.forms import ParsedCommand, actor_profile
from handlers.modals import open_answer_modal, open_loading

STALE = "This button is out of date. Use the latest PartnerPulse message in the channel, or `/partner menu`."


def _value(body: dict[str, Any]) -> str | None:
    actions = body.get("actions") or [{}]
    return actions[0].get("value")


def handle_answer_button(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """Answer on a pulse message or reminder: open the answer modal."""
    ack()
    try:
        ref = decode(_value(body), RoundRef)
        open_answer_modal(
            client, services, trigger_id=body["trigger_id"], round_id=ref.round_id, profile=actor_profile(body)
        )
    except MetadataError:
        reply(respond, build_error(STALE))
    except DomainError as exc:
        reply(respond, build_error(str(exc)))


def handle_menu_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """A partnership-menu button: the same actions as ``/partner``, for people who cannot run it."""
    ack()
    action_id = (body.get("actions") or [{}])[0].get("action_id")
    try:
        ref = decode(_value(body), ChannelRef)
        if ref.team_id != context.team_id:
            raise MetadataError("button from another workspace")
        user = actor_profile(body)
        if action_id == ids.Action.MENU_HELP:
            reply(respond, build_help())
            return
        if action_id == ids.Action.MENU_ANSWER:
            round_id = pulses.open_round_id(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id)
            open_answer_modal(client, services, trigger_id=body["trigger_id"], round_id=round_id, profile=user)
            return
        parsed = {
            ids.Action.MENU_STATUS: ParsedCommand("status"),
            ids.Action.MENU_SETUP: ParsedCommand("setup"),
            ids.Action.MENU_PULSE_NOW: ParsedCommand("pulse", "now"),
            ids.Action.MENU_PAUSE: ParsedCommand("pulse", "pause"),
            ids.Action.MENU_RESUME: ParsedCommand("pulse", "resume"),
        }[action_id]
        run_command(
            parsed,
            team_id=ref.team_id,
            channel_id=ref.channel_id,
            user_id=user.user_id,
            trigger_id=body["trigger_id"],
            respond=respond,
            client=client,
            services=services,
        )
    except MetadataError:
        reply(respond, build_error(STALE))
    except DomainError as exc:
        reply(respond, build_error(str(exc)))


def handle_question_add_button(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, services: Services
) -> None:
    """Add a question: leads only, checked before the form opens."""
    ack()
    try:
        ref = decode(_value(body), ChannelRef)
        partnerships.require_lead(
            services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id, user_id=actor_profile(body).user_id
        )
        view_id = open_loading(client, body["trigger_id"])
        client.views_update(view_id=view_id, view=build_question_modal(team_id=ref.team_id, channel_id=ref.channel_id))
    except MetadataError:
        reply(respond, build_error(STALE))
    except DomainError as exc:
        reply(respond, build_error(str(exc)))


def register(app: App) -> None:
    app.action(ids.Action.PULSE_ANSWER)(handle_answer_button)
    for action in (
        ids.Action.MENU_ANSWER,
        ids.Action.MENU_STATUS,
        ids.Action.MENU_SETUP,
        ids.Action.MENU_PULSE_NOW,
        ids.Action.MENU_PAUSE,
        ids.Action.MENU_RESUME,
        ids.Action.MENU_HELP,
    ):
        app.action(action)(handle_menu_button)
    app.action(ids.Action.QUESTION_ADD)(handle_question_add_button)
