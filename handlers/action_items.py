"""Actions at the Slack edge: the action form (``/partner action``, the card's "Add action"), marking actions
done or dropped (the overdue reminder, lists, the Home tab) and ``/partner actions``.

"Actions" here are the partnership's follow-up tasks, not Slack's interactive "actions" (button clicks).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.action_form import build_action_modal
from bot.blocks.form_inputs import Refill
from bot.blocks.issue_form_refs import ActionFormRef
from bot.blocks.issue_lists import build_action_list
from bot.blocks.issue_refs import ActionRef, ActionVerb
from bot.blocks.layout import date_label
from bot.blocks.text import escape
from bot.container import Services
from bot.services import actions, issue_queries, partnership_guards
from bot.services.errors import DomainError, InvalidInput
from bot.services.issue_models import MAX_ISSUE_TITLE, ActionFilter, ActionInput, ActionStatus, ActionView, IssueFilter
from bot.services.partnership_models import Side
from handlers.command_registry import CommandContext, handles
from handlers.command_types import ActionAdd, ActionList
from handlers.form_values import State, date_value, selected_value, text_value, user_value
from handlers.home import publish_home
from handlers.list_pages import ListKind
from handlers.ui import (
    STALE,
    ack_button,
    ack_form,
    actor_profile,
    check_due_on,
    clicked,
    create_from_form,
    decode_clicked,
    ephemeral,
    from_home,
    message_channel,
    notify,
    require_partnership,
    show_message,
    submitted_ref,
    target_channel,
)

#: What the action modal is called where it cannot open.
FORM_TITLE = "Add an action"
#: An action's default due date, a week from today: a date must be chosen, and this is the common one.
DEFAULT_DUE = timedelta(days=7)
ACTIONS = ListKind(
    "actions",
    ActionFilter,
    {ActionFilter.MINE: "Your open actions", ActionFilter.OVERDUE: "Overdue actions", ActionFilter.ALL: "All actions"},
    lambda services, query: actions.list_actions(services.uow_factory(), **query, now=services.clock()),
    build_action_list,
)
STATUS_DONE = {ActionStatus.DONE: "done", ActionStatus.DROPPED: "dropped", ActionStatus.OPEN: "open again"}


def action_form(
    services: Services,
    *,
    team_id: str,
    channel_id: str,
    user_id: str = "",
    issue_id: int | None = None,
    title: str | None = None,
    refill: Refill[ActionInput] | None = None,
    from_home: bool = False,
    intro: str | None = None,
) -> View:
    """The action modal (``/partner action [title]``, or "Add action" on an issue), with the partnership's open issues
    to choose from (``issue_id`` chosen already); ``intro`` and ``refill``'s ``kpi_id`` when it answers a red KPI's
    question."""
    p = require_partnership(services, team_id, channel_id)
    open_issues = issue_queries.list_issues(
        services.uow_factory(), team_id=team_id, channel_id=channel_id, user_id=user_id, filter=IssueFilter.OPEN, limit=99
    )
    chosen = refill.values.issue_id if refill else issue_id
    if chosen and all(i.id != chosen for i in open_issues):  # a resolved issue can still get an action
        open_issues = (issue_queries.get_issue(services.uow_factory(), channel_id=channel_id, issue_id=chosen), *open_issues)
    today = services.clock().astimezone(ZoneInfo(p.timezone)).date()
    return build_action_modal(
        p,
        issues=open_issues,
        issue_id=issue_id,
        today=today,
        title=title[:MAX_ISSUE_TITLE] if title else None,
        default_due=today + DEFAULT_DUE,
        refill=refill,
        from_home=from_home,
        intro=intro,
    )


def parse_action(state: State, *, issue_id: int | None = None, kpi_id: int | None = None) -> ActionInput:
    """The action modal's values. Raises InvalidInput (``field`` = the ActionBlock) for a missing owner or date."""
    B = ids.ActionBlock
    owner = user_value(state, B.OWNER)
    if owner is None:
        raise InvalidInput("Choose who owns this action.", B.OWNER)
    due_on = date_value(state, B.DUE_ON, label="a due date")
    if due_on is None:
        raise InvalidInput("Choose a due date.", B.DUE_ON)
    side = selected_value(state, B.SIDE)
    chosen_issue = selected_value(state, B.ISSUE)
    if chosen_issue is not None:
        issue_id = int(chosen_issue) if chosen_issue.isdigit() and int(chosen_issue) > 0 else None
    return ActionInput(
        title=text_value(state, B.TITLE),
        owner_id=owner,
        due_on=due_on,
        side=Side(side) if side in (Side.CLIENT.value, Side.PROVIDER.value) else None,
        issue_id=issue_id,
        kpi_id=kpi_id,
    )


