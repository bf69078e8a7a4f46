"""The issue log at the Slack edge: logging an issue (``/partner issue``, the message shortcut, the menu's and a
signal's "Log issue" buttons), the card's buttons and their modals, and ``/partner issues``.

Ack functions parse and check what a form can show at its fields; everything that needs the database or Slack
happens in the lazy functions, which read the request again (they may run in another process).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.blocks.issue_forms import (
    IssueFormRef,
    IssueModalRef,
    build_issue_modal,
    build_reassign_modal,
    build_resolve_modal,
    build_update_modal,
)
from bot.blocks.issues import ITEMS_PER_PAGE, IssueRef, IssueVerb, ListPage, SignalRef, build_issue_list
from bot.blocks.metadata import MetadataError, decode
from bot.blocks.pulse import build_message_modal
from bot.blocks.text import truncate
from bot.container import Services
from bot.services import (
    escalation,
    issue_lifecycle,
    issue_queries,
    issue_settings,
    partnership_guards,
    partnerships,
    signals,
)
from bot.services.errors import DomainError, InvalidInput, NotFound
from bot.services.models import (
    MAX_DETAILS,
    MAX_ISSUE_TITLE,
    IssueDraft,
    IssueFilter,
    IssueInput,
    IssueStatus,
    IssueView,
    PartnershipView,
)
from handlers import action_items
from handlers.forms import (
    actor_profile,
    date_value,
    parse_issue,
    parse_issue_update,
    plain_text_from_slack,
    text_value,
    user_value,
    view_options,
)
from handlers.home import publish_home
from handlers.modals import open_loading, replace_view
from handlers.ui import (
    OUT_OF_DATE_FORM,
    STALE,
    ack_button,
    ack_form,
    check_due_on,
    clicked,
    clicked_channel,
    decode_clicked,
    from_home,
    message_channel,
    notify,
    reopen_with_error,
    reply,
    show_message,
    target_channel,
)

logger = logging.getLogger(__name__)

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
LIST_HEADINGS = {IssueFilter.OPEN: "Open issues", IssueFilter.MINE: "Your open issues", IssueFilter.ALL: "All issues"}


def _partnership(services: Services, team_id: str, channel_id: str) -> PartnershipView:
    p = partnerships.get_partnership(services.uow_factory(), team_id=team_id, channel_id=channel_id)
    if p is None:
        raise NotFound(partnership_guards.NO_PARTNERSHIP)
    return p


# --- the issue form ---------------------------------------------------------------------------------------------


def issue_form(
    services: Services,
    *,
    team_id: str,
    channel_id: str,
    draft: IssueDraft | None = None,
    permalink: str | None = None,
    values: IssueInput | None = None,
    error: str | None = None,
    from_home: bool = False,
) -> View:
    """The issue modal for the channel's partnership (NotFound when the channel has none)."""
    p = _partnership(services, team_id, channel_id)
    categories = issue_settings.get_categories(services.uow_factory(), team_id=team_id, channel_id=channel_id)
    return build_issue_modal(
        p, categories, draft=draft, permalink=permalink, values=values, error=error, from_home=from_home
    )


def open_issue_form(
    client: WebClient,
    services: Services,
    *,
    trigger_id: str,
    team_id: str,
    channel_id: str,
    draft: IssueDraft | None = None,
    permalink: str | None = None,
    from_home: bool = False,
) -> None:
    """Open the issue modal (a loading modal first: the trigger is valid for 3 seconds)."""
    view_id = open_loading(client, trigger_id)
    try:
        view = issue_form(
            services, team_id=team_id, channel_id=channel_id, draft=draft, permalink=permalink, from_home=from_home
        )
    except DomainError as exc:
        view = build_message_modal("Log an issue", str(exc))
    replace_view(client, view_id, view)


def draft_from_text(text: str) -> IssueDraft:
    """A draft whose title is the text's first line and whose details are the whole text."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return IssueDraft(
        title=truncate(first, MAX_ISSUE_TITLE), details=text.strip()[:MAX_DETAILS], category=None, severity=None
    )


def log_from_command(
    client: WebClient, services: Services, *, trigger_id: str, team_id: str, channel_id: str, title: str | None
) -> None:
    """``/partner issue [title]`` and the menu's "Log an issue" button."""
    draft = None
    if title:
        # A title longer than a title keeps its whole text in the details.
        draft = IssueDraft(
            title=truncate(title, MAX_ISSUE_TITLE),
            details=title[:MAX_DETAILS] if len(title) > MAX_ISSUE_TITLE else "",
            category=None,
            severity=None,
        )
    open_issue_form(client, services, trigger_id=trigger_id, team_id=team_id, channel_id=channel_id, draft=draft)


