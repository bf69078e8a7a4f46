"""The portfolio digest message: the partnerships most at risk in detail, every other one as a compact line.

Split into as many messages as Slack's limits need (``split_messages``): a workspace with a thousand partnerships
gets a long thread, never a rejected message. An ephemeral reply can carry only a few messages (a response_url
takes five), so ``max_messages`` shortens the compact list and says how many it left out. Every name and reason
is escaped; a withheld side shows no figures.
"""

from __future__ import annotations

from decimal import Decimal

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.blocks.layout import mrkdwn_context, mrkdwn_section, packed_sections
from bot.blocks.pulse import Message, split_messages
from bot.blocks.text import HEADER_MAX, escape, local_time_label, truncate
from bot.services.figures_format import format_gap, format_score, rated
from bot.services.portfolio_models import PortfolioEntry, PortfolioView, RiskLevel, SideStanding

#: Partnerships shown in detail (those at risk among the first this many); the rest are one line each.
DETAILED = 10
LEVEL_MARKS = {
    RiskLevel.HIGH: ":red_circle:",
    RiskLevel.WATCH: ":large_orange_circle:",
    RiskLevel.LOW: ":large_green_circle:",
}
LEVEL_WORDS = {RiskLevel.HIGH: "high risk", RiskLevel.WATCH: "watch", RiskLevel.LOW: "low risk"}
NAME_CHARS = 80


def _fmt(value: float | None) -> str:
    """A standing's figure (a ``bot.services.figures`` value carried as a float for the risk arithmetic)."""
    return format_score(None if value is None else Decimal(str(value)))


def _name(entry: PortfolioEntry) -> str:
    return escape(truncate(entry.partnership.name, NAME_CHARS))


def _side(s: SideStanding) -> str:
    org = escape(truncate(s.org, NAME_CHARS))
    if s.withheld:
        return f"{org} not enough answers"
    if s.health is None:
        return f"{org} no results"
    arrow = ""
    if s.change is not None and abs(s.change) >= 0.1:
        # As the digest writes a health index's change: ``↑ +0.2``, ``↓ −0.3``.
        arrow = f" {'↑' if s.change > 0 else '↓'} {format_gap(Decimal(str(s.change)))}"
    return f"{org} {_fmt(s.health)}{' (4 weeks)' if s.four_week else ''}{arrow}"


def _detail(position: int, e: PortfolioEntry) -> SectionBlock:
    head = f"*{position}. {_name(e)}* · {LEVEL_MARKS[e.level]} risk {e.score} ({LEVEL_WORDS[e.level]}) · <#{e.partnership.channel_id}>"
    figures = " · ".join(_side(s) for s in e.sides)
    if e.widest_gap is not None:
        g = e.widest_gap
        client, provider = (escape(truncate(s.org, NAME_CHARS)) for s in e.sides)
        figures += f" · widest gap: {rated(g.subject, g.dimension, client, provider)} {format_gap(g.gap)}"
    why = "; ".join(escape(r) for r in e.reasons) or "no single signal stands out"
    text = f"{head}\n{figures}\n_Why:_ {why}"
    return mrkdwn_section(text)


def _line(position: int, e: PortfolioEntry) -> str:
    return f"{position}. {_name(e)} · risk {e.score} ({LEVEL_WORDS[e.level]}) · " + " · ".join(_side(s) for s in e.sides)


def _build(
    view: PortfolioView, detailed: list[tuple[int, PortfolioEntry]], rest: list[tuple[int, PortfolioEntry]], shown: int
) -> list[Message]:
    entries = view.entries
    high = sum(1 for e in entries if e.level is RiskLevel.HIGH)
    watch = sum(1 for e in entries if e.level is RiskLevel.WATCH)
    when = local_time_label(view.as_of, view.timezone) if view.timezone else f"{view.as_of:%Y-%m-%d %H:%M} UTC"
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Portfolio · {view.workspace or 'all partnerships'}", HEADER_MAX)),
        mrkdwn_context(
            f"{len(entries)} partnership{'' if len(entries) == 1 else 's'} ranked by risk as of {when}: "
            f"*{high}* high, *{watch}* to watch. Risk 0–100 from each partnership's weekly digest: health, "
            "trend, perception gap, open S1/S2 issues, overdue actions and participation. A side with "
            "fewer answers than its anonymity threshold shows no figures."
        ),
    ]
    if view.problem:
        blocks.append(mrkdwn_section(f":warning: {view.problem}"))
    if not entries:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No partnerships in this workspace yet.")))
    if detailed:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Most at risk*")))
        blocks.extend(_detail(position, e) for position, e in detailed)
    if rest:
        lines = [_line(position, e) for position, e in rest[:shown]]
        if shown < len(rest):
            left = len(rest) - shown
            lines.append(
                f"…and {left} more lower-risk partnership{'' if left == 1 else 's'} (the weekly post lists them all)."
            )
        if detailed:
            blocks.append(DividerBlock())
        blocks.extend(packed_sections("*Everyone else*" if detailed else "*All partnerships*", lines))
    count = f"{len(entries)} partnership{'' if len(entries) == 1 else 's'}"
    fallback = f"Portfolio: {count} ranked by risk; {high} high, {watch} to watch."
    return split_messages(fallback, blocks)


def build_portfolio_messages(view: PortfolioView, *, max_messages: int | None = None) -> list[Message]:
    """The portfolio, highest risk first. ``max_messages`` (for ephemeral replies) shortens the compact list."""
    numbered = list(enumerate(view.entries, start=1))
    detailed = [(i, e) for i, e in numbered[:DETAILED] if e.level is not RiskLevel.LOW]
    rest = [(i, e) for i, e in numbered if (i, e) not in detailed]
    messages = _build(view, detailed, rest, len(rest))
    if max_messages is None or len(messages) <= max_messages:
        return messages
    low, high = 0, len(rest)  # the most compact lines that still fit
    while low < high:
        mid = (low + high + 1) // 2
        if len(_build(view, detailed, rest, mid)) <= max_messages:
            low = mid
        else:
            high = mid - 1
    return _build(view, detailed, rest, low)
