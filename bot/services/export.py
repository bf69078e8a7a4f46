"""The quarterly business review export (issue 4 item 7): a self-contained HTML report and a CSV of aggregates.

Both are built from the weekly digests (``bot.services.digest.build_digest``), one per week of the range, so an
export shows the figures the channel saw and keeps the same anonymity rule: a withheld side exports no numbers at
all (its cells are empty and the ``withheld`` column says why), not even the four-week average or participation
that could be combined with other weeks to recover a small group's answers. Nothing is exported per person, and no
comment is reproduced: the HTML shows each side's tone and recurring themes, the CSV only aggregates.

The renderers are pure functions of the report (no Slack, no database): the HTML is one file with inline CSS and
the chart as a ``data:`` URI, so it can be mailed or archived and opens offline; every piece of text goes through
``html.escape``. A Content-Security-Policy in the file forbids loading anything from elsewhere.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.services import digest
from bot.services.charts import alt_text, weekly_chart
from bot.services.errors import InvalidInput, NotFound
from bot.services.models import (
    DIMENSION_LABELS,
    SEVERITY_LABELS,
    ChartLine,
    ChartSeries,
    DigestIssue,
    DigestView,
    DimensionHealth,
    PartnershipView,
    Side,
    SideHealth,
)
from bot.services.partnerships import get_partnership_by_id
from bot.services.schedule import zone
from storage.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]

#: Without --from, a quarter: the thirteen weeks up to the latest complete one.
DEFAULT_WEEKS = 13
#: Two years of weeks at most per export (each week is a digest to build).
MAX_WEEKS = 104
CSV_COLUMNS = (
    "week_start",
    "side",
    "organisation",
    "dimension",
    "average",
    "answers",
    "four_week_average",
    "gap",
    "responded",
    "asked",
    "withheld",
)
OVERALL = "overall"


@dataclass(frozen=True)
class ExportReport:
    """The weeks of one partnership to export, oldest first, and the chart over them."""

    partnership: PartnershipView
    weeks: tuple[DigestView, ...]
    generated_at: datetime
    chart: ChartSeries


def parse_day(text: str, option: str) -> date:
    """A calendar date written ``YYYY-MM-DD``; InvalidInput naming the option otherwise."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-10-01.") from None


