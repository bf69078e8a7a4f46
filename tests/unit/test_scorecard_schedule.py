"""Issue 12, item 9: the scorecard's schedule respects its cadence from the last one (a lead's ``start``
included), and a scorecard too few people answered says so once, plainly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.blocks.scorecard import build_scorecard_report
from bot.services import scorecard, scorecard_rounds
from bot.services.pulse_models import DIMENSIONS
from bot.services.review_models import ScorecardCadence, ScorecardInput
from storage.models import Partnership, Scorecard
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world

#: Monday 30 Nov 2026, 10:00 New York. The partnership's digest day is Friday, 16:00 New York.
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
#: The first Friday of January 2027, 16:00 New York: the Q1 (and January) slot.
Q1_SLOT = datetime(2027, 1, 1, 21, 0, tzinfo=UTC)
#: The first Friday of April 2027, 16:00 New York (daylight saving time): the Q2 slot.
Q2_SLOT = datetime(2027, 4, 2, 20, 0, tzinfo=UTC)
SECRET = "unit-test-secret"


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=NOW - timedelta(days=10))


def _next_at(world: IssueWorld) -> datetime | None:
    with world.uow_factory() as uow:
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None
        return p.next_scorecard_at


def _periods(world: IssueWorld) -> list[str]:
    with world.uow_factory() as uow:
        return sorted(uow.session.scalars(select(Scorecard.period)))


def test_a_leads_start_late_in_q4_is_not_followed_by_a_q1_scorecard_two_weeks_later(world: IssueWorld) -> None:
    uf = world.uow_factory
    kw = {"team_id": world.team_id, "channel_id": world.channel_id}
    scorecard_rounds.open_due(uf, now=NOW)  # the heartbeat computes the quarterly schedule: 1 January
    assert _next_at(world) == Q1_SLOT
    started = datetime(2026, 12, 16, 15, 0, tzinfo=UTC)
    assert scorecard.start_now(uf(), actor="UCL", now=started, **kw).period == "2026-Q4"
    # At least 60 days after the start (14 Feb): the first quarterly slot after that is April's.
    assert _next_at(world) == Q2_SLOT
    for at in (Q1_SLOT, Q1_SLOT + timedelta(days=7), Q2_SLOT - timedelta(minutes=1)):
        assert scorecard_rounds.open_due(uf, now=at) == 0
    assert scorecard_rounds.open_due(uf, now=Q2_SLOT) == 1
    assert _periods(world) == ["2026-Q4", "2027-Q2"]
    assert _next_at(world) == datetime(2027, 7, 2, 20, 0, tzinfo=UTC)  # then quarterly as usual


def test_a_time_stored_before_the_start_is_skipped_and_the_monthly_rhythm_is_kept(world: IssueWorld) -> None:
    uf = world.uow_factory
    kw = {"team_id": world.team_id, "channel_id": world.channel_id}
    scorecard.set_cadence(uf(), actor="UCL", cadence=ScorecardCadence.MONTHLY, now=NOW, **kw)
    scorecard_rounds.open_due(uf, now=datetime(2026, 12, 4, 21, 0, tzinfo=UTC))  # the December slot: opens
    scorecard_rounds.open_due(uf, now=Q1_SLOT)  # January: 28 days later, opens (the usual rhythm is untouched)
    assert _periods(world) == ["2026-12", "2027-01"]
    # A database written before this rule: February's slot is stored although a lead started one on 25 January.
    with uf() as uow:
        uow.session.add(
            Scorecard(
                partnership_id=world.partnership_id,
                period="2027-01b",
                status="closed",
                opened_by="UCL",
                opened_at=datetime(2027, 1, 25, 15, tzinfo=UTC),
                closes_at=datetime(2027, 2, 1, 15, tzinfo=UTC),
                closed_at=datetime(2027, 2, 1, 15, tzinfo=UTC),
            )
        )
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None
        p.next_scorecard_at = datetime(2027, 2, 5, 21, 0, tzinfo=UTC)
        uow.commit()
    assert scorecard_rounds.open_due(uf, now=datetime(2027, 2, 5, 21, 0, tzinfo=UTC)) == 0  # 11 days after the start
    assert _next_at(world) == datetime(2027, 3, 5, 21, 0, tzinfo=UTC)


def _ratings(score: int) -> ScorecardInput:
    return ScorecardInput(scores={(t, d): score for t in ("self", "other") for d in DIMENSIONS})


def test_a_scorecard_too_few_answered_says_so_once_plainly(world: IssueWorld) -> None:
    uf = world.uow_factory
    s = scorecard.start_now(uf(), **world.where, actor="UCL", now=NOW)
    for user in ("UC1", "UC2", "UP1"):
        scorecard.submit(uf(), scorecard_id=s.id, user_id=user, data=_ratings(3), secret_key=SECRET, now=NOW)
    scorecard_rounds.close_due(uf, now=NOW + timedelta(days=7))
    report = scorecard.report(uf(), scorecard_id=s.id)
    assert report is not None
    messages = build_scorecard_report(report)
    assert len(messages) == 1 and len(messages[0].blocks) == 1
    text = json.dumps(messages[0].blocks[0].to_dict(), ensure_ascii=False)
    assert (
        "Too few people answered the 2026-Q4 scorecard of *Northwind desk* to show results: 2 of the 3 needed on "
        "the client side (Northwind), 1 on the provider side (Contoso)."
    ) in text
    assert "withheld" not in text and "anonymity" not in text and "3.00" not in text
