"""What every feature's handlers share: who acted and where a click came from, its typed value, short replies,
acknowledging forms, and opening a modal within the trigger's 3 seconds (a loading modal first, then the real one)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.common import build_error, build_notice
from bot.blocks.form_inputs import Refill
from bot.blocks.metadata import MetadataError, decode
from bot.blocks.pulse import Message, build_loading_modal, build_message_modal
from bot.container import Services
from bot.private_send import ephemeral_else_direct
from bot.services import outbox_hold, partnership_guards, partnerships
from bot.services.errors import DomainError, InvalidInput, NotFound
from bot.services.partnership_guards import MAX_DUE_AHEAD
from bot.services.partnership_models import PartnershipView, SlackProfile
from bot.slack_client import error_code
from bot.text_hygiene import clean_text

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
D = TypeVar("D")

STALE = "This button is out of date. Use the latest PartnerPulse message in the channel, or `/partner menu`."
OUT_OF_DATE_FORM = "This form is out of date; close it and open it again."
#: What views.open answers for a trigger that came too late or was used already.
TRIGGER_ERRORS = {"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"}


class ModalUnavailable(DomainError):
    """Slack would not open the modal (the click was too slow to reach us, or was used already)."""


def open_modal(client: WebClient, trigger_id: str, error_title: str, build: Callable[[], View]) -> None:
    """Open a modal whose content takes time to build: a small loading modal at once (a trigger is valid for 3
    seconds, once), then ``build()`` (the slow part), then the loading modal becomes the real one.

    A DomainError from ``build`` is shown in the modal, titled ``error_title``. If the person closed the loading
    modal meanwhile, there is nothing to update.

    Raises:
        ModalUnavailable: Slack answered expired/exchanged/invalid trigger id (after_ack tells the person).
    """
    try:
        resp = client.views_open(trigger_id=trigger_id, view=build_loading_modal())
    except SlackApiError as exc:
        if error_code(exc) in TRIGGER_ERRORS:
            raise ModalUnavailable(
                "Slack took too long to pass on your click, so the form could not open. Please try again."
            ) from None
        raise
    view_id = str(resp["view"]["id"])
    try:
        view = build()
    except DomainError as exc:
        view = build_message_modal(error_title, str(exc))
    try:
        client.views_update(view_id=view_id, view=view)
    except SlackApiError as exc:
        if error_code(exc) != "not_found":
            raise
        logger.info("modal %s was closed before it could be filled; nothing to update", view_id)


def handle_loading_closed(ack: Ack) -> None:
    """Closing the loading modal needs no work (open_modal finds it gone)."""
    ack()


def register(app: App) -> None:
    app.view_closed(ids.View.LOADING)(handle_loading_closed)


def actor_profile(body: dict[str, Any]) -> SlackProfile:
    """The person acting in an interaction payload; ``user.team_id`` is their home organisation."""
    user = body.get("user") or {}
    return SlackProfile(
        user_id=str(user.get("id") or body.get("user_id") or ""),
        team_id=user.get("team_id") or body.get("team_id"),
        display_name=clean_text(str(user.get("name") or user.get("username") or body.get("user_name") or "")),
    )


def require_partnership(services: Services, team_id: str, channel_id: str) -> PartnershipView:
    """The channel's partnership; NotFound (its message says how to create one) when it has none."""
    p = partnerships.get_partnership(services.uow_factory(), team_id=team_id, channel_id=channel_id)
    if p is None:
        raise NotFound(partnership_guards.NO_PARTNERSHIP)
    return p


def reply(respond: Respond, message: Message) -> None:
    """An ephemeral reply through the interaction's response_url (only the person who asked sees it)."""
    respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)


def reply_or_ephemeral(respond: Respond, client: WebClient, body: dict[str, Any], channel_id: str, message: Message) -> None:
    """A whole message only the person who clicked sees: through the response_url, else an ephemeral (a message from
    the app when they are not in the channel)."""
    if body.get("response_url"):
        reply(respond, message)
    else:
        ephemeral_else_direct(client, channel_id=channel_id, user_id=actor_profile(body).user_id, message=message)


def unless_held(services: Services, team_id: str, done: str, *, saved: str, opening: str = "") -> str:
    """``done``; or, while Slack rejects the workspace's token, that what was asked for (``saved``) waits, and why."""
    held = outbox_hold.sending_held(services.uow_factory(), team_id=team_id)
    if held is None:
        return done
    when = "once PartnerPulse is reinstalled" if held.needs_reinstall else "as soon as Slack accepts the token again"
    return (
        f"{opening}PartnerPulse cannot post to Slack right now (the token was rejected); {saved} is saved and will be "
        f"posted {when}."
    )


