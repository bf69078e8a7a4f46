"""``/partner issues`` and ``/partner actions``: the paged lists, one line and one overflow menu per item."""

from __future__ import annotations

from dataclasses import replace

from slack_sdk.models.blocks import (
    Block,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from bot.blocks import ids
from bot.blocks.issue_refs import ISSUE_VERBS, ActionVerb, IssueVerb, ListPage
from bot.blocks.issue_text import STATUS_LABELS, fallback_text, org_name
from bot.blocks.layout import button_row, date_label, fitting, mrkdwn_context, mrkdwn_section
from bot.blocks.metadata import encode
from bot.blocks.pulse import MAX_BLOCKS_PER_MESSAGE, Message, text_length
from bot.blocks.text import SECTION_TEXT_MAX, escape, truncate
from bot.services.issue_models import (
    SEVERITY_LABELS,
    ActionStatus,
    ActionView,
    IssueStatus,
    IssueView,
)
from bot.services.partnership_models import PartnershipView

#: Items per message of ``/partner issues`` and ``/partner actions`` (one block each, well under 50 blocks).
ITEMS_PER_PAGE = 40


def issue_verbs(issue: IssueView) -> tuple[str, ...]:
    """The overflow verbs that make sense for the issue's state (permissions are checked when chosen)."""
    if issue.status is IssueStatus.RESOLVED:
        return ("update", "action", "reopen")
    first = ("ack",) if issue.status is IssueStatus.OPEN else ()
    return (*first, "update", "action", "resolve", "reassign")


def issue_menu(issue: IssueView, channel_id: str) -> OverflowMenuElement:
    """The issue's actions as an overflow menu, for lists and the Home tab."""
    return OverflowMenuElement(
        action_id=ids.Action.ISSUE_MENU,
        options=[
            Option(text=ISSUE_VERBS[verb], value=encode(IssueVerb(issue.id, channel_id, verb)))
            for verb in issue_verbs(issue)
        ],
    )


def action_menu(action: ActionView, channel_id: str) -> OverflowMenuElement:
    """Done/drop (or reopen) as an overflow menu, for lists and the Home tab."""
    if action.status is ActionStatus.OPEN:
        choices = [("Mark done", ActionStatus.DONE), ("Drop it", ActionStatus.DROPPED)]
    elif action.status is ActionStatus.DONE:
        choices = [("Reopen", ActionStatus.OPEN), ("Mark dropped", ActionStatus.DROPPED)]
    else:
        choices = [("Reopen", ActionStatus.OPEN), ("Mark done", ActionStatus.DONE)]
    return OverflowMenuElement(
        action_id=ids.Action.ACTION_MENU,
        options=[
            Option(text=label, value=encode(ActionVerb(action.id, channel_id, status.value))) for label, status in choices
        ],
    )


def issue_line(issue: IssueView, p: PartnershipView) -> str:
    """One issue in a list: number, title, severity, state, owner and due date (user text escaped)."""
    due = f" · due {date_label(issue.due_on)}" if issue.due_on else ""
    level = f" · :rotating_light: level {issue.escalation_level}" if issue.escalation_level else ""
    return (
        f"*#{issue.number}* {escape(issue.title)}\n{SEVERITY_LABELS[issue.severity]} · {STATUS_LABELS[issue.status]} · "
        f"<@{issue.owner_id}> ({org_name(p, issue.owning_side)}){due}{level}"
    )


def action_line(action: ActionView) -> str:
    issue = f" · issue #{action.issue_number}" if action.issue_number else ""
    late = " · :hourglass: overdue" if action.overdue else ""
    state = "" if action.status is ActionStatus.OPEN else f" · {action.status.value}"
    return f"*{escape(action.title)}*\n<@{action.owner_id}> · due {date_label(action.due_on)}{issue}{state}{late}"


def _list(heading: str, p: PartnershipView, items: list[SectionBlock], page: ListPage | None, has_more: bool) -> Message:
    """A heading and as many item blocks as fit one message (50 blocks, ``MAX_MESSAGE_TEXT`` characters of text),
    then a "More" button that continues after the last item shown (with ``page``), or a count of the rest."""
    if not items:
        return Message(text=f"{heading}: none", blocks=[mrkdwn_section(f"*{escape(heading)}*\nNone.")])
    blocks: list[Block] = [mrkdwn_section(f"*{escape(heading)}* · {escape(p.name)}")]
    # Room for the heading and the "More" button (or the count that replaces it).
    shown = fitting(items, used=text_length(blocks[0].to_dict()) + 40, room=MAX_BLOCKS_PER_MESSAGE - 2)
    blocks += shown
    rest = len(items) - len(shown)
    if page is not None and (rest or has_more):
        more = replace(page, offset=page.offset + len(shown))
        blocks.append(button_row("list-more", "More", ids.Action.LIST_MORE, encode(more)))
    elif rest:
        blocks.append(mrkdwn_context(f"…and {rest} more."))
    return Message(text=fallback_text(f"{heading} in {escape(p.name)}"), blocks=blocks)


def _item(line: str, menu: OverflowMenuElement) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(line, SECTION_TEXT_MAX)), accessory=menu)


def build_issue_list(
    p: PartnershipView,
    issues: tuple[IssueView, ...],
    *,
    heading: str,
    page: ListPage | None = None,
    has_more: bool = False,
) -> Message:
    """``/partner issues``: one block per issue with its actions in an overflow menu, as many as fit one message.

    ``page`` says where this list starts; with it, a "More" button continues after the last issue shown whenever
    some did not fit or ``has_more`` (the caller holds more than it passed). Without it, the rest are counted.
    """
    return _list(heading, p, [_item(issue_line(i, p), issue_menu(i, p.channel_id)) for i in issues], page, has_more)


def build_action_list(
    p: PartnershipView,
    actions: tuple[ActionView, ...],
    *,
    heading: str,
    page: ListPage | None = None,
    has_more: bool = False,
) -> Message:
    """``/partner actions``: one block per action with done/drop in an overflow menu; paged like the issues."""
    return _list(heading, p, [_item(action_line(a), action_menu(a, p.channel_id)) for a in actions], page, has_more)
