"""The quarterly business review export (issue 4 item 7): a self-contained HTML report and a CSV of aggregates.

Both are built from the weekly digests (``bot.services.digest.build_digest``), one per week of the range, so an
export shows the figures the channel saw and keeps the same anonymity rule: a withheld side exports no numbers at
all (its cells are empty and the ``withheld`` column says why), not even the four-week average or participation
that could be combined with other weeks to recover a small group's answers. Nothing is exported per person, and no
comment is reproduced: the HTML shows each side's tone and recurring themes, the CSV only aggregates.

For the business review the HTML also carries the bilateral scorecards that closed in the range (DESIGN 3.5: the
perception-gap report, with the channel report's anonymity rule: a side below the threshold shows no averages), the
shared goals and the expectations ledger as they stand. Scorecard comments stay in Slack: the channel report shows
them for sides above the threshold, the export shows none, like the weekly comments. ``--format scorecard-csv``
gives the scorecards' aggregates as a second CSV, so the weekly CSV's columns never change.

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
from decimal import Decimal

from bot.services import digest, figures, scorecard
from bot.services.charts import alt_text, weekly_chart
from bot.services.digest_models import ChartLine, ChartSeries, DigestIssue, DigestView
from bot.services.errors import InvalidInput, NotFound
from bot.services.expectations import expectation_view
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
from bot.services.partnerships import get_partnership_by_id
from bot.services.pulse_models import DIMENSION_LABELS
from bot.services.review_models import (
    EXPECTATION_STATUS_LABELS,
    GOAL_STATUS_LABELS,
    ExpectationStatus,
    ExpectationView,
    GoalStatus,
    ScorecardReport,
    ScorecardSide,
)
from bot.services.schedule import zone
from storage.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]

#: Without --from, a quarter: the thirteen weeks up to the latest complete one (fewer for a newer partnership).
DEFAULT_WEEKS = 13
#: Two years of weeks at most per export (each week is a digest to build).
MAX_WEEKS = 104
#: One row per week, side and figure: first the side's health index (``dimension`` ``health_index``, no subject),
#: then each subject and dimension asked that week. ``average`` is the figure as every surface shows it (one
#: decimal, halves up); ``previous_average`` the same items the last time they were asked (the health index: the
#: four weeks before); ``gap`` is provider − client, only between ratings of the same subject.
CSV_COLUMNS = (
    "week_start",
    "side",
    "organisation",
    "subject",
    "dimension",
    "average",
    "answers",
    "previous_average",
    "gap",
    "responded",
    "asked",
    "withheld",
)
HEALTH_INDEX = "health_index"
#: ``--format scorecard-csv``: one row per scorecard, rated side and dimension. ``self_*`` is how the rated side
#: rates itself, ``other_*`` how the other side rates it; ``withheld`` names whose raters were below the threshold.
SCORECARD_CSV_COLUMNS = (
    "period",
    "dimension",
    "rated_side",
    "self_average",
    "self_answers",
    "other_average",
    "other_answers",
    "gap",
    "withheld",
)
#: Goals and ledger entries per export: far more than a partnership keeps, and a bound on the file's size.
MAX_GOALS = 200
MAX_EXPECTATIONS = 500


@dataclass(frozen=True)
class ExportGoal:
    """A shared goal as the export lists it: the owners by display name (their Slack id when no name is known)."""

    number: int
    title: str
    client_owner: str
    provider_owner: str
    status: GoalStatus
    due_on: date | None


@dataclass(frozen=True)
class ExportReport:
    """The weeks of one partnership to export, oldest first, and the chart over them; the scorecards that closed in
    those weeks (oldest first), and the shared goals and expectations ledger as of ``generated_at``."""

    partnership: PartnershipView
    weeks: tuple[DigestView, ...]
    generated_at: datetime
    chart: ChartSeries
    scorecards: tuple[ScorecardReport, ...] = ()
    goals: tuple[ExportGoal, ...] = ()
    expectations: tuple[ExpectationView, ...] = ()


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


def _shown(view: DigestView, side: Side) -> Decimal | None:
    """A side's health index that week (None when withheld or not enough data)."""
    return None if view.side(side).withheld else view.health_of(side).value


