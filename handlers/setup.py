"""Setting up a partnership at the Slack edge: ``/partner setup`` and its form, ``/partner status`` and
``/partner menu`` (the pinned menu whose buttons are in handlers.menu)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.common import build_notice, build_status
from bot.blocks.metadata import ChannelRef
from bot.blocks.pulse import build_message_modal
from bot.blocks.setup import build_setup_modal
from bot.container import Services
from bot.services import partnership_setup, partnerships
from bot.services.anonymity import MIN_THRESHOLD
from bot.services.errors import DomainError, InvalidInput
from bot.services.partnership_models import SetupInput, Side
from bot.slack_client import error_code
from handlers.command_registry import CommandContext, handles
from handlers.command_types import Menu, Setup, Status
from handlers.form_values import State, int_value, selected_value, text_value, time_value, users_value
from handlers.ui import ack_checked_form, actor_profile, checked_form, reply, unless_held


def setup_form(services: Services, *, team_id: str, channel_id: str, user_id: str) -> View:
    """The setup form for this channel, or a modal explaining why not (not a lead; bot not in the channel)."""
    try:
        directory = services.directory_for(team_id)
        info = directory.channel_info(channel_id)
        if not info.bot_is_member:
            raise DomainError("Invite me to this channel first (`/invite @PartnerPulse`), then run `/partner setup` again.")
        existing, members = partnership_setup.setup_defaults(
            services.uow_factory(), team_id=team_id, channel_id=channel_id, user_id=user_id
        )
        tz = directory.profile(user_id).tz or services.settings.default_timezone
    except SlackApiError as exc:
        if error_code(exc) not in ("channel_not_found", "not_in_channel"):
            raise
        return build_message_modal(
            "PartnerPulse", "I can't see this channel. Invite me first (`/invite @PartnerPulse`), then try again."
        )
    return build_setup_modal(
        team_id=team_id,
        channel_id=channel_id,
        existing=existing,
        members=members,
        default_tz=tz,
        user_id=user_id,
        min_threshold=MIN_THRESHOLD,
    )


def parse_setup(state: State) -> SetupInput:
    """The setup modal's values. Raises InvalidInput naming the block when a value is unreadable."""
    B = ids.SetupBlock
    side = selected_value(state, B.INSTALLING_SIDE)
    if side not in (Side.CLIENT.value, Side.PROVIDER.value):
        raise InvalidInput("Choose which side your organisation is.", B.INSTALLING_SIDE)
    pulse_hour, pulse_minute = time_value(state, B.PULSE_TIME)
    digest_hour, digest_minute = time_value(state, B.DIGEST_TIME)
    return SetupInput(
        name=text_value(state, B.NAME),
        client_org=text_value(state, B.CLIENT_ORG),
        provider_org=text_value(state, B.PROVIDER_ORG),
        installing_side=Side(side),
        client_leads=users_value(state, B.CLIENT_LEADS),
        provider_leads=users_value(state, B.PROVIDER_LEADS),
        client_sponsors=users_value(state, B.CLIENT_SPONSORS),
        provider_sponsors=users_value(state, B.PROVIDER_SPONSORS),
        client_members=users_value(state, B.CLIENT_MEMBERS),
        provider_members=users_value(state, B.PROVIDER_MEMBERS),
        timezone=text_value(state, B.TIMEZONE).strip(),
        pulse_weekday=int_value(state, B.PULSE_WEEKDAY, label="The pulse day"),
        pulse_hour=pulse_hour,
        pulse_minute=pulse_minute,
        pulse_every_weeks=int_value(state, B.PULSE_EVERY_WEEKS, label="The cadence"),
        digest_weekday=int_value(state, B.DIGEST_WEEKDAY, label="The digest day"),
        digest_hour=digest_hour,
        digest_minute=digest_minute,
        anonymity_threshold=int_value(state, B.ANONYMITY_THRESHOLD, label="The anonymity threshold"),
    )


# Bolt runs a listener's lazy functions even when its ack function answered with field errors, so the saver
# checks the submission again (the same checks as its ack function) and stops quietly when the form was refused.


def _setup_check(body: dict[str, Any]) -> Callable[[State], SetupInput]:
    """The setup form's values, checked for the person submitting it (InvalidInput when refused)."""

    def check(state: State) -> SetupInput:
        data = parse_setup(state)
        partnership_setup.validate_setup(data, user_id=actor_profile(body).user_id)
        return data

    return check


def ack_setup_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Check the setup form; errors show in the form, a valid one closes."""
    ack_checked_form(
        ack,
        view,
        ChannelRef,
        _setup_check(body),
        stale_block=ids.SetupBlock.NAME,
        stale="This form is out of date; close it and run /partner setup again.",
    )


@after_ack
def save_setup(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Save the partnership setup the ack function accepted; the channel is told what was agreed (the outbox)."""
    submitted = checked_form(view, ChannelRef, _setup_check(body))
    if submitted is None:
        return  # the form showed why
    ref, data = submitted
    user = actor_profile(body)
    directory = services.directory_for(ref.team_id)
    info = directory.channel_info(ref.channel_id)
    partnership_setup.configure_partnership(
        services.uow_factory(),
        team_id=ref.team_id,
        channel_id=ref.channel_id,
        user_id=user.user_id,
        data=data,
        is_connect=info.is_connect,
        channel_members=directory.channel_profiles(ref.channel_id),
        now=services.clock(),
        request_key=f"setup-view:{view.get('id')}",
    )
    services.sender.deliver_queued()


# --- /partner setup | status | menu ------------------------------------------------------------------------


@opens_modal
def open_setup(command: Setup, ctx: CommandContext) -> None:
    ctx.open_form("PartnerPulse", setup_form, user_id=ctx.user_id)


def show_status(command: Status, ctx: CommandContext) -> None:
    status = partnerships.status(ctx.services.uow_factory(), team_id=ctx.team_id, channel_id=ctx.channel_id)
    reply(ctx.respond, build_status(status))


def post_menu(command: Menu, ctx: CommandContext) -> None:
    services, now = ctx.services, ctx.services.clock()
    partnerships.request_menu(
        services.uow_factory(),
        team_id=ctx.team_id,
        channel_id=ctx.channel_id,
        request_key=ctx.trigger_id or now.isoformat(),
        now=now,
    )
    services.sender.deliver_queued()
    done = "Posted the partnership menu in this channel (and pinned it, when I'm allowed to)."
    reply(ctx.respond, build_notice(unless_held(services, ctx.team_id, done, saved="the menu")))


COMMAND_HANDLERS = dict([handles(Setup, open_setup), handles(Status, show_status), handles(Menu, post_menu)])


def register(app: App) -> None:
    app.view(ids.View.SETUP)(ack=ack_setup_submission, lazy=[save_setup])
