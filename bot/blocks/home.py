"""The App Home tab: the person's open actions, the issues they own or raised, and their partnerships.

Every item carries its own buttons (the same overflow menus as the lists), so people act from here without
looking for the card in the channel. At most 100 blocks, as Slack allows on a Home tab.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from slack_sdk.models.blocks import (
    Block,
    BlockElement,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.issue_lists import action_line, action_menu, issue_line, issue_menu
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.text import CONTEXT_TEXT_MAX, SECTION_TEXT_MAX, escape, truncate
from bot.services.issue_models import SEVERITIES, ActionView, IssueView
from bot.services.partnership_models import PartnershipView

MAX_HOME_BLOCKS = 100


def _section(text: str, accessory: BlockElement | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)), accessory=accessory)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, CONTEXT_TEXT_MAX))])


class InPartnership(Protocol):
    @property
    def partnership_id(self) -> int: ...


Item = TypeVar("Item", bound=InPartnership)


def _items(
    items: Sequence[Item],
    by_id: Mapping[int, PartnershipView],
    line_and_menu: Callable[[Item, PartnershipView], tuple[str, BlockElement]],
    *,
    empty: str,
    more: str | None,
) -> list[Block]:
    """One section per item of a partnership the tab shows (its line, the partnership's name and its menu), ``empty``
    when there are none, and where ``more`` (the command listing them all) is given, a note that there are more."""
    blocks: list[Block] = []
    for item in items:
        p = by_id.get(item.partnership_id)
        if p is not None:
            line, menu = line_and_menu(item, p)
            blocks.append(_section(f"{line} · {escape(p.name)}", menu))
    if not blocks:
        blocks.append(_section(empty))
    if more:
        blocks.append(_context(f"…and more: {more} in a partnership's channel lists them all."))
    return blocks


def build_home(
    *,
    partnerships: Sequence[tuple[PartnershipView, Mapping[str, int]]],
    issues: Sequence[IssueView],
    actions: Sequence[ActionView],
    more_issues: bool = False,
    more_actions: bool = False,
) -> View:
    """The Home tab. ``partnerships`` pairs each partnership with its unresolved issues per severity."""
    by_id = {p.id: p for p, _ in partnerships}
    blocks: list[Block] = [
        HeaderBlock(text="PartnerPulse"),
        _context("Your open actions, the issues you own or raised, and the partnerships you are part of."),
        HeaderBlock(text="Your open actions"),
    ]
    blocks += _items(
        actions,
        by_id,
        lambda a, p: (action_line(a), action_menu(a, p.channel_id)),
        empty="Nothing open. :tada:",
        more="`/partner actions`" if more_actions else None,
    )
    blocks += [DividerBlock(), HeaderBlock(text="Issues you own or raised")]
    blocks += _items(
        issues,
        by_id,
        lambda i, p: (issue_line(i, p), issue_menu(i, p.channel_id)),
        empty="No open issues of yours.",
        more="`/partner issues mine`" if more_issues else None,
    )
    blocks += [DividerBlock(), HeaderBlock(text="Your partnerships")]
    for p, counts in partnerships:
        open_total = sum(counts.values())
        by_severity = " · ".join(f"{s} {counts.get(s, 0)}" for s in SEVERITIES)
        summary = f"open issues: {by_severity}" if open_total else "no open issues"
        blocks.append(
            _section(
                f"*{escape(p.name)}* in <#{p.channel_id}>\n{escape(p.client_org)} and {escape(p.provider_org)} · {summary}",
                ButtonElement(
                    text="Log issue",
                    action_id=ids.Action.MENU_LOG_ISSUE,
                    value=encode(ChannelRef(team_id=p.team_id, channel_id=p.channel_id)),
                ),
            )
        )
    if not partnerships:
        blocks.append(
            _section("You are not part of a partnership yet. A lead starts one with `/partner setup` in a shared channel.")
        )
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])
