"""The quarterly business review export (issue 4 item 7): which weeks, scorecards, goals and ledger entries a report
holds (``bot.services.export_models.ExportReport``); ``bot.export_csv`` and ``bot.export_html`` render it.

The report is built from the weekly digests (``bot.services.digest.build_digest``), one per week of the range, so an
export shows the figures the channel saw and keeps the same anonymity rule: a withheld side exports no numbers at
all, not even the four-week average or participation that could be combined with other weeks to recover a small
group's answers. Nothing is exported per person, and no comment is reproduced.

For the business review the report also carries the bilateral scorecards that closed in the range (DESIGN 3.5: the
perception-gap report, with the channel report's anonymity rule), the shared goals and the expectations ledger as
they stand. Scorecard comments stay in Slack.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from bot.services import digest, digest_schedule, kpi_charts, scorecard
from bot.services.digest_models import ChartLine, ChartSeries
from bot.services.errors import InvalidInput, NotFound
from bot.services.expectations import expectation_view
from bot.services.export_models import MAX_EXPECTATIONS, MAX_GOALS, ExportGoal, ExportReport
from bot.services.partnership_models import PartnershipView, Side
from bot.services.partnerships import get_partnership_by_id
from bot.services.review_models import ExpectationView, GoalStatus
from bot.services.schedule import zone
from storage.uow import UnitOfWork, UowFactory

#: Without --from, a quarter: the thirteen weeks up to the latest complete one (fewer for a newer partnership).
DEFAULT_WEEKS = 13
#: Two years of weeks at most per export (each week is a digest to build).
MAX_WEEKS = 104


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
    setup = digest_schedule.first_week(uow_factory(), partnership_id=partnership_id)
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
    # Open issues and overdue actions are counted as of each week's end (or now, for the week just ended); the KPI
    # part as the week's digest read when it was made.
    weeks = tuple(
        digest.build_digest(
            uow_factory(), partnership_id=partnership_id, week_start=ws, now=min(_week_end(p, ws), now), as_made=True
        )
        for ws in reversed(starts)
        if weekly
    )
    chart = ChartSeries(
        title=f"{p.name}: health index by week",
        weeks=tuple(v.week_start for v in weeks),
        lines=tuple(ChartLine(side, p.org(side), tuple(_plotted(v.health_shown(side)) for v in weeks)) for side in Side),
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
        kpi_charts=kpi_charts.charts_of_week(uow_factory(), weeks[-1], digest_thread=False) if weeks else (),
    )
