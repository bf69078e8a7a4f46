"""Layout pieces every message builder shares: mrkdwn sections and contexts cut to Slack's limits, quoted user
text, dates, and a list cut to what one message holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.pulse import MAX_BLOCKS_PER_MESSAGE, MAX_MESSAGE_TEXT, text_length
from bot.blocks.text import CONTEXT_TEXT_MAX, SECTION_TEXT_MAX, escape, local_time_label, truncate
from bot.services.partnership_models import PartnershipView


def mrkdwn_section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))


def mrkdwn_context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, CONTEXT_TEXT_MAX))])


def packed_sections(heading: str, lines: Sequence[str]) -> list[Block]:
    """The heading and lines packed into as few sections as fit 3,000 characters each (a long line is cut)."""
    blocks: list[Block] = []
    current = heading
    for line in lines:
        line = truncate(line, SECTION_TEXT_MAX - 10)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_TEXT_MAX:
            blocks.append(mrkdwn_section(current))
            current = line
        else:
            current = candidate
    if current:
        blocks.append(mrkdwn_section(current))
    return blocks


def quote_lines(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """User text as a mrkdwn block quote, line by line, escaped and cut to ``limit``."""
    lines = [line.rstrip() for line in text.strip().splitlines()] or [""]
    return truncate("\n".join("> " + escape(line) if line else ">" for line in lines), limit)


def date_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def answered_by(p: PartnershipView, user_id: str | None, at: datetime | None) -> tuple[str, str]:
    """Who answered a proposal the other side was asked to agree to (a mention, or "someone") and when, in the
    partnership's time zone ("" before it was answered)."""
    return (f"<@{user_id}>" if user_id else "someone", local_time_label(at, p.timezone) if at else "")


def fit(head: list[Block], items: list[Block], tail: list[Block]) -> list[Block]:
    """Head, as many items as fit one message (blocks and text), a count of the rest, then the tail."""
    used = sum(text_length(b.to_dict()) for b in head + tail) + 40
    shown = fitting(items, used=used, room=MAX_BLOCKS_PER_MESSAGE - len(head) - len(tail) - 1)
    blocks = [*head, *shown]
    if len(shown) < len(items):
        blocks.append(mrkdwn_context(f"…and {len(items) - len(shown)} more."))
    return blocks + tail


def fitting(items: Sequence[Block], *, used: int, room: int) -> list[Block]:
    """The first of ``items`` (at most ``room``, at least one) whose text fits one message after ``used`` characters."""
    shown: list[Block] = []
    for block in items[:room]:
        size = text_length(block.to_dict())
        if shown and used + size > MAX_MESSAGE_TEXT:
            break
        shown.append(block)
        used += size
    return shown


def button_row(block_id: str, text: str, action_id: str, value: str, style: str | None = None) -> ActionsBlock:
    """One button on its own row (a list's "Add ..." or "More")."""
    return ActionsBlock(
        block_id=block_id, elements=[ButtonElement(text=text, action_id=action_id, value=value, style=style)]
    )


def channel_button_row(
    p: PartnershipView, block_id: str, text: str, action_id: str, style: str | None = None
) -> ActionsBlock:
    """A list's button that acts in the partnership's channel (its value: the channel, as a ``ChannelRef``)."""
    return button_row(block_id, text, action_id, encode(ChannelRef(p.team_id, p.channel_id)), style)
