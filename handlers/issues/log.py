"""Logging an issue at the Slack edge: ``/partner issue``, the message shortcut, the menu's and a signal's
"Log issue" buttons, and the issue form.

Ack functions parse and check what a form can show at its fields; everything that needs the database or Slack
happens in the lazy functions, which read the request again (they may run in another process).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.form_inputs import Refill
from bot.blocks.issue_form_refs import IssueFormRef, IssueModalRef
from bot.blocks.issue_forms import build_issue_modal
from bot.blocks.issue_refs import SignalRef
from bot.blocks.text import truncate
from bot.container import Services
from bot.services import issue_lifecycle, issue_settings, partnership_guards, signals
from bot.services.errors import DomainError, InvalidInput
from bot.services.issue_models import MAX_DETAILS, MAX_ISSUE_TITLE, IssueDraft, IssueInput
from bot.services.partnership_models import Side
from handlers.command_registry import CommandContext, handles
from handlers.command_text import plain_text_from_slack
from handlers.command_types import IssueLog
from handlers.form_values import State, date_value, selected_value, text_value, user_value, view_options
from handlers.home import publish_home
from handlers.ui import (
    STALE,
    ack_button,
    ack_form,
    actor_profile,
    check_due_on,
    create_from_form,
    decode_clicked,
    message_channel,
    open_modal,
    require_partnership,
    submitted_ref,
)

logger = logging.getLogger(__name__)

#: What the issue modal is called where it cannot open.
FORM_TITLE = "Log an issue"


def issue_form(
    services: Services,
    *,
    team_id: str,
    channel_id: str,
    draft: IssueDraft | None = None,
    permalink: str | None = None,
    refill: Refill[IssueInput] | None = None,
    from_home: bool = False,
) -> View:
    """The issue modal for the channel's partnership (NotFound when the channel has none)."""
    p = require_partnership(services, team_id, channel_id)
    categories = issue_settings.get_categories(services.uow_factory(), team_id=team_id, channel_id=channel_id)
    return build_issue_modal(p, categories, draft=draft, permalink=permalink, refill=refill, from_home=from_home)


def draft_from_text(text: str) -> IssueDraft:
    """A draft whose title is the text's first line and whose details are the whole text."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return IssueDraft(
        title=truncate(first, MAX_ISSUE_TITLE), details=text.strip()[:MAX_DETAILS], category=None, severity=None
    )


@opens_modal
def log_from_command(command: IssueLog, ctx: CommandContext) -> None:
    """``/partner issue [title]`` and the menu's "Log an issue" button."""
    draft, title = None, command.title
    if title:
        # A title longer than a title keeps its whole text in the details.
        draft = IssueDraft(
            title=truncate(title, MAX_ISSUE_TITLE),
            details=title[:MAX_DETAILS] if len(title) > MAX_ISSUE_TITLE else "",
            category=None,
            severity=None,
        )
    ctx.open_form(FORM_TITLE, issue_form, draft=draft)


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


@opens_modal
@after_ack
def log_from_message(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """The message shortcut "Log as partnership issue": the form prefilled with its text and a link to it."""
    channel_id = str((body.get("channel") or {}).get("id") or "")

    def build() -> View:
        text = plain_text_from_slack(str((body.get("message") or {}).get("text") or ""))
        return issue_form(
            services,
            team_id=str(context.team_id),
            channel_id=channel_id,
            draft=draft_from_text(text),
            permalink=message_permalink(client, body),
        )

    open_modal(client, body["trigger_id"], FORM_TITLE, build)


@opens_modal
@after_ack
def log_from_signal(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """An early-warning signal's "Log issue": the form prefilled from the signal's figures."""
    ref = decode_clicked(body, SignalRef)
    channel_id = message_channel(body, ref.channel_id)
    if channel_id is None:
        raise DomainError(STALE)

    def build() -> View:
        draft = signals.draft_from_signal(services.uow_factory(), channel_id=channel_id, signal_id=ref.signal_id)
        return issue_form(services, team_id=str(context.team_id), channel_id=channel_id, draft=draft)

    open_modal(client, body["trigger_id"], FORM_TITLE, build)


def parse_issue(state: State, *, permalink: str | None = None) -> IssueInput:
    """The issue modal's values. Raises InvalidInput (``field`` = the IssueBlock) for a missing side or owner."""
    B = ids.IssueBlock
    side = selected_value(state, B.OWNING_SIDE)
    if side not in (Side.CLIENT.value, Side.PROVIDER.value):
        raise InvalidInput("Choose the side that owns this issue.", B.OWNING_SIDE)
    owner = user_value(state, B.OWNER)
    if owner is None:
        raise InvalidInput("Choose who owns this issue.", B.OWNER)
    return IssueInput(
        title=text_value(state, B.TITLE),
        details=text_value(state, B.DETAILS),
        severity=selected_value(state, B.SEVERITY) or "",
        category=selected_value(state, B.CATEGORY) or "",
        owning_side=Side(side),
        owner_id=owner,
        due_on=date_value(state, B.DUE_ON, label="a due date"),
        source_permalink=permalink or None,
    )


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
    ref = submitted_ref(view, IssueFormRef)
    if ref is None or issue_form_errors(view, timezone=ref.timezone, now=services.clock()):
        return  # Bolt runs lazy functions whatever the ack said: these errors are showing in the form
    data = parse_issue(view["state"]["values"], permalink=ref.permalink)
    logged = create_from_form(
        client,
        body,
        view,
        services,
        ref,
        issue_lifecycle.log_issue,
        data=data,
        kind="issue",
        form=lambda refill: issue_form(
            services, team_id=ref.team_id, channel_id=ref.channel_id, refill=refill, from_home=ref.from_home
        ),
    )
    if logged is None:
        return
    services.sender.deliver_queued()  # the card
    refresh_home(client, services, ref, body)


def refresh_home(client: WebClient, services: Services, ref: IssueFormRef | IssueModalRef, body: dict[str, Any]) -> None:
    """A modal opened from the Home tab: publish the tab again, so it shows the change."""
    if ref.from_home:
        publish_home(client, services, team_id=ref.team_id, user_id=actor_profile(body).user_id)


COMMAND_HANDLERS = dict([handles(IssueLog, log_from_command)])


def register(app: App) -> None:
    app.message_shortcut(ids.Shortcut.LOG_ISSUE)(ack=ack_shortcut, lazy=[log_from_message])
    app.action(ids.Action.SIGNAL_LOG_ISSUE)(ack=ack_button, lazy=[log_from_signal])
    app.view(ids.View.ISSUE_LOG)(ack=ack_issue_submission, lazy=[save_issue])
