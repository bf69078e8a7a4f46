"""A red KPI is a reason to ask, not to blame (issue 14, item 4; DESIGN 3.6).

The heartbeat's pass (``check_red_kpis``) claims the KPIs with a figure recorded or replaced since it last looked
(``Kpi.red_checked_at``), judges their latest figures with ``kpi_rows.figure_of`` (never deciding a status again),
and:

- when the latest figure is red for a period not yet asked (``Kpi.red_question_period_end``), queues ONE channel
  message asking the blameless question of issue follow-ups: what can each side do to get it back? Each side's
  button opens the action form; the answer is an action linked to the KPI (``Action.kpi_id``);
- when the KPI is red for the partnership's ``kpi_red_periods_to_escalate`` periods in a row, logs an issue once
  per run (``issue_lifecycle.add_issue``, so it gets deadlines and escalates along the partnership's path like
  every issue) and links it (``Kpi.escalation_issue_id``).

Only a recent figure asks or escalates (its period ended at most ``RECENT_PERIODS`` periods before the current
one): imported history is not news. A run is consecutive periods of the KPI's period (the version in force for the latest figure), each with a red
figure; a period with no figure, or a figure that is amber or green, ends it. A run is named by its first period:
the issue's request key, so the same run never logs two issues, whatever the policy says later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from bot.services import kpi_rules, outbox, outbox_notices
from bot.services.errors import InvalidInput, NotFound
from bot.services.issue_lifecycle import add_issue
from bot.services.issue_models import MAX_ISSUE_TITLE, IssueInput
from bot.services.issue_queries import action_view
from bot.services.kpi_models import RAG_LABELS, KpiFigure, KpiPeriod, KpiVersionView, Rag
from bot.services.kpi_red_models import (
    MAX_RED_PERIODS,
    MIN_RED_PERIODS,
    KpiRedReport,
    RedAnswer,
    RedKpi,
    figure_label,
    question_key,
)
from bot.services.kpi_rows import figure_of, version_view
from bot.services.outbox_notices import Notice
from bot.services.partnership_guards import categories_of, partnership_a_lead_changes, today_in
from bot.services.partnership_models import Role, Side
from bot.services.read_models_from_rows import partnership_view
from storage.models import Kpi, Partnership
from storage.uow import UnitOfWork, UowFactory

logger = logging.getLogger(__name__)


#: KPIs handled per transaction by the heartbeat's pass.
BATCH = 200
#: How far back a red run is followed to find its first period (two years of weekly figures).
RUN_LOOKBACK = 104
#: A latest figure for a period that ended more than this many periods before the current one is history (an
#: import of last year's figures, say): it asks nothing and logs nothing.
RECENT_PERIODS = 6
#: The issue a KPI red for N periods in a row logs. S2, "a commitment will be missed without action": an agreed
#: KPI is a commitment both sides made, and it has been missed N times already. Its category: the delivering
#: side's kind of commitment, when the partnership's categories hold it, else "Other", else the first one.
ESCALATION_SEVERITY = "S2"
ESCALATION_CATEGORIES = {Side.PROVIDER: "Delivery quality", Side.CLIENT: "Access and dependencies"}


def red_run(figures: Sequence[KpiFigure | None], period: KpiPeriod) -> tuple[KpiFigure, ...]:
    """The run of red figures ending with the latest, oldest first; empty when the latest is not red.

    ``figures``: the KPI's figures, latest period first (None: a figure no agreed version judges, which ends the
    run). Consecutive means one ``period`` apart: a missing period ends the run, as an amber or green figure does.
    """
    run: list[KpiFigure] = []
    for f in figures:
        if f is None or f.rag is not Rag.RED:
            break
        if run and f.period_end != kpi_rules.previous_period_end(run[-1].period_end, period):
            break
        run.append(f)
    return tuple(reversed(run))


# --- the heartbeat's pass ------------------------------------------------------------------------------------------


def check_red_kpis(uow_factory: UowFactory, *, now: datetime) -> KpiRedReport:
    """Ask the blameless question for each newly red period, and log an issue for each run of red periods as long
    as the partnership's policy; see the module's docstring. Each batch is one transaction."""
    report = KpiRedReport()
    while True:
        with uow_factory() as uow:
            due = uow.kpis.claim_unchecked_figures(BATCH)
            if not due:
                return report
            partnerships = uow.partnerships.get_many({k.partnership_id for k in due})
            last_recorded = uow.kpi_values.last_recorded([k.id for k in due])
            for kpi in due:
                asked, escalated = _check(uow, partnerships[kpi.partnership_id], kpi, now)
                report = replace(report, questions=report.questions + asked, escalations=report.escalations + escalated)
                kpi.red_checked_at = last_recorded.get(kpi.id, now)
            uow.commit()


def _check(uow: UnitOfWork, p: Partnership, kpi: Kpi, now: datetime) -> tuple[int, int]:
    """One KPI: (questions queued, issues logged)."""
    versions = [version_view(v, kpi.delivered_by) for v in uow.kpi_versions.of_kpi(kpi.id)]
    values = uow.kpi_values.latest(kpi.id, RUN_LOOKBACK)
    if not values:
        return 0, 0
    in_force = kpi_rules.version_in_force(versions, values[0].period_end)
    if in_force is None:
        return 0, 0
    period = in_force.definition.period
    oldest_recent = kpi_rules.period_ends_back(today_in(p, now), period, RECENT_PERIODS + 1)[0]
    run = red_run([figure_of(v, versions) for v in values], period)
    if not run or run[-1].period_end < oldest_recent:
        return 0, 0
    latest = run[-1]
    asked = 0
    if kpi.red_question_period_end is None or latest.period_end > kpi.red_question_period_end:
        kpi.red_question_period_end = latest.period_end
        outbox.enqueue(
            uow,
            p,
            purpose=outbox.Purpose.KPI_RED_QUESTION,
            ref_id=kpi.id,
            key=question_key(kpi.id, latest.period_end),
            extra={"period_end": latest.period_end.isoformat()},
            now=now,
        )
        asked = 1
    if len(run) < p.kpi_red_periods_to_escalate:
        return asked, 0
    return asked, _escalate(uow, p, kpi, in_force, run, now)


def _escalate(
    uow: UnitOfWork, p: Partnership, kpi: Kpi, version: KpiVersionView, run: tuple[KpiFigure, ...], now: datetime
) -> int:
    """Log the run's issue (once: the run's first period names it); 1 when logged now."""
    owner = _issue_owner(uow, p, kpi, version)
    if owner is None:
        logger.warning(
            "partnership %s: KPI #%s is red %s periods in a row; no one to own its issue", p.id, kpi.number, len(run)
        )
        return 0
    data = IssueInput(
        title=_issue_title(kpi, version, len(run)),
        details=_issue_details(version, run, p.kpi_red_periods_to_escalate),
        severity=ESCALATION_SEVERITY,
        category=_category(p, Side(kpi.delivered_by)),
        owning_side=Side(kpi.delivered_by),
        owner_id=owner,
    )
    key = f"kpi-red:{kpi.id}:{run[0].period_end.isoformat()}"
    try:
        with uow.savepoint():
            issue, created = add_issue(uow, p, actor=kpi.created_by, data=data, request_key=key, now=now)
    except InvalidInput as exc:  # the owner left between the check and the issue: look again with the next figure
        logger.warning("partnership %s: KPI #%s's issue not logged: %s", p.id, kpi.number, exc)
        return 0
    kpi.escalation_issue_id = issue.id
    if created:
        logger.info("partnership %s: KPI #%s red %s periods in a row: issue #%s", p.id, kpi.number, len(run), issue.number)
    return int(created)


def _issue_owner(uow: UnitOfWork, p: Partnership, kpi: Kpi, version: KpiVersionView) -> str | None:
    """The KPI's owner when still an active member of the delivering side, else that side's first lead."""
    members = [m for m in uow.members.list(p.id) if m.in_channel and not m.deleted and m.side == kpi.delivered_by]
    owner = version.definition.owner_id
    if owner is not None and any(m.user_id == owner for m in members):
        return owner
    leads = sorted(m.user_id for m in members if m.role == Role.LEAD.value)
    return leads[0] if leads else None


def _category(p: Partnership, side: Side) -> str:
    categories = categories_of(p)
    for wanted in (ESCALATION_CATEGORIES[side], "Other"):
        if wanted in categories:
            return wanted
    return categories[0]


def _period_word(version: KpiVersionView, count: int) -> str:
    word = "week" if version.definition.period is KpiPeriod.WEEKLY else "month"
    return word if count == 1 else word + "s"


def _issue_title(kpi: Kpi, version: KpiVersionView, periods: int) -> str:
    title = f"KPI #{kpi.number} {version.definition.name} red for {periods} {_period_word(version, periods)} in a row"
    return title if len(title) <= MAX_ISSUE_TITLE else title[: MAX_ISSUE_TITLE - 1].rstrip() + "…"


def _issue_details(version: KpiVersionView, run: tuple[KpiFigure, ...], policy: int) -> str:
    d = version.definition
    better = "higher" if d.direction.value == "higher" else "lower"
    lines = [
        f"{d.name}: target {figure_label(d.target, d.unit)} ({better} is better), red beyond {figure_label(d.red, d.unit)}.",
        *(f"Period ending {f.period_end.isoformat()}: {figure_label(f.value, d.unit)} ({RAG_LABELS[f.rag]})" for f in run),
        f"Logged by PartnerPulse: the partnership's policy escalates a KPI red for {policy} "
        f"{_period_word(version, policy)} in a row like an issue. Not whose fault it is: what each side can do "
        "to get it back.",
    ]
    return "\n".join(lines)


# --- what the question and the answer form show -------------------------------------------------------------------


def red_kpi(uow: UnitOfWork, *, kpi_id: int, period_end: date, channel_id: str | None = None) -> RedKpi | None:
    """The red figure a question is about (None when the KPI or its figure is gone, no version judges it, or the
    figure is no longer red).
    With ``channel_id``: only the channel's partnership's KPI (a button's click)."""
    with uow.read_only():
        kpi = uow.kpis.get(kpi_id)
        value = uow.kpi_values.get_for_period(kpi_id, period_end) if kpi is not None else None
        p = uow.partnerships.get(kpi.partnership_id) if kpi is not None else None
        if kpi is None or value is None or p is None or (channel_id is not None and p.channel_id != channel_id):
            return None
        versions = [version_view(v, kpi.delivered_by) for v in uow.kpi_versions.of_kpi(kpi.id)]
        figure = figure_of(value, versions)
        version = kpi_rules.version_in_force(versions, period_end)
        if figure is None or version is None or figure.rag is not Rag.RED:  # replaced by a better figure since
            return None
        earlier = [v for v in uow.kpi_values.latest(kpi.id, RUN_LOOKBACK) if v.period_end <= period_end]
        run = red_run([figure_of(v, versions) for v in earlier], version.definition.period)
        return RedKpi(
            partnership=partnership_view(p),
            kpi_id=kpi.id,
            number=kpi.number,
            definition=version.definition,
            figure=figure,
            red_periods=len(run),
            periods_to_escalate=p.kpi_red_periods_to_escalate,
        )


def red_kpi_in_channel(uow: UnitOfWork, *, channel_id: str, kpi_id: int, period_end: date) -> RedKpi:
    """``red_kpi`` for a click in the channel. Raises NotFound when it is not this channel's KPI or figure."""
    found = red_kpi(uow, kpi_id=kpi_id, period_end=period_end, channel_id=channel_id)
    if found is None:
        raise NotFound("This KPI or its figure no longer exists in this channel's partnership.")
    return found


def queue_answer(uow: UnitOfWork, p: Partnership, kpi: Kpi, action_id: int, *, now: datetime) -> None:
    """Inside the caller's transaction: an action answering the KPI's question goes in the thread of the KPI's
    latest question (the one its button was on), so both sides see what each will do."""
    if kpi.red_question_period_end is None:
        return
    outbox.enqueue(
        uow,
        p,
        purpose=outbox.Purpose.KPI_RED_ANSWER,
        ref_id=action_id,
        extra={"question": question_key(kpi.id, kpi.red_question_period_end)},
        now=now,
    )


def red_answer(uow_factory: UowFactory, *, action_id: int, question: str) -> RedAnswer | None:
    """What the answer's thread reply shows (None when the action or its KPI is gone)."""
    with uow_factory().read_only() as uow:
        action = uow.actions.get(action_id)
        kpi = uow.kpis.get(action.kpi_id) if action is not None and action.kpi_id is not None else None
        p = uow.partnerships.get(kpi.partnership_id) if kpi is not None else None
        if action is None or kpi is None or p is None or kpi.current_version is None:
            return None
        version = next((v for v in uow.kpi_versions.of_kpi(kpi.id) if v.version == kpi.current_version), None)
        name = version.name if version is not None else kpi.key
        found = RedAnswer(partnership_view(p), kpi.number, name, action_view(action), thread_ts=None)
    return replace(found, thread_ts=outbox.sent_ts(uow_factory(), question))


# --- the policy ----------------------------------------------------------------------------------------------------


def set_red_periods(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    periods: int,
    now: datetime,
    announce: Notice[int] | None = None,
) -> int:
    """A lead sets how many red periods in a row log an issue (1 to 12); the change is announced in the channel.

    Raises:
        NotFound, NotAllowed (not a lead), InvalidInput (``field`` "periods") out of range.
    """
    if not MIN_RED_PERIODS <= periods <= MAX_RED_PERIODS:
        raise InvalidInput(
            f"A KPI escalates after {MIN_RED_PERIODS} to {MAX_RED_PERIODS} red periods in a row; {periods} is not "
            "in that range.",
            "periods",
        )
    with uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "change when a red KPI escalates")
        p.kpi_red_periods_to_escalate, p.updated_at = periods, now
        return outbox_notices.commit_saved(uow, p, announce, periods, now=now)
