"""Shared goals: the list, the goal form and the status form.

User text (titles, notes) is escaped before it goes into mrkdwn, so nobody can make the bot post ``<!channel>`` or a
disguised link; people are mentioned only by the ids the bot itself stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    MarkdownTextObject,
    Option,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.form_inputs import Refill, date_input, error_blocks, modal, radio_input, refilled, text_input, user_input
from bot.blocks.layout import channel_button_row, date_label, fit, mrkdwn_context, mrkdwn_section, quote_lines
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.pulse import Message
from bot.blocks.text import SECTION_TEXT_MAX, escape, truncate
from bot.services.partnership_models import PartnershipView
from bot.services.review_models import GOAL_STATUS_LABELS, MAX_GOAL_TITLE, MAX_REVIEW_TEXT, GoalInput, GoalStatus, SharedGoal

GOAL_STATUS_EMOJI = {
    GoalStatus.ON_TRACK: ":large_green_circle:",
    GoalStatus.AT_RISK: ":large_yellow_circle:",
    GoalStatus.OFF_TRACK: ":red_circle:",
    GoalStatus.DONE: ":white_check_mark:",
}


@dataclass(frozen=True)
class GoalRef(ChannelRef):
    """The "Update status" button of a goal, and its status modal."""

    goal_id: int


@dataclass(frozen=True)
class GoalFormRef(ChannelRef):
    """The goal modal: its channel and the partnership's time zone (the due date is checked against it)."""

    timezone: str


def goal_line(goal: SharedGoal, p: PartnershipView) -> str:
    due = f" · due {date_label(goal.due_on)}" if goal.due_on else ""
    note = f"\n{quote_lines(goal.note, 600)}" if goal.note else ""
    return (
        f"*#{goal.number} {escape(goal.title)}*\n{GOAL_STATUS_EMOJI[goal.status]} {goal.status_label}{due}\n"
        f"Owners: <@{goal.client_owner_id}> ({escape(p.client_org)}) and <@{goal.provider_owner_id}> "
        f"({escape(p.provider_org)}){note}"
    )


def build_goal_list(p: PartnershipView, goals: tuple[SharedGoal, ...]) -> Message:
    """``/partner goals``: each goal with an "Update status" button, and "Add a goal" at the end."""
    add = channel_button_row(p, "goal-list-actions", "Add a goal", ids.ReviewAction.GOAL_ADD, style="primary")
    head: list[Block] = [mrkdwn_section(f"*Shared goals* · {escape(p.name)}")]
    if not goals:
        head.append(mrkdwn_section("No shared goals yet. Add the first one: a goal with an owner on each side."))
        return Message(text=f"Shared goals of {escape(p.name)}: none yet", blocks=[*head, add])
    items: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=truncate(goal_line(g, p), SECTION_TEXT_MAX)),
            accessory=ButtonElement(
                text="Update status",
                action_id=ids.ReviewAction.GOAL_STATUS,
                value=encode(GoalRef(p.team_id, p.channel_id, g.id)),
            ),
        )
        for g in goals
    ]
    return Message(text=f"Shared goals of {escape(p.name)}", blocks=fit(head, items, [add]))


def _status_options() -> list[Option]:
    return [Option(text=f"{GOAL_STATUS_LABELS[s.value]}", value=s.value) for s in GoalStatus]


def build_goal_modal(
    p: PartnershipView,
    *,
    today: date,
    title: str | None = None,
    refill: Refill[GoalInput] | None = None,
) -> View:
    """A shared goal: title, an owner on each side, an optional due date, and its status."""
    values, error = refilled(refill)
    B = ids.GoalBlock
    options = _status_options()
    status = values.status.value if values else GoalStatus.ON_TRACK.value
    blocks: list[Block] = [
        *error_blocks(error, escaped=True),
        mrkdwn_context(f"*{escape(p.name)}* · a goal both sides share, with an owner on each side."),
        text_input(
            B.TITLE,
            "Goal",
            max_length=MAX_GOAL_TITLE,
            initial=truncate(values.title if values else title or "", MAX_GOAL_TITLE) or None,
            placeholder="What do both sides want to achieve?",
        ),
        user_input(
            B.CLIENT_OWNER,
            truncate(f"Owner at {p.client_org} (client)", 2000),
            placeholder="Choose a person",
            initial=values.client_owner_id if values else None,
        ),
        user_input(
            B.PROVIDER_OWNER,
            truncate(f"Owner at {p.provider_org} (provider)", 2000),
            placeholder="Choose a person",
            initial=values.provider_owner_id if values else None,
        ),
        date_input(
            B.DUE_ON, "Due date", optional=True, initial=values.due_on.isoformat() if values and values.due_on else None
        ),
        radio_input(B.STATUS, "Status", options, initial=next(o for o in options if o.value == status)),
    ]
    return modal(
        ids.ReviewView.GOAL_ADD,
        title="Add a shared goal",
        submit="Add",
        private_metadata=encode(GoalFormRef(p.team_id, p.channel_id, p.timezone)),
        blocks=blocks,
    )


def build_goal_status_modal(goal: SharedGoal, p: PartnershipView) -> View:
    """The goal's status and an optional note ("waiting on the test environment")."""
    B = ids.GoalBlock
    options = _status_options()
    return modal(
        ids.ReviewView.GOAL_STATUS,
        title=f"Goal #{goal.number}"[:24],
        submit="Save",
        private_metadata=encode(GoalRef(p.team_id, p.channel_id, goal.id)),
        blocks=[
            mrkdwn_section(goal_line(goal, p)),
            radio_input(B.STATUS, "Status", options, initial=next(o for o in options if o.value == goal.status.value)),
            text_input(
                B.NOTE,
                "Note",
                optional=True,
                hint="Why, or what is needed next. It replaces the last note.",
                multiline=True,
                max_length=MAX_REVIEW_TEXT,
                initial=goal.note or None,
            ),
        ],
    )
