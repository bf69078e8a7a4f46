"""The expectations ledger at the Slack edge: ``/partner expect [text]``, ``/partner expectations``, the form, and
the other side's answers (agree, discuss with a reason) or the author's side withdrawing it. The buttons work for
people of both organisations, who cannot all run the slash command (Slack Connect)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.expectations import ExpectationRef, build_discuss_modal, build_expectation_list, build_expectation_modal
from bot.blocks.metadata import ChannelRef
from bot.container import Services
from bot.services import expectations
from bot.services.errors import NotFound
from bot.services.review_models import ExpectationView
from handlers.command_registry import CommandContext, handles
from handlers.command_types import ExpectationAdd, ExpectationsShow
from handlers.form_values import text_value
from handlers.ui import (
    NamesChannel,
    ack_checked_form,
    act_in,
    actor_profile,
    checked_form,
    clicked_ref,
    ephemeral,
    listen,
    notify,
    open_modal,
    reply,
    reply_or_ephemeral,
    require_partnership,
)

T = TypeVar("T", bound=NamesChannel)


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


@dataclass(frozen=True)
class TextForm(Generic[T]):
    """A form of one text field: its metadata type, the field and the service's check of the text (InvalidInput)."""

    ref_type: type[T]
    block: str
    check: Callable[[str], str]

    def ack(self, ack: Ack, view: dict[str, Any]) -> None:
        """Our metadata, and text that ``check`` accepts, or the error at the field (``check`` names it)."""
        ack_checked_form(ack, view, self.ref_type, self._checked, stale_block=self.block)

    def save(
        self,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        services: Services,
        save: Callable[[T, str, str], str],
    ) -> None:
        """``save(ref, text, person)`` for a form the ack function accepted (a refused one is left: the form said why);
        what it sends is delivered, and what it answers is told to the person alone."""
        submitted = checked_form(view, self.ref_type, self._checked)
        if submitted is None:
            return
        ref, text = submitted
        user = actor_profile(body).user_id
        answer = save(ref, text, user)
        services.sender.deliver_queued()
        ephemeral(client, ref.channel_id, user, answer)

    def _checked(self, state: dict[str, Any]) -> str:
        return self.check(text_value(state, self.block))


EXPECTATION_FORM = TextForm(ChannelRef, ids.ExpectationBlock.TEXT, expectations.check_expectation_text)
DISCUSS_FORM = TextForm(ExpectationRef, ids.ExpectationBlock.REASON, expectations.check_reason)


def ack_expectation_submission(ack: Ack, view: dict[str, Any]) -> None:
    EXPECTATION_FORM.ack(ack, view)


@after_ack
def save_expectation(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    def record(ref: ChannelRef, text: str, user: str) -> str:
        key = f"expectation-view:{view.get('id')}"
        e = act_in(services, ref, user, expectations.record_expectation, text=text, request_key=key)
        return f"Expectation #{e.number} is posted; the other side can agree or ask to discuss it."

    EXPECTATION_FORM.save(body, view, client, services, record)


def _change(
    services: Services,
    channel_id: str,
    expectation_id: int,
    actor: str,
    change: Callable[..., ExpectationView],
    **values: Any,
) -> ExpectationView:
    """``change`` (a service) of an expectation by ``actor``, with ``values``, now."""
    return change(
        services.uow_factory(),
        channel_id=channel_id,
        expectation_id=expectation_id,
        actor=actor,
        **values,
        now=services.clock(),
    )


def _change_clicked(
    body: dict[str, Any], services: Services, change: Callable[..., ExpectationView], **values: Any
) -> ExpectationView:
    """An expectation's button: ``change`` of the clicked expectation by the person; what it sends is delivered."""
    ref, channel_id = clicked_ref(body, ExpectationRef)
    e = _change(services, channel_id, ref.expectation_id, actor_profile(body).user_id, change, **values)
    services.sender.deliver_queued()
    return e


@after_ack
def agree_to_expectation(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    e = _change_clicked(body, services, expectations.respond, agree=True, reason=None)
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
    DISCUSS_FORM.ack(ack, view)


@after_ack
def save_discussion(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    def discuss(ref: ExpectationRef, reason: str, user: str) -> str:
        e = _change(services, ref.channel_id, ref.expectation_id, user, expectations.respond, agree=False, reason=reason)
        return f"Expectation #{e.number} is marked to discuss, with your reason."

    DISCUSS_FORM.save(body, view, client, services, discuss)


@after_ack
def withdraw_expectation(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    e = _change_clicked(body, services, expectations.withdraw)
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
    listen(
        app,
        {
            A.EXPECTATION_ADD: open_expectation_form_from_button,
            A.EXPECTATION_AGREE: agree_to_expectation,
            A.EXPECTATION_DISCUSS: open_discuss_form,
            A.EXPECTATION_WITHDRAW: withdraw_expectation,
            A.EXPECTATIONS_LIST: show_expectations_from_button,
        },
        {
            V.EXPECTATION_ADD: (ack_expectation_submission, save_expectation),
            V.EXPECTATION_DISCUSS: (ack_discuss_submission, save_discussion),
        },
    )
