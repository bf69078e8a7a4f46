"""``/partner portfolio [here|off]``: the portfolio digest on demand, and where its weekly post goes.

Dispatched from handlers.commands.run_command (after the ack). The on-demand portfolio is ephemeral: it shows other
partnerships' figures, so only the person who asked (a lead or sponsor) sees it.
"""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.common import build_notice
from bot.blocks.portfolio import build_portfolio_messages
from bot.blocks.text import local_time_label
from bot.container import Services
from bot.services import portfolio
from bot.services.errors import DomainError
from bot.slack_client import ErrorKind, classify, error_code
from handlers.forms import ParsedCommand
from handlers.ui import reply

PORTFOLIO_COMMANDS = ("portfolio",)
#: A response_url takes five replies; keep one for a failure notice.
MAX_EPHEMERAL_MESSAGES = 4


def run_portfolio_command(
    parsed: ParsedCommand,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    respond: Respond,
    client: WebClient,
    services: Services,
) -> None:
    """Show the portfolio, or (leads) post it here weekly, or stop that. Domain errors propagate."""
    portfolio.check_usage(parsed.arg, parsed.text)
    uow, now = services.uow_factory, services.clock()
    if parsed.arg is None:
        view = portfolio.portfolio_for(uow, team_id=team_id, user_id=user_id, now=now)
        for message in build_portfolio_messages(view, max_messages=MAX_EPHEMERAL_MESSAGES):
            reply(respond, message)
    elif parsed.arg == "here":
        portfolio.require_lead(uow(), team_id=team_id, user_id=user_id)
        portfolio.check_channel_is_internal(shared=_is_shared(services, channel_id))
        _announce(client, channel_id, user_id)
        settings = portfolio.set_channel(uow(), team_id=team_id, channel_id=channel_id, user_id=user_id, now=now)
        first = local_time_label(settings.next_at, settings.timezone)
        reply(
            respond,
            build_notice(
                f"The portfolio digest will be posted here every Monday at 09:00 {settings.timezone}; the first on {first}. "
                "Stop it with `/partner portfolio off`."
            ),
        )
    else:
        previous = portfolio.turn_off(uow(), team_id=team_id, user_id=user_id)
        text = (
            f"The weekly portfolio digest is off (it went to <#{previous}>)."
            if previous
            else "The weekly portfolio digest was not being posted anywhere."
        )
        reply(respond, build_notice(text))


CANT_POST = (
    "I can't post in this channel, so the portfolio can't go here. Invite me with `/invite @PartnerPulse` "
    "and run `/partner portfolio here` again."
)


def _is_shared(services: Services, channel_id: str) -> bool:
    """Whether another organisation can read the channel (Slack Connect), from conversations.info."""
    try:
        return services.directory.channel_info(channel_id).is_connect
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