def _plotted(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _goals_and_ledger(uow: UnitOfWork, partnership_id: int) -> tuple[tuple[ExportGoal, ...], tuple[ExpectationView, ...]]:
    """The partnership's shared goals (being worked on first) and its whole ledger (withdrawn entries too, oldest
    first), in three reads. Owners are named as the channel knows them, since the report is read outside Slack."""
    with uow.read_only():
        names = {m.user_id: m.display_name for m in uow.members.list(partnership_id) if m.display_name}
        goals = tuple(
            ExportGoal(
                number=g.number,
                title=g.title,
                client_owner=names.get(g.client_owner_id, g.client_owner_id),
                provider_owner=names.get(g.provider_owner_id, g.provider_owner_id),
                status=GoalStatus(g.status),
                due_on=g.due_on,
            )
            for g in uow.goals.list(partnership_id, limit=MAX_GOALS)
        )
        ledger = tuple(expectation_view(e) for e in uow.expectations.list(partnership_id, limit=MAX_EXPECTATIONS))
    return goals, ledger


def build_export(
    uow_factory: UowFactory,
    *,
    partnership_id: int,
    start: date | None,
    end: date | None,
    now: datetime,
    weekly: bool = True,
) -> ExportReport:
    """The weekly digests of the weeks that began between ``start`` and ``end`` (local dates, inclusive) and have
    ended by ``now``. Without ``start``: the thirteen weeks up to ``end`` (or the latest complete week). Nothing
    before the partnership was set up: the range starts no earlier than the week of its setup.

    The scorecards are those closed within those weeks (from the first one's start to the last one's digest
    time), so a scorecard closing after the latest complete week shows in next week's export. ``weekly=False``
    skips building the weekly digests (``weeks`` is empty) for an export of the scorecards alone.

    Raises:
        NotFound: no such partnership.
        InvalidInput: ``start`` after ``end``, no complete week since setup in the range, or more than
            ``MAX_WEEKS`` weeks.
    """
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"--from {start.isoformat()} is after --to {end.isoformat()}.")
    p = get_partnership_by_id(uow_factory(), partnership_id=partnership_id)
    if p is None:
        raise NotFound(f"There is no partnership with id {partnership_id}.")
    latest = digest.build_digest(uow_factory(), partnership_id=partnership_id, week_start=None, now=now).week_start
    setup = digest.first_week(uow_factory(), partnership_id=partnership_id)
    last = latest
    if end is not None and end < latest:
        last = latest - timedelta(days=7 * -(-(latest - end).days // 7))  # the last week start on or before ``end``
    if last < setup:
        raise InvalidInput(
            f"No week since the partnership was set up in that range: its first week began on {setup.isoformat()}"
            + (", and has not ended yet." if latest < setup else ".")
        )
    first = max(start if start is not None else last - timedelta(days=7 * (DEFAULT_WEEKS - 1)), setup)
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
        if weekly
    )
    chart = ChartSeries(
        title=f"{p.name}: health index by week",
        weeks=tuple(v.week_start for v in weeks),
        lines=tuple(ChartLine(side, p.org(side), tuple(_plotted(_shown(v, side)) for v in weeks)) for side in Side),
    )
    scorecards = scorecard.reports_between(
        uow_factory(),
        partnership_id=partnership_id,
        start=_week_end(p, starts[-1] - timedelta(days=7)),
        end=_week_end(p, starts[0]),
    )
    goals, ledger = _goals_and_ledger(uow_factory(), partnership_id)
    return ExportReport(
        partnership=p,
        weeks=weeks,
        generated_at=now,
        chart=chart,
        scorecards=scorecards,
        goals=goals,
        expectations=ledger,
    )


# --- CSV -------------------------------------------------------------------------------------------------------


def _number(value: Decimal | None) -> str:
    """A figure in a CSV cell: as every surface writes it, empty when there is none."""
    return "" if value is None else format_score(value)


def _signed_number(value: Decimal | None) -> str:
    return "" if value is None else format_gap(value, ascii_sign=True)


def _cell(text: str) -> str:
    """Text that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) is made inert."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_csv(report: ExportReport) -> str:
    """One row per week, side and figure (``CSV_COLUMNS``): aggregates only, empty for a withheld side."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for view in report.weeks:
        for side in Side:
            said = view.side(side)
            withheld = said.withheld or view.side(side.other).withheld
            part = said.participation
            h = view.health_of(side)
            rows: list[tuple[str, str, Decimal | None, str, Decimal | None, Decimal | None]] = [
                ("", HEALTH_INDEX, h.value, str(h.answers) if h.value is not None else "", h.previous, None)
            ]
            for item in view.items:
                f = item.side(side)
                rows.append(
                    (
                        item.subject or "",
                        item.dimension,
                        f.average,
                        str(f.answers) if f.average is not None else "",
                        f.previous,
                        None if withheld else item.gap,
                    )
                )
            for subject, dimension, value, answers, previous, gap in rows:
                numbers = (
                    ["", "", "", "", "", ""]
                    if said.withheld
                    else [
                        _number(value),
                        answers,
                        _number(previous),
                        _signed_number(gap),
                        str(part.responded),
                        str(part.asked),
                    ]
                )
                writer.writerow(
                    [
                        view.week_start.isoformat(),
                        side.value,
                        _cell(said.org),
                        subject,
                        dimension,
                        *numbers,
                        "yes" if said.withheld else "no",
                    ]
                )
    return out.getvalue()


def _withheld_raters(rated: ScorecardSide, other: ScorecardSide) -> str:
    """Whose ratings were withheld (decided per side and scorecard): the rated side's own, the other side's, both
    or neither."""
    return {(False, False): "no", (True, False): "self", (False, True): "other", (True, True): "both"}[
        (rated.withheld, other.withheld)
    ]


def _answers(average: Decimal | None, rater: ScorecardSide) -> str:
    """How many people of the rater side gave the average (each rates every dimension once); empty when withheld."""
    if rater.withheld:
        return ""
    return str(rater.respondents) if average is not None else "0"


def render_scorecard_csv(report: ExportReport) -> str:
    """``--format scorecard-csv``: per scorecard, rated side and dimension, the self rating, the other side's rating
    and the gap (provider − client, as everywhere), aggregates only; a withheld side's raters give empty numbers,
    and no gap."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCORECARD_CSV_COLUMNS)
    for card in report.scorecards:
        for rated in card.sides:
            other = card.sides[1] if rated.side is Side.CLIENT else card.sides[0]
            for row in rated.about:
                writer.writerow(
                    [
                        _cell(card.scorecard.period),
                        row.dimension,
                        rated.side.value,
                        "" if rated.withheld else _number(row.self_rating),
                        _answers(row.self_rating, rated),
                        "" if other.withheld else _number(row.other_rating),
                        _answers(row.other_rating, other),
                        "" if rated.withheld or other.withheld else _signed_number(row.gap),
                        _withheld_raters(rated, other),
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
        f"<table>{head}{rows}</table><h3>Participation and tone</h3>{_side_lines(view)}{_work(view)}</section>"
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


def _goals(report: ExportReport) -> str:
    p = report.partnership
    head = f'<section><h2>Shared goals</h2><p class="meta">As they stand on {_e(report.generated_at.date())}.</p>'
    if not report.goals:
        return head + "<p>No shared goals recorded.</p></section>"
    rows = "".join(
        f'<tr><td class="n">#{g.number}</td><td class="t">{_e(g.title)}</td><td>{_e(g.client_owner)}</td>'
        f"<td>{_e(g.provider_owner)}</td><td>{_e(GOAL_STATUS_LABELS[g.status.value])}</td>"
        f"<td>{_e(g.due_on.isoformat() if g.due_on else '–')}</td></tr>"
        for g in report.goals
    )
    more = f'<p class="note">The first {MAX_GOALS} goals.</p>' if len(report.goals) >= MAX_GOALS else ""
    return (
        f"{head}<table><tr><th>#</th><th>Goal</th><th>{_e(p.client_org)} owner</th><th>{_e(p.provider_org)} owner</th>"
        f"<th>Status</th><th>Due</th></tr>{rows}</table>{more}</section>"
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
    head = f'<section><h2>Expectations ledger</h2><p class="meta">As it stands on {_e(report.generated_at.date())}.</p>'
    if not report.expectations:
        return head + "<p>Nothing recorded.</p></section>"
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
    more = (
        f'<p class="note">The first {MAX_EXPECTATIONS} entries.</p>' if len(report.expectations) >= MAX_EXPECTATIONS else ""
    )
    return (
        f"{head}<p>{counts}.</p><table><tr><th>#</th><th>Who expects it of whom</th><th>Expectation</th>"
        f"<th>Status</th><th>Answer</th></tr>{rows}</table>{more}</section>"
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
            else f'<td class="n">{format_score(_shown(v, side))}</td>'
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
        f"{_scorecards(report)}{_goals(report)}{_ledger(report)}{weeks}</body></html>\n"
    )


def _widest(view: DigestView) -> str:
    """The week's widest gap, naming what was rated (none when a side is withheld)."""
    if any(view.side(s).withheld for s in Side) or not view.gaps:
        return "–"
    g, p = view.gaps[0], view.partnership
    return f"{rated_subject(g.subject, g.dimension, p.client_org, p.provider_org)} {format_gap(g.gap)}{format_flag(g.flag)}"
