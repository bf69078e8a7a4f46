"""Row locks between a person's request and the heartbeat's claims, on PostgreSQL (SQLite has no row locks: a
writing unit of work holds the whole database's write lock, so none of these races exists there).

- A claim (``storage.repositories.base.claiming``) is ``FOR NO KEY UPDATE SKIP LOCKED``: it does not skip a row
  that another transaction only references (an uncommitted child row's foreign-key check holds ``FOR KEY SHARE``).
- An answer reads its pulse round under ``FOR SHARE``: a close that claimed the round first is waited for and the
  answer is refused as closed; a close that comes second skips the round until the answer is in.
- The red-KPI pass claims each KPI with its partnership, so it never holds a KPI while waiting for a partnership
  that a lead's answer holds while waiting for the KPI (a deadlock).

Each test runs the other party in a thread and waits on a condition: that thread finished, or PostgreSQL shows one
of the test's backends waiting for a lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.services import kpi_red, pulse_rounds, pulses, scorecard, scorecard_rounds
from bot.services.errors import Conflict
from bot.services.partnership_models import SlackProfile
from bot.services.pulse_models import DIMENSIONS, AnswerInput, RoundView
from bot.services.review_models import ScorecardInput
from storage.db import make_engine
from storage.models import Kpi, ScorecardResponse
from storage.repositories.base import AnsweringWindowRepository
from storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.conftest import START
from tests.factories import IssueWorld, make_issue_world
from tests.kpi_red_support import add_agreed_kpi, record_figure

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="row locks exist on PostgreSQL only (set TEST_DATABASE_URL)",
)

KEY = "k" * 40
#: How long a test waits for the other thread to reach its lock or end; a bound, not a pause.
PATIENCE = 20.0


class Other(threading.Thread):
    """``work`` in a thread; what it returned or raised is kept for the test to check."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.work, self.result, self.error = work, None, None

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as exc:  # the test checks it
            self.error = exc


