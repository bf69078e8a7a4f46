"""A red KPI asks, and a run of red periods escalates (issue 14, item 4): once per red period, once per run, a gap
or a better figure ends a run. The KPI: first-contact resolution, higher is better, target 75 %, amber below 70 %,
red below 65 %, weekly (periods end on Sundays)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.services import actions, kpi_red
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.issue_models import ActionInput, ActionView
from bot.services.kpi_models import KpiFigure, KpiPeriod, KpiSource, Rag
from bot.services.outbox import Purpose
from storage.models import Action, Issue, Kpi, OutboxMessage
from tests.conftest import START
from tests.factories import IssueWorld, make_issue_world
from tests.kpi_red_support import add_agreed_kpi, record_figure

# Sundays: the ends of five weeks in a row.
W1, W2, W3, W4, W5 = (date(2026, 11, 1) + timedelta(weeks=i) for i in range(5))
RED, AMBER, GREEN = 60.0, 68.0, 80.0  # below 65 is red; 68 is below 70 (amber) but not below 65


def _figure(period_end: date, rag: Rag) -> KpiFigure:
    return KpiFigure(1, period_end, 0.0, rag, False, 1, None, KpiSource.API)


def test_a_run_is_consecutive_red_periods_ending_with_the_latest() -> None:
    # latest first: red W4, amber W3, red W2, red W1 -> only W4 (amber ends the run)
    figures = [_figure(W4, Rag.RED), _figure(W3, Rag.AMBER), _figure(W2, Rag.RED), _figure(W1, Rag.RED)]
    assert [f.period_end for f in kpi_red.red_run(figures, KpiPeriod.WEEKLY)] == [W4]
    # red W3, red W2, red W1 -> three, oldest first
    # from W2 back: red W2, red W1 -> two, oldest first
    assert [f.period_end for f in kpi_red.red_run(figures[2:], KpiPeriod.WEEKLY)] == [W1, W2]
    # red W4, red W2 (no figure for W3) -> a gap ends the run: one
    assert len(kpi_red.red_run([_figure(W4, Rag.RED), _figure(W2, Rag.RED)], KpiPeriod.WEEKLY)) == 1
    # the latest is not red: no run
    assert kpi_red.red_run([_figure(W4, Rag.GREEN), _figure(W3, Rag.RED)], KpiPeriod.WEEKLY) == ()
    # monthly: 31 Oct then 30 Nov are consecutive
    monthly = [_figure(date(2026, 11, 30), Rag.RED), _figure(date(2026, 10, 31), Rag.RED)]
    assert len(kpi_red.red_run(monthly, KpiPeriod.MONTHLY)) == 2


def _world(uow_factory: object) -> tuple[IssueWorld, int]:
    world = make_issue_world(uow_factory, now=START)
    return world, add_agreed_kpi(uow_factory, world.partnership_id, now=START)


def _week(world: IssueWorld, kpi_id: int, period_end: date, value: float, at: datetime) -> kpi_red.KpiRedReport:
    """Record the week's figure at ``at``, then run the heartbeat's pass a minute later."""
    record_figure(world.uow_factory, kpi_id, period_end, value, now=at)
    return kpi_red.check_red_kpis(world.uow_factory, now=at + timedelta(minutes=1))


def _questions(uow_factory: object, purpose: Purpose = Purpose.KPI_RED_QUESTION, field: str = "period_end") -> list[str]:
    with uow_factory() as uow:  # type: ignore[operator]
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == purpose.value))
        return sorted(str((r.extra or {}).get(field)) for r in rows)


def _issues(uow_factory: object) -> list[Issue]:
    with uow_factory() as uow:  # type: ignore[operator]
        rows = list(uow.session.scalars(select(Issue).order_by(Issue.id)))
        uow.session.expunge_all()  # read after the unit of work ends
        return rows


def test_a_red_period_asks_once_and_red_red_amber_red_is_not_three_in_a_row(uow_factory: object) -> None:
    world, kpi_id = _world(uow_factory)
    at = START
    assert _week(world, kpi_id, W1, RED, at) == kpi_red.KpiRedReport(questions=1, escalations=0)
    assert kpi_red.check_red_kpis(world.uow_factory, now=at + timedelta(hours=1)) == kpi_red.KpiRedReport()
    # the same red figure sent again for W1 (replaced): still asked once for that period
    assert _week(world, kpi_id, W1, RED - 1, at + timedelta(hours=2)).questions == 0
    assert _week(world, kpi_id, W2, RED, at + timedelta(days=1)).questions == 1
    assert _week(world, kpi_id, W3, AMBER, at + timedelta(days=2)) == kpi_red.KpiRedReport()
    assert _week(world, kpi_id, W4, RED, at + timedelta(days=3)) == kpi_red.KpiRedReport(questions=1, escalations=0)
    assert _questions(uow_factory) == [W1.isoformat(), W2.isoformat(), W4.isoformat()]
    assert _issues(uow_factory) == []  # red, red, amber, red: the latest run is one period long


def test_three_red_periods_in_a_row_log_one_issue_per_run(uow_factory: object) -> None:
    world, kpi_id = _world(uow_factory)
    at = START
    _week(world, kpi_id, W1, 62.0, at)
    _week(world, kpi_id, W2, 61.5, at + timedelta(days=1))
    report = _week(world, kpi_id, W3, 58.0, at + timedelta(days=2))
    assert report == kpi_red.KpiRedReport(questions=1, escalations=1)
    [issue] = _issues(uow_factory)
    assert (issue.severity, issue.category, issue.owning_side, issue.owner_id) == (
        "S2",
        "Delivery quality",
        "provider",
        "UP1",
    )
    assert issue.title == "KPI #1 First-contact resolution red for 3 weeks in a row"
    for line in ("Period ending 2026-11-01: 62 % (Red)", "Period ending 2026-11-08: 61.5 % (Red)", "2026-11-15: 58 %"):
        assert line in issue.details
    assert issue.next_escalation_at is not None  # deadlines: it escalates like every issue
    with uow_factory() as uow:  # type: ignore[operator]
        assert uow.kpis.get(kpi_id).escalation_issue_id == issue.id
    # a fourth red week is the same run: no second issue
    assert _week(world, kpi_id, W4, 50.0, at + timedelta(days=3)) == kpi_red.KpiRedReport(questions=1, escalations=0)
    assert len(_issues(uow_factory)) == 1


def test_a_missing_period_breaks_a_run(uow_factory: object) -> None:
    world, kpi_id = _world(uow_factory)
    _week(world, kpi_id, W1, RED, START)
    _week(world, kpi_id, W2, RED, START + timedelta(days=1))
    # no figure for W3
    assert _week(world, kpi_id, W4, RED, START + timedelta(days=3)).escalations == 0
    assert _week(world, kpi_id, W5, RED, START + timedelta(days=4)).escalations == 0  # W4, W5: two in a row
    assert _issues(uow_factory) == []


def test_a_new_run_after_a_better_period_logs_a_new_issue(uow_factory: object) -> None:
    world, kpi_id = _world(uow_factory)
    lead = kpi_red.set_red_periods(
        world.uow_factory(), team_id=world.team_id, channel_id=world.channel_id, actor="UPL", periods=1, now=START
    )
    assert lead == 1
    assert _week(world, kpi_id, W1, RED, START).escalations == 1
    assert _week(world, kpi_id, W2, GREEN, START + timedelta(days=1)).escalations == 0
    assert _week(world, kpi_id, W3, RED, START + timedelta(days=2)).escalations == 1
    assert [i.number for i in _issues(uow_factory)] == [1, 2]


def test_only_a_lead_sets_the_red_periods_between_1_and_12(uow_factory: object) -> None:
    world, _ = _world(uow_factory)
    where = {"team_id": world.team_id, "channel_id": world.channel_id, "now": START}
    with pytest.raises(NotAllowed):
        kpi_red.set_red_periods(world.uow_factory(), actor="UP1", periods=2, **where)
    for wrong in (0, 13):
        with pytest.raises(InvalidInput):
            kpi_red.set_red_periods(world.uow_factory(), actor="UCL", periods=wrong, **where)
    assert kpi_red.set_red_periods(world.uow_factory(), actor="UCL", periods=12, **where) == 12
    with uow_factory() as uow:  # type: ignore[operator]
        assert uow.partnerships.get(world.partnership_id).kpi_red_periods_to_escalate == 12


def test_an_answer_is_an_action_linked_to_the_kpi(uow_factory: object) -> None:
    world, kpi_id = _world(uow_factory)
    answer = ActionInput(
        title="Second-line triage for password resets", owner_id="UP2", due_on=date(2026, 12, 14), kpi_id=kpi_id
    )
    made = _answer(world, answer)
    with uow_factory() as uow:  # type: ignore[operator]
        action = uow.session.get(Action, made.id)
        assert (action.kpi_id, action.side) == (kpi_id, "provider")
    assert _questions(uow_factory, Purpose.KPI_RED_ANSWER, "question") == []  # no question asked: no thread
    with pytest.raises(NotFound):  # from another partnership's channel
        _answer(make_issue_world(uow_factory, now=START, channel_id="C200", name="Other desk"), answer)


def test_an_answer_goes_in_the_thread_of_the_kpis_latest_question(uow_factory: object) -> None:
    world, kpi_id = _world(uow_factory)
    _week(world, kpi_id, W1, RED, START)
    _week(world, kpi_id, W2, RED, START + timedelta(days=1))
    _answer(world, ActionInput(title="Extra agent on Mondays", owner_id="UP2", due_on=date(2026, 12, 14), kpi_id=kpi_id))
    assert _questions(uow_factory, Purpose.KPI_RED_ANSWER, "question") == [f"kpi-red-question:{kpi_id}:2026-11-08"]


def _answer(world: IssueWorld, data: ActionInput) -> ActionView:
    """A provider member's answer saved through the action form's service, in ``world``'s channel."""
    where = {"team_id": world.team_id, "channel_id": world.channel_id}
    return actions.create_action(
        world.uow_factory(), **where, actor="UP2", data=data, request_key=world.channel_id, now=START
    )


def test_old_history_asks_nothing(uow_factory: object) -> None:
    world, kpi_id = _world(uow_factory)
    # START is Monday 30 Nov (its week ends Sun 6 Dec); six periods back from that week is the week ending 25 Oct.
    assert _week(world, kpi_id, date(2026, 10, 18), RED, START) == kpi_red.KpiRedReport()
    assert _week(world, kpi_id, date(2026, 10, 25), RED, START + timedelta(hours=1)).questions == 1


def test_the_question_is_not_shown_once_the_figure_is_no_longer_red(uow_factory: object) -> None:
    world, kpi_id = _world(uow_factory)
    _week(world, kpi_id, W1, RED, START)
    red = kpi_red.red_kpi(world.uow_factory(), kpi_id=kpi_id, period_end=W1)
    assert red is not None and (red.figure.rag, red.red_periods, red.periods_to_escalate) == (Rag.RED, 1, 3)
    record_figure(world.uow_factory, kpi_id, W1, GREEN, now=START + timedelta(hours=1))
    assert kpi_red.red_kpi(world.uow_factory(), kpi_id=kpi_id, period_end=W1) is None
    with uow_factory() as uow:  # type: ignore[operator]
        assert uow.session.get(Kpi, kpi_id).red_question_period_end == W1
