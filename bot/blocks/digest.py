"""The weekly digest message (DESIGN 3.4), split into as many messages as Slack's limits need.

Every piece of user text (names, comments, themes, issue and action titles) is escaped, so nothing in a digest
can mention, ping or disguise a link. A withheld side shows no figures and no comments here, whatever the read
model holds. Nobody is named: the digest is public in the channel, and owners hear about their own overdue
actions privately.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.blocks.layout import packed_sections
from bot.blocks.pulse import MAX_BLOCKS_PER_MESSAGE, MAX_MESSAGE_TEXT, Message, pack_blocks
from bot.blocks.text import CONTEXT_TEXT_MAX, FALLBACK_TEXT_MAX, HEADER_MAX, SECTION_TEXT_MAX, escape, quote, truncate
from bot.services import kpi_format
from bot.services.digest_models import AGE_BUCKETS, DigestAction, DigestIssue, DigestView, SideDigest
from bot.services.figures import HEALTH_WEEKS, WITHHELD, Comparison
from bot.services.figures_format import (
    FLAG_LEGEND,
    NOT_ENOUGH,
    comparison_figures,
    format_nps,
    format_participation,
    format_score,
    health_text,
    rated,
    trend_text,
)
from bot.services.issue_models import ESCALATION_LEVEL_LABELS, SEVERITY_LABELS
from bot.services.partnership_models import Side

COMMENTS_PER_SIDE = 10
#: A digest quotes comments, it does not reprint them: each is cut to this (the round's results show them whole).
COMMENT_CHARS = 600
ITEMS_PER_LIST = 15
#: Slack's limit for one text of a section's ``fields``.
FIELD_TEXT_MAX = 2000
#: Ephemeral messages cannot carry files, so a preview says where the chart will be.
PREVIEW_NOTE = (
    ":eyes: *Preview, only you can see this*: the last seven days as of now. The posted digest leads with this "
    "headline; the full detail below goes in its thread, with the 12-week trend chart."
)


def copy_note(channel_id: str) -> str:
    """The line under a subscriber's direct-message copy: where the digest, its detail and its chart were posted."""
    return (
        f":envelope: Your copy of the digest posted in <#{channel_id}>; its full detail and the trend chart are in "
        "its thread there."
    )


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, CONTEXT_TEXT_MAX))])


def _capped(lines: list[str], total: int) -> list[str]:
    if total > len(lines):
        lines.append(f"…and {total - len(lines)} more.")
    return lines


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def _local(at: datetime, tz: str) -> datetime:
    return at.astimezone(ZoneInfo(tz))


# --- sections ------------------------------------------------------------------------------------------------


def _health(view: DigestView) -> list[Block]:
    """Each side's health index: every comparable answer of the last weeks, shown only when they cover the bank."""
    fields = []
    for side in Side:
        sd, h = view.side(side), view.health_of(side)
        text = f":lock: withheld: fewer than {view.threshold} answered" if sd.withheld else health_text(h)
        fields.append(MarkdownTextObject(text=truncate(f"*{escape(sd.org)}*: {text}", FIELD_TEXT_MAX)))
    heading = (
        f"*Health index* (the mean of every answer of the last {HEALTH_WEEKS} weeks, shown when they cover every "
        f"dimension; the arrow compares the {HEALTH_WEEKS} weeks before)"
    )
    return [SectionBlock(text=MarkdownTextObject(text=truncate(heading, SECTION_TEXT_MAX)), fields=fields)]


def _trends(item: Comparison) -> str:
    """Each side's trend against the same items the last time; one note when neither side has one yet."""
    shown = [(side, item.side(side)) for side in Side if item.side(side).average is not None]
    if not shown or item.subject is None:
        return ""
    if all(f.previous is None for _, f in shown):
        return f" (trend: {NOT_ENOUGH})"
    return " (" + "; ".join(f"{side.value} {trend_text(f.average, f.previous, f.trend)}" for side, f in shown) + ")"


def _item_line(item: Comparison, view: DigestView) -> str:
    client, provider = escape(view.side(Side.CLIENT).org), escape(view.side(Side.PROVIDER).org)
    return f"• *{rated(item.subject, item.dimension, client, provider)}*: {comparison_figures(item)}{_trends(item)}"


def _results(view: DigestView) -> list[Block]:
    """This week's results, one line per subject and dimension asked, widest gap first; each side's trend
    against the same items the last time they were asked."""
    heading = f"*This week's results* (scores 1–5; {FLAG_LEGEND})"
    hidden = {s.side for s in view.sides if s.withheld}
    items = [
        Comparison(i.subject, i.dimension, *(WITHHELD if side in hidden else i.side(side) for side in Side))
        for i in (*view.gaps, *(i for i in view.items if i.gap is None))
    ]
    if not items:
        return packed_sections(heading, ["No pulse closed this week." if not view.rounds else "No answers this week."])
    return packed_sections(heading, [_item_line(i, view) for i in items])