def action_form_errors(ref: ActionFormRef, view: dict[str, Any], now: datetime) -> dict[str, str]:
    """The action form's field errors (title, owner and date chosen, date not in the past); empty when fine."""
    B = ids.ActionBlock
    state = view["state"]["values"]
    errors: dict[str, str] = {}
    try:
        partnership_guards.check_text(
            text_value(state, B.TITLE), field=B.TITLE, label="title", limit=MAX_ISSUE_TITLE, required=True
        )
    except InvalidInput as exc:
        errors[B.TITLE] = str(exc)
    try:
        data = parse_action(state, issue_id=ref.issue_id or None)
        check_due_on(data.due_on, ref.timezone, now, field=B.DUE_ON)
    except InvalidInput as exc:
        errors[exc.field or B.DUE_ON] = str(exc)
    return errors


def ack_action_submission(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Check the action form; errors show at their fields."""
    now = context["services"].clock()
    ack_form(
        ack, view, ActionFormRef, stale_block=ids.ActionBlock.TITLE, errors=lambda ref: action_form_errors(ref, view, now)
    )


def confirmation(a: ActionView) -> str:
    issue = f" on issue #{a.issue_number}" if a.issue_number else ""
    return f"Action added{issue}: *{escape(a.title)}* — <@{a.owner_id}>, due {date_label(a.due_on)}."


@after_ack
def save_action(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Create the action the ack function accepted (once per submission, however often it is delivered)."""
    ref = submitted_ref(view, ActionFormRef)
    if ref is None or action_form_errors(ref, view, services.clock()):
        return  # Bolt runs lazy functions whatever the ack said: these errors are showing in the form
    user = actor_profile(body).user_id
    data = parse_action(view["state"]["values"], issue_id=ref.issue_id or None, kpi_id=ref.kpi_id or None)
    created = create_from_form(
        client,
        body,
        view,
        services,
        ref,
        actions.create_action,
        data=data,
        kind="action",
        form=lambda refill: action_form(
            services,
            team_id=ref.team_id,
            channel_id=ref.channel_id,
            user_id=user,
            refill=refill,
            from_home=ref.from_home,
        ),
    )
    if created is None:
        return
    services.sender.deliver_queued()  # the issue's card and thread, when it is for an issue
    ephemeral(client, ref.channel_id, user, confirmation(created))
    if ref.from_home:
        publish_home(client, services, team_id=ref.team_id, user_id=user)


# --- done, dropped, reopened -------------------------------------------------------------------------------------


@after_ack
def carry_out_action_click(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """The overdue reminder's "Mark done", or an action's overflow menu in a list or on the Home tab."""
    home_tab = from_home(body)
    user = actor_profile(body).user_id
    try:
        if clicked(body).get("type") == "overflow":
            verb = decode_clicked(body, ActionVerb)
            channel_id, action_id = target_channel(body, verb.channel_id), verb.action_id
            status = ActionStatus(verb.status) if verb.status in {s.value for s in ActionStatus} else None
        else:
            ref = decode_clicked(body, ActionRef)
            channel_id, action_id, status = message_channel(body, ref.channel_id) or "", ref.action_id, ActionStatus.DONE
        if not channel_id or status is None:
            raise DomainError(STALE)
        changed = actions.set_action_status(
            services.uow_factory(),
            channel_id=channel_id,
            action_id=action_id,
            actor=user,
            status=status,
            now=services.clock(),
        )
    except DomainError as exc:
        if not home_tab:
            raise
        show_message(client, body["trigger_id"], "Action", str(exc))
        return
    services.sender.deliver_queued()  # the issue's card lists its actions
    if home_tab:
        publish_home(client, services, team_id=str(context.team_id), user_id=user)
    else:
        notify(respond, client, body, f"*{escape(changed.title)}* is {STATUS_DONE[changed.status]}.")


# --- /partner actions -------------------------------------------------------------------------------------------


@opens_modal
def add_action(command: ActionAdd, ctx: CommandContext) -> None:
    """``/partner action [title]``."""
    ctx.open_form(FORM_TITLE, action_form, user_id=ctx.user_id, title=command.title)


def list_actions(command: ActionList, ctx: CommandContext) -> None:
    """``/partner actions [mine|overdue|all]`` and the menu's "My actions"."""
    ctx.show_list(ACTIONS.show, command.filter.value)


COMMAND_HANDLERS = dict([handles(ActionAdd, add_action), handles(ActionList, list_actions)])


def register(app: App) -> None:
    app.view(ids.View.ACTION_ADD)(ack=ack_action_submission, lazy=[save_action])
    for action in (ids.Action.ACTION_DONE, ids.Action.ACTION_MENU):
        app.action(action)(ack=ack_button, lazy=[carry_out_action_click])
