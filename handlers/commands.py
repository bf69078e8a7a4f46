"""``/partner``: parse the text into a typed subcommand (handlers.command_parser), answer help and malformed
commands in the ack, and after the ack run the subcommand's handler, found by its type in ``COMMAND_HANDLERS``
(each feature module lists its own)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.after_ack import OPENS_MODAL, after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.common import build_error, build_help
from bot.container import Services
from bot.services.errors import DomainError
from handlers import (
    action_items,
    digest,
    expectations,
    goals,
    kpi_figures,
    kpi_red,
    kpi_tokens,
    kpis,
    policy,
    portfolio,
    pulse,
    scorecard,
    setup,
    sides,
)
from handlers.command_parser import CommandError, parse_command
from handlers.command_registry import CommandContext, CommandHandler, handles
from handlers.command_types import Command, Help, Refused
from handlers.issues import lists as issue_lists
from handlers.issues import log as issue_log
from handlers.ui import reply


def show_help(command: Help, ctx: CommandContext) -> None:
    """Help from the menu's button (``/partner help`` is answered in the ack)."""
    reply(ctx.respond, build_help())


def refuse(command: Refused, ctx: CommandContext) -> None:
    raise DomainError(command.message)


#: Every subcommand's handler, by the subcommand's type.
COMMAND_HANDLERS: dict[type[Command], CommandHandler] = {
    **dict([handles(Help, show_help), handles(Refused, refuse)]),
    **setup.COMMAND_HANDLERS,
    **pulse.COMMAND_HANDLERS,
    **sides.COMMAND_HANDLERS,
    **issue_log.COMMAND_HANDLERS,
    **issue_lists.COMMAND_HANDLERS,
    **action_items.COMMAND_HANDLERS,
    **policy.COMMAND_HANDLERS,
    **digest.COMMAND_HANDLERS,
    **portfolio.COMMAND_HANDLERS,
    **goals.COMMAND_HANDLERS,
    **expectations.COMMAND_HANDLERS,
    **scorecard.COMMAND_HANDLERS,
    **kpi_red.COMMAND_HANDLERS,
    **kpi_tokens.COMMAND_HANDLERS,
    **kpi_figures.COMMAND_HANDLERS,
    **kpis.COMMAND_HANDLERS,
}


def run_command(command: Command, ctx: CommandContext) -> None:
    """Carry out a subcommand (shared with the menu's buttons). Domain errors propagate to the caller."""
    handler = COMMAND_HANDLERS.get(type(command))
    if handler is None:  # pragma: no cover - a test checks every command type has a handler
        raise DomainError("Unknown command.")
    handler(command, ctx)


def command_opens_modal(body: dict[str, Any]) -> bool:
    """True for a subcommand whose handler opens a modal (``/partner setup``, ``goal add``...): it runs first."""
    try:
        parsed = parse_command(body.get("text"))
    except CommandError:
        return False
    return bool(getattr(COMMAND_HANDLERS.get(type(parsed)), OPENS_MODAL, False))


def ack_partner_command(ack: Ack, command: dict[str, Any]) -> None:
    """/partner <subcommand>: answer help and malformed commands at once, acknowledge the rest."""
    try:
        parsed = parse_command(command.get("text"))
    except CommandError as exc:
        message = build_error(str(exc))
        ack(text=message.text, blocks=message.blocks)
        return
    if isinstance(parsed, Help):
        message = build_help()
        ack(text=message.text, blocks=message.blocks)
        return
    ack()


@opens_modal(when=command_opens_modal)
@after_ack
def carry_out_partner_command(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext, services: Services
) -> None:
    """/partner <subcommand> after the ack (the ack function already answered help and malformed commands).

    The text is parsed again here: the lazy function may run in another process than the ack function."""
    command = body  # a slash command's payload is the request body
    try:
        parsed = parse_command(command.get("text"))
    except CommandError:
        return
    if isinstance(parsed, Help):
        return
    ctx = CommandContext(
        team_id=str(context.team_id),
        channel_id=str(command["channel_id"]),
        user_id=str(command["user_id"]),
        trigger_id=str(command.get("trigger_id", "")),
        respond=respond,
        client=client,
        services=services,
    )
    run_command(parsed, ctx)


def register(app: App) -> None:
    app.command(ids.Command.PARTNER)(ack=ack_partner_command, lazy=[carry_out_partner_command])
