"""The weekly digest (DESIGN 3.4): what it says. Its week, and queuing it once per partnership and week:
``bot.services.digest_schedule``.

The week is the seven local days (partnership time zone) ending at the digest time. Pulse figures come from
the rounds that closed in a week and are computed by ``bot.services.figures``: for each subject and dimension
asked this week, both sides' averages and the gap (provider − client), each side's trend against the same items
the last time they were asked; each side's health index over the last ``figures.HEALTH_WEEKS`` weeks (shown when
they cover every dimension) against the weeks before; participation, the tone and recurring themes of the
comments; the issues, actions and shared goals of the week as they stood at its end
(``bot.services.work_history``, replayed from their history); and the chart of the health index by week (none
that ended before the partnership was set up).

Anonymity is kept per round and side, as in the round results: a side's answers in a round count only when
at least the threshold of its people answered that round. Figures over several weeks therefore only combine
results that could already be shown, so they can never be used to work out a small group's answers by
difference. A side with no such round in the week is *withheld*: no averages, gap, sentiment, themes or
comments for it.

Everything is read in a fixed handful of aggregate queries per partnership (``DigestQueries``), whatever the
number of answers; the comments of the week are the only rows read one by one.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from bot.services import figures, kpi_charts, watermelon
from bot.services.digest_models import (
    CHART_WEEKS,
    ChartLine,
    ChartSeries,
    DigestView,
)
from bot.services.digest_pulse import Scores, dimension_scores, nps_figures, side_digest
from bot.services.digest_schedule import (
    ends_at_for_week,
    latest_digest_time,
    week_boundaries,
    week_start_of,
)
from bot.services.partnership_guards import partnership_by_id, shown_at_send_time, today_in
from bot.services.partnership_models import Side
from bot.services.read_models_from_rows import partnership_view
from bot.services.schedule import zone
from bot.services.work_history import action_summary, goals_section, issue_summary
from storage.models import Partnership
from storage.repositories.digests import DigestBatchQueries, DigestQueries
from storage.repositories.kpi_figures import KpiRows
from storage.repositories.work_history import WorkRows
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


#: Partnerships whose digests ``build_digests`` reads together (bounds the rows held at once). Each batch's
#: aggregate queries join the answers of its partnerships; PostgreSQL does that with a scan of the whole answers
#: table while a batch is a sizeable part of it, so fewer, larger batches scan less. A thousand partnerships' rows
#: (about 100 aggregate rows and 25 comments each) are a few megabytes: 200 -> 1,000 cost 8 MB of peak RSS and
#: saved a quarter of the time at N = 1,000 on PostgreSQL (benchmarks/README.md, digest).
BUILD_BATCH = 1000


def since_setup(chart: ChartSeries, bounds: Sequence[datetime], created_at: datetime) -> ChartSeries:
    """The chart without the weeks that ended before the partnership was set up (``bounds`` as for ``_build``)."""
    skip = sum(1 for end in bounds[1:] if end <= created_at)
    if not skip:
        return chart
    return ChartSeries(
        title=chart.title,
        weeks=chart.weeks[skip:],
        lines=tuple(ChartLine(line.side, line.label, line.values[skip:]) for line in chart.lines),
    )


# --- building the digest -------------------------------------------------------------------------------------


def build_digest(
    uow: UnitOfWork, *, partnership_id: int, week_start: date | None, now: datetime, as_made: bool = False
) -> DigestView:
    """The digest of one partnership's week.

    ``week_start`` is the local date the week began (the week runs seven local days from the digest time on
    that date); None means the week that ended at the most recent digest time at or before ``now``. Issues,
    actions and goals are shown as they stood at the week's end (or at ``now``, for a week not over yet).
    ``as_made``: the KPI part as it read when the week's digest was made (``made_at``), for a week whose digest
    was made; as the KPIs are now otherwise.

    Raises:
        NotFound: no such partnership.
    """
    with uow.read_only():
        p = partnership_by_id(uow, partnership_id)
        ends_at = ends_at_for_week(p, week_start) if week_start is not None else latest_digest_time(p, now)
        return _build(uow, p, ends_at, now, kpis_as_of=made_at(uow, p, ends_at) if as_made else None)


def made_at(uow: UnitOfWork, p: Partnership, ends_at: datetime) -> datetime | None:
    """When the digest of ``p``'s week ending at ``ends_at`` was made (its ``digests`` row's ``created_at``): what its
    KPI part is read as of whenever it is rendered again. None: not made."""
    row = uow.digests.get_for_week(p.id, week_start_of(ends_at, p.timezone))
    return None if row is None else row.created_at


def build_digests(
    uow: UnitOfWork, *, partnership_ids: Sequence[int], now: datetime, batch: int = BUILD_BATCH
) -> list[DigestView]:
    """The digests of many partnerships' latest weeks, in the order given: for each, what
    ``build_digest(partnership_id=..., week_start=None, now=now)`` returns. Ids that no longer exist are left out.

    For whatever reads all partnerships at once (the portfolio, the benchmark): the reads are made once per
    ``batch`` partnerships (``DigestBatchQueries``) instead of a dozen statements per partnership, whose fixed
    cost was most of a digest's time. Each digest is then built by the same code from the same rows.
    """
    views: list[DigestView] = []
    with uow.read_only():
        store = uow.digests
        # Partnerships on the same schedule share their digest time and week boundaries.
        latest: dict[tuple[int, int, int, str], tuple[datetime, list[datetime]]] = {}
        for offset in range(0, len(partnership_ids), batch):
            chunk = list(partnership_ids[offset : offset + batch])
            found = store.partnerships(chunk)
            plans: list[Plan] = []
            for pid in chunk:
                p = found.get(pid)
                if p is None:
                    continue
                key = (p.digest_weekday, p.digest_hour, p.digest_minute, p.timezone)
                if key not in latest:
                    at = latest_digest_time(p, now)
                    latest[key] = (at, week_boundaries(at, p.timezone, CHART_WEEKS))
                ends_at, bounds = latest[key]
                plans.append((p, ends_at, bounds, None))
            views.extend(_build_plans(uow, plans, now))
    return views


#: A digest to build in a batch: its partnership, digest time, week boundaries (``week_boundaries(ends_at,
#: p.timezone, CHART_WEEKS)``), and the instant its KPI part is read as of (None: now).
Plan = tuple[Partnership, datetime, list[datetime], datetime | None]


def _build_plans(uow: UnitOfWork, plans: list[Plan], now: datetime) -> list[DigestView]:
    """The digests of the plans, from one batched read of their rows (their KPIs: one per instant read as of)."""
    if not plans:
        return []
    q = uow.digest_queries.batch(
        [p.id for p, _, _, _ in plans],
        start=min(bounds[0] for _, _, bounds, _ in plans),
        end=max(ends_at for _, ends_at, _, _ in plans),
    )
    q.prefetch_comments([r.id for p, ends_at, bounds, _ in plans for r in q.rounds(p.id, bounds[-2], ends_at)])
    work = uow.work_history.read(
        [p.id for p, _, _, _ in plans],
        start=min(bounds[-2] for _, _, bounds, _ in plans),
        end=max(min(ends_at, now) for _, ends_at, _, _ in plans),
    )
    # The digests a batch renders were mostly made in one heartbeat, so share the instant they are read as of.
    kpis: dict[datetime | None, dict[int, list[KpiRows]]] = {}
    for as_of in {as_of for _, _, _, as_of in plans}:
        group = [(p, ends_at) for p, ends_at, _, made in plans if made == as_of]
        last_days = [watermelon.last_day_of(ends_at, p.timezone) for p, ends_at in group]
        kpis[as_of] = uow.kpi_figures.agreed(
            [p.id for p, _ in group],
            since=watermelon.figure_window(min(last_days))[0],
            until=max(last_days),
            as_of=as_of,
        )
    return [
        _build(uow, p, ends_at, now, q, work[p.id], b, kpis[as_of].get(p.id, []), as_of) for p, ends_at, b, as_of in plans
    ]


def digests_for(
    uow: UnitOfWork, *, digest_ids: Sequence[int], now: datetime, batch: int = BUILD_BATCH
) -> dict[int, DigestView]:
    """The digests queued ``digests`` rows stand for, by row id (rows or partnerships gone are absent).

    What ``digest_for`` returns for each, read in batches as ``build_digests`` does: the sender renders the digests
    it has claimed together, so the weekly posting reads a few statements per batch, not a dozen per digest.
    """
    views: dict[int, DigestView] = {}
    with uow.read_only():
        store = uow.digests
        for offset in range(0, len(digest_ids), batch):
            rows = store.get_many(digest_ids[offset : offset + batch])
            found = store.partnerships([row.partnership_id for row in rows.values()])
            plans: list[Plan] = []
            ids: list[int] = []
            for digest_id, row in rows.items():
                p = found.get(row.partnership_id)
                if p is not None:
                    bounds = week_boundaries(row.ends_at, p.timezone, CHART_WEEKS)
                    plans.append((p, row.ends_at, bounds, row.created_at))
                    ids.append(digest_id)
            views.update(zip(ids, _build_plans(uow, plans, now), strict=True))
    return views


def digest_for(uow: UnitOfWork, *, digest_id: int, now: datetime) -> DigestView | None:
    """The digest a queued ``digests`` row stands for (the sender renders it at send time, its thread and copies
    later), its KPI part as it read when the row was made; None when gone."""
    return shown_at_send_time(
        uow, lambda u: u.digests, digest_id, lambda u, row, p: _build(u, p, row.ends_at, now, kpis_as_of=row.created_at)
    )


def _build(
    uow: UnitOfWork,
    p: Partnership,
    ends_at: datetime,
    now: datetime,
    queries: DigestQueries | DigestBatchQueries | None = None,
    work: WorkRows | None = None,
    bounds: Sequence[datetime] | None = None,
    kpis: Sequence[KpiRows] | None = None,
    kpis_as_of: datetime | None = None,
) -> DigestView:
    """The digest of the week ending at ``ends_at``. ``queries``, ``work`` (this partnership's issues, actions and
    goals with their history) and ``bounds`` (``week_boundaries(ends_at, p.timezone, CHART_WEEKS)``) are what a
    batch read or computed for many partnerships at once, as are ``kpis`` (its agreed KPIs with their recent
    figures, read as of ``kpis_as_of``); without them they are read and computed for this one.

    ``kpis_as_of``: the instant the KPI part is read as of, when the digest was made (``made_at``), so a digest
    rendered again reads as it did; None: as the KPIs are now (a digest being made).
    """
    tz = p.timezone
    if bounds is None:
        bounds = week_boundaries(ends_at, tz, CHART_WEEKS)
    start, first = bounds[-2], bounds[0]
    q = queries if queries is not None else uow.digest_queries
    # The work is shown as it stood at the end of the week (or now, for a week not over yet).
    as_of = min(ends_at, now)
    if work is None:
        work = uow.work_history.read([p.id], start=start, end=as_of)[p.id]

    # Pulse figures: three aggregate queries over the twelve weeks of the chart.
    rounds = q.rounds(p.id, first, ends_at)
    respondents = q.respondents(p.id, first, ends_at)
    weeks_back = {r.id: CHART_WEEKS - bisect.bisect_right(bounds, r.closed_at) for r in rounds}
    shown = {
        (r.id, side.value)
        for r in rounds
        for side in Side
        if figures.side_shown(respondents.get((r.id, side.value), 0), p.anonymity_threshold)
    }
    scores = Scores()
    for row in q.scores(p.id, first, ends_at):
        if (row.round_id, row.side) in shown:
            scores.add(weeks_back[row.round_id], row)

    this_week = [r for r in rounds if weeks_back[r.id] == 0]
    comments = q.comments([r.id for r in this_week])
    nps = nps_figures(q.nps([r.id for r in this_week]), shown)
    sides = (
        side_digest(p, Side.CLIENT, this_week, respondents, shown, comments),
        side_digest(p, Side.PROVIDER, this_week, respondents, shown, comments),
    )
    current, previous = scores.this_week()
    items = figures.compare_all(current, [s.side for s in sides if not s.withheld], previous)
    health = (
        scores.health(Side.CLIENT, withheld=sides[0].withheld),
        scores.health(Side.PROVIDER, withheld=sides[1].withheld),
    )
    # Each point is the health index of the four weeks ending that week: only weeks whose whole window was read.
    plotted = range(CHART_WEEKS - figures.HEALTH_WEEKS, -1, -1)
    windows = {side: [scores.window(side, k) for k in plotted] for side in Side}
    chart = ChartSeries(
        title=f"{p.name}: health index by week (each point: the {figures.HEALTH_WEEKS} weeks up to it)",
        weeks=tuple(bounds[CHART_WEEKS - 1 - k].astimezone(zone(tz)).date() for k in plotted),
        lines=tuple(
            ChartLine(
                side=side,
                label=p.client_org if side is Side.CLIENT else p.provider_org,
                values=tuple(_float(figures.index_value(window)) for window in windows[side]),
            )
            for side in Side
        ),
    )
    chart = since_setup(chart, bounds[figures.HEALTH_WEEKS - 1 :], p.created_at)
    last_day = watermelon.last_day_of(ends_at, tz)
    if kpis is None:
        since, until = watermelon.figure_window(last_day)
        kpis = uow.kpi_figures.agreed([p.id], since=since, until=until, as_of=kpis_as_of).get(p.id, [])
    check = watermelon.check_week(kpis, dimension_scores(scores, sides), last_day, kpis_as_of)
    shown_weeks = len(chart.weeks)
    trend = kpi_charts.dimension_trend(
        chart.weeks,
        {side: windows[side][len(windows[side]) - shown_weeks :] for side in Side},
        {s.side: s.withheld for s in sides},
        {c.dimension for c in check.dimensions},
    )
    return DigestView(
        partnership=partnership_view(p),
        week_start=week_start_of(ends_at, tz),
        starts_at=start,
        ends_at=ends_at,
        as_of=as_of,
        rounds=len(this_week),
        items=items,
        gaps=figures.widest_first(items),
        health=health,
        sides=sides,
        issues=issue_summary(work, start, as_of),
        actions=action_summary(work, start, as_of, lambda side, at: today_in(p, at, side.value)),
        goals=goals_section(work, start, as_of),
        chart=chart,
        nps=nps,
        kpis=check,
        dimension_trend=trend,
    )


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def build_in(
    uow: UnitOfWork, p: Partnership, *, ends_at: datetime, now: datetime, kpis_as_of: datetime | None = None
) -> DigestView:
    """The digest of ``p``'s week ending at ``ends_at``, read inside the caller's unit of work (its KPI part as of
    ``kpis_as_of``, None: now)."""
    return _build(uow, p, ends_at, now, kpis_as_of=kpis_as_of)
