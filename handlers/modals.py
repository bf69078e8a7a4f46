"""Opening modals within the trigger's 3 seconds: a small loading modal first, then the real one."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.blocks.pulse import build_answer_modal, build_loading_modal, build_message_modal
from bot.blocks.setup import build_setup_modal
from bot.container import Services
from bot.services import partnerships, pulses
from bot.services.anonymity import MIN_THRESHOLD
from bot.services.errors import DomainError
from bot.services.models import SlackProfile
from bot.slack_client import error_code

logger = logging.getLogger(__name__)

TRIGGER_ERRORS = {"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"}


class ModalUnavailable(DomainError):
    """Slack would not open the modal (the click was too slow to reach us, or was used already)."""


def open_loading(client: WebClient, trigger_id: str) -> str:
    """Use the trigger at once; returns the view id to update.

    Raises:
        ModalUnavailable: Slack answered expired/exchanged/invalid trigger id.
    """
    try:
        resp = client.views_open(trigger_id=trigger_id, view=build_loading_modal())
    except SlackApiError as exc:
        if error_code(exc) in TRIGGER_ERRORS:
            raise ModalUnavailable(
                "Slack took too long to pass on your click, so the form could not open. Please try again."
            ) from None
        raise
    return str(resp["view"]["id"])


def replace_view(client: WebClient, view_id: str, view: View) -> None:
    """Replace the loading modal. If the person closed it meanwhile (``not_found``), there is nothing to do."""
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        if error_code(exc) != "not_found":
            raise
        logger.info("modal %s was closed before it could be filled; nothing to update", view_id)


def open_setup_modal(
    client: WebClient, services: Services, *, trigger_id: str, team_id: str, channel_id: str, user_id: str
) -> None:
    """The setup form for this channel, or a modal explaining why not (not a lead; bot not in the channel)."""
    view_id = open_loading(client, trigger_id)
    try:
        info = services.directory.channel_info(channel_id)
        if not info.bot_is_member:
            raise DomainError("Invite me to this channel first (`/invite @PartnerPulse`), then run `/partner setup` again.")
        existing, members = partnerships.setup_defaults(
            services.uow_factory(), team_id=team_id, channel_id=channel_id, user_id=user_id
        )
        tz = services.directory.profile(user_id).tz or services.settings.default_timezone
        view = build_setup_modal(
            team_id=team_id,
            channel_id=channel_id,
            existing=existing,
            members=members,
            default_tz=tz,
            user_id=user_id,
            min_threshold=MIN_THRESHOLD,
        )
    except DomainError as exc:
        view = build_message_modal("PartnerPulse", str(exc))
    except SlackApiError as exc:
        code = error_code(exc)
        if code not in ("channel_not_found", "not_in_channel"):
            raise
        view = build_message_modal(
            "PartnerPulse", "I can't see this channel. Invite me first (`/invite @PartnerPulse`), then try again."
        )
    replace_view(client, view_id, view)


def open_answer_modal(
    client: WebClient, services: Services, *, trigger_id: str, round_id: int, profile: SlackProfile
) -> None:
    """The round's questions for the person's side, prefilled with their earlier answers."""
    view_id = open_loading(client, trigger_id)
    try:
        form = pulses.answer_form(
            services.uow_factory(), round_id=round_id, profile=profile, secret_key=services.secret_key, now=services.clock()
        )
        view = build_answer_modal(form)
    except DomainError as exc:
        view = build_message_modal("Partnership pulse", str(exc))
    replace_view(client, view_id, view)
