"""The partnership menu's buttons (posted by ``/partner menu``, and on the Home tab): the same subcommands as
``/partner``, for people who cannot run it (Slack Connect), plus Answer."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.after_ack import OPENS_MODAL, after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.metadata import ChannelRef
from bot.container import Services
from bot.services import pulses
from bot.services.errors import DomainError
from bot.services.issue_models import ActionFilter, IssueFilter
from handlers.command_registry import CommandContext
from handlers.command_types import (
    ActionList,
    Command,
    Help,
    IssueList,
    IssueLog,
    KpiLedgerShow,
    PolicyShow,
    PulseNow,
    PulsePause,
    PulseResume,
    Setup,
    Status,
)
from handlers.commands import COMMAND_HANDLERS, run_command
from handlers.issues import log
from handlers.pulse import open_answer_modal
from handlers.ui import STALE, ack_button, actor_profile, decode_clicked, from_home, open_modal

MENU_COMMANDS: dict[str, Command] = {
    ids.Action.MENU_HELP: Help(),
    ids.Action.MENU_STATUS: Status(),
    ids.Action.MENU_SETUP: Setup(),
    ids.Action.MENU_PULSE_NOW: PulseNow(),
    ids.Action.MENU_PAUSE: PulsePause(),
    ids.Action.MENU_RESUME: PulseResume(),
    ids.Action.MENU_LOG_ISSUE: IssueLog(),
    ids.Action.MENU_ISSUES: IssueList(IssueFilter.OPEN),
    ids.Action.MENU_ACTIONS: ActionList(ActionFilter.MINE),
    ids.Action.MENU_POLICY: PolicyShow(),
    ids.Action.MENU_KPIS: KpiLedgerShow(),
}


def menu_button_opens_modal(body: dict[str, Any]) -> bool:
    """True for the menu's Answer and Log an issue buttons, and a button running a subcommand that opens a modal."""
    action_id = str((body.get("actions") or [{}])[0].get("action_id"))
    if action_id == ids.Action.MENU_ANSWER:
        return True
    command = MENU_COMMANDS.get(action_id)
    return command is not None and bool(getattr(COMMAND_HANDLERS.get(type(command)), OPENS_MODAL, False))


@opens_modal(when=menu_button_opens_modal)
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
    if action_id == ids.Action.MENU_LOG_ISSUE and from_home(body):
        # From the Home tab: the form remembers it, so the tab is published again once the issue is logged.
        open_modal(
            client,
            body["trigger_id"],
            log.FORM_TITLE,
            lambda: log.issue_form(services, team_id=ref.team_id, channel_id=ref.channel_id, from_home=True),
        )
    elif action_id == ids.Action.MENU_ANSWER:
        round_id = pulses.open_round_id(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id)
        open_answer_modal(
            client, services, trigger_id=body["trigger_id"], round_id=round_id, profile=user, channel_id=ref.channel_id
        )
    else:
        ctx = CommandContext(
            team_id=ref.team_id,
            channel_id=ref.channel_id,
            user_id=user.user_id,
            trigger_id=body["trigger_id"],
            respond=respond,
            client=client,
            services=services,
        )
        run_command(MENU_COMMANDS[str(action_id)], ctx)


def register(app: App) -> None:
    for action in (ids.Action.MENU_ANSWER, *MENU_COMMANDS):
        app.action(action)(ack=ack_button, lazy=[carry_out_menu_button])