def message_permalink(client: WebClient, body: dict[str, Any]) -> str:
    """The link to the message a shortcut ran on: chat.getPermalink, else built from the payload as Slack does."""
    channel, ts = str((body.get("channel") or {}).get("id") or ""), str(body.get("message_ts") or "")
    if not channel or not ts:
        return ""
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink") or "")
    except SlackApiError as exc:
        logger.info("chat.getPermalink failed (%s); building the link from the payload", exc.response.get("error"))
    domain = (body.get("team") or {}).get("domain")
    if not domain:
        return ""
    link = f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    thread = (body.get("message") or {}).get("thread_ts")
    return f"{link}?thread_ts={thread}&cid={channel}" if thread and thread != ts else link


def ack_shortcut(ack: Ack) -> None:
    """The message shortcut is acknowledged at once; the form opens after the ack."""
    ack()


@after_ack
def log_from_message(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """The message shortcut "Log as partnership issue": the form prefilled with its text and a link to it."""
    channel_id = str((body.get("channel") or {}).get("id") or "")
    view_id = open_loading(client, body["trigger_id"])
    try:
        text = plain_text_from_slack(str((body.get("message") or {}).get("text") or ""))
        view = issue_form(
            services,
            team_id=str(context.team_id),
            channel_id=channel_id,
            draft=draft_from_text(text),
            permalink=message_permalink(client, body),
        )
    except DomainError as exc:
        view = build_message_modal("Log an issue", str(exc))
    replace_view(client, view_id, view)


@after_ack
def log_from_signal(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """An early-warning signal's "Log issue": the form prefilled from the signal's figures."""
    ref = decode_clicked(body, SignalRef)
    channel_id = message_channel(body, ref.channel_id)
    if channel_id is None:
        raise DomainError(STALE)
    view_id = open_loading(client, body["trigger_id"])
    try:
        draft = signals.draft_from_signal(services.uow_factory(), channel_id=channel_id, signal_id=ref.signal_id)
        view = issue_form(services, team_id=str(context.team_id), channel_id=channel_id, draft=draft)
    except DomainError as exc:
        view = build_message_modal("Log an issue", str(exc))
    replace_view(client, view_id, view)


def issue_form_errors(view: dict[str, Any], *, timezone: str, now: datetime) -> dict[str, str]:
    """Every field of the issue form Slack can show an error at, checked independently (so an empty title, long
    details and a past due date are all reported at once). Empty when the form is fine to save."""
    B = ids.IssueBlock
    state = view["state"]["values"]
    errors: dict[str, str] = {}
    for block, label, limit, required in (
        (B.TITLE, "title", MAX_ISSUE_TITLE, True),
        (B.DETAILS, "details", MAX_DETAILS, False),
    ):
        try:
            partnership_guards.check_text(text_value(state, block), field=block, label=label, limit=limit, required=required)
        except InvalidInput as exc:
            errors[block] = str(exc)
    try:
        data = parse_issue(state)
        if not errors:
            # The categories the form offered; a list changed meanwhile is caught when the issue is saved.
            issue_lifecycle.validate_issue(data, view_options(view, B.CATEGORY))
    except InvalidInput as exc:
        errors[exc.field or B.TITLE] = str(exc)
    try:
        check_due_on(date_value(state, B.DUE_ON, label="a due date"), timezone, now, field=B.DUE_ON)
    except InvalidInput as exc:
        errors[exc.field or B.DUE_ON] = str(exc)
    return errors


def ack_issue_submission(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Check the issue form (lengths, choices, the due date); errors show at their fields."""
    now = context["services"].clock()
    ack_form(
        ack,
        view,
        IssueFormRef,
        stale_block=ids.IssueBlock.TITLE,
        errors=lambda ref: issue_form_errors(view, timezone=ref.timezone, now=now),
    )


@after_ack
def save_issue(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Log the issue the ack function accepted; the same submission delivered twice logs it once."""
    try:
        ref = decode(view.get("private_metadata"), IssueFormRef)
    except MetadataError:
        return  # the ack function already answered
    if issue_form_errors(view, timezone=ref.timezone, now=services.clock()):
        return  # Bolt runs lazy functions whatever the ack said: these errors are showing in the form
    data = parse_issue(view["state"]["values"], permalink=ref.permalink)
    try:
        issue_lifecycle.log_issue(
            services.uow_factory(),
            team_id=ref.team_id,
            channel_id=ref.channel_id,
            actor=actor_profile(body).user_id,
            data=data,
            request_key=f"issue-view:{view.get('id')}",
            now=services.clock(),
        )
    except InvalidInput as exc:
        reopen_with_error(
            client,
            body,
            exc,
            lambda error: issue_form(
                services, team_id=ref.team_id, channel_id=ref.channel_id, values=data, error=error, from_home=ref.from_home
            ),
        )
        return
    services.sender.deliver_pending()  # the card
    _refresh_home(client, services, ref, body)


# --- the card's buttons and the lists' menus ---------------------------------------------------------------------


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
    p = _partnership(services, team_id, channel_id)
    if verb == "update":
        return build_update_modal(issue, p, from_home=from_home)
    if issue.status is IssueStatus.RESOLVED:
        raise DomainError(f"Issue #{issue.number} is already resolved.")
    build = build_resolve_modal if verb == "resolve" else build_reassign_modal
    return build(issue, p, from_home=from_home)


def _refresh_home(client: WebClient, services: Services, ref: IssueFormRef | IssueModalRef, body: dict[str, Any]) -> None:
    """A modal opened from the Home tab: publish the tab again, so it shows the change."""
    if ref.from_home:
        publish_home(client, services, team_id=ref.team_id, user_id=actor_profile(body).user_id)


def _change(services: Services, verb: str, *, channel_id: str, issue_id: int, actor: str) -> IssueView:
    uow, now = services.uow_factory(), services.clock()
    if verb == "ack":
        return issue_lifecycle.acknowledge(uow, channel_id=channel_id, issue_id=issue_id, actor=actor, now=now)
    if verb == "reopen":
        return issue_lifecycle.reopen(uow, channel_id=channel_id, issue_id=issue_id, actor=actor, now=now)
    return escalation.escalate_now(uow, channel_id=channel_id, issue_id=issue_id, actor=actor, now=now)


DONE = {"ack": "acknowledged", "reopen": "reopened", "escalate": "escalated to the next level"}


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
            view_id = open_loading(client, body["trigger_id"])
            try:
                modal = _issue_modal(services, team_id, channel_id, issue_id, verb, home_tab)
            except DomainError as exc:
                modal = build_message_modal("Issue", str(exc))
            replace_view(client, view_id, modal)
            return
        if verb == "action":
            action_items.open_action_form(
                client,
                services,
                trigger_id=body["trigger_id"],
                team_id=team_id,
                channel_id=channel_id,
                user_id=user,
                issue_id=issue_id,
                from_home=home_tab,
            )
            return
        issue = _change(services, verb, channel_id=channel_id, issue_id=issue_id, actor=user)
    except DomainError as exc:
        if not home_tab:
            raise
        show_message(client, body["trigger_id"], "Issue", str(exc))
        return
    services.sender.deliver_pending()  # the card in place, and its thread
    if home_tab:
        publish_home(client, services, team_id=team_id, user_id=user)
    elif clicked(body).get("type") == "overflow":  # from a list: the card may be far up the channel
        notify(respond, client, body, f"Issue #{issue.number} is {DONE[verb]}.")


# --- the card's modals ---------------------------------------------------------------------------------------------


def _modal_ref(view: dict[str, Any]) -> IssueModalRef | None:
    try:
        return decode(view.get("private_metadata"), IssueModalRef)
    except MetadataError:
        return None


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
    ref = _modal_ref(view)
    if ref is None:
        first = next(iter(view.get("state", {}).get("values") or {ids.IssueUpdateBlock.COMMENT: None}))
        return None, {first: OUT_OF_DATE_FORM}
    return ref, check(ref, view)


def _ack_checked(ack: Ack, view: dict[str, Any], check: FormCheck) -> None:
    _, errors = _checked(view, check)
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


def ack_update_submission(ack: Ack, view: dict[str, Any]) -> None:
    """A comment and/or a new status: something must change, and the comment fits."""
    _ack_checked(ack, view, update_errors)


@after_ack
def save_update(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    ref, errors = _checked(view, update_errors)
    if ref is None or errors:
        return  # shown in the form by the ack function
    status, comment = parse_issue_update(view["state"]["values"])
    issue_lifecycle.update_issue(
        services.uow_factory(),
        channel_id=ref.channel_id,
        issue_id=ref.issue_id,
        actor=actor_profile(body).user_id,
        # Unchanged in the form means no change, even if someone else changed it since the form opened.
        status=status if status is not None and status.value != ref.status else None,
        comment=comment,
        now=services.clock(),
    )
    services.sender.deliver_pending()
    _refresh_home(client, services, ref, body)


def ack_resolve_submission(ack: Ack, view: dict[str, Any]) -> None:
    _ack_checked(ack, view, resolve_errors)


@after_ack
def save_resolution(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Resolve; the card changes in place and both sides are asked the blameless question in its thread."""
    ref, errors = _checked(view, resolve_errors)
    if ref is None or errors:
        return
    issue_lifecycle.resolve(
        services.uow_factory(),
        channel_id=ref.channel_id,
        issue_id=ref.issue_id,
        actor=actor_profile(body).user_id,
        comment=parse_issue_update(view["state"]["values"])[1],
        now=services.clock(),
    )
    services.sender.deliver_pending()
    _refresh_home(client, services, ref, body)


def ack_reassign_submission(ack: Ack, view: dict[str, Any]) -> None:
    _ack_checked(ack, view, reassign_errors)


@after_ack
def save_reassignment(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    ref, errors = _checked(view, reassign_errors)
    owner = user_value(view["state"]["values"], ids.IssueUpdateBlock.OWNER)
    if ref is None or errors or owner is None:
        return
    issue_lifecycle.reassign(
        services.uow_factory(),
        channel_id=ref.channel_id,
        issue_id=ref.issue_id,
        actor=actor_profile(body).user_id,
        new_owner_id=owner,
        now=services.clock(),
    )
    services.sender.deliver_pending()
    _refresh_home(client, services, ref, body)


# --- /partner issues -------------------------------------------------------------------------------------------------


def show_issues(
    respond: Respond, services: Services, *, team_id: str, channel_id: str, user_id: str, filter: str, offset: int = 0
) -> None:
    """One page of issues (newest first), with a "More" button when there are more."""
    chosen = IssueFilter(filter)
    p = _partnership(services, team_id, channel_id)
    found = issue_queries.list_issues(
        services.uow_factory(),
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        filter=chosen,
        limit=offset + ITEMS_PER_PAGE + 1,
    )
    heading = LIST_HEADINGS[chosen] + (f", from number {offset + 1} on the list" if offset else "")
    message = build_issue_list(
        p,
        found[offset : offset + ITEMS_PER_PAGE],
        heading=heading,
        page=ListPage(channel_id, "issues", chosen.value, offset),
        has_more=len(found) > offset + ITEMS_PER_PAGE,
    )
    reply(respond, message)


@after_ack
def show_more(body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services) -> None:
    """The "More" button under a list: the next page, as a new ephemeral message."""
    page = decode_clicked(body, ListPage)
    channel_id = target_channel(body, page.channel_id)
    user = actor_profile(body).user_id
    if page.kind == "issues" and page.filter in {f.value for f in IssueFilter}:
        show_issues(
            respond,
            services,
            team_id=str(context.team_id),
            channel_id=channel_id,
            user_id=user,
            filter=page.filter,
            offset=page.offset,
        )
    elif page.kind == "actions":
        action_items.show_actions(
            respond,
            services,
            team_id=str(context.team_id),
            channel_id=channel_id,
            user_id=user,
            filter=page.filter,
            offset=page.offset,
        )
    else:
        raise DomainError(STALE)


def register(app: App) -> None:
    app.message_shortcut(ids.Shortcut.LOG_ISSUE)(ack=ack_shortcut, lazy=[log_from_message])
    app.action(ids.Action.SIGNAL_LOG_ISSUE)(ack=ack_button, lazy=[log_from_signal])
    for action in (*CARD_VERBS, ids.Action.ISSUE_MENU):
        app.action(action)(ack=ack_button, lazy=[carry_out_issue_click])
    app.action(ids.Action.LIST_MORE)(ack=ack_button, lazy=[show_more])
    app.view(ids.View.ISSUE_LOG)(ack=ack_issue_submission, lazy=[save_issue])
    app.view(ids.View.ISSUE_UPDATE)(ack=ack_update_submission, lazy=[save_update])
    app.view(ids.View.ISSUE_RESOLVE)(ack=ack_resolve_submission, lazy=[save_resolution])
    app.view(ids.View.ISSUE_REASSIGN)(ack=ack_reassign_submission, lazy=[save_reassignment])
