"""The weekly digest's main message (issue 12 item 6): the headline (``bot.services.digest_headline``), then only
what was measured this week, naming what was rated; the full detail goes in the message's thread
(``bot.blocks.digest.build_digest_detail``). One screen: a header, a context line, at most four sections and a
closing note.

Every figure is printed by ``bot.services.figures_format``, as on every other surface. User text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.blocks.digest import fallback_text, nps_line, period_line
from bot.blocks.pulse import Message
from bot.blocks.text import CONTEXT_TEXT_MAX, HEADER_MAX, SECTION_TEXT_MAX, escape, truncate
from bot.services import kpi_format
from bot.services.digest_models import DigestIssue, DigestView
from bot.services.figures import HEALTH_WEEKS, WITHHELD, Comparison
from bot.services.figures_format import (
    ARROWS,
    comparison_figures,
    format_gap,
    format_participation,
    format_score,
    rated,
    trend_text,
)
from bot.services.headline_models import (
    Decision,
    DecisionKind,
    Headline,
    IssueAlert,
    IssueReason,
    ItemChange,
)
from bot.services.issue_models import SEVERITY_LABELS
from bot.services.partnership_models import Side

#: Lines per headline part before "…and N more" (the rest is in the thread).
LINES_PER_PART = 4
#: Results of the week listed in the main message (all are in the thread).
MEASURED_LINES = 4
QUIET = "*A quiet week*: nothing changed that the figures can show, nothing needs attention and no decision is waiting."
#: Where the rest is, under the main message posted in the channel.
DETAIL_NOTE = (
    ":thread: The full detail (every result with its trend, the comments, all issues and actions) and the "
    "12-week trend chart are in this message's thread."
)
_BY_LEVEL = {2: "The leads of both sides", 3: "The executive sponsors of both sides"}


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, CONTEXT_TEXT_MAX))])


def _part(heading: str, lines: Sequence[str], empty: str, cap: int = LINES_PER_PART) -> SectionBlock:
    """A heading with its first ``cap`` lines (the rest counted), or the heading and ``empty`` on one line."""
    if not lines:
        return _section(f"{heading}: {empty}")
    shown = [f"• {line}" for line in lines[:cap]]
    if len(lines) > cap:
        shown.append(f"…and {len(lines) - cap} more in the thread.")
    return _section("\n".join([heading, *shown]))


def _org(view: DigestView, side: Side) -> str:
    return escape(view.side(side).org)


def _rated(view: DigestView, c: Comparison) -> str:
    return rated(c.subject, c.dimension, _org(view, Side.CLIENT), _org(view, Side.PROVIDER))


def _result(view: DigestView, c: Comparison) -> str:
    """``*Contoso's trust*: client 2.3 · provider 3.8 · gap +1.5 ⚠️``, as the detail and the round results write it."""
    return f"*{_rated(view, c)}*: {comparison_figures(c)}"


def _issue(view: DigestView, i: DigestIssue) -> str:
    return (
        f"issue #{i.number} {escape(i.title)} ({SEVERITY_LABELS.get(i.severity, i.severity)}, {_org(view, i.owning_side)})"
    )


def _numbers(issues: Sequence[DigestIssue]) -> str:
    numbers = [f"#{i.number}" for i in issues]
    return f"issue {numbers[0]}" if len(numbers) == 1 else "issues " + ", ".join(numbers)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# --- the parts ------------------------------------------------------------------------------------------------


def _change_line(view: DigestView, change: ItemChange) -> str:
    figure = change.comparison.side(change.side)
    return (
        f"{_rated(view, change.comparison)}, as {_org(view, change.side)} rates it: "
        f"{format_score(figure.average)} {trend_text(figure.average, figure.previous, figure.trend)}"
    )


def changed(view: DigestView, headline: Headline) -> list[str]:
    lines = []
    if headline.changes.health:
        moved = " · ".join(
            f"{_org(view, h.side)} {format_score(h.value)} {ARROWS[h.trend]} {format_gap(h.change)}"
            for h in headline.changes.health
        )
        lines.append(f"Health index ({HEALTH_WEEKS} weeks, against the {HEALTH_WEEKS} before): {moved}")
    return lines + [_change_line(view, c) for c in headline.changes.items]


