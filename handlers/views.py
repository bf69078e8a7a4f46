"""Modal submissions: validate before ``ack`` (errors show in the form), then one service call."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.blocks.metadata import ChannelRef, MetadataError, RoundRef, decode
from bot.blocks.text import escape, local_time_label
from bot.container import Services
from bot.services import partnerships, pulses
from bot.services.errors import DomainError, InvalidInput
from bot.services.models import AnswerInput, SetupInput
from handlers.forms import actor_profile, parse_answers, parse_question, parse_setup
from handlers.ui import ephemeral

logger = logging.getLogger(__name__)


def _field_errors(exc: InvalidInput, fallback_block: str) -> dict[str, str]:
    return {exc.field or fallback_block: str(exc)}


# Bolt runs a listener's lazy functions even when its ack function answered with field errors, so each saver
# checks the submission again (the same checks as its ack function) and stops quietly when the form was refused.


def _checked_setup(body: dict[str, Any], view: dict[str, Any]) -> tuple[ChannelRef, SetupInput]:
    """Raises MetadataError or InvalidInput."""
    ref = decode(view.get("private_metadata"), ChannelRef)
    data = parse_setup(view["state"]["values"])
    partnerships.validate_setup(data, user_id=actor_profile(body).user_id)
    return ref, data


def ack_setup_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Check the setup form; errors show in the form, a valid one closes."""
    try:
        _checked_setup(body, view)
    except MetadataError:
        ack(
            response_action="errors",
            errors={ids.SetupBlock.NAME: "This form is out of date; close it and run /partner setup again."},
        )
        return
    except InvalidInput as exc:
        ack(response_action="errors", errors=_field_errors(exc, ids.SetupBlock.NAME))
        return
    ack()


@after_ack
def save_setup(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Save the partnership setup the ack function accepted; the channel is told what was agreed (the outbox)."""
    try:
        ref, data = _checked_setup(body, view)
    except (MetadataError, InvalidInput):
        return  # the form showed why
    user = actor_profile(body)
    info = services.directory.channel_info(ref.channel_id)
    partnerships.configure_partnership(
        services.uow_factory(),
        team_id=ref.team_id,
        channel_id=ref.channel_id,
        user_id=user.user_id,
        data=data,
        is_connect=info.is_connect,
        channel_members=services.directory.channel_profiles(ref.channel_id),
        now=services.clock(),
        request_key=f"setup-view:{view.get('id')}",
    )
    services.sender.deliver_pending()


def _checked_answers(view: dict[str, Any]) -> tuple[RoundRef, list[AnswerInput]]:
    """Raises MetadataError or InvalidInput."""
    ref = decode(view.get("private_metadata"), RoundRef)
    answers = parse_answers(view["state"]["values"])
    pulses.check_comments(answers)
    return ref, answers


def ack_answer_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Check the answers (comment length); errors show in the form."""
    try:
        _checked_answers(view)
    except MetadataError:
        # Not a form we built (forged or from an older version): close it, store nothing.
        logger.warning("answer submission with unreadable metadata from %s ignored", actor_profile(body).user_id)
        ack()
        return
    except InvalidInput as exc:
        ack(response_action="errors", errors=_field_errors(exc, next(iter(view["state"]["values"]), "")))
        return
    ack()


@after_ack
def save_answers(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Record the answers (a resubmission replaces the earlier ones)."""
    try:
        ref, answers = _checked_answers(view)
    except (MetadataError, InvalidInput):
        return  # the ack function closed a form it could not read, or showed why it refused it
    user = actor_profile(body)
    context = pulses.round_context(services.uow_factory(), round_id=ref.round_id)
    if context is None:
        return
    round_, partnership = context
    try:
        result = pulses.submit_answers(
            services.uow_factory(),
            round_id=ref.round_id,
            profile=user,
            answers=answers,
            secret_key=services.secret_key,
            now=services.clock(),
        )
    except DomainError as exc:
        ephemeral(client, partnership.channel_id, user.user_id, str(exc), error=True)
        return
    verb = "recorded" if result.created else "updated"
    closes = local_time_label(round_.closes_at, partnership.timezone)
    ephemeral(
        client,
        partnership.channel_id,
        user.user_id,
        f"Thank you, your answers to the *{escape(partnership.name)}* pulse are {verb}. You can change them until {closes}.",
    )


def _checked_question(view: dict[str, Any]) -> tuple[ChannelRef, tuple[str, str, str]]:
    """Raises MetadataError or InvalidInput."""
    ref = decode(view.get("private_metadata"), ChannelRef)
    question = parse_question(view["state"]["values"])
    pulses.validate_question(*question)
    return ref, question


def ack_question_submission(ack: Ack, view: dict[str, Any]) -> None:
    """Check a lead's own question; errors show in the form."""
    try:
        _checked_question(view)
    except MetadataError:
        ack(response_action="errors", errors={ids.QuestionBlock.DIMENSION: "This form is out of date; open it again."})
        return
    except InvalidInput as exc:
        ack(response_action="errors", errors=_field_errors(exc, ids.QuestionBlock.DIMENSION))
        return
    ack()


@after_ack
def save_question(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Add a lead's own question (permission is checked by the service)."""
    try:
        ref, (dimension, text_client, text_provider) = _checked_question(view)
    except (MetadataError, InvalidInput):
        return  # the form showed why
    user = actor_profile(body)
    q = pulses.add_question(
        services.uow_factory(),
        team_id=ref.team_id,
        channel_id=ref.channel_id,
        actor=user.user_id,
        dimension=dimension,
        text_client=text_client,
        text_provider=text_provider,
        now=services.clock(),
    )
    ephemeral(
        client,
        ref.channel_id,
        user.user_id,
        f"Added your question ({escape(q.text_client)}). It joins the rotation from the next round.",
    )


def handle_view_closed(ack: Ack) -> None:
    """Closing a modal needs no work."""
    ack()


def register(app: App) -> None:
    app.view(ids.View.SETUP)(ack=ack_setup_submission, lazy=[save_setup])
    app.view(ids.View.PULSE_ANSWER)(ack=ack_answer_submission, lazy=[save_answers])
    app.view(ids.View.QUESTION_ADD)(ack=ack_question_submission, lazy=[save_question])
    app.view_closed(ids.View.LOADING)(handle_view_closed)
