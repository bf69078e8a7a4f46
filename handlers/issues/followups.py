"""The blameless follow-up at the Slack edge: each side's button on the question in a resolved issue's thread
opens a contribution form; each contribution's "Make it an action" turns it into an action in one click."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.issue_form_refs import FollowupFormRef
from bot.blocks.issue_forms import build_followup_modal
from bot.blocks.issue_refs import FollowupAsk, FollowupRef
from bot.blocks.layout import date_label
from bot.blocks.text import escape
from bot.container import Services
from bot.services import followups, issue_queries, partnership_guards
from bot.services.errors import DomainError, InvalidInput
from bot.services.issue_models import MAX_DETAILS
from bot.services.partnership_models import Side
from handlers.form_values import text_value
from handlers.ui import (
    OUT_OF_DATE_FORM,
    STALE,
    ack_button,
    ack_errors,
    actor_profile,
    clicked_channel,
    decode_clicked,
    notify,
    open_modal,
    require_partnership,
    submitted_ref,
)

SIDES = {s.value for s in Side}


@opens_modal
@after_ack
def open_contribution_form(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """A side's "add ours" button: the form asking what that side can do to keep it from happening again."""
    ask = decode_clicked(body, FollowupAsk)
    channel_id = clicked_channel(body)
    if channel_id is None or ask.side not in SIDES:
        raise DomainError(STALE)

    def build() -> View:
        issue = issue_queries.get_issue(services.uow_factory(), channel_id=channel_id, issue_id=ask.issue_id)
        p = require_partnership(services, str(context.team_id), channel_id)
        return build_followup_modal(issue, p, Side(ask.side))

    open_modal(client, body["trigger_id"], "What can we do?", build)


def _ref(view: dict[str, Any]) -> FollowupFormRef | None:
    ref = submitted_ref(view, FollowupFormRef)
    return ref if ref is not None and ref.side in SIDES else None


def contribution_errors(view: dict[str, Any]) -> dict[str, str]:
    """A contribution must say something and fit in a message."""
    block = ids.FollowupBlock.TEXT
    if _ref(view) is None:
        return {block: OUT_OF_DATE_FORM}
    try:
        partnership_guards.check_text(
            text_value(view["state"]["values"], block), field=block, label="suggestion", limit=MAX_DETAILS, required=True
        )
    except InvalidInput as exc:
        return {block: str(exc)}
    return {}


def ack_contribution(ack: Ack, view: dict[str, Any]) -> None:
    ack_errors(ack, contribution_errors(view))


@after_ack
def save_contribution(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Record the contribution; it appears in the issue's thread with a "Make it an action" button."""
    ref = _ref(view)
    if ref is None or contribution_errors(view):
        return  # the ack function showed why in the form
    followups.contribute(
        services.uow_factory(),
        channel_id=ref.channel_id,
        issue_id=ref.issue_id,
        actor=actor_profile(body).user_id,
        side=Side(ref.side),
        text=text_value(view["state"]["values"], ids.FollowupBlock.TEXT),
        request_key=f"followup-view:{view.get('id')}",
        now=services.clock(),
    )
    services.sender.deliver_queued()


@after_ack
def make_it_an_action(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """One click: the contribution becomes an action owned by its author, on their side, due in two weeks."""
    ref = decode_clicked(body, FollowupRef)
    channel_id = clicked_channel(body)
    if channel_id is None:
        raise DomainError(STALE)
    action = followups.to_action(
        services.uow_factory(),
        channel_id=channel_id,
        followup_id=ref.followup_id,
        actor=actor_profile(body).user_id,
        now=services.clock(),
    )
    services.sender.deliver_queued()  # the card lists it; its thread says so
    notify(
        respond,
        client,
        body,
        f"It is an action: *{escape(action.title)}* — <@{action.owner_id}>, due {date_label(action.due_on)}. "
        "Change it with `/partner actions`.",
    )


def register(app: App) -> None:
    for action in (ids.Action.FOLLOWUP_CONTRIBUTE_CLIENT, ids.Action.FOLLOWUP_CONTRIBUTE_PROVIDER):
        app.action(action)(ack=ack_button, lazy=[open_contribution_form])
    app.action(ids.Action.FOLLOWUP_TO_ACTION)(ack=ack_button, lazy=[make_it_an_action])
    app.view(ids.View.FOLLOWUP_ADD)(ack=ack_contribution, lazy=[save_contribution])
