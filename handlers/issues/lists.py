"""Issue lists at the Slack edge: ``/partner issues [open|mine|all]``, and the "More" button under a list of
issues or of actions (the next page, as a new ephemeral message)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.blocks.issue_lists import build_issue_list
from bot.blocks.issue_refs import ListPage
from bot.container import Services
from bot.services import issue_queries
from bot.services.errors import DomainError
from bot.services.issue_models import IssueFilter
from handlers import action_items
from handlers.command_registry import CommandContext, handles
from handlers.command_types import IssueList
from handlers.list_pages import ListKind
from handlers.ui import (
    STALE,
    actor_profile,
    clicked_ref,
    listen,
)

ISSUES = ListKind(
    "issues",
    IssueFilter,
    {IssueFilter.OPEN: "Open issues", IssueFilter.MINE: "Your open issues", IssueFilter.ALL: "All issues"},
    lambda services, query: issue_queries.list_issues(services.uow_factory(), **query),
    build_issue_list,
)


@after_ack
def show_more(body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services) -> None:
    """The "More" button under a list: the next page, as a new ephemeral message."""
    page, channel_id = clicked_ref(body, ListPage)
    user = actor_profile(body).user_id
    kinds: dict[str, ListKind[Any]] = {k.name: k for k in (ISSUES, action_items.ACTIONS)}
    kind = kinds.get(page.kind)
    if kind is None:
        raise DomainError(STALE)
    kind.show(
        respond,
        services,
        team_id=str(context.team_id),
        channel_id=channel_id,
        user_id=user,
        filter=page.filter,
        offset=page.offset,
    )


def list_issues(command: IssueList, ctx: CommandContext) -> None:
    """``/partner issues [open|mine|all]`` and the menu's "Open issues"."""
    ctx.show_list(ISSUES.show, command.filter.value)


COMMAND_HANDLERS = dict([handles(IssueList, list_issues)])


def register(app: App) -> None:
    listen(app, {ids.Action.LIST_MORE: show_more})
