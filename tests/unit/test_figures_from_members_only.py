"""Everything that counts in a partnership's figures comes from a present member of its channel (issue 13, item
10): a scorecard, a shared goal and an expectation from someone who left the channel, or was never in it, are
refused and store nothing; the members who are there still count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bot.services import expectations, goals, scorecard
from bot.services.errors import NotAllowed
from bot.services.pulse_models import DIMENSIONS
from bot.services.review_models import GoalInput, ScorecardInput
from storage.models import Expectation, Goal, Member, ScorecardResponse
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world
from tests.unit.test_scorecard import NOW, SECRET

NOT_A_MEMBER = "Only members of this partnership's channel can"


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    w = make_issue_world(uow_factory, now=NOW - timedelta(days=10))
    with uow_factory() as uow:  # UC3 left the channel (the bot recorded member_left_channel)
        uow.session.execute(update(Member).where(Member.user_id == "UC3").values(in_channel=False))
        uow.commit()
    return w


def _count(world: IssueWorld, model: type) -> int:
    with world.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _ratings() -> ScorecardInput:
    return ScorecardInput(scores={(t, d): 4 for t in ("self", "other") for d in DIMENSIONS})


@pytest.mark.parametrize("user", ["UC3", "UNOBODY"])
def test_a_scorecard_from_outside_the_channel_is_refused(world: IssueWorld, user: str) -> None:
    uf = world.uow_factory
    s = scorecard.start_now(uf(), **world.where, actor="UCL", now=NOW)
    with pytest.raises(NotAllowed, match=NOT_A_MEMBER):
        scorecard.scorecard_form(uf(), scorecard_id=s.id, user_id=user, secret_key=SECRET, now=NOW)
    with pytest.raises(NotAllowed, match=NOT_A_MEMBER):
        scorecard.submit(uf(), scorecard_id=s.id, user_id=user, data=_ratings(), secret_key=SECRET, now=NOW)
    assert _count(world, ScorecardResponse) == 0
    assert scorecard.submit(uf(), scorecard_id=s.id, user_id="UC1", data=_ratings(), secret_key=SECRET, now=NOW)
    assert _count(world, ScorecardResponse) == 1


@pytest.mark.parametrize("user", ["UC3", "UNOBODY"])
def test_a_goal_or_expectation_from_outside_the_channel_is_refused(world: IssueWorld, user: str) -> None:
    uf = world.uow_factory
    data = GoalInput(title="Cut ticket backlog by half", client_owner_id="UC2", provider_owner_id="UP1")
    where = {"team_id": world.team_id, "channel_id": world.channel_id}
    with pytest.raises(NotAllowed, match=NOT_A_MEMBER):
        goals.create_goal(uf(), **where, actor=user, data=data, request_key="g1", now=NOW)
    with pytest.raises(NotAllowed, match=NOT_A_MEMBER):
        expectations.record_expectation(uf(), **where, actor=user, text="Weekly reports", request_key="e1", now=NOW)
    assert (_count(world, Goal), _count(world, Expectation)) == (0, 0)
    goals.create_goal(uf(), **where, actor="UC1", data=data, request_key="g2", now=NOW)
    expectations.record_expectation(uf(), **where, actor="UC1", text="Weekly reports", request_key="e2", now=NOW)
    assert (_count(world, Goal), _count(world, Expectation)) == (1, 1)
