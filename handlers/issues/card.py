"""An issue's card at the Slack edge: its buttons (acknowledge, update, add action, resolve, reopen, escalate,
reassign), the same verbs in the overflow menus of lists and the Home tab, and the modals some of them open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.issue_form_refs import IssueModalRef
from bot.blocks.issue_forms import build_reassign_modal, build_resolve_modal, build_update_modal
from bot.blocks.issue_refs import IssueRef, IssueVerb
from bot.container import Services
from bot.services import escalation, issue_lifecycle, issue_queries, partnership_guards
from bot.services.errors import DomainError, InvalidInput
from bot.services.issue_models import MAX_DETAILS, IssueStatus, IssueView
from handlers import action_items
from handlers.form_values import State, selected_value, text_value, user_value
from handlers.home import publish_home
from handlers.issues.log import refresh_home
from handlers.ui import (
    OUT_OF_DATE_FORM,
    STALE,
    ack_button,
    ack_errors,
    actor_profile,
    clicked,
    clicked_channel,
    decode_clicked,
    from_home,
    notify,
    open_modal,
    require_partnership,
    show_message,
    submitted_ref,
    target_channel,
)

#: The verb each card button stands for (the overflow menus name theirs in the value).
CARD_VERBS: dict[str, str] = {
    ids.Action.ISSUE_ACKNOWLEDGE: "ack",
    ids.Action.ISSUE_UPDATE: "update",
    ids.Action.ISSUE_ADD_ACTION: "action",
    ids.Action.ISSUE_RESOLVE: "resolve",
    ids.Action.ISSUE_REOPEN: "reopen",
    ids.Action.ISSUE_ESCALATE: "escalate",
    ids.Action.ISSUE_REASSIGN: "reassign",
}


def _target(body: dict[str, Any]) -> tuple[str, int, str]:
    """(channel, issue id, verb) of a card button or an overflow option."""
    action = clicked(body)
    if action.get("type") == "overflow":
        verb = decode_clicked(body, IssueVerb)
        return target_channel(body, verb.channel_id), verb.issue_id, verb.verb
    ref = decode_clicked(body, IssueRef)
    channel = clicked_channel(body)
    verb_name = CARD_VERBS.get(str(action.get("action_id")))
    if channel is None or verb_name is None:
        raise DomainError(STALE)
    return channel, ref.issue_id, verb_name


def _issue_modal(services: Services, team_id: str, channel_id: str, issue_id: int, verb: str, from_home: bool) -> View:
    issue = issue_queries.get_issue(services.uow_factory(), channel_id=channel_id, issue_id=issue_id)
    p = require_partnership(services, team_id, channel_id)
    if verb == "update":
        return build_update_modal(issue, p, from_home=from_home)
    if issue.status is IssueStatus.RESOLVED:
        raise DomainError(f"Issue #{issue.number} is already resolved.")
    build = build_resolve_modal if verb == "resolve" else build_reassign_modal
    return build(issue, p, from_home=from_home)


def _change(services: Services, verb: str, *, channel_id: str, issue_id: int, actor: str) -> IssueView:
    uow, now = services.uow_factory(), services.clock()
    if verb == "ack":
        return issue_lifecycle.acknowledge(uow, channel_id=channel_id, issue_id=issue_id, actor=actor, now=now)
    if verb == "reopen":
        return issue_lifecycle.reopen(uow, channel_id=channel_id, issue_id=issue_id, actor=actor, now=now)
    return escalation.escalate_now(uow, channel_id=channel_id, issue_id=issue_id, actor=actor, now=now)


DONE = {"ack": "acknowledged", "reopen": "reopened", "escalate": "escalated to the next level"}


@opens_modal
@after_ack
def carry_out_issue_click(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """A card button, or an issue's overflow menu in a list or on the Home tab. Permissions are the services'."""
    home_tab = from_home(body)
    user = actor_profile(body).user_id
    team_id = str(context.team_id)
    try:
        channel_id, issue_id, verb = _target(body)
        if verb in ("update", "resolve", "reassign"):
            open_modal(
                client,
                body["trigger_id"],
                "Issue",
                lambda: _issue_modal(services, team_id, channel_id, issue_id, verb, home_tab),
            )
            return
        if verb == "action":
            open_modal(
                client,
                body["trigger_id"],
                action_items.FORM_TITLE,
                lambda: action_items.action_form(
                    services, team_id=team_id, channel_id=channel_id, user_id=user, issue_id=issue_id, from_home=home_tab
                ),
            )
            return
        issue = _change(services, verb, channel_id=channel_id, issue_id=issue_id, actor=user)
    except DomainError as exc:
        if not home_tab:
            raise
        show_message(client, body["trigger_id"], "Issue", str(exc))
        return
    services.sender.deliver_queued()  # the card in place, and its thread
    if home_tab:
        publish_home(client, services, team_id=team_id, user_id=user)
    elif clicked(body).get("type") == "overflow":  # from a list: the card may be far up the channel
        notify(respond, client, body, f"Issue #{issue.number} is {DONE[verb]}.")


# --- the card's modals ---------------------------------------------------------------------------------------------


def parse_issue_update(state: State) -> tuple[IssueStatus | None, str | None]:
    """The update modal: the chosen status (None when unreadable) and the comment (None when empty)."""
    B = ids.IssueUpdateBlock
    raw = selected_value(state, B.STATUS)
    status = IssueStatus(raw) if raw in {s.value for s in IssueStatus} else None
    comment = text_value(state, B.COMMENT)
    return status, comment if comment.strip() else None


def _comment_errors(comment: str | None) -> dict[str, str]:
    if comment is not None:
        try:
            partnership_guards.check_text(
                comment, field=ids.IssueUpdateBlock.COMMENT, label="comment", limit=MAX_DETAILS, required=False
            )
        except InvalidInput as exc:
            return {ids.IssueUpdateBlock.COMMENT: str(exc)}
    return {}


def update_errors(ref: IssueModalRef, view: dict[str, Any]) -> dict[str, str]:
    """The update form: a status chosen, a comment that fits, and something that changes."""
    B = ids.IssueUpdateBlock
    status, comment = parse_issue_update(view["state"]["values"])
    if status is None:
        return {B.STATUS: "Choose a status."}
    errors = _comment_errors(comment)
    if not errors and status.value == ref.status and comment is None:
        errors[B.COMMENT] = "Write a comment or choose a new status."
    return errors


def reassign_errors(ref: IssueModalRef, view: dict[str, Any]) -> dict[str, str]:
    owner = user_value(view["state"]["values"], ids.IssueUpdateBlock.OWNER)
    if owner is None:
        return {ids.IssueUpdateBlock.OWNER: "Choose the new owner."}
    if owner == ref.owner_id:
        return {ids.IssueUpdateBlock.OWNER: "That person already owns this issue."}
    return {}


def resolve_errors(ref: IssueModalRef, view: dict[str, Any]) -> dict[str, str]:
    return _comment_errors(parse_issue_update(view["state"]["values"])[1])


FormCheck = Callable[[IssueModalRef, dict[str, Any]], dict[str, str]]


def _checked(view: dict[str, Any], check: FormCheck) -> tuple[IssueModalRef | None, dict[str, str]]:
    """The modal's reference and its field errors (a form we did not write is out of date)."""
    ref = submitted_ref(view, IssueModalRef)
    if ref is None:
        first = next(iter(view.get("state", {}).get("values") or {ids.IssueUpdateBlock.COMMENT: None}))
        return None, {first: OUT_OF_DATE_FORM}
    return ref, check(ref, view)


