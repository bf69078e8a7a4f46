"""``/partner portfolio [here|off]``: the portfolio digest on demand, and where its weekly post goes.

The on-demand portfolio is ephemeral: it shows other partnerships' figures, so only the person who asked (a lead or
sponsor) sees it.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.common import build_notice
from bot.blocks.portfolio import build_portfolio_messages
from bot.blocks.text import local_time_label
from bot.container import Services
from bot.services import portfolio
from bot.services.errors import DomainError
from bot.slack_client import ErrorKind, classify, error_code
from handlers.command_registry import CommandContext, handles
from handlers.command_types import PortfolioHere, PortfolioOff, PortfolioShow
from handlers.ui import reply

#: A response_url takes five replies; keep one for a failure notice.
MAX_EPHEMERAL_MESSAGES = 4


def show_portfolio(command: PortfolioShow, ctx: CommandContext) -> None:
    """Every partnership of the workspace the person leads or sponsors, ranked by risk."""
    view = portfolio.portfolio_for(
        ctx.services.uow_factory, team_id=ctx.team_id, user_id=ctx.user_id, now=ctx.services.clock()
    )
    for message in build_portfolio_messages(view, max_messages=MAX_EPHEMERAL_MESSAGES):
        reply(ctx.respond, message)


def post_portfolio_here(command: PortfolioHere, ctx: CommandContext) -> None:
    """Leads: post the portfolio in this (internal) channel every week."""
    services, uow = ctx.services, ctx.services.uow_factory
    portfolio.require_lead(uow(), team_id=ctx.team_id, user_id=ctx.user_id)
    portfolio.check_channel_is_internal(shared=_is_shared(services, ctx.team_id, ctx.channel_id))
    _announce(ctx.client, ctx.channel_id, ctx.user_id)
    settings = portfolio.set_channel(
        uow(), team_id=ctx.team_id, channel_id=ctx.channel_id, user_id=ctx.user_id, now=services.clock()
    )
    first = local_time_label(settings.next_at, settings.timezone)
    reply(
        ctx.respond,
        build_notice(
            f"The portfolio digest will be posted here every Monday at 09:00 {settings.timezone}; the first on {first}. "
            "Stop it with `/partner portfolio off`."
        ),
    )


def turn_portfolio_off(command: PortfolioOff, ctx: CommandContext) -> None:
    """Leads: no weekly portfolio post any more."""
    previous = portfolio.turn_off(ctx.services.uow_factory(), team_id=ctx.team_id, user_id=ctx.user_id)
    text = (
        f"The weekly portfolio digest is off (it went to <#{previous}>)."
        if previous
        else "The weekly portfolio digest was not being posted anywhere."
    )
    reply(ctx.respond, build_notice(text))


COMMAND_HANDLERS = dict(
    [
        handles(PortfolioShow, show_portfolio),
        handles(PortfolioHere, post_portfolio_here),
        handles(PortfolioOff, turn_portfolio_off),
    ]
)


CANT_POST = (
    "I can't post in this channel, so the portfolio can't go here. Invite me with `/invite @PartnerPulse` "
    "and run `/partner portfolio here` again."
)


def _is_shared(services: Services, team_id: str, channel_id: str) -> bool:
    """Whether another organisation can read the channel (Slack Connect), from conversations.info."""
    try:
        return services.directory_for(team_id).channel_info(channel_id).is_connect
    except SlackApiError as exc:
        if classify(error_code(exc)) is ErrorKind.CHANNEL_GONE:
            raise DomainError(CANT_POST) from None
        raise


def _announce(client: WebClient, channel_id: str, user_id: str) -> None:
    """Tell the channel it will get the portfolio, which also proves the bot may post here before it is saved."""
    message = build_notice(
        f"<@{user_id}> chose this channel for the weekly portfolio digest: every partnership of the workspace "
        "ranked by risk, each Monday morning."
    )
    try:
        client.chat_postMessage(channel=channel_id, text=message.text, blocks=message.blocks)
    except SlackApiError as exc:
        if classify(error_code(exc)) is ErrorKind.CHANNEL_GONE:
            raise DomainError(CANT_POST) from None
        raise
