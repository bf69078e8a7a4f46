"""The export's HTML rendering (``partnerpulse export --format html``): one self-contained report file.

A pure function of the report (``bot.services.export_models.ExportReport``): no Slack, no database. The HTML is one
file with inline CSS and the chart as a ``data:`` URI, so it can be mailed or archived and opens offline; every
piece of text goes through ``html.escape``. A Content-Security-Policy in the file forbids loading anything from
elsewhere. It shows each side's tone and recurring themes, never a comment (scorecard comments included).
"""

from __future__ import annotations

import base64
import html
from datetime import datetime
from decimal import Decimal

from bot.export_kpis import kpi_charts_section, kpi_section
from bot.services import figures
from bot.services.charts import alt_text, weekly_chart
from bot.services.digest_models import DigestIssue, DigestView
from bot.services.export_models import MAX_EXPECTATIONS, MAX_GOALS, ExportReport
from bot.services.figures import Comparison
from bot.services.figures_format import (
    FLAG_LEGEND,
    format_flag,
    format_gap,
    format_participation,
    format_score,
    health_text,
    trend_text,
)
from bot.services.figures_format import rated as rated_subject
from bot.services.issue_models import SEVERITY_LABELS
from bot.services.partnership_models import PartnershipView, Side
from bot.services.pulse_models import DIMENSION_LABELS
from bot.services.review_models import (
    EXPECTATION_STATUS_LABELS,
    GOAL_STATUS_LABELS,
    ExpectationStatus,
    ExpectationView,
    ScorecardReport,
    ScorecardSide,
)
from bot.services.schedule import zone

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;max-width:960px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .4em}.meta,.note{color:#555}.note{font-size:.9em}
table{border-collapse:collapse;margin:.4em 0 1em;width:100%}th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left}
th{background:#f5f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}.withheld{color:#8a6d00;font-style:italic}
.gap2{background:#fde2e1}.gap1{background:#fff4d6}figure{margin:1em 0}img{max-width:100%;height:auto}
ul{margin:.2em 0 .8em}.t{white-space:pre-wrap;overflow-wrap:anywhere}
@media print{h2{page-break-before:always}h2.first{page-break-before:avoid}}
""".strip()
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _gap_cell(gap: Decimal | None) -> str:
    """A gap's cell: signed, with the flag's icon, shaded by the flag (``figures.flag``)."""
    level = figures.flag(gap)
    shade = {figures.Flag.ACT: " gap2", figures.Flag.WATCH: " gap1"}.get(level, "")
    return f'<td class="n{shade}">{format_gap(gap)}{format_flag(level)}</td>'


def _item_row(view: DigestView, item: Comparison) -> str:
    p = view.partnership
    cells = [f"<th>{_e(rated_subject(item.subject, item.dimension, p.client_org, p.provider_org))}</th>"]
    for side in Side:
        if view.side(side).withheld:
            cells.append('<td class="withheld" colspan="2">withheld</td>')
            continue
        f = item.side(side)
        cells.append(f'<td class="n">{format_score(f.average)}</td>')
        cells.append(f'<td class="n">{_e(trend_text(f.average, f.previous, f.trend))}</td>')
    withheld = any(view.side(s).withheld for s in Side)
    cells.append(_gap_cell(None if withheld else item.gap))
    return "<tr>" + "".join(cells) + "</tr>"


def _side_lines(view: DigestView) -> str:
    items = []
    threshold = view.threshold
    for side in Side:
        said = view.side(side)
        org = _e(said.org)
        if said.withheld:
            items.append(
                f'<li><b>{org}</b>: <span class="withheld">withheld: fewer than {threshold} people answered, so no '
                "figures, tone or themes are shown</span></li>"
            )
            continue
        part = said.participation
        text = f"<b>{org}</b>: {_e(format_participation(part))} answered"
        if said.sentiment is not None:
            s = said.sentiment
            text += (
                f"; tone {_e(s.label)} ({s.mean:+.2f} over {s.comments} comment{'s' if s.comments != 1 else ''}: "
                f"{s.positive} positive, {s.neutral} neutral, {s.negative} negative)"
            )
        if said.themes:
            text += "; recurring: " + ", ".join(f"“{_e(t.phrase)}” ({t.comments})" for t in said.themes)
        items.append(f"<li>{text}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _issue_list(title: str, issues: tuple[DigestIssue, ...]) -> str:
    if not issues:
        return f"<li>{_e(title)}: none</li>"
    names = ", ".join(f"#{i.number} {_e(i.title)} ({_e(i.severity)})" for i in issues)
    return f"<li>{_e(title)} ({len(issues)}): {names}</li>"


def _work(view: DigestView) -> str:
    issues, actions, p = view.issues, view.actions, view.partnership
    severities = "".join(
        f"<tr><th>{_e(SEVERITY_LABELS.get(s.severity, s.severity))}</th>"
        + "".join(f'<td class="n">{n}</td>' for n in s.by_age)
        + f'<td class="n">{s.total}</td></tr>'
        for s in issues.open_by_severity
    )
    parts = [
        "<h3>Issues</h3><ul>",
        _issue_list("New", issues.new),
        _issue_list("Resolved", issues.resolved),
        _issue_list("Escalated", issues.escalated),
        f"<li>Open at the end of the week: {issues.open_total}</li></ul>",
        "<table><tr><th>Open by severity</th><th>under 1 week</th><th>1–4 weeks</th><th>4 weeks or more</th>"
        f"<th>total</th></tr>{severities}</table>",
        "<h3>Actions</h3><ul>",
        "<li>Open: "
        + ", ".join(f"{_e(p.org(side))} {actions.open_by_side.get(side, 0)}" for side in Side)
        + f" (overdue {len(actions.overdue)})</li>",
    ]
    for label, items in (("Overdue", actions.overdue), ("Done this week", actions.done)):
        listed = ", ".join(f"{_e(a.title)} ({_e(p.org(a.side))}, due {a.due_on.isoformat()})" for a in items)
        parts.append(f"<li>{label} ({len(items)}){': ' + listed if items else ''}</li>")
    parts.append("</ul><h3>Shared goals</h3>")
    if not view.goals.tracked:
        parts.append("<p>Not tracked yet.</p>")
    elif not view.goals.goals:
        parts.append("<p>No shared goals.</p>")
    else:
        parts.append(
            "<ul>" + "".join(f"<li>{_e(g.title)}: {_e(g.status.replace('_', ' '))}</li>" for g in view.goals.goals) + "</ul>"
        )
    return "".join(parts)


def _week(view: DigestView) -> str:
    p = view.partnership
    head = (
        f"<tr><th rowspan=2>What was rated</th><th colspan=2>{_e(p.client_org)}</th><th colspan=2>{_e(p.provider_org)}"
        "</th><th rowspan=2>Gap</th></tr><tr>" + "<th>average</th><th>against the last time</th>" * 2 + "</tr>"
    )
    rows = "".join(_item_row(view, i) for i in view.items) or '<tr><td colspan="6">No pulse results this week.</td></tr>'
    health = "".join(
        f"<li><b>{_e(view.side(side).org)}</b>: "
        + ("withheld" if view.side(side).withheld else _e(health_text(view.health_of(side))))
        + "</li>"
        for side in Side
    )
    rounds = f"{view.rounds} pulse round{'s' if view.rounds != 1 else ''} closed"
    return (
        f"<section><h2>Week of {_e(view.week_start.isoformat())}</h2>"
        f'<p class="meta">{rounds}. Scores 1–5; {_e(FLAG_LEGEND)}.</p>'
        f"<h3>Health index</h3><ul>{health}</ul>"
        f"<table>{head}{rows}</table>{kpi_section(view)}<h3>Participation and tone</h3>{_side_lines(view)}{_work(view)}"
        "</section>"
    )


def _min_answers(p: PartnershipView) -> int:
    return figures.min_respondents(p.anonymity_threshold)


def _local_day(when: datetime | None, tz: str) -> str:
    return "–" if when is None else when.astimezone(zone(tz)).date().isoformat()


def _seen(card: ScorecardReport, rated: ScorecardSide) -> str:
    """How one side is seen, per dimension: by itself, by the other side, and the gap, flagged like the channel."""
    other = card.sides[1] if rated.side is Side.CLIENT else card.sides[0]
    own, them = _e(rated.org), _e(other.org)
    head = f"<h3>How {own} ({_e(rated.side.value)}) is seen</h3>"
    rows = []
    for row in rated.about:
        cells = [f"<th>{_e(DIMENSION_LABELS.get(row.dimension, row.dimension.capitalize()))}</th>"]
        for withheld, value in ((rated.withheld, row.self_rating), (other.withheld, row.other_rating)):
            cells.append('<td class="withheld">withheld</td>' if withheld else f'<td class="n">{format_score(value)}</td>')
        cells.append(_gap_cell(None if rated.withheld or other.withheld else row.gap))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"{head}<table><tr><th>Dimension</th><th>{own} rates itself</th><th>{them} rates it</th><th>Gap</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _too_few(card: ScorecardReport) -> str:
    """A scorecard too few people answered on both sides: said once, plainly, as the channel says it."""
    p, s = card.partnership, card.scorecard
    client, provider = card.sides
    return (
        f"<section><h2>Scorecard {_e(s.period)}: perception gaps</h2>"
        f'<p class="meta">Closed {_e(_local_day(s.closed_at, p.timezone))}.</p>'
        f"<p>Too few people answered this scorecard to show results: {client.respondents} of the {_min_answers(p)} "
        f"needed on the client side ({_e(client.org)}), {provider.respondents} on the provider side "
        f"({_e(provider.org)}).</p></section>"
    )


def _scorecard(card: ScorecardReport) -> str:
    p, s = card.partnership, card.scorecard
    least = _min_answers(p)
    if all(side.withheld for side in card.sides):
        return _too_few(card)
    answered = " · ".join(
        f"{_e(side.org)}: fewer than {least} answered" if side.withheld else f"{_e(side.org)}: {side.respondents} answered"
        for side in card.sides
    )
    withheld = "".join(
        f'<p class="note withheld">{_e(side.org)}: fewer than {least} people answered, so its ratings are not shown '
        "(anonymity).</p>"
        for side in card.sides
        if side.withheld
    )
    return (
        f"<section><h2>Scorecard {_e(s.period)}: perception gaps</h2>"
        f'<p class="meta">Closed {_e(_local_day(s.closed_at, p.timezone))} · {answered}. Scores 1–5; '
        f"{_e(FLAG_LEGEND)}.</p>"
        f"{withheld}{_seen(card, card.sides[0])}{_seen(card, card.sides[1])}"
        '<p class="note">Scorecard comments are not included in this export; like every comment, they stay in the '
        "channel's report (and only for a side with enough answers).</p></section>"
    )


def _scorecards(report: ExportReport) -> str:
    if not report.scorecards:
        return "<section><h2>Scorecards</h2><p>No bilateral scorecard closed in these weeks.</p></section>"
    return "".join(_scorecard(card) for card in report.scorecards)


def _standing_table(
    title: str,
    as_of: str,
    *,
    empty: str,
    count: int,
    first: str,
    limit: int,
    headings: tuple[str, ...],
    rows: str,
    lead: str = "",
) -> str:
    """A section listing a table as it stands on the report's day (``as_of``): ``empty`` when it has no rows;
    else ``lead``, the table, and a note when it holds only the first ``limit`` (``first`` names them)."""
    head = f'<section><h2>{title}</h2><p class="meta">{as_of}.</p>'
    if not count:
        return f"{head}<p>{empty}</p></section>"
    more = f'<p class="note">The first {limit} {first}.</p>' if count >= limit else ""
    cells = "".join(f"<th>{h}</th>" for h in headings)
    return f"{head}{lead}<table><tr>{cells}</tr>{rows}</table>{more}</section>"


def _goals(report: ExportReport) -> str:
    p = report.partnership
    rows = "".join(
        f'<tr><td class="n">#{g.number}</td><td class="t">{_e(g.title)}</td><td>{_e(g.client_owner)}</td>'
        f"<td>{_e(g.provider_owner)}</td><td>{_e(GOAL_STATUS_LABELS[g.status.value])}</td>"
        f"<td>{_e(g.due_on.isoformat() if g.due_on else '–')}</td></tr>"
        for g in report.goals
    )
    return _standing_table(
        "Shared goals",
        f"As they stand on {_e(report.generated_at.date())}",
        empty="No shared goals recorded.",
        count=len(report.goals),
        first="goals",
        limit=MAX_GOALS,
        headings=("#", "Goal", f"{_e(p.client_org)} owner", f"{_e(p.provider_org)} owner", "Status", "Due"),
        rows=rows,
    )


def _answer(p: PartnershipView, e: ExpectationView) -> str:
    """The other side's answer: agreed, or the reason it asked to discuss, with the day it answered."""
    if e.responded_at is None:
        return "–"
    day = _e(_local_day(e.responded_at, p.timezone))
    if e.response:
        return f'{day}: <span class="t">{_e(e.response)}</span>'
    return f"{day}: agreed" if e.status is ExpectationStatus.AGREED else day


def _ledger(report: ExportReport) -> str:
    p = report.partnership
    counts = " · ".join(
        f"{_e(EXPECTATION_STATUS_LABELS[status.value])}: {n}"
        for status in ExpectationStatus
        if (n := sum(1 for e in report.expectations if e.status is status))
    )
    rows = "".join(
        f'<tr><td class="n">#{e.number}</td><td>{_e(p.org(e.from_side))} expects of {_e(p.org(e.to_side))}</td>'
        f'<td class="t">{_e(e.text)}</td><td>{_e(EXPECTATION_STATUS_LABELS[e.status.value])}</td>'
        f"<td>{_answer(p, e)}</td></tr>"
        for e in report.expectations
    )
    return _standing_table(
        "Expectations ledger",
        f"As it stands on {_e(report.generated_at.date())}",
        empty="Nothing recorded.",
        count=len(report.expectations),
        first="entries",
        limit=MAX_EXPECTATIONS,
        headings=("#", "Who expects it of whom", "Expectation", "Status", "Answer"),
        rows=rows,
        lead=f"<p>{counts}.</p>",
    )


def render_html(report: ExportReport) -> str:
    """The report as one self-contained HTML document (inline CSS, the chart embedded, nothing loaded)."""
    p = report.partnership
    png = base64.b64encode(weekly_chart(report.chart)).decode("ascii")
    first = report.weeks[0].week_start.isoformat() if report.weeks else ""
    last = report.weeks[-1].week_start.isoformat() if report.weeks else ""
    summary_rows = "".join(
        "<tr>"
        f"<td>{_e(v.week_start.isoformat())}</td>"
        + "".join(
            '<td class="withheld">withheld</td>'
            if v.side(side).withheld
            else f'<td class="n">{format_score(v.health_shown(side))}</td>'
            for side in Side
        )
        + f"<td>{_e(_widest(v))}</td>"
        f'<td class="n">{v.issues.open_total}</td><td class="n">{len(v.actions.overdue)}</td>'
        "</tr>"
        for v in report.weeks
    )
    weeks = "".join(_week(v) for v in report.weeks)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(p.name)}: partnership report {first} to {last}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(p.name)}</h1>"
        f'<p class="meta">{_e(p.client_org)} (client) and {_e(p.provider_org)} (provider) · weeks beginning '
        f"{_e(first)} to {_e(last)} · generated {_e(report.generated_at.strftime('%Y-%m-%d %H:%M UTC'))}</p>"
        f'<p class="note">Answers are anonymous. A side with fewer than {p.anonymity_threshold} respondents in a week '
        "is withheld: no averages, gap, tone or themes. No answer is shown per person, and no comment is reproduced "
        "(scorecard comments included).</p>"
        f'<figure><img src="data:image/png;base64,{png}" alt="{_e(alt_text(report.chart))}" width="640" height="320">'
        f"<figcaption>Health index per side by week (1–5; each week: every answer of the {figures.HEALTH_WEEKS} weeks "
        "up to it, when they cover every dimension).</figcaption></figure>"
        "<h2 class=first>Summary</h2><table><tr><th>Week</th>"
        f"<th>{_e(p.client_org)} health index</th><th>{_e(p.provider_org)} health index</th><th>Widest gap</th>"
        "<th>Open issues</th>"
        f"<th>Overdue actions</th></tr>{summary_rows}</table>"
        f"{kpi_charts_section(report)}{_scorecards(report)}{_goals(report)}{_ledger(report)}{weeks}</body></html>\n"
    )


def _widest(view: DigestView) -> str:
    """The week's widest gap, naming what was rated (none when a side is withheld)."""
    if any(view.side(s).withheld for s in Side) or not view.gaps:
        return "–"
    g, p = view.gaps[0], view.partnership
    return f"{rated_subject(g.subject, g.dimension, p.client_org, p.provider_org)} {format_gap(g.gap)}{format_flag(g.flag)}"