def parse_partnership_id(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidInput(f"--partnership {text!r} is not a partnership id (a whole number).") from None
    if value <= 0:
        raise InvalidInput(f"--partnership {text!r} is not a partnership id (a whole number above 0).")
    return value


def _week_end(p: PartnershipView, week_start: date) -> datetime:
    """The digest time that ends the week beginning on local date ``week_start``."""
    local = datetime.combine(week_start + timedelta(days=7), time(p.digest_hour, p.digest_minute))
    return local.replace(tzinfo=zone(p.timezone)).astimezone(UTC)


def _shown(view: DigestView, side: Side) -> float | None:
    return None if view.side(side).withheld else view.overall.side(side).week


def build_export(
    uow_factory: UowFactory, *, partnership_id: int, start: date | None, end: date | None, now: datetime
) -> ExportReport:
    """The weekly digests of the weeks that began between ``start`` and ``end`` (local dates, inclusive) and have
    ended by ``now``. Without ``start``: the thirteen weeks up to ``end`` (or the latest complete week).

    Raises:
        NotFound: no such partnership.
        InvalidInput: ``start`` after ``end``, no complete week in the range, or more than ``MAX_WEEKS`` weeks.
    """
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"--from {start.isoformat()} is after --to {end.isoformat()}.")
    p = get_partnership_by_id(uow_factory(), partnership_id=partnership_id)
    if p is None:
        raise NotFound(f"There is no partnership with id {partnership_id}.")
    latest = digest.build_digest(uow_factory(), partnership_id=partnership_id, week_start=None, now=now).week_start
    last = latest
    if end is not None and end < latest:
        last = latest - timedelta(days=7 * -(-(latest - end).days // 7))  # the last week start on or before ``end``
    first = start if start is not None else last - timedelta(days=7 * (DEFAULT_WEEKS - 1))
    starts: list[date] = []
    day = last
    while day >= first:
        starts.append(day)
        if len(starts) > MAX_WEEKS:
            raise InvalidInput(f"That range covers more than {MAX_WEEKS} weeks; export at most {MAX_WEEKS} at a time.")
        day -= timedelta(days=7)
    if not starts:
        raise InvalidInput(f"No complete week in that range; the latest complete week began on {latest.isoformat()}.")
    # Open issues and overdue actions are counted as of each week's end (or now, for the week just ended).
    weeks = tuple(
        digest.build_digest(uow_factory(), partnership_id=partnership_id, week_start=ws, now=min(_week_end(p, ws), now))
        for ws in reversed(starts)
    )
    chart = ChartSeries(
        title=f"{p.name}: overall health by week",
        weeks=tuple(v.week_start for v in weeks),
        lines=tuple(ChartLine(side, p.org(side), tuple(_shown(v, side) for v in weeks)) for side in Side),
    )
    return ExportReport(partnership=p, weeks=weeks, generated_at=now, chart=chart)


# --- CSV -------------------------------------------------------------------------------------------------------


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _cell(text: str) -> str:
    """Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) is made inert."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(report: ExportReport) -> str:
    """One row per week, side and dimension (``overall`` first): aggregates only, empty for a withheld side."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for view in report.weeks:
        for side in Side:
            said = view.side(side)
            withheld = said.withheld or view.side(side.other).withheld
            for health in (view.overall, *view.dimensions):
                h = health.side(side)
                gap = None if withheld else health.gap
                if said.withheld:
                    numbers = ["", "", "", "", "", ""]
                else:
                    numbers = [
                        _number(h.week),
                        str(h.answers) if h.week is not None else "",
                        _number(h.four_week),
                        _number(gap),
                        str(said.participation.responded),
                        str(said.participation.asked),
                    ]
                writer.writerow(
                    [
                        view.week_start.isoformat(),
                        side.value,
                        _cell(said.org),
                        health.dimension,
                        *numbers,
                        "yes" if said.withheld else "no",
                    ]
                )
    return out.getvalue()


# --- HTML ------------------------------------------------------------------------------------------------------

STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;max-width:960px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .4em}.meta,.note{color:#555}.note{font-size:.9em}
table{border-collapse:collapse;margin:.4em 0 1em;width:100%}th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left}
th{background:#f5f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums}.withheld{color:#8a6d00;font-style:italic}
.gap2{background:#fde2e1}.gap1{background:#fff4d6}figure{margin:1em 0}img{max-width:100%;height:auto}
ul{margin:.2em 0 .8em}
@media print{h2{page-break-before:always}h2.first{page-break-before:avoid}}
""".strip()
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _gap_class(gap: float | None) -> str:
    if gap is None:
        return ""
    size = abs(gap)
    return ' class="n gap2"' if size >= 1.5 else ' class="n gap1"' if size >= 1.0 else ' class="n"'


def _health_row(view: DigestView, health: DimensionHealth) -> str:
    cells = [f"<th>{_e(DIMENSION_LABELS.get(health.dimension, health.dimension.capitalize()))}</th>"]
    for side in Side:
        if view.side(side).withheld:
            cells.append('<td class="withheld" colspan="3">withheld</td>')
            continue
        h: SideHealth = health.side(side)
        cells += [f'<td class="n">{_num(h.week)}</td>', f'<td class="n">{_num(h.last_week)}</td>']
        cells.append(f'<td class="n">{_num(h.four_week)}</td>')
    withheld = any(view.side(s).withheld for s in Side)
    gap = None if withheld else health.gap
    cells.append(f"<td{_gap_class(gap)}>{_num(gap)}</td>")
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
        text = f"<b>{org}</b>: {part.responded} of {part.asked} answered"
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


def _week(view: DigestView, first: bool) -> str:
    p = view.partnership
    head = (
        f"<tr><th rowspan=2>Dimension</th><th colspan=3>{_e(p.client_org)}</th><th colspan=3>{_e(p.provider_org)}</th>"
        "<th rowspan=2>Gap</th></tr><tr>" + "<th>week</th><th>last week</th><th>4 weeks</th>" * 2 + "</tr>"
    )
    rows = "".join(_health_row(view, h) for h in (view.overall, *view.dimensions))
    rounds = f"{view.rounds} pulse round{'s' if view.rounds != 1 else ''} closed"
    return (
        f"<section><h2{' class=first' if first else ''}>Week of {_e(view.week_start.isoformat())}</h2>"
        f'<p class="meta">{rounds}. Scores 1–5; the gap is {_e(p.client_org)} minus {_e(p.provider_org)}.</p>'
        f"<table>{head}{rows}</table><h3>Participation and tone</h3>{_side_lines(view)}{_work(view)}</section>"
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
            '<td class="withheld">withheld</td>' if v.side(side).withheld else f'<td class="n">{_num(_shown(v, side))}</td>'
            for side in Side
        )
        + f"<td{_gap_class(_gap(v))}>{_num(_gap(v))}</td>"
        f'<td class="n">{v.issues.open_total}</td><td class="n">{len(v.actions.overdue)}</td>'
        "</tr>"
        for v in report.weeks
    )
    weeks = "".join(_week(v, i == 0) for i, v in enumerate(report.weeks))
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
        "is withheld: no averages, gap, tone or themes. Nothing here is per person, and no comment is reproduced.</p>"
        f'<figure><img src="data:image/png;base64,{png}" alt="{_e(alt_text(report.chart))}" width="640" height="320">'
        "<figcaption>Overall health per side by week (1–5).</figcaption></figure>"
        "<h2 class=first>Summary</h2><table><tr><th>Week</th>"
        f"<th>{_e(p.client_org)}</th><th>{_e(p.provider_org)}</th><th>Gap</th><th>Open issues</th>"
        f"<th>Overdue actions</th></tr>{summary_rows}</table>"
        f"{weeks}</body></html>\n"
    )


def _gap(view: DigestView) -> float | None:
    if any(view.side(s).withheld for s in Side):
        return None
    return view.overall.gap
