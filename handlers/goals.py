"""Shared goals and the expectations ledger at the Slack edge, and the dispatch of the review subcommands.

``/partner goals``, ``/partner goal add [title]``, ``/partner expect [text]``, ``/partner expectations`` and
(through handlers.scorecard) ``/partner scorecard``. The buttons on these messages work for people of both
organisations, who cannot all run the slash command (Slack Connect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.blocks.goals import (
    ExpectationRef,
    GoalFormRef,
    GoalRef,
    build_discuss_modal,
    build_expectation_list,
    build_expectation_modal,
    build_goal_list,
    build_goal_modal,
    build_goal_status_modal,
)
from bot.blocks.metadata import ChannelRef, MetadataError, decode
from bot.blocks.pulse import build_message_modal
from bot.blocks.text import escape
from bot.container import Services
from bot.services import expectations, goals, partnership_guards, partnerships
from bot.services.errors import DomainError, InvalidInput, NotFound
from bot.services.models import (
    GOAL_STATUS_LABELS,
    MAX_GOAL_TITLE,
    MAX_REVIEW_TEXT,
    GoalInput,
    GoalStatus,
    PartnershipView,
)
from bot.services.schedule import zone
from handlers import scorecard
from handlers.forms import ParsedCommand, actor_profile, date_value, selected_value, text_value, user_value
from handlers.modals import open_loading, replace_view
from handlers.ui import (
    OUT_OF_DATE_FORM,
    ack_button,
    ack_form,
    check_due_on,
    clicked,
    decode_clicked,
    ephemeral,
    notify,
    reopen_with_error,
    reply,
    target_channel,
)

REVIEW_NAMES = ("goals", "goal", "expect", "expectations", "scorecard")
USAGE = {
    "goals": "`/partner goals`",
    "goal": "`/partner goal add [title]`",
    "expectations": "`/partner expectations`",
}


def run_review_command(
    parsed: ParsedCommand,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    trigger_id: str,
    respond: Respond,
    client: WebClient,
    services: Services,
) -> None:
    """goals, goal, expect, expectations, scorecard. Domain errors propagate (after_ack tells the person)."""
    if parsed.name == "scorecard":
        scorecard.run_scorecard_command(
            parsed, team_id=team_id, channel_id=channel_id, user_id=user_id, respond=respond, services=services
        )
    elif parsed.name == "expect":
        # The modal shows the text to check before it is posted for the other side to answer.
        open_expectation_form(
            client, services, trigger_id=trigger_id, team_id=team_id, channel_id=channel_id, text=parsed.text
        )
    elif parsed.name == "goal" and parsed.arg == "add":
        open_goal_form(client, services, trigger_id=trigger_id, team_id=team_id, channel_id=channel_id, title=parsed.text)
    elif parsed.arg is not None or parsed.name == "goal":
        raise DomainError(f"Usage: {USAGE[parsed.name]}.")
    elif parsed.name == "goals":
        show_goals(respond, services, team_id=team_id, channel_id=channel_id)
    else:
        found = expectations.list_expectations(services.uow_factory(), team_id=team_id, channel_id=channel_id)
        reply(respond, build_expectation_list(_partnership(services, team_id, channel_id), found))


def _partnership(services: Services, team_id: str, channel_id: str) -> PartnershipView:
    p = partnerships.get_partnership(services.uow_factory(), team_id=team_id, channel_id=channel_id)
    if p is None:
        raise NotFound(partnership_guards.NO_PARTNERSHIP)
    return p


def show_goals(respond: Respond, services: Services, *, team_id: str, channel_id: str) -> None:
    p = _partnership(services, team_id, channel_id)
    reply(respond, build_goal_list(p, goals.list_goals(services.uow_factory(), team_id=team_id, channel_id=channel_id)))


# --- adding a goal -------------------------------------------------------------------------------------------


def goal_form(
    services: Services,
    *,
    team_id: str,
    channel_id: str,
    title: str | None = None,
    values: GoalInput | None = None,
    error: str | None = None,
) -> View:
    p = _partnership(services, team_id, channel_id)
    today = services.clock().astimezone(zone(p.timezone)).date()
    return build_goal_modal(p, today=today, title=title[:MAX_GOAL_TITLE] if title else None, values=values, error=error)


def open_goal_form(
    client: WebClient, services: Services, *, trigger_id: str, team_id: str, channel_id: str, title: str | None = None
) -> None:
    view_id = open_loading(client, trigger_id)
    try:
        view = goal_form(services, team_id=team_id, channel_id=channel_id, title=title)
    except DomainError as exc:
        view = build_message_modal("Add a shared goal", str(exc))
    replace_view(client, view_id, view)


@after_ack
def open_goal_form_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """ "Add a goal" under the goals list."""
    ref = decode_clicked(body, ChannelRef)
    channel_id = target_channel(body, ref.channel_id)
    open_goal_form(client, services, trigger_id=body["trigger_id"], team_id=ref.team_id, channel_id=channel_id)


def parse_goal(state: dict[str, Any]) -> GoalInput:
    """The goal modal's values (owners may be empty here: the service says which one is missing)."""
    B = ids.GoalBlock
    status = selected_value(state, B.STATUS)
    return GoalInput(
        title=text_value(state, B.TITLE),
        client_owner_id=user_value(state, B.CLIENT_OWNER) or "",
        provider_owner_id=user_value(state, B.PROVIDER_OWNER) or "",
        due_on=date_value(state, B.DUE_ON, label="a due date"),
        status=GoalStatus(status) if status in {s.value for s in GoalStatus} else GoalStatus.ON_TRACK,
    )