def notify(respond: Respond | None, client: WebClient, body: dict[str, Any], text: str) -> None:
    """A short ephemeral confirmation: through the response_url, else chat.postEphemeral where the click was.

    Clicks on the Home tab have neither; they need none (the tab is published again instead).
    """
    if body.get("response_url") and respond is not None:
        reply(respond, build_notice(text))
        return
    channel, user = clicked_channel(body), (body.get("user") or {}).get("id")
    if channel and user:
        ephemeral(client, channel, str(user), text)


def clicked(body: dict[str, Any]) -> dict[str, Any]:
    """The clicked element of a block_actions payload."""
    actions = body.get("actions") or [{}]
    return actions[0] if isinstance(actions[0], dict) else {}


def clicked_value(body: dict[str, Any]) -> str | None:
    """A button's value, or the chosen option's value of an overflow menu or select."""
    action = clicked(body)
    value = action.get("value") or (action.get("selected_option") or {}).get("value")
    return str(value) if value else None


def decode_clicked(body: dict[str, Any], cls: type[T]) -> T:
    """The clicked element's typed value; a forged or outdated value becomes a polite DomainError."""
    try:
        return decode(clicked_value(body), cls)
    except MetadataError:
        raise DomainError(STALE) from None


# Bolt runs a listener's lazy functions even when its ack function answered with field errors, so a saver checks
# the submission again (the same checks as its ack function) and stops quietly when the form was refused.


def ack_checked_form(
    ack: Ack,
    view: dict[str, Any],
    ref_type: type[Any],
    check: Callable[[dict[str, Any]], object],
    *,
    stale_block: str,
    stale: str = OUT_OF_DATE_FORM,
) -> None:
    """Acknowledge a form whose values ``check`` reads from its state and checks: what it refuses (InvalidInput)
    shows at its field (else at ``stale_block``); see ack_form."""

    def errors(_: object) -> dict[str, str]:
        try:
            check(view["state"]["values"])
        except InvalidInput as exc:
            return {exc.field or stale_block: str(exc)}
        return {}

    ack_form(ack, view, ref_type, stale_block=stale_block, errors=errors, stale=stale)


def checked_form(view: dict[str, Any], ref_type: type[T], check: Callable[[dict[str, Any]], R]) -> tuple[T, R] | None:
    """A submitted form's metadata and its values, as ``check`` reads and checks them; None when the form was
    refused (not one we wrote, or values ``check`` refuses): its ack function said so already."""
    ref = submitted_ref(view, ref_type)
    if ref is None:
        return None
    try:
        return ref, check(view["state"]["values"])
    except InvalidInput:
        return None


class NamesChannel(Protocol):
    """A button's value or a form's metadata that names the partnership channel it belongs to."""

    @property
    def channel_id(self) -> str: ...


class FormPlace(NamesChannel, Protocol):
    """What a form's metadata says of where it was opened."""

    @property
    def team_id(self) -> str: ...


C = TypeVar("C", bound=NamesChannel)


def clicked_ref(body: dict[str, Any], cls: type[C]) -> tuple[C, str]:
    """The clicked element's typed value (it names a channel) and the channel it acts on (see target_channel)."""
    ref = decode_clicked(body, cls)
    return ref, target_channel(body, ref.channel_id)


def clicked_channel(body: dict[str, Any]) -> str | None:
    """The channel of the message that was clicked (None on the Home tab or in a modal)."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return str(channel) if channel else None


def message_channel(body: dict[str, Any], named: str) -> str | None:
    """The partnership channel a button on one of our messages acts on: the clicked message's channel, or, for a
    message in the person's direct messages with the app (a reminder sent there), the channel the button names."""
    clicked = clicked_channel(body)
    in_dm = (body.get("channel") or {}).get("name") == "directmessage" or (clicked or "").startswith("D")
    if named and (clicked is None or in_dm):
        return named
    return clicked


def target_channel(body: dict[str, Any], channel_in_value: str) -> str:
    """The channel a click acts on: the one named in the value, which must be the clicked message's, if any."""
    channel = clicked_channel(body)
    if channel is not None and channel != channel_in_value:
        raise DomainError(STALE)
    return channel_in_value


def from_home(body: dict[str, Any]) -> bool:
    """True for a click on the Home tab (a view that is not a modal)."""
    return (body.get("container") or {}).get("type") == "view" and (body.get("view") or {}).get("type") == "home"


def show_message(client: WebClient, trigger_id: str, title: str, text: str) -> None:
    """A modal that only says something (Home tab clicks have no channel to answer in). Best effort."""
    try:
        client.views_open(trigger_id=trigger_id, view=build_message_modal(title, text))
    except SlackApiError as exc:
        logger.info("could not show %r in a modal: %s", title, exc.response.get("error"))


