"""Shared goals at the Slack edge: ``/partner goals``, ``/partner goal add [title]``, the goal form and a goal's
status. The buttons on these messages work for people of both organisations, who cannot all run the slash command
(Slack Connect)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.ack_path import ACK_DB_SECONDS, ack_refused, mark_refused, within
from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.form_inputs import Refill
from bot.blocks.goals import GoalFormRef, GoalRef, build_goal_list, build_goal_modal, build_goal_status_modal
from bot.blocks.metadata import ChannelRef, MetadataError, decode
from bot.blocks.text import escape
from bot.container import Services
from bot.services import goals
from bot.services.errors import DomainError, InvalidInput
from bot.services.review_models import GOAL_STATUS_LABELS, MAX_GOAL_TITLE, MAX_REVIEW_TEXT, GoalInput, GoalStatus
from bot.services.schedule import zone
from handlers.command_registry import CommandContext, handles
from handlers.command_types import GoalAdd, GoalsShow
from handlers.form_values import date_value, selected_value, text_value, user_value
from handlers.ui import (
    OUT_OF_DATE_FORM,
    ack_form,
    actor_profile,
    check_due_on,
    clicked_ref,
    create_from_form,
    ephemeral,
    listen,
    open_modal,
    reply,
    reply_or_ephemeral,
    require_partnership,
    submitted_ref,
)


def show_goals(respond: Respond, services: Services, *, team_id: str, channel_id: str) -> None:
    p = require_partnership(services, team_id, channel_id)
    reply(respond, build_goal_list(p, goals.list_goals(services.uow_factory(), team_id=team_id, channel_id=channel_id)))


# --- adding a goal -------------------------------------------------------------------------------------------


#: What the goal modal is called where it cannot open.
FORM_TITLE = "Add a shared goal"


def goal_form(
    services: Services,
    *,
    team_id: str,
    channel_id: str,
    title: str | None = None,
    refill: Refill[GoalInput] | None = None,
) -> View:
    p = require_partnership(services, team_id, channel_id)
    today = services.clock().astimezone(zone(p.timezone)).date()
    return build_goal_modal(p, today=today, title=title[:MAX_GOAL_TITLE] if title else None, refill=refill)


@opens_modal
@after_ack
def open_goal_form_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """ "Add a goal" under the goals list."""
    ref, channel_id = clicked_ref(body, ChannelRef)
    open_modal(
        client, body["trigger_id"], FORM_TITLE, lambda: goal_form(services, team_id=ref.team_id, channel_id=channel_id)
    )


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


def goal_field_errors(ref: GoalFormRef, view: dict[str, Any], now: datetime) -> dict[str, str]:
    """What the goal form can be refused for without the database: a date that does not parse, or is out of range."""
    try:
        check_due_on(parse_goal(view["state"]["values"]).due_on, ref.timezone, now, field=ids.GoalBlock.DUE_ON)
    except InvalidInput as exc:
        return {exc.field or ids.GoalBlock.TITLE: str(exc)}
    return {}


def goal_form_errors(services: Services, ref: GoalFormRef, view: dict[str, Any]) -> dict[str, str]:
    """The goal form's field errors: title, each owner on their own side (read from the database), due date."""
    B = ids.GoalBlock
    try:
        data = parse_goal(view["state"]["values"])
        goals.check_goal_form(
            services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id, data=data, now=services.clock()
        )
    except InvalidInput as exc:
        return {exc.field or B.TITLE: str(exc)}
    except DomainError as exc:
        return {B.TITLE: str(exc)}
    return {}


def ack_goal_submission(ack: Ack, view: dict[str, Any], context: Any, request: Any) -> None:
    """Refuse the form at the field that is wrong (an owner not on their side is found here, before it closes).

    The owners are checked in the database for at most ACK_DB_SECONDS: if it cannot answer by then, the form closes
    and ``save_goal`` checks them as it saves, reopening the form with the error (or telling the person)."""
    services = context["services"]

    def errors(ref: GoalFormRef) -> dict[str, str]:
        found = goal_field_errors(ref, view, services.clock())
        if not found:
            _, checked = within(ACK_DB_SECONDS, lambda: goal_form_errors(services, ref, view), what="the goal form check")
            found = checked or {}
        if found:
            mark_refused(request)
        return found

    ack_form(ack, view, GoalFormRef, stale_block=ids.GoalBlock.TITLE, errors=errors)


@after_ack
def save_goal(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services, request: Any) -> None:
    ref = submitted_ref(view, GoalFormRef)
    if ref is None or ack_refused(request) or goal_field_errors(ref, view, services.clock()):
        return  # Bolt runs lazy functions whatever the ack said: the errors are showing in the form
    user = actor_profile(body).user_id
    data = parse_goal(view["state"]["values"])
    # Checks the title and the owners again: the ack may have closed the form without reaching the database.
    goal = create_from_form(
        client,
        body,
        view,
        services,
        ref,
        goals.create_goal,
        data=data,
        kind="goal",
        form=lambda refill: goal_form(services, team_id=ref.team_id, channel_id=ref.channel_id, refill=refill),
    )
    if goal is None:
        return
    ephemeral(
        client,
        ref.channel_id,
        user,
        f"Goal #{goal.number} added: *{escape(goal.title)}*, owned by <@{goal.client_owner_id}> and "
        f"<@{goal.provider_owner_id}>. `/partner goals` lists them.",
    )


# --- a goal's status -----------------------------------------------------------------------------------------


@opens_modal
@after_ack
def open_goal_status(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """ "Update status" on a goal: its owners and the leads get the form; anyone else is told who can."""
    ref, channel_id = clicked_ref(body, GoalRef)
    user = actor_profile(body).user_id
    goal = goals.goal_for_update(services.uow_factory(), channel_id=channel_id, goal_id=ref.goal_id, actor=user)
    p = require_partnership(services, ref.team_id, channel_id)
    open_modal(client, body["trigger_id"], "Goal status", lambda: build_goal_status_modal(goal, p))


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
    ref = submitted_ref(view, GoalRef)
    if ref is None:
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


@after_ack
def show_goals_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """The "Goals" button (for people who cannot run ``/partner``): the list, only for them."""
    ref, channel_id = clicked_ref(body, ChannelRef)
    p = require_partnership(services, ref.team_id, channel_id)
    message = build_goal_list(p, goals.list_goals(services.uow_factory(), team_id=ref.team_id, channel_id=channel_id))
    reply_or_ephemeral(respond, client, body, channel_id, message)


def list_goals(command: GoalsShow, ctx: CommandContext) -> None:
    """``/partner goals``."""
    show_goals(ctx.respond, ctx.services, team_id=ctx.team_id, channel_id=ctx.channel_id)


@opens_modal
def add_goal(command: GoalAdd, ctx: CommandContext) -> None:
    """``/partner goal add [title]``."""
    ctx.open_form(FORM_TITLE, goal_form, title=command.title)


COMMAND_HANDLERS = dict([handles(GoalsShow, list_goals), handles(GoalAdd, add_goal)])


def register(app: App) -> None:
    A, V = ids.ReviewAction, ids.ReviewView
    listen(
        app,
        {A.GOAL_ADD: open_goal_form_from_button, A.GOAL_STATUS: open_goal_status, A.GOALS_LIST: show_goals_from_button},
        {V.GOAL_ADD: (ack_goal_submission, save_goal), V.GOAL_STATUS: (ack_goal_status, save_goal_status)},
    )
