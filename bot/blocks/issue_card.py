"""The issue card: the issue's message in the channel, posted once and updated in place, with its buttons."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks import ids
from bot.blocks.issue_refs import IssueRef
from bot.blocks.issue_text import STATUS_LABELS, fallback_text, org_name, side_label, status_line
from bot.blocks.layout import date_label, mrkdwn_context, mrkdwn_section, quote_lines
from bot.blocks.metadata import encode
from bot.blocks.pulse import Message
from bot.blocks.text import HEADER_MAX, escape, local_time_label, truncate
from bot.services.issue_models import (
    ESCALATION_LEVEL_LABELS,
    SEVERITY_DEFINITIONS,
    SEVERITY_LABELS,
    ActionStatus,
    ActionView,
    IssueCard,
    IssueStatus,
    IssueView,
)

FIELD_TEXT_MAX = 2000

CARD_ACTIONS_SHOWN = 10

#: What "Escalate now" does at each next level (its confirmation dialog).
ESCALATE_NOW = {
    1: "This nudges the owner",
    2: "This brings in the leads of both sides",
    3: "This brings in the executive sponsors of both sides",
}


def _action_line(a: ActionView) -> str:
    mark = {ActionStatus.OPEN: "•", ActionStatus.DONE: ":white_check_mark:", ActionStatus.DROPPED: ":heavy_minus_sign:"}
    state = "" if a.status is ActionStatus.OPEN else f" ({a.status.value})"
    return f"{mark[a.status]} {escape(a.title)} — <@{a.owner_id}>, due {date_label(a.due_on)}{state}"


def issue_buttons(issue: IssueView) -> ActionsBlock:
    """The card's buttons for the issue's state (all carry the issue id; permissions are checked on click)."""
    value = encode(IssueRef(issue.id))
    A = ids.Action
    buttons: list[ButtonElement] = []
    if issue.status is IssueStatus.OPEN:
        buttons.append(ButtonElement(text="Acknowledge", action_id=A.ISSUE_ACKNOWLEDGE, value=value, style="primary"))
    buttons.append(ButtonElement(text="Update", action_id=A.ISSUE_UPDATE, value=value))
    buttons.append(ButtonElement(text="Add action", action_id=A.ISSUE_ADD_ACTION, value=value))
    if issue.status is IssueStatus.RESOLVED:
        buttons.append(ButtonElement(text="Reopen", action_id=A.ISSUE_REOPEN, value=value))
    else:
        buttons.append(ButtonElement(text="Resolve", action_id=A.ISSUE_RESOLVE, value=value))
        buttons.append(ButtonElement(text="Reassign", action_id=A.ISSUE_REASSIGN, value=value))
        if issue.escalation_level < 3:
            buttons.append(
                ButtonElement(
                    text="Escalate now",
                    action_id=A.ISSUE_ESCALATE,
                    value=value,
                    style="danger",
                    confirm=ConfirmObject(
                        title="Escalate now?",
                        text=f"{ESCALATE_NOW[issue.escalation_level + 1]} right away, without waiting for the agreed time.",
                        confirm="Escalate",
                        deny="Not now",
                    ),
                )
            )
    return ActionsBlock(block_id=ids.ISSUE_ACTIONS_BLOCK, elements=buttons)


def build_issue_card(card: IssueCard) -> Message:
    """The issue's message in the channel, posted once and updated in place on every change."""
    i, p, tz = card.issue, card.partnership, card.timezone
    raised_side = f" ({org_name(p, i.raised_by_side)})" if i.raised_by_side else ""
    fields = [
        f"*Severity*\n{SEVERITY_LABELS[i.severity]}: {SEVERITY_DEFINITIONS[i.severity].lower()}",
        f"*Status*\n{status_line(i, tz)}",
        f"*Owner*\n<@{i.owner_id}> · {side_label(p, i.owning_side)}",
        f"*Category*\n{escape(i.category)}",
        f"*Due*\n{date_label(i.due_on) if i.due_on else 'no date set'}",
        f"*Raised by*\n<@{i.raised_by}>{raised_side}, {local_time_label(i.created_at, tz)}",
    ]
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"#{i.number} · {i.title}", HEADER_MAX)),
        SectionBlock(fields=[MarkdownTextObject(text=truncate(f, FIELD_TEXT_MAX)) for f in fields]),
    ]
    if i.details:
        blocks.append(mrkdwn_section(quote_lines(i.details)))
    if card.actions:
        lines = [_action_line(a) for a in card.actions[:CARD_ACTIONS_SHOWN]]
        if len(card.actions) > CARD_ACTIONS_SHOWN:
            lines.append(f"…and {len(card.actions) - CARD_ACTIONS_SHOWN} more")
        blocks.append(mrkdwn_section("*Actions*\n" + "\n".join(lines)))
    notes: list[str] = []
    if i.status is not IssueStatus.RESOLVED:
        level = ESCALATION_LEVEL_LABELS[i.escalation_level]
        nxt = (
            f"; next step {local_time_label(i.next_escalation_at, tz)} (in {escape(p.org(i.owning_side))}'s working hours)"
            if i.next_escalation_at
            else ""
        )
        notes.append(f"Escalation: {level}{nxt}")
    if i.source_permalink:
        notes.append(f"<{escape(i.source_permalink)}|The message this came from>")
    notes.append("History in the thread")
    blocks.append(mrkdwn_context(" · ".join(notes)))
    blocks.append(issue_buttons(i))
    text = f"Issue #{i.number} ({SEVERITY_LABELS[i.severity]}, {STATUS_LABELS[i.status]}): {escape(i.title)}"
    return Message(text=fallback_text(text), blocks=blocks)
