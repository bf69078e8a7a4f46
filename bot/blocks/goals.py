"""Shared goals and the expectations ledger: lists, forms and the expectation's channel message.

User text (titles, expectations, notes, reasons) is escaped before it goes into mrkdwn, so nobody can make the bot
post ``<!channel>`` or a disguised link; people are mentioned only by the ids the bot itself stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.pulse import MAX_BLOCKS_PER_MESSAGE, MAX_MESSAGE_TEXT, Message, text_length
from bot.blocks.text import CONTEXT_TEXT_MAX, SECTION_TEXT_MAX, escape, local_time_label, truncate
from bot.services.expectation_models import EXPECTATION_STATUS_LABELS, ExpectationCard, ExpectationStatus, ExpectationView
from bot.services.goal_models import GOAL_STATUS_LABELS, MAX_GOAL_TITLE, MAX_REVIEW_TEXT, GoalInput, GoalStatus, SharedGoal
from bot.services.partnership_models import PartnershipView

#: How much of an expectation a list line shows (the channel message has all of it).
LIST_TEXT = 300
GOAL_STATUS_EMOJI = {
    GoalStatus.ON_TRACK: ":large_green_circle:",
    GoalStatus.AT_RISK: ":large_yellow_circle:",
    GoalStatus.OFF_TRACK: ":red_circle:",
    GoalStatus.DONE: ":white_check_mark:",
}
EXPECTATION_EMOJI = {
    ExpectationStatus.OPEN: ":hourglass_flowing_sand:",
    ExpectationStatus.AGREED: ":handshake:",
    ExpectationStatus.DISCUSSING: ":speech_balloon:",
    ExpectationStatus.WITHDRAWN: ":heavy_minus_sign:",
}
#: The ledger list's order: what needs an answer first.
LEDGER_ORDER = (
    ExpectationStatus.OPEN,
    ExpectationStatus.DISCUSSING,
    ExpectationStatus.AGREED,
    ExpectationStatus.WITHDRAWN,
)


# --- button values and private_metadata (each names team and channel, so a failure can be told there) --------


@dataclass(frozen=True)
class GoalRef:
    """The "Update status" button of a goal, and its status modal."""

    team_id: str
    channel_id: str
    goal_id: int


@dataclass(frozen=True)
class GoalFormRef:
    """The goal modal: its channel and the partnership's time zone (the due date is checked against it)."""

    team_id: str
    channel_id: str
    timezone: str


@dataclass(frozen=True)
class ExpectationRef:
    """The buttons of an expectation's message, and the discuss modal."""

    team_id: str
    channel_id: str
    expectation_id: int


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, CONTEXT_TEXT_MAX))])


def _error_block(error: str | None) -> list[Block]:
    return [_section(f":warning: {escape(error)}")] if error else []