def ack_button(ack: Ack) -> None:
    """Buttons and overflow menus are acknowledged at once; what they do happens after the ack."""
    ack()


#: What a listener does after its ack (Bolt passes it the request's arguments by name).
Work = Callable[..., None]


def listen(app: App, buttons: Mapping[str, Work], forms: Mapping[str, tuple[Work, Work]] | None = None) -> None:
    """A feature's listeners: each button (or overflow menu) by its action id, acknowledged at once
    (``ack_button``) and its work done after the ack; each form by its callback id, acknowledged by its own check
    (the first of the pair) and saved after the ack (the second)."""
    for action_id, work in buttons.items():
        app.action(action_id)(ack=ack_button, lazy=[work])
    for callback_id, (ack, save) in (forms or {}).items():
        app.view(callback_id)(ack=ack, lazy=[save])


def check_due_on(day: date | None, timezone: str, now: datetime, *, field: str) -> None:
    """A form's due date against today in the partnership's zone, so the form can show it at the field.

    The service checks again when it saves; this only lets the person fix it before the form closes.
    """
    if day is None:
        return
    try:
        today = now.astimezone(ZoneInfo(timezone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return
    if day < today:
        raise InvalidInput("The due date is in the past. Choose today or a later day.", field)
    if day > today + MAX_DUE_AHEAD:
        raise InvalidInput("The due date is more than two years away. Check the year.", field)


def ephemeral(client: WebClient, channel_id: str, user_id: str, text: str, *, error: bool = False) -> None:
    """A short notice (or warning) only ``user_id`` sees, in the channel (modal submissions have no response_url);
    a message from the app when they are not in that channel."""
    message = build_error(text) if error else build_notice(text)
    ephemeral_else_direct(client, channel_id=channel_id, user_id=user_id, message=message)


def reopen_with_error(client: WebClient, body: dict[str, Any], exc: InvalidInput, build: Callable[[str], View]) -> None:
    """The server refused a form after it closed (an owner who left the channel, a category removed meanwhile):
    open it again with what was typed and why, using the submission's trigger. If that is no longer possible,
    ``exc`` is raised again, and after_ack tells the person in an ephemeral message."""
    try:
        client.views_open(trigger_id=body["trigger_id"], view=build(str(exc)))
    except (SlackApiError, DomainError, KeyError) as err:
        logger.info("could not reopen a refused form (%s); telling the person instead", err)
        raise exc from None


def ack_form(
    ack: Ack,
    view: dict[str, Any],
    ref_type: type[T],
    *,
    stale_block: str,
    errors: Callable[[T], dict[str, str]],
    stale: str = OUT_OF_DATE_FORM,
) -> None:
    """Acknowledge a modal submission: a form we did not write is out of date (``stale``, said at ``stale_block``);
    otherwise the field errors ``errors(ref)`` finds are shown in the form, or, when there are none, it closes."""
    try:
        ref = decode(view.get("private_metadata"), ref_type)
    except MetadataError:
        ack(response_action="errors", errors={stale_block: stale})
        return
    ack_errors(ack, errors(ref))


def ack_errors(ack: Ack, errors: dict[str, str]) -> None:
    """Acknowledge a modal submission: its field errors are shown in the form, or, when there are none, it closes."""
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def submitted_ref(view: dict[str, Any], ref_type: type[T]) -> T | None:
    """A submitted form's typed metadata; None for a form we did not write (its ack function said so already)."""
    try:
        return decode(view.get("private_metadata"), ref_type)
    except MetadataError:
        return None


def act_in(services: Services, place: FormPlace, actor: str, service: Callable[..., R], **values: Any) -> R:
    """What a form asked of ``service``: given the form's partnership (``place``, its metadata), the person, ``values``
    and the time."""
    return service(
        services.uow_factory(),
        team_id=place.team_id,
        channel_id=place.channel_id,
        actor=actor,
        **values,
        now=services.clock(),
    )


def create_from_form(
    client: WebClient,
    body: dict[str, Any],
    view: dict[str, Any],
    services: Services,
    ref: FormPlace,
    create: Callable[..., R],
    *,
    data: D,
    kind: str,
    form: Callable[[Refill[D]], View],
) -> R | None:
    """Create what a submitted form describes: ``create`` (a service) is given the form's partnership, the person,
    ``data``, the submission's request key (``kind``-view:id, so a submission delivered twice creates once) and the
    time. When the service refuses it (InvalidInput), the form opens again with ``data`` and the error, built by
    ``form``, and this gives None."""
    try:
        return act_in(
            services, ref, actor_profile(body).user_id, create, data=data, request_key=f"{kind}-view:{view.get('id')}"
        )
    except InvalidInput as exc:
        reopen_with_error(client, body, exc, lambda error: form(Refill(data, error)))
        return None
