"""The expectations ledger at the Slack edge: ``/partner expect [text]``, ``/partner expectations``, the form, and
the other side's answers (agree, discuss with a reason) or the author's side withdrawing it. The buttons work for
people of both organisations, who cannot all run the slash command (Slack Connect)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.expectations import ExpectationRef, build_discuss_modal, build_expectation_list, build_expectation_modal
from bot.blocks.metadata import ChannelRef
from bot.container import Services
from bot.services import expectations
from bot.services.errors import InvalidInput, NotFound
from handlers.command_registry import CommandContext, handles
from handlers.command_types import ExpectationAdd, ExpectationsShow
from handlers.form_values import text_value
from handlers.ui import (
    ack_button,
    ack_form,
    actor_profile,
    checked_form,
    clicked_ref,
    ephemeral,
    notify,
    open_modal,
    reply,
    reply_or_ephemeral,
    require_partnership,
)

T = TypeVar("T")


#: What the expectation modal is called where it cannot open.
FORM_TITLE = "Record an expectation"


def expectation_form(services: Services, *, team_id: str, channel_id: str, text: str | None = None) -> View:
    return build_expectation_modal(require_partnership(services, team_id, channel_id), text=text)


@opens_modal
@after_ack
def open_expectation_form_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ref, channel_id = clicked_ref(body, ChannelRef)
    open_modal(
        client,
        body["trigger_id"],
        FORM_TITLE,
        lambda: expectation_form(services, team_id=ref.team_id, channel_id=channel_id),
    )


def _ack_text_form(ack: Ack, view: dict[str, Any], ref: type[Any], block: str, check: Callable[[str], str]) -> None:
    """A one-text-field form: our metadata, and text that ``check`` accepts, or the error at the field."""

    def errors(_: object) -> dict[str, str]:
        try:
            check(text_value(view["state"]["values"], block))
        except InvalidInput as exc:
            return {block: str(exc)}
        return {}

    ack_form(ack, view, ref, stale_block=block, errors=errors)


def _text_submission(
    view: dict[str, Any], ref_type: type[T], block: str, check: Callable[[str], str]
) -> tuple[T, str] | None:
    """A one-text-field form's metadata and its checked text; None when the form refused them already."""
    return checked_form(view, ref_type, lambda state: check(text_value(state, block)))


def ack_expectation_submission(ack: Ack, view: dict[str, Any]) -> None:
    _ack_text_form(ack, view, ChannelRef, ids.ExpectationBlock.TEXT, expectations.check_expectation_text)


@after_ack
def save_expectation(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    submitted = _text_submission(view, ChannelRef, ids.ExpectationBlock.TEXT, expectations.check_expectation_text)
    if submitted is None:
        return  # refused in the form already
    ref, text = submitted
    user = actor_profile(body).user_id
    e = expectations.record_expectation(
        services.uow_factory(),
        team_id=ref.team_id,
        channel_id=ref.channel_id,
        actor=user,
        text=text,
        request_key=f"expectation-view:{view.get('id')}",
        now=services.clock(),
    )
    services.sender.deliver_queued()
    ephemeral(
        client, ref.channel_id, user, f"Expectation #{e.number} is posted; the other side can agree or ask to discuss it."
    )


@after_ack
def agree_to_expectation(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ref, channel_id = clicked_ref(body, ExpectationRef)
    e = expectations.respond(
        services.uow_factory(),
        channel_id=channel_id,
        expectation_id=ref.expectation_id,
        actor=actor_profile(body).user_id,
        agree=True,
        reason=None,
        now=services.clock(),
    )
    services.sender.deliver_queued()
    notify(respond, client, body, f"You agreed to expectation #{e.number}.")


@opens_modal
@after_ack
def open_discuss_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """ "Discuss": the other side gives a short reason; the author's side is told it can withdraw instead."""
    ref, channel_id = clicked_ref(body, ExpectationRef)
    expectations.require_other_side(services.uow_factory(), channel_id, ref.expectation_id, actor_profile(body).user_id)
    card = expectations.expectation_card(services.uow_factory(), expectation_id=ref.expectation_id)
    if card is None:
        raise NotFound("This expectation no longer exists.")
    open_modal(client, body["trigger_id"], "Discuss", lambda: build_discuss_modal(card))


def ack_discuss_submission(ack: Ack, view: dict[str, Any]) -> None:
    _ack_text_form(ack, view, ExpectationRef, ids.ExpectationBlock.REASON, expectations.check_reason)


@after_ack
def save_discussion(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    submitted = _text_submission(view, ExpectationRef, ids.ExpectationBlock.REASON, expectations.check_reason)
    if submitted is None:
        return
    ref, reason = submitted
    user = actor_profile(body).user_id
    e = expectations.respond(
        services.uow_factory(),
        channel_id=ref.channel_id,
        expectation_id=ref.expectation_id,
        actor=user,
        agree=False,
        reason=reason,
        now=services.clock(),
    )
    services.sender.deliver_queued()
    ephemeral(client, ref.channel_id, user, f"Expectation #{e.number} is marked to discuss, with your reason.")


@after_ack
def withdraw_expectation(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ref, channel_id = clicked_ref(body, ExpectationRef)
    e = expectations.withdraw(
        services.uow_factory(),
        channel_id=channel_id,
        expectation_id=ref.expectation_id,
        actor=actor_profile(body).user_id,
        now=services.clock(),
    )
    services.sender.deliver_queued()
    notify(respond, client, body, f"Expectation #{e.number} is withdrawn.")


@after_ack
def show_expectations_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """The "Expectations" button (for people who cannot run ``/partner``): the list, only for them."""
    ref, channel_id = clicked_ref(body, ChannelRef)
    p = require_partnership(services, ref.team_id, channel_id)
    found = expectations.list_expectations(services.uow_factory(), team_id=ref.team_id, channel_id=channel_id)
    reply_or_ephemeral(respond, client, body, channel_id, build_expectation_list(p, found))


@opens_modal
def add_expectation(command: ExpectationAdd, ctx: CommandContext) -> None:
    """``/partner expect [text]``: the modal shows the text to check before it is posted for the other side."""
    ctx.open_form(FORM_TITLE, expectation_form, text=command.text)


def list_expectations(command: ExpectationsShow, ctx: CommandContext) -> None:
    """``/partner expectations``."""
    found = expectations.list_expectations(ctx.services.uow_factory(), team_id=ctx.team_id, channel_id=ctx.channel_id)
    reply(ctx.respond, build_expectation_list(require_partnership(ctx.services, ctx.team_id, ctx.channel_id), found))


COMMAND_HANDLERS = dict([handles(ExpectationAdd, add_expectation), handles(ExpectationsShow, list_expectations)])


def register(app: App) -> None:
    A, V = ids.ReviewAction, ids.ReviewView
    app.action(A.EXPECTATION_ADD)(ack=ack_button, lazy=[open_expectation_form_from_button])
    app.action(A.EXPECTATION_AGREE)(ack=ack_button, lazy=[agree_to_expectation])
    app.action(A.EXPECTATION_DISCUSS)(ack=ack_button, lazy=[open_discuss_form])
    app.action(A.EXPECTATION_WITHDRAW)(ack=ack_button, lazy=[withdraw_expectation])
    app.view(V.EXPECTATION_ADD)(ack=ack_expectation_submission, lazy=[save_expectation])
    app.view(V.EXPECTATION_DISCUSS)(ack=ack_discuss_submission, lazy=[save_discussion])
    app.action(A.EXPECTATIONS_LIST)(ack=ack_button, lazy=[show_expectations_from_button])