def _participation(view: DigestView) -> list[Block]:
    parts = []
    for s in view.sides:
        p = s.participation
        parts.append(f"*{escape(s.org)}* {format_participation(p)}")
    rounds = "1 pulse round" if view.rounds == 1 else f"{view.rounds} pulse rounds"
    return [_section(f"*Participation* ({rounds} closed this week): " + " · ".join(parts))]


def _voice(s: SideDigest, threshold: int) -> list[Block]:
    heading = f"*What {escape(s.org)} said*"
    if s.withheld:
        return [
            _section(
                f"{heading}\n:lock: Withheld: fewer than {threshold} answered, so this side's averages and comments are "
                "not shown, to keep answers anonymous."
            )
        ]
    if not s.comments:
        return [_section(f"{heading}\nNo comments this week.")]
    lines = []
    if s.sentiment is not None:
        t = s.sentiment
        lines.append(
            f"Tone of {t.comments} comment{'s' if t.comments != 1 else ''}: {t.negative} negative · {t.neutral} neutral · "
            f"{t.positive} positive (average {t.mean:+.2f} on a scale of −1 to +1)"
        )
    if s.themes:
        lines.append("Recurring: " + ", ".join(f"“{escape(t.phrase)}” ({t.comments})" for t in s.themes))
    blocks = packed_sections(heading, lines)
    for comment in s.comments[:COMMENTS_PER_SIDE]:
        blocks.append(_section(quote(comment, COMMENT_CHARS)))
    if len(s.comments) > COMMENTS_PER_SIDE:
        blocks.append(_context(f"…and {len(s.comments) - COMMENTS_PER_SIDE} more comments."))
    return blocks


def _issue_line(i: DigestIssue, view: DigestView, *, level: bool = False) -> str:
    org = escape(view.side(i.owning_side).org)
    extra = f", {ESCALATION_LEVEL_LABELS.get(i.escalation_level, '')}" if level else ""
    return f"• *#{i.number}* {escape(i.title)} ({SEVERITY_LABELS.get(i.severity, i.severity)}, {org}{extra})"


def _issue_list(title: str, items: Sequence[DigestIssue], view: DigestView, *, level: bool = False) -> list[str]:
    if not items:
        return []
    lines = [f"_{title}_"] + [_issue_line(i, view, level=level) for i in items[:ITEMS_PER_LIST]]
    return _capped(lines, len(items) + 1)


def _issues(view: DigestView) -> list[Block]:
    s = view.issues
    heading = (
        f"*Issues*: {len(s.new)} new · {len(s.resolved)} resolved · {len(s.escalated)} escalated this week · "
        f"{s.open_total} open"
    )
    lines: list[str] = []
    lines += _issue_list("New", s.new, view)
    lines += _issue_list("Resolved", s.resolved, view)
    lines += _issue_list("Escalated", s.escalated, view, level=True)
    ages = [
        f"• {SEVERITY_LABELS.get(a.severity, a.severity)}: {a.total} ("
        + ", ".join(f"{label} {n}" for label, n in zip(AGE_BUCKETS, a.by_age, strict=True) if n)
        + ")"
        for a in s.open_by_severity
        if a.total
    ]
    if ages:
        lines += ["_Open, by severity and age_", *ages]
    return packed_sections(heading, lines)


def _action_line(a: DigestAction, view: DigestView, *, due: bool) -> str:
    org = escape(view.side(a.side).org)
    issue = f", issue #{a.issue_number}" if a.issue_number is not None else ""
    when = f", due {_day(a.due_on)}" if due else ""
    return f"• {escape(a.title)} ({org}{when}{issue})"


def _actions(view: DigestView) -> list[Block]:
    s = view.actions
    by_side = " · ".join(f"{escape(view.side(side).org)} {s.open_by_side.get(side, 0)}" for side in Side)
    heading = f"*Actions*: {s.open_total} open ({by_side}) · {len(s.overdue)} overdue · {len(s.done)} done this week"
    lines: list[str] = []
    if s.overdue:
        lines.append("_Overdue_")
        lines += _capped([_action_line(a, view, due=True) for a in s.overdue[:ITEMS_PER_LIST]], len(s.overdue))
    if s.done:
        lines.append("_Done this week_")
        lines += _capped([_action_line(a, view, due=False) for a in s.done[:ITEMS_PER_LIST]], len(s.done))
    return packed_sections(heading, lines)


def _goals(view: DigestView) -> list[Block]:
    g = view.goals
    if not g.tracked:
        return [_section("*Shared goals*\nShared goals are not tracked yet.")]
    if not g.goals:
        return [_section("*Shared goals*\nNo shared goals yet.")]
    lines = [f"• {escape(goal.title)}: {escape(goal.status)}" for goal in g.goals[:ITEMS_PER_LIST]]
    return packed_sections("*Shared goals*", _capped(lines, len(g.goals)))


# --- the message ---------------------------------------------------------------------------------------------


