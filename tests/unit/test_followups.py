"""Blameless follow-up: contributions tagged with their side, and each one an action in one click."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.services import followups, issue_lifecycle, issue_queries
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.partnership_models import Side, SlackProfile
from storage.models import OutboxMessage
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world
from tests.unit_support import in_channel, log_issue_in, member_in_channel

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=NOW)


@pytest.fixture
def issue_id(world: IssueWorld) -> int:
    issue = log_issue_in(world, key="i", now=NOW, actor="UC2").issue
    issue_lifecycle.resolve(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", now=NOW)
    return issue.id


def _contribute(world: IssueWorld, issue_id: int, *, actor: str, text: str, side: Side | None = None, key: str = "f"):
    return in_channel(
        world, followups.contribute, issue_id=issue_id, actor=actor, side=side, text=text, request_key=key, now=NOW
    )


def test_resolving_asks_the_question_once(world: IssueWorld, issue_id: int) -> None:
    with world.uow_factory() as uow:
        questions = uow.session.query(OutboxMessage).filter(OutboxMessage.purpose == "followup-question").all()
        assert len(questions) == 1
        event_id = questions[0].ref_id
    assert event_id is not None
    question = issue_queries.followup_question(world.uow_factory(), event_id=event_id)
    assert question is not None and question.issue.id == issue_id
    # Reopened before the question went out: it is no longer asked.
    issue_lifecycle.reopen(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id, actor="UC1", now=NOW)
    assert issue_queries.followup_question(world.uow_factory(), event_id=event_id) is None


def test_contributions_are_tagged_with_the_contributors_side(world: IssueWorld, issue_id: int) -> None:
    ours = _contribute(world, issue_id, actor="UC3", text="Send the data by the 25th", key="a")
    # The provider's button pressed by a client member still counts for the client side.
    theirs = _contribute(world, issue_id, actor="UP2", text="Flag risks a week ahead", side=Side.CLIENT, key="b")
    assert (ours.side, theirs.side) == (Side.CLIENT, Side.PROVIDER)
    events = issue_queries.history(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id)
    assert [e.kind for e in events][-2:] == ["followup_added", "followup_added"]
    assert events[-1].data == {"followup_id": theirs.id, "side": "provider"}
    item = issue_queries.history_item(world.uow_factory(), event_id=events[-1].id)
    assert item is not None and item.followup is not None and item.followup.text == "Flag risks a week ahead"


def test_people_without_a_side_use_the_button_they_pressed(world: IssueWorld, issue_id: int) -> None:
    member_in_channel(world, SlackProfile("UX1", None, "guest"), now=NOW)
    assert _contribute(world, issue_id, actor="UX1", text="Ask earlier", side=Side.PROVIDER).side is Side.PROVIDER
    with pytest.raises(NotAllowed):
        _contribute(world, issue_id, actor="UX1", text="Ask earlier", key="other")


def test_bad_contributions(world: IssueWorld, issue_id: int) -> None:
    for text in ("   ", "x" * 3001):
        with pytest.raises(InvalidInput) as caught:
            _contribute(world, issue_id, actor="UC1", text=text)
        assert caught.value.field == "text"
    with pytest.raises(NotFound):
        followups.contribute(
            world.uow_factory(),
            channel_id="C999",
            issue_id=issue_id,
            actor="UC1",
            side=None,
            text="x",
            request_key="k",
            now=NOW,
        )


def test_the_same_contribution_twice_is_recorded_once(world: IssueWorld, issue_id: int) -> None:
    first = _contribute(world, issue_id, actor="UC1", text="Share the calendar", key="view-9")
    again = _contribute(world, issue_id, actor="UC1", text="Share the calendar", key="view-9")
    assert again.id == first.id
    assert len(followups.list_followups(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id)) == 1


def test_a_contribution_becomes_an_action_in_one_click(world: IssueWorld, issue_id: int) -> None:
    text = "Share the release calendar every Monday\nso nobody is surprised <!channel>"
    f = _contribute(world, issue_id, actor="UP1", text=text)
    action = followups.to_action(world.uow_factory(), channel_id=world.channel_id, followup_id=f.id, actor="UC1", now=NOW)
    assert (action.title, action.owner_id, action.side, action.due_on, action.issue_id, action.followup_id) == (
        "Share the release calendar every Monday",
        "UP1",
        Side.PROVIDER,
        date(2026, 12, 14),
        issue_id,
        f.id,
    )
    # A second click returns the same action.
    again = followups.to_action(world.uow_factory(), channel_id=world.channel_id, followup_id=f.id, actor="UP1", now=NOW)
    assert again.id == action.id
    listed = followups.list_followups(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id)
    assert listed[0].action_id == action.id
    kinds = [e.kind for e in issue_queries.history(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id)]
    assert kinds.count("action_added") == 1


def test_a_contribution_can_become_someone_elses_action(world: IssueWorld, issue_id: int) -> None:
    f = _contribute(world, issue_id, actor="UP1", text="t" * 400)
    action = followups.to_action(
        world.uow_factory(),
        channel_id=world.channel_id,
        followup_id=f.id,
        actor="UCL",
        owner_id="UC2",
        due_on=date(2026, 12, 20),
        now=NOW,
    )
    assert action.owner_id == "UC2" and action.side is Side.CLIENT and len(action.title) == 150
    with pytest.raises(InvalidInput):
        followups.to_action(
            world.uow_factory(),
            channel_id=world.channel_id,
            followup_id=_contribute(world, issue_id, actor="UP1", text="Other", key="z").id,
            actor="UCL",
            due_on=date(2026, 11, 1),
            now=NOW,
        )