def goal_form_errors(services: Services, ref: GoalFormRef, view: dict[str, Any]) -> dict[str, str]:
    """The goal form's field errors: title, each owner on their own side, due date. Empty when fine."""
    B = ids.GoalBlock
    try:
        data = parse_goal(view["state"]["values"])
        check_due_on(data.due_on, ref.timezone, services.clock(), field=B.DUE_ON)
        goals.check_goal_form(
            services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id, data=data, now=services.clock()
        )
    except InvalidInput as exc:
        return {exc.field or B.TITLE: str(exc)}
    except DomainError as exc:
        return {B.TITLE: str(exc)}
    return {}


def ack_goal_submission(ack: Ack, view: dict[str, Any], context: Any) -> None:
    """Refuse the form at the field that is wrong (an owner not on their side is found here, before it closes)."""
    services = context["services"]
    ack_form(
        ack, view, GoalFormRef, stale_block=ids.GoalBlock.TITLE, errors=lambda ref: goal_form_errors(services, ref, view)
    )


@after_ack
def save_goal(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    try:
        ref = decode(view.get("private_metadata"), GoalFormRef)
    except MetadataError:
        return
    if goal_form_errors(services, ref, view):
        return  # Bolt runs lazy functions whatever the ack said: the errors are showing in the form
    user = actor_profile(body).user_id
    data = parse_goal(view["state"]["values"])
    try:
        goal = goals.create_goal(
            services.uow_factory(),
            team_id=ref.team_id,
            channel_id=ref.channel_id,
            actor=user,
            data=data,
            request_key=f"goal-view:{view.get('id')}",
            now=services.clock(),
        )
    except InvalidInput as exc:
        reopen_with_error(
            client,
            body,
            exc,
            lambda error: goal_form(services, team_id=ref.team_id, channel_id=ref.channel_id, values=data, error=error),
        )
        return
    ephemeral(
        client,
        ref.channel_id,
        user,
        f"Goal #{goal.number} added: *{escape(goal.title)}*, owned by <@{goal.client_owner_id}> and "
        f"<@{goal.provider_owner_id}>. `/partner goals` lists them.",
    )


# --- a goal's status -----------------------------------------------------------------------------------------


@after_ack
def open_goal_status(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """ "Update status" on a goal: its owners and the leads get the form; anyone else is told who can."""
    ref = decode_clicked(body, GoalRef)
    channel_id = target_channel(body, ref.channel_id)
    user = actor_profile(body).user_id
    goal = goals.goal_for_update(services.uow_factory(), channel_id=channel_id, goal_id=ref.goal_id, actor=user)
    p = _partnership(services, ref.team_id, channel_id)
    view_id = open_loading(client, body["trigger_id"])
    replace_view(client, view_id, build_goal_status_modal(goal, p))


def ack_goal_status(ack: Ack, view: dict[str, Any]) -> None:
    B = ids.GoalBlock
    try:
        decode(view.get("private_metadata"), GoalRef)
    except MetadataError:
        ack(response_action="errors", errors={B.STATUS: OUT_OF_DATE_FORM})
        return
    state = view["state"]["values"]
    if selected_value(state, B.STATUS) not in {s.value for s in GoalStatus}:
        ack(response_action="errors", errors={B.STATUS: "Choose a status."})
        return
    note = text_value(state, B.NOTE).strip()
    if len(note) > MAX_REVIEW_TEXT:
        ack(response_action="errors", errors={B.NOTE: f"The note can be at most {MAX_REVIEW_TEXT:,} characters."})
        return
    ack()


@after_ack
def save_goal_status(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    B = ids.GoalBlock
    try:
        ref = decode(view.get("private_metadata"), GoalRef)
    except MetadataError:
        return
    state = view["state"]["values"]
    status = selected_value(state, B.STATUS)
    if status not in {s.value for s in GoalStatus} or len(text_value(state, B.NOTE).strip()) > MAX_REVIEW_TEXT:
        return
    user = actor_profile(body).user_id
    goal = goals.set_goal_status(
        services.uow_factory(),
        channel_id=ref.channel_id,
        goal_id=ref.goal_id,
        actor=user,
        status=GoalStatus(status),
        note=text_value(state, B.NOTE),
        now=services.clock(),
    )
    ephemeral(client, ref.channel_id, user, f"Goal #{goal.number} is now *{GOAL_STATUS_LABELS[goal.status.value]}*.")


# --- the expectations ledger ---------------------------------------------------------------------------------


def open_expectation_form(
    client: WebClient, services: Services, *, trigger_id: str, team_id: str, channel_id: str, text: str | None = None
) -> None:
    view_id = open_loading(client, trigger_id)
    try:
        view = build_expectation_modal(_partnership(services, team_id, channel_id), text=text)
    except DomainError as exc:
        view = build_message_modal("Record an expectation", str(exc))
    replace_view(client, view_id, view)


@after_ack
def open_expectation_form_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ref = decode_clicked(body, ChannelRef)
    channel_id = target_channel(body, ref.channel_id)
    open_expectation_form(client, services, trigger_id=body["trigger_id"], team_id=ref.team_id, channel_id=channel_id)


def _ack_text_form(ack: Ack, view: dict[str, Any], ref: type[Any], block: str, check: Callable[[str], str]) -> None:
    """A one-text-field form: our metadata, and text that ``check`` accepts, or the error at the field."""

    def errors(_: object) -> dict[str, str]:
        try:
            check(text_value(view["state"]["values"], block))
        except InvalidInput as exc:
            return {block: str(exc)}
        return {}

    ack_form(ack, view, ref, stale_block=block, errors=errors)


def ack_expectation_submission(ack: Ack, view: dict[str, Any]) -> None:
    _ack_text_form(ack, view, ChannelRef, ids.ExpectationBlock.TEXT, expectations.check_expectation_text)


@after_ack
def save_expectation(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    try:
        ref = decode(view.get("private_metadata"), ChannelRef)
        text = expectations.check_expectation_text(text_value(view["state"]["values"], ids.ExpectationBlock.TEXT))
    except (MetadataError, InvalidInput):
        return  # refused in the form already
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
    services.sender.deliver_pending()
    ephemeral(
        client, ref.channel_id, user, f"Expectation #{e.number} is posted; the other side can agree or ask to discuss it."
    )


@after_ack
def agree_to_expectation(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ref = decode_clicked(body, ExpectationRef)
    channel_id = target_channel(body, ref.channel_id)
    e = expectations.respond(
        services.uow_factory(),
        channel_id=channel_id,
        expectation_id=ref.expectation_id,
        actor=actor_profile(body).user_id,
        agree=True,
        reason=None,
        now=services.clock(),
    )
    services.sender.deliver_pending()
    notify(respond, client, body, f"You agreed to expectation #{e.number}.")


@after_ack
def open_discuss_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """ "Discuss": the other side gives a short reason; the author's side is told it can withdraw instead."""
    ref = decode_clicked(body, ExpectationRef)
    channel_id = target_channel(body, ref.channel_id)
    expectations.require_other_side(services.uow_factory(), channel_id, ref.expectation_id, actor_profile(body).user_id)
    card = expectations.expectation_card(services.uow_factory(), expectation_id=ref.expectation_id)
    if card is None:
        raise NotFound("This expectation no longer exists.")
    view_id = open_loading(client, body["trigger_id"])
    replace_view(client, view_id, build_discuss_modal(card))


def ack_discuss_submission(ack: Ack, view: dict[str, Any]) -> None:
    _ack_text_form(ack, view, ExpectationRef, ids.ExpectationBlock.REASON, expectations.check_reason)


@after_ack
def save_discussion(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    try:
        ref = decode(view.get("private_metadata"), ExpectationRef)
        reason = expectations.check_reason(text_value(view["state"]["values"], ids.ExpectationBlock.REASON))
    except (MetadataError, InvalidInput):
        return
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
    services.sender.deliver_pending()
    ephemeral(client, ref.channel_id, user, f"Expectation #{e.number} is marked to discuss, with your reason.")


@after_ack
def withdraw_expectation(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ref = decode_clicked(body, ExpectationRef)
    channel_id = target_channel(body, ref.channel_id)
    e = expectations.withdraw(
        services.uow_factory(),
        channel_id=channel_id,
        expectation_id=ref.expectation_id,
        actor=actor_profile(body).user_id,
        now=services.clock(),
    )
    services.sender.deliver_pending()
    notify(respond, client, body, f"Expectation #{e.number} is withdrawn.")


@after_ack
def show_list_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """A "Goals" or "Expectations" button (for people who cannot run ``/partner``): the list, only for them."""
    ref = decode_clicked(body, ChannelRef)
    channel_id = target_channel(body, ref.channel_id)
    p = _partnership(services, ref.team_id, channel_id)
    if clicked(body).get("action_id") == ids.ReviewAction.GOALS_LIST:
        message = build_goal_list(p, goals.list_goals(services.uow_factory(), team_id=ref.team_id, channel_id=channel_id))
    else:
        found = expectations.list_expectations(services.uow_factory(), team_id=ref.team_id, channel_id=channel_id)
        message = build_expectation_list(p, found)
    if body.get("response_url"):
        reply(respond, message)
    else:
        client.chat_postEphemeral(
            channel=channel_id, user=actor_profile(body).user_id, text=message.text, blocks=message.blocks
        )


def register(app: App) -> None:
    A, V = ids.ReviewAction, ids.ReviewView
    app.action(A.GOAL_ADD)(ack=ack_button, lazy=[open_goal_form_from_button])
    app.action(A.GOAL_STATUS)(ack=ack_button, lazy=[open_goal_status])
    app.action(A.EXPECTATION_ADD)(ack=ack_button, lazy=[open_expectation_form_from_button])
    app.action(A.EXPECTATION_AGREE)(ack=ack_button, lazy=[agree_to_expectation])
    app.action(A.EXPECTATION_DISCUSS)(ack=ack_button, lazy=[open_discuss_form])
    app.action(A.EXPECTATION_WITHDRAW)(ack=ack_button, lazy=[withdraw_expectation])
    app.view(V.GOAL_ADD)(ack=ack_goal_submission, lazy=[save_goal])
    app.view(V.GOAL_STATUS)(ack=ack_goal_status, lazy=[save_goal_status])
    app.view(V.EXPECTATION_ADD)(ack=ack_expectation_submission, lazy=[save_expectation])
    app.view(V.EXPECTATION_DISCUSS)(ack=ack_discuss_submission, lazy=[save_discussion])
    app.action(A.GOALS_LIST)(ack=ack_button, lazy=[show_list_from_button])
    app.action(A.EXPECTATIONS_LIST)(ack=ack_button, lazy=[show_list_from_button])
    scorecard.register(app)