def _ack_checked(ack: Ack, view: dict[str, Any], check: FormCheck) -> None:
    ack_errors(ack, _checked(view, check)[1])


def ack_update_submission(ack: Ack, view: dict[str, Any]) -> None:
    """A comment and/or a new status: something must change, and the comment fits."""
    _ack_checked(ack, view, update_errors)


def _apply(
    body: dict[str, Any],
    client: WebClient,
    services: Services,
    ref: IssueModalRef,
    change: Callable[..., object],
    **values: Any,
) -> None:
    """What a card's modal asked: ``change`` (an issue_lifecycle service) of its issue by the person, with ``values``;
    the card changes in place, and the Home tab when the modal came from there."""
    change(
        services.uow_factory(),
        channel_id=ref.channel_id,
        issue_id=ref.issue_id,
        actor=actor_profile(body).user_id,
        **values,
        now=services.clock(),
    )
    services.sender.deliver_queued()
    refresh_home(client, services, ref, body)


@after_ack
def save_update(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    ref, errors = _checked(view, update_errors)
    if ref is None or errors:
        return  # shown in the form by the ack function
    status, comment = parse_issue_update(view["state"]["values"])
    # Unchanged in the form means no change, even if someone else changed it since the form opened.
    changed = status if status is not None and status.value != ref.status else None
    _apply(body, client, services, ref, issue_lifecycle.update_issue, status=changed, comment=comment)


def ack_resolve_submission(ack: Ack, view: dict[str, Any]) -> None:
    _ack_checked(ack, view, resolve_errors)


@after_ack
def save_resolution(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Resolve; the card changes in place and both sides are asked the blameless question in its thread."""
    ref, errors = _checked(view, resolve_errors)
    if ref is None or errors:
        return
    comment = parse_issue_update(view["state"]["values"])[1]
    _apply(body, client, services, ref, issue_lifecycle.resolve, comment=comment)


def ack_reassign_submission(ack: Ack, view: dict[str, Any]) -> None:
    _ack_checked(ack, view, reassign_errors)


@after_ack
def save_reassignment(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    ref, errors = _checked(view, reassign_errors)
    owner = user_value(view["state"]["values"], ids.IssueUpdateBlock.OWNER)
    if ref is None or errors or owner is None:
        return
    _apply(body, client, services, ref, issue_lifecycle.reassign, new_owner_id=owner)


def register(app: App) -> None:
    for action in (*CARD_VERBS, ids.Action.ISSUE_MENU):
        app.action(action)(ack=ack_button, lazy=[carry_out_issue_click])
    app.view(ids.View.ISSUE_UPDATE)(ack=ack_update_submission, lazy=[save_update])
    app.view(ids.View.ISSUE_RESOLVE)(ack=ack_resolve_submission, lazy=[save_resolution])
    app.view(ids.View.ISSUE_REASSIGN)(ack=ack_reassign_submission, lazy=[save_reassignment])