def _quote(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """User text as a block quote, line by line, escaped and cut to ``limit``."""
    lines = [line.rstrip() for line in text.strip().splitlines()] or [""]
    return truncate("\n".join("> " + escape(line) if line else ">" for line in lines), limit)


def _one_line(text: str, limit: int) -> str:
    return truncate(escape(" ".join(text.split())), limit)


def date_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _fit(head: list[Block], items: list[Block], tail: list[Block]) -> list[Block]:
    """Head, as many items as fit one message (blocks and text), a count of the rest, then the tail."""
    blocks = list(head)
    used = sum(text_length(b.to_dict()) for b in head + tail) + 40
    room = MAX_BLOCKS_PER_MESSAGE - len(head) - len(tail) - 1
    shown = 0
    for block in items[:room]:
        size = text_length(block.to_dict())
        if shown and used + size > MAX_MESSAGE_TEXT:
            break
        blocks.append(block)
        used += size
        shown += 1
    if shown < len(items):
        blocks.append(_context(f"…and {len(items) - shown} more."))
    return blocks + tail


# --- goals ------------------------------------------------------------------------------------------------


def goal_line(goal: SharedGoal, p: PartnershipView) -> str:
    due = f" · due {date_label(goal.due_on)}" if goal.due_on else ""
    note = f"\n{_quote(goal.note, 600)}" if goal.note else ""
    return (
        f"*#{goal.number} {escape(goal.title)}*\n{GOAL_STATUS_EMOJI[goal.status]} {goal.status_label}{due}\n"
        f"Owners: <@{goal.client_owner_id}> ({escape(p.client_org)}) and <@{goal.provider_owner_id}> "
        f"({escape(p.provider_org)}){note}"
    )


def build_goal_list(p: PartnershipView, goals: tuple[SharedGoal, ...]) -> Message:
    """``/partner goals``: each goal with an "Update status" button, and "Add a goal" at the end."""
    add = ActionsBlock(
        block_id="goal-list-actions",
        elements=[
            ButtonElement(
                text="Add a goal",
                action_id=ids.ReviewAction.GOAL_ADD,
                value=encode(ChannelRef(p.team_id, p.channel_id)),
                style="primary",
            )
        ],
    )
    head: list[Block] = [_section(f"*Shared goals* · {escape(p.name)}")]
    if not goals:
        head.append(_section("No shared goals yet. Add the first one: a goal with an owner on each side."))
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
    return Message(text=f"Shared goals of {escape(p.name)}", blocks=_fit(head, items, [add]))


def _status_options() -> list[Option]:
    return [Option(text=f"{GOAL_STATUS_LABELS[s.value]}", value=s.value) for s in GoalStatus]


def build_goal_modal(
    p: PartnershipView,
    *,
    today: date,
    title: str | None = None,
    values: GoalInput | None = None,
    error: str | None = None,
) -> View:
    """A shared goal: title, an owner on each side, an optional due date, and its status."""
    B = ids.GoalBlock
    options = _status_options()
    status = values.status.value if values else GoalStatus.ON_TRACK.value
    blocks: list[Block] = [
        *_error_block(error),
        _context(f"*{escape(p.name)}* · a goal both sides share, with an owner on each side."),
        InputBlock(
            block_id=B.TITLE,
            label="Goal",
            element=PlainTextInputElement(
                action_id=ids.VALUE,
                max_length=MAX_GOAL_TITLE,
                initial_value=truncate(values.title if values else title or "", MAX_GOAL_TITLE) or None,
                placeholder="What do both sides want to achieve?",
            ),
        ),
        InputBlock(
            block_id=B.CLIENT_OWNER,
            label=truncate(f"Owner at {p.client_org} (client)", 2000),
            element=UserSelectElement(
                action_id=ids.VALUE, placeholder="Choose a person", initial_user=values.client_owner_id if values else None
            ),
        ),
        InputBlock(
            block_id=B.PROVIDER_OWNER,
            label=truncate(f"Owner at {p.provider_org} (provider)", 2000),
            element=UserSelectElement(
                action_id=ids.VALUE,
                placeholder="Choose a person",
                initial_user=values.provider_owner_id if values else None,
            ),
        ),
        InputBlock(
            block_id=B.DUE_ON,
            label="Due date",
            optional=True,
            element=DatePickerElement(
                action_id=ids.VALUE, initial_date=values.due_on.isoformat() if values and values.due_on else None
            ),
        ),
        InputBlock(
            block_id=B.STATUS,
            label="Status",
            element=RadioButtonsElement(
                action_id=ids.VALUE, options=options, initial_option=next(o for o in options if o.value == status)
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.ReviewView.GOAL_ADD,
        title="Add a shared goal",
        submit="Add",
        close="Cancel",
        private_metadata=encode(GoalFormRef(p.team_id, p.channel_id, p.timezone)),
        blocks=blocks,
    )


def build_goal_status_modal(goal: SharedGoal, p: PartnershipView) -> View:
    """The goal's status and an optional note ("waiting on the test environment")."""
    B = ids.GoalBlock
    options = _status_options()
    return View(
        type="modal",
        callback_id=ids.ReviewView.GOAL_STATUS,
        title=f"Goal #{goal.number}"[:24],
        submit="Save",
        close="Cancel",
        private_metadata=encode(GoalRef(p.team_id, p.channel_id, goal.id)),
        blocks=[
            _section(goal_line(goal, p)),
            InputBlock(
                block_id=B.STATUS,
                label="Status",
                element=RadioButtonsElement(
                    action_id=ids.VALUE,
                    options=options,
                    initial_option=next(o for o in options if o.value == goal.status.value),
                ),
            ),
            InputBlock(
                block_id=B.NOTE,
                label="Note",
                optional=True,
                hint="Why, or what is needed next. It replaces the last note.",
                element=PlainTextInputElement(
                    action_id=ids.VALUE, multiline=True, max_length=MAX_REVIEW_TEXT, initial_value=goal.note or None
                ),
            ),
        ],
    )


# --- the expectations ledger ------------------------------------------------------------------------------


def _direction(p: PartnershipView, e: ExpectationView) -> str:
    return f"{escape(p.org(e.from_side))} expects of {escape(p.org(e.to_side))}"


def _answer_line(p: PartnershipView, e: ExpectationView) -> str:
    when = local_time_label(e.responded_at, p.timezone) if e.responded_at else ""
    who = f"<@{e.responded_by}>" if e.responded_by else "someone"
    if e.status is ExpectationStatus.AGREED:
        return f"{EXPECTATION_EMOJI[e.status]} Agreed by {who}, {when}"
    if e.status is ExpectationStatus.DISCUSSING:
        return f"{EXPECTATION_EMOJI[e.status]} {who} asked to discuss it, {when}:"
    if e.status is ExpectationStatus.WITHDRAWN:
        return f"{EXPECTATION_EMOJI[e.status]} Withdrawn by {escape(p.org(e.from_side))}"
    return f"{EXPECTATION_EMOJI[e.status]} Waiting for {escape(p.org(e.to_side))} to agree or ask to discuss"


def build_expectation_card(card: ExpectationCard) -> Message:
    """The channel message: the expectation, its state, and buttons for the other side (agree, discuss) and the
    author's side (withdraw). A withdrawn expectation has no buttons."""
    p, e = card.partnership, card.expectation
    ref = encode(ExpectationRef(p.team_id, p.channel_id, e.id))
    blocks: list[Block] = [
        _section(f"*Expectation #{e.number}* · {_direction(p, e)}\n{_quote(e.text, SECTION_TEXT_MAX - 200)}"),
        _context(f"Recorded by <@{e.created_by}> · {local_time_label(e.created_at, p.timezone)}"),
        _section(_answer_line(p, e)),
    ]
    if e.status is ExpectationStatus.DISCUSSING and e.response:
        blocks.append(_section(_quote(e.response)))
    if e.status is not ExpectationStatus.WITHDRAWN:
        buttons = []
        if e.status is not ExpectationStatus.AGREED:
            buttons.append(
                ButtonElement(text="Agree", action_id=ids.ReviewAction.EXPECTATION_AGREE, value=ref, style="primary")
            )
        buttons.append(ButtonElement(text="Discuss", action_id=ids.ReviewAction.EXPECTATION_DISCUSS, value=ref))
        buttons.append(ButtonElement(text="Withdraw", action_id=ids.ReviewAction.EXPECTATION_WITHDRAW, value=ref))
        # People of the other organisation cannot run /partner: this is how they record one of their own.
        buttons.append(
            ButtonElement(
                text="Record one of yours",
                action_id=ids.ReviewAction.EXPECTATION_ADD,
                value=encode(ChannelRef(p.team_id, p.channel_id)),
            )
        )
        blocks.append(ActionsBlock(block_id=ids.EXPECTATION_ACTIONS_BLOCK, elements=buttons))
        blocks.append(
            _context(f"{escape(p.org(e.to_side))} agrees or asks to discuss; {escape(p.org(e.from_side))} can withdraw it.")
        )
    text = f"Expectation #{e.number}: {p.org(e.from_side)} expects of {p.org(e.to_side)}"
    return Message(text=truncate(escape(text), 3000), blocks=blocks)


def expectation_line(p: PartnershipView, e: ExpectationView) -> str:
    return f"*#{e.number}* {_direction(p, e)}: {_one_line(e.text, LIST_TEXT)}"


def build_expectation_list(p: PartnershipView, entries: tuple[ExpectationView, ...]) -> Message:
    """``/partner expectations``: the ledger grouped by status, what needs an answer first."""
    add = ActionsBlock(
        block_id="expectation-list-actions",
        elements=[
            ButtonElement(
                text="Record an expectation",
                action_id=ids.ReviewAction.EXPECTATION_ADD,
                value=encode(ChannelRef(p.team_id, p.channel_id)),
            )
        ],
    )
    head: list[Block] = [_section(f"*Expectations ledger* · {escape(p.name)}")]
    if not entries:
        head.append(_section("Nothing recorded yet. `/partner expect` records what your side expects of the other."))
        return Message(text=f"Expectations ledger of {escape(p.name)}: empty", blocks=[*head, add])
    items: list[Block] = []
    for status in LEDGER_ORDER:
        group = [e for e in entries if e.status is status]
        if not group:
            continue
        lines = [expectation_line(p, e) for e in group]
        title = f"{EXPECTATION_EMOJI[status]} *{EXPECTATION_STATUS_LABELS[status.value]}* ({len(group)})"
        chunk: list[str] = [title]
        for line in lines:
            if len("\n".join([*chunk, line])) > SECTION_TEXT_MAX:
                items.append(_section("\n".join(chunk)))
                chunk = []
            chunk.append(line)
        items.append(_section("\n".join(chunk)))
    return Message(text=f"Expectations ledger of {escape(p.name)}", blocks=_fit(head, items, [add]))


def build_expectation_modal(p: PartnershipView, *, text: str | None = None, error: str | None = None) -> View:
    """What the person's side expects of the other side (posted in the channel for the other side to answer)."""
    return View(
        type="modal",
        callback_id=ids.ReviewView.EXPECTATION_ADD,
        title="Record an expectation",
        submit="Record",
        close="Cancel",
        private_metadata=encode(ChannelRef(p.team_id, p.channel_id)),
        blocks=[
            *_error_block(error),
            _context(
                f"*{escape(p.name)}* · what your side expects of the other side. It is posted in the channel, where "
                "the other side agrees or asks to discuss it."
            ),
            InputBlock(
                block_id=ids.ExpectationBlock.TEXT,
                label="We expect",
                element=PlainTextInputElement(
                    action_id=ids.VALUE,
                    multiline=True,
                    max_length=MAX_REVIEW_TEXT,
                    initial_value=truncate(text, MAX_REVIEW_TEXT) if text else None,
                    placeholder="Status reports every Friday by noon",
                ),
            ),
        ],
    )


def build_discuss_modal(card: ExpectationCard) -> View:
    """A short reason to discuss an expectation, shown under it in the channel."""
    p, e = card.partnership, card.expectation
    return View(
        type="modal",
        callback_id=ids.ReviewView.EXPECTATION_DISCUSS,
        title="Discuss an expectation",
        submit="Send",
        close="Cancel",
        private_metadata=encode(ExpectationRef(p.team_id, p.channel_id, e.id)),
        blocks=[
            _section(f"*Expectation #{e.number}* · {_direction(p, e)}\n{_quote(e.text, 2000)}"),
            InputBlock(
                block_id=ids.ExpectationBlock.REASON,
                label="What should be discussed?",
                element=PlainTextInputElement(action_id=ids.VALUE, multiline=True, max_length=MAX_REVIEW_TEXT),
            ),
        ],
    )
