"""The expectations ledger: an expectation's channel message, the ledger list and the record and discuss forms.

User text (expectations, reasons) is escaped before it goes into mrkdwn, so nobody can make the bot post
``<!channel>`` or a disguised link; people are mentioned only by the ids the bot itself stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.form_inputs import error_blocks, modal, text_input
from bot.blocks.layout import answered_by, channel_button_row, fit, mrkdwn_context, mrkdwn_section, quote_lines
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.pulse import Message
from bot.blocks.text import SECTION_TEXT_MAX, escape, local_time_label, truncate
from bot.services.partnership_models import PartnershipView
from bot.services.review_models import (
    EXPECTATION_STATUS_LABELS,
    MAX_REVIEW_TEXT,
    ExpectationCard,
    ExpectationStatus,
    ExpectationView,
)

#: How much of an expectation a list line shows (the channel message has all of it).
LIST_TEXT = 300

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


@dataclass(frozen=True)
class ExpectationRef(ChannelRef):
    """The buttons of an expectation's message, and the discuss modal."""

    expectation_id: int


def _one_line(text: str, limit: int) -> str:
    return truncate(escape(" ".join(text.split())), limit)


def _direction(p: PartnershipView, e: ExpectationView) -> str:
    return f"{escape(p.org(e.from_side))} expects of {escape(p.org(e.to_side))}"


def _answer_line(p: PartnershipView, e: ExpectationView) -> str:
    who, when = answered_by(p, e.responded_by, e.responded_at)
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
        mrkdwn_section(f"*Expectation #{e.number}* · {_direction(p, e)}\n{quote_lines(e.text, SECTION_TEXT_MAX - 200)}"),
        mrkdwn_context(f"Recorded by <@{e.created_by}> · {local_time_label(e.created_at, p.timezone)}"),
        mrkdwn_section(_answer_line(p, e)),
    ]
    if e.status is ExpectationStatus.DISCUSSING and e.response:
        blocks.append(mrkdwn_section(quote_lines(e.response)))
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
            mrkdwn_context(
                f"{escape(p.org(e.to_side))} agrees or asks to discuss; {escape(p.org(e.from_side))} can withdraw it."
            )
        )
    text = f"Expectation #{e.number}: {p.org(e.from_side)} expects of {p.org(e.to_side)}"
    return Message(text=truncate(escape(text), 3000), blocks=blocks)


def expectation_line(p: PartnershipView, e: ExpectationView) -> str:
    return f"*#{e.number}* {_direction(p, e)}: {_one_line(e.text, LIST_TEXT)}"


def build_expectation_list(p: PartnershipView, entries: tuple[ExpectationView, ...]) -> Message:
    """``/partner expectations``: the ledger grouped by status, what needs an answer first."""
    add = channel_button_row(p, "expectation-list-actions", "Record an expectation", ids.ReviewAction.EXPECTATION_ADD)
    head: list[Block] = [mrkdwn_section(f"*Expectations ledger* · {escape(p.name)}")]
    if not entries:
        head.append(mrkdwn_section("Nothing recorded yet. `/partner expect` records what your side expects of the other."))
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
                items.append(mrkdwn_section("\n".join(chunk)))
                chunk = []
            chunk.append(line)
        items.append(mrkdwn_section("\n".join(chunk)))
    return Message(text=f"Expectations ledger of {escape(p.name)}", blocks=fit(head, items, [add]))


def build_expectation_modal(p: PartnershipView, *, text: str | None = None, error: str | None = None) -> View:
    """What the person's side expects of the other side (posted in the channel for the other side to answer)."""
    return modal(
        ids.ReviewView.EXPECTATION_ADD,
        title="Record an expectation",
        submit="Record",
        private_metadata=encode(ChannelRef(p.team_id, p.channel_id)),
        blocks=[
            *error_blocks(error, escaped=True),
            mrkdwn_context(
                f"*{escape(p.name)}* · what your side expects of the other side. It is posted in the channel, where "
                "the other side agrees or asks to discuss it."
            ),
            text_input(
                ids.ExpectationBlock.TEXT,
                "We expect",
                multiline=True,
                max_length=MAX_REVIEW_TEXT,
                initial=truncate(text, MAX_REVIEW_TEXT) if text else None,
                placeholder="Status reports every Friday by noon",
            ),
        ],
    )


def build_discuss_modal(card: ExpectationCard) -> View:
    """A short reason to discuss an expectation, shown under it in the channel."""
    p, e = card.partnership, card.expectation
    return modal(
        ids.ReviewView.EXPECTATION_DISCUSS,
        title="Discuss an expectation",
        submit="Send",
        private_metadata=encode(ExpectationRef(p.team_id, p.channel_id, e.id)),
        blocks=[
            mrkdwn_section(f"*Expectation #{e.number}* · {_direction(p, e)}\n{quote_lines(e.text, 2000)}"),
            text_input(ids.ExpectationBlock.REASON, "What should be discussed?", multiline=True, max_length=MAX_REVIEW_TEXT),
        ],
    )