@pytest.fixture
def observer(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _waiting_for_a_lock(observer: Engine) -> bool:
    with observer.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


def blocked_or_done(observer: Engine, thread: Other) -> str:
    """Wait until ``thread`` ends ("done") or a backend waits for a row lock ("blocked")."""
    done = threading.Event()
    for _ in range(int(PATIENCE / 0.02)):
        if not thread.is_alive():
            return "done"
        if _waiting_for_a_lock(observer):
            return "blocked"
        done.wait(0.02)
    raise AssertionError("the other thread neither ended nor waited for a lock")


def _profile(user_id: str) -> SlackProfile:
    return SlackProfile(user_id=user_id, team_id="TCLIENT" if user_id.startswith("UC") else "TPROV", display_name=user_id)


def _open_round(world: IssueWorld) -> RoundView:
    return pulse_rounds.start_round_now(world.uow_factory(), **world.where, actor=world.client_lead, now=START)


def _answer(world: IssueWorld, r: RoundView, user_id: str, score: int) -> Callable[[], Any]:
    answers = [AnswerInput(q.id, score, None) for q in r.questions]
    return lambda: pulses.submit_answers(
        world.uow_factory(),
        round_id=r.id,
        profile=_profile(user_id),
        answers=answers,
        secret_key=KEY,
        now=r.closes_at - timedelta(minutes=1),
    )


def _responses(world: IssueWorld, round_id: int) -> int:
    with world.uow_factory() as uow:
        return len(uow.responses.list_for_round(round_id))


def test_a_claim_takes_a_partnership_another_transaction_is_only_referencing(
    uow_factory: UnitOfWorkFactory, observer: Engine
) -> None:
    world = make_issue_world(uow_factory, now=START)
    referencing = uow_factory()
    with referencing:
        # An uncommitted row pointing at the partnership: its foreign-key check holds FOR KEY SHARE on it.
        referencing.kpis.add(
            Kpi(
                partnership_id=world.partnership_id,
                number=99,
                key="held",
                delivered_by="provider",
                created_by="UCL",
                created_at=START,
            )
        )
        with uow_factory() as tick:
            claimed = tick.partnerships.claim_due_pulses(START + timedelta(days=8), 10)
            # FOR UPDATE would have skipped it (it conflicts with FOR KEY SHARE): no pulse until the other commits.
            assert [p.id for p in claimed] == [world.partnership_id]
        referencing.rollback()


def refused_by_a_close(
    observer: Engine,
    uow_factory: UnitOfWorkFactory,
    rows: Callable[[UnitOfWork], AnsweringWindowRepository[Any]],
    closes_at: datetime,
    answer: Callable[[], Any],
) -> None:
    """Claim and close the round or scorecard due at ``closes_at`` (``rows`` picks the table), and while the close
    is not committed, ``answer`` it from another thread: the answer must wait for the close (read without a lock,
    the row would still be "open" to it), then be refused as closed."""
    with uow_factory() as closing:
        [claimed] = rows(closing).claim_due_closes(closes_at, 10)
        claimed.status = "closed"
        closing.session.flush()
        answering = Other(answer)
        answering.start()
        assert blocked_or_done(observer, answering) == "blocked"
        closing.commit()
    answering.join(PATIENCE)
    assert isinstance(answering.error, Conflict), answering.error or answering.result
    assert "closed" in str(answering.error)


def test_an_answer_waits_for_a_close_that_claimed_the_round_and_is_refused(
    uow_factory: UnitOfWorkFactory, observer: Engine
) -> None:
    world = make_issue_world(uow_factory, now=START)
    r = _open_round(world)
    refused_by_a_close(observer, uow_factory, lambda uow: uow.rounds, r.closes_at, _answer(world, r, "UC1", 4))
    assert _responses(world, r.id) == 0  # nothing was stored in the closed round


def test_a_scorecard_answer_waits_for_a_close_that_claimed_it_and_is_refused(
    uow_factory: UnitOfWorkFactory, observer: Engine
) -> None:
    world = make_issue_world(uow_factory, now=START)
    s = scorecard.start_now(uow_factory(), **world.where, actor=world.client_lead, now=START)
    ratings = ScorecardInput(scores={(t, d): 4 for t in ("self", "other") for d in DIMENSIONS})
    refused_by_a_close(
        observer,
        uow_factory,
        lambda uow: uow.scorecards,
        s.closes_at,
        lambda: scorecard.submit(
            uow_factory(),
            scorecard_id=s.id,
            user_id="UC1",
            data=ratings,
            secret_key=KEY,
            now=s.closes_at - timedelta(minutes=1),
        ),
    )
    with uow_factory() as uow:
        assert uow.scorecard_responses.find_one(ScorecardResponse.scorecard_id == s.id) is None
    assert scorecard_rounds.close_due(uow_factory, now=s.closes_at) == []  # already closed: nothing more to do


def test_a_close_skips_a_round_being_answered_and_closes_it_with_the_answer(
    uow_factory: UnitOfWorkFactory, observer: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_issue_world(uow_factory, now=START)
    r = _open_round(world)
    inside, release = threading.Event(), threading.Event()
    validate = pulses.validate_answers

    def validate_then_wait(*args: Any) -> None:  # runs inside the answer's transaction, after the round is read
        validate(*args)
        inside.set()
        assert release.wait(PATIENCE)

    monkeypatch.setattr(pulses, "validate_answers", validate_then_wait)
    answer = Other(_answer(world, r, "UC1", 4))
    answer.start()
    assert inside.wait(PATIENCE)
    # The round is due to close, but an answer to it is being recorded: the close skips it, without waiting.
    assert pulse_rounds.close_due_rounds(uow_factory, now=r.closes_at) == ()
    release.set()
    answer.join(PATIENCE)
    assert answer.error is None and answer.result is not None and answer.result.created
    assert pulse_rounds.close_due_rounds(uow_factory, now=r.closes_at) == (r.id,)
    assert _responses(world, r.id) == 1


def test_the_red_kpi_pass_skips_a_kpi_whose_partnership_a_lead_holds(
    uow_factory: UnitOfWorkFactory, observer: Engine
) -> None:
    world = make_issue_world(uow_factory, now=START)
    kpi_id = add_agreed_kpi(uow_factory, world.partnership_id, now=START)
    weeks = [date(2026, 11, 1) + timedelta(weeks=i) for i in range(3)]
    for week in weeks:  # 3 red weeks in a row (below 65 %): the pass logs an issue, taking the partnership's number
        record_figure(uow_factory, kpi_id, week, 60.0, now=START)
    later = START + timedelta(minutes=1)
    with uow_factory() as lead:
        lead.lock_partnership(world.partnership_id)  # as a lead answering a KPI does, before it changes the KPI
        check = Other(lambda: kpi_red.check_red_kpis(uow_factory, now=later))
        check.start()
        # Claiming the KPI alone, the pass would wait here for the partnership while holding the KPI.
        assert blocked_or_done(observer, check) == "done"
        assert check.error is None and check.result == kpi_red.KpiRedReport()
        lead.kpis.get(kpi_id, for_update=True)  # the lead's answer goes on to the KPI, unhindered
        lead.commit()
    assert kpi_red.check_red_kpis(uow_factory, now=later) == kpi_red.KpiRedReport(questions=1, escalations=1)
