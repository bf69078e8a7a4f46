"""The one grouped reminder an owner gets a day about their overdue actions in a partnership."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks import ids
from bot.blocks.issue_refs import ActionRef
from bot.blocks.issue_text import fallback_text, plural
from bot.blocks.layout import date_label, mrkdwn_context, mrkdwn_section
from bot.blocks.metadata import encode
from bot.blocks.pulse import MAX_BLOCKS_PER_MESSAGE, Message
from bot.blocks.text import escape, truncate
from bot.services.issue_models import OverdueReminder

REMINDER_ACTIONS_SHOWN = 40


def overdue_headline(reminder: OverdueReminder) -> str:
    """The reminder's first line, worded for one action or for several (plain text: user text escaped)."""
    p, actions = reminder.partnership, reminder.actions
    where = f"in {escape(p.name)}"
    if len(actions) == 1:
        a = actions[0]
        days = (reminder.as_of - a.due_on).days
        late = f"{plural(days, 'day')} overdue" if days > 0 else "overdue"
        return (
            f"Your action “{escape(a.title)}” {where} is {late}: mark it done, or change its due date with the other side."
        )
    return (
        f"You have {len(actions)} overdue actions {where}: mark each one done, or change its due date with the other side."
    )


def build_overdue_reminder(reminder: OverdueReminder) -> Message:
    """One message for all of an owner's overdue actions in a partnership, worded for one or for several.

    Sent to the owner alone (a message from the app, or an ephemeral for the other organisation's people), so its
    buttons name the partnership's channel.
    """
    p, actions = reminder.partnership, reminder.actions
    blocks: list[Block] = [mrkdwn_section(overdue_headline(reminder))]
    shown = actions[: min(REMINDER_ACTIONS_SHOWN, MAX_BLOCKS_PER_MESSAGE - 3)]
    for a in shown:
        issue = f" (issue #{a.issue_number})" if a.issue_number else ""
        days = (reminder.as_of - a.due_on).days
        late = f", {plural(days, 'day')} ago" if days > 0 else ""
        done = encode(ActionRef(a.id, channel_id=p.channel_id))
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=truncate(f"*{escape(a.title)}*{issue}\nDue {date_label(a.due_on)}{late}", 2000)
                ),
                accessory=ButtonElement(text="Mark done", action_id=ids.Action.ACTION_DONE, value=done),
            )
        )
    if len(actions) > len(shown):
        blocks.append(mrkdwn_context(f"…and {len(actions) - len(shown)} more: `/partner actions overdue` lists them all."))
    blocks.append(
        mrkdwn_context(
            f"Only you see this. Sent when an action becomes overdue, then at most once a week while it stays "
            f"overdue; the actions are in <#{p.channel_id}>."
        )
    )
    return Message(text=fallback_text(overdue_headline(reminder)), blocks=blocks)