def _alert_line(view: DigestView, alert: IssueAlert) -> str:
    i = alert.issue
    if alert.reason is IssueReason.ESCALATED:
        return f"{_issue(view, i)}: escalated to level {i.escalation_level}, open {_plural(i.age_days, 'day')}"
    return f"{_issue(view, i)}: not acknowledged after {_plural(i.age_days, 'day')}"


def attention(view: DigestView, headline: Headline) -> list[str]:
    a = headline.attention
    lines = [
        f"{_org(view, side)}: fewer than {view.threshold} answered, so its results are withheld this week"
        for side in a.withheld
    ]
    lines += [_result(view, c) for c in a.gaps]
    p = view.partnership
    lines += [escape(kpi_format.check_pairing_text(c, view.week_start, p.client_org, p.provider_org)) for c in a.kpis]
    lines += [_alert_line(view, alert) for alert in a.issues]
    if a.overdue:
        total = sum(len(o.actions) for o in a.overdue)
        per_side = " · ".join(f"{_org(view, o.side)} {len(o.actions)}" for o in a.overdue)
        lines.append(f"{_plural(total, 'overdue action')}: {per_side}")
    return lines


def _decision_line(view: DigestView, d: Decision) -> str:
    if d.kind is DecisionKind.ACKNOWLEDGE and d.side is not None:
        return f"{_org(view, d.side)}: acknowledge {_numbers(d.issues)} (logged, not yet acknowledged)"
    if d.kind is DecisionKind.ESCALATED:
        who = _BY_LEVEL.get(d.level, "Both sides")
        return f"{who}: decide how to resolve {_numbers(d.issues)} (escalated to level {d.level})"
    side = _org(view, d.side) if d.side is not None else "Both sides"
    return f"{side}: finish {_plural(d.actions, 'overdue action')} or agree a new date"


def decisions(view: DigestView, headline: Headline) -> list[str]:
    return [_decision_line(view, d) for d in headline.decisions]


def measured(view: DigestView) -> list[str]:
    """This week's results with a figure to show, widest gap first (a withheld side says so)."""
    hidden = {s.side for s in view.sides if s.withheld}
    items = [
        Comparison(i.subject, i.dimension, *(WITHHELD if side in hidden else i.side(side) for side in Side))
        for i in (*view.gaps, *(i for i in view.items if i.gap is None))
    ]
    return [_result(view, i) for i in items if any(i.side(side).average is not None for side in Side)]


def _measured_part(view: DigestView) -> SectionBlock:
    rounds = _plural(view.rounds, "pulse round")
    answered = " · ".join(f"{escape(s.org)} {format_participation(s.participation)}" for s in view.sides)
    heading = f"*Measured this week* ({rounds}; answered: {answered})"
    if not view.rounds:
        return _section("*Measured this week*: no pulse round closed this week.")
    lines = measured(view)
    nps = nps_line(view)
    shown = [f"• {line}" for line in lines[:MEASURED_LINES]]
    if len(lines) > MEASURED_LINES:
        shown.append(f"…and {len(lines) - MEASURED_LINES} more in the thread.")
    if not lines:
        everyone_withheld = all(s.withheld for s in view.sides)
        shown.append(
            "No result could be shown (too few answered on both sides)." if everyone_withheld else "No ratings this week."
        )
    if nps:
        shown.append(f"• {nps}")
    return _section("\n".join([heading, *shown]))


# --- the message ----------------------------------------------------------------------------------------------


def build_digest_headline(view: DigestView, headline: Headline, *, note: str | None = DETAIL_NOTE) -> Message:
    """The digest's main message: the headline, then what was measured; ``note`` (our own text, never user text)
    says where the detail is."""
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Weekly digest · {view.partnership.name}", HEADER_MAX)),
        _context(period_line(view)),
    ]
    if headline.quiet:
        blocks.append(_section(QUIET))
    else:
        blocks.append(_part("*What changed*", changed(view, headline), "nothing the figures can call a change."))
        blocks.append(_part("*Needs attention*", attention(view, headline), "nothing flagged."))
        blocks.append(_part("*Decisions needed*", decisions(view, headline), "none waiting."))
    blocks.append(_measured_part(view))
    if note:
        blocks.append(_context(note))
    return Message(text=fallback_text(view), blocks=blocks)