def fallback_text(view: DigestView) -> str:
    """The notification text of the digest's main message."""
    parts = []
    for side in Side:
        s, h = view.side(side), view.health_of(side)
        parts.append(f"{escape(s.org)} {'withheld' if s.withheld else format_score(h.value)}")
    text = (
        f"Weekly digest for {escape(view.partnership.name)}, week of {_day(view.week_start)}: health index "
        + ", ".join(parts)
        + f"; {len(view.issues.new)} new issues, {view.issues.open_total} open; "
        + (f"{n} overdue action." if (n := len(view.actions.overdue)) == 1 else f"{n} overdue actions.")
    )
    return truncate(text, FALLBACK_TEXT_MAX)


def period_line(view: DigestView) -> str:
    """The week, the scale and the anonymity rule, under the digest's heading."""
    p = view.partnership
    start, end = _local(view.starts_at, p.timezone), _local(view.ends_at, p.timezone)
    return (
        f"{_day(start.date())} – {_day(end.date())} {end.year}, to {end:%H:%M} {end.tzname()} · "
        f"scores 1–5, {FLAG_LEGEND} · "
        f":lock: a side's results and comments show only when at least {view.threshold} of its people answered"
    )


def nps_line(view: DigestView) -> str | None:
    """``Relationship NPS: Northwind NPS +20 (5 answers: …) · Contoso withheld (too few answers)``; None when no
    round of the week asked it."""
    if view.nps is None:
        return None
    return "Relationship NPS (promoters − detractors): " + " · ".join(
        f"{escape(view.side(n.side).org)} {format_nps(n)}" for n in view.nps
    )


def _nps(view: DigestView) -> list[Block]:
    line = nps_line(view)
    return [_section(f"*{line.replace(': ', '*: ', 1)}")] if line else []


def _kpis(view: DigestView) -> list[Block]:
    """Each dimension's agreed KPIs beside each side's score of it (the watermelon check); nothing without KPIs."""
    if view.kpis is None or not view.kpis.dimensions:
        return []
    p, lines = view.partnership, []
    for check in view.kpis.dimensions:
        head, *kpis = kpi_format.dimension_lines(check, view.week_start, p.client_org, p.provider_org)
        lines += [f"• *{escape(head)}*", *(f"    ◦ {escape(k)}" for k in kpis)]
    heading = (
        f"*Agreed KPIs beside how each side rates the dimension* (each KPI's latest figure of its last two periods; "
        f"scores: the last {HEALTH_WEEKS} weeks' answers)"
    )
    return [DividerBlock(), *packed_sections(heading, lines)]


def _detail_groups(view: DigestView) -> list[list[Block]]:
    groups: list[list[Block]] = [_health(view), [DividerBlock(), *_results(view)], _participation(view) + _nps(view)]
    if kpis := _kpis(view):
        groups.append(kpis)
    for s in view.sides:
        groups.append([DividerBlock(), *_voice(s, view.threshold)])
    groups.append([DividerBlock(), *_issues(view)])
    groups.append(_actions(view))
    groups.append(_goals(view))
    return groups


def _messages(groups: list[list[Block]], fallback: str, label: str) -> list[Message]:
    # One block of each later message says which part it is.
    chunks = pack_blocks(groups, MAX_BLOCKS_PER_MESSAGE - 1, MAX_MESSAGE_TEXT)
    if len(chunks) == 1:
        return [Message(text=fallback, blocks=chunks[0])]
    total = len(chunks)
    messages = [Message(text=fallback, blocks=chunks[0])]
    for i, chunk in enumerate(chunks[1:], start=2):
        part = f"{label} (part {i} of {total})"
        messages.append(Message(text=truncate(part, FALLBACK_TEXT_MAX), blocks=[_context(part), *chunk]))
    return messages


def build_digest_messages(view: DigestView, *, note: str | None = None) -> list[Message]:
    """The whole weekly digest as one or more messages, each within Slack's limits (≤ 50 blocks, ≤ 3,000
    characters per section, ≤ ``MAX_MESSAGE_TEXT`` characters of text in all). Later messages say which part they
    are. (The posted digest leads with its headline, ``bot.blocks.digest_headline``; this full text is its thread's
    detail, ``build_digest_detail``, and what a preview shows.)

    ``note`` is our own line under the heading (where the chart is; that this is a preview or a copy); it is
    not escaped, so it must never carry user text.
    """
    intro: list[Block] = [
        HeaderBlock(text=truncate(f"Weekly digest · {view.partnership.name}", HEADER_MAX)),
        _context(period_line(view)),
    ]
    if note:
        intro.append(_context(note))
    label = f"Weekly digest for {escape(view.partnership.name)}"
    return _messages([intro, *_detail_groups(view)], fallback_text(view), label)


def build_digest_detail(view: DigestView) -> list[Message]:
    """The digest's full detail, for its thread: every result with its trend, participation and NPS, what each
    side said, all issues, actions and shared goals."""
    name = escape(view.partnership.name)
    intro: list[Block] = [_context(f"*Full detail* of the weekly digest for {name}, week of {_day(view.week_start)}")]
    label = f"Full detail of the weekly digest for {name}"
    return _messages([intro, *_detail_groups(view)], truncate(label, FALLBACK_TEXT_MAX), label)
