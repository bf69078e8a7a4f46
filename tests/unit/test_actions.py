"""Actions: creation and bad input, status changes, lists, and grouped overdue reminders in working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.services import actions, issue_queries
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.issue_models import ActionFilter, ActionStatus
from bot.services.partnership_models import Side, SlackProfile
from storage.models import OutboxMessage
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, action_input, make_issue_world, put_provider_in_kolkata
from tests.unit_support import create_action_in, log_issue_in, member_in_channel, set_action_status_in

#: Friday 20 Nov 2026, 10:00 New York: when the actions are created.
CREATED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
#: Monday 30 Nov 2026, 10:00 New York (working time on both sides unless the provider moves to Kolkata).
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=CREATED)


def _create(world: IssueWorld, *, key: str, actor: str = "UC2", now: datetime = CREATED, **kw: object):
    return create_action_in(world, key=key, now=now, actor=actor, **kw)


def _reminders(world: IssueWorld) -> list[tuple[str | None, str, int | None]]:
    with world.uow_factory() as uow:
        rows = (
            uow.session.query(OutboxMessage)
            .filter(OutboxMessage.purpose == "actions-overdue")
            .order_by(OutboxMessage.id)
            .all()
        )
        return [(r.user_id, r.dedupe_key, r.ref_id) for r in rows]


def _list(world: IssueWorld, user: str, f: ActionFilter, now: datetime = NOW) -> list[str]:
    found = actions.list_actions(world.uow_factory(), **world.where, user_id=user, filter=f, now=now)
    return [a.title for a in found]


# --- creating ---------------------------------------------------------------------------------------------


def test_create_a_standalone_action(world: IssueWorld) -> None:
    action = _create(world, key="a", title="  Share the release calendar  ", owner_id="UP1", due_on=date(2026, 12, 4))
    assert (action.title, action.owner_id, action.side, action.status) == (
        "Share the release calendar",
        "UP1",
        Side.PROVIDER,
        ActionStatus.OPEN,
    )
    assert action.issue_id is None and not action.overdue


def test_the_same_submission_twice_creates_one_action(world: IssueWorld) -> None:
    first = _create(world, key="view-1")
    again = _create(world, key="view-1", title="Different")
    assert again.id == first.id and again.title == first.title
    assert len(_list(world, "UC1", ActionFilter.ALL)) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "t" * 151}, "title"),
        ({"owner_id": "UNOBODY"}, "owner_id"),
        ({"owner_id": "UBOT"}, "owner_id"),
        ({"due_on": date(2026, 11, 19)}, "due_on"),
        ({"owner_id": "UP1", "side": Side.CLIENT}, "owner_id"),
    ],
)
def test_bad_action_input(world: IssueWorld, overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _create(world, key="x", **overrides)
    assert caught.value.field == field


def test_a_deactivated_owner_cannot_get_an_action(world: IssueWorld) -> None:
    member_in_channel(world, SlackProfile("UC3", "TCLIENT", "uc3", deleted=True), now=CREATED)
    with pytest.raises(InvalidInput, match="deactivated"):
        _create(world, key="x", owner_id="UC3")


def test_an_action_from_an_issue_is_in_its_history_and_on_its_card(world: IssueWorld) -> None:
    issue = log_issue_in(world, key="i", now=CREATED, actor="UC2").issue
    action = _create(world, key="a", issue_id=issue.id)
    assert action.issue_id == issue.id and action.issue_number == issue.number
    last = issue_queries.history(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id)[-1]
    assert last.kind == "action_added" and last.data == {"action_id": action.id}
    card = issue_queries.issue_card(world.uow_factory(), issue_id=issue.id)
    assert card is not None and [a.id for a in card.actions] == [action.id]
    # Another partnership's issue cannot be named.
    other = make_issue_world(world.uow_factory, now=CREATED, channel_id="C200", name="Other")
    with pytest.raises(NotFound):
        actions.create_action(
            world.uow_factory(),
            team_id=other.team_id,
            channel_id=other.channel_id,
            actor="UC2",
            data=action_input(issue_id=issue.id),
            request_key="z",
            now=CREATED,
        )


# --- status and lists -------------------------------------------------------------------------------------


def test_status_changes_by_owner_creator_or_lead(world: IssueWorld) -> None:
    action = _create(world, key="a", actor="UC2", owner_id="UC1")
    kw = {"channel_id": world.channel_id, "action_id": action.id, "now": NOW}
    with pytest.raises(NotAllowed):
        actions.set_action_status(world.uow_factory(), actor="UP3", status=ActionStatus.DONE, **kw)
    done = actions.set_action_status(world.uow_factory(), actor="UC1", status=ActionStatus.DONE, **kw)
    assert done.status is ActionStatus.DONE and done.closed_at == NOW
    reopened = actions.set_action_status(world.uow_factory(), actor="UC2", status=ActionStatus.OPEN, **kw)
    assert reopened.status is ActionStatus.OPEN and reopened.closed_at is None
    dropped = actions.set_action_status(world.uow_factory(), actor="UPL", status=ActionStatus.DROPPED, **kw)
    assert dropped.status is ActionStatus.DROPPED
    with pytest.raises(NotFound):
        actions.set_action_status(world.uow_factory(), actor="UC1", status=ActionStatus.DONE, **{**kw, "channel_id": "C9"})


def test_lists_mine_overdue_all(world: IssueWorld) -> None:
    _create(world, key="a", title="Late", owner_id="UC1", due_on=date(2026, 11, 27))
    _create(world, key="b", title="Due today", owner_id="UC1", due_on=date(2026, 11, 30))
    _create(world, key="c", title="Theirs, late", owner_id="UP1", due_on=date(2026, 11, 25))
    done = _create(world, key="d", title="Done", owner_id="UC1", due_on=date(2026, 11, 21))
    set_action_status_in(world, done.id, ActionStatus.DONE, actor="UC1", now=NOW)
    assert _list(world, "UC1", ActionFilter.MINE) == ["Late", "Due today"]
    assert _list(world, "UC1", ActionFilter.OVERDUE) == ["Theirs, late", "Late"]
    assert _list(world, "UC1", ActionFilter.ALL) == ["Theirs, late", "Late", "Due today", "Done"]


# --- grouped overdue reminders ----------------------------------------------------------------------------


def test_three_overdue_actions_one_message_once_a_day(world: IssueWorld) -> None:
    for i, due in enumerate((date(2026, 11, 23), date(2026, 11, 25), date(2026, 11, 27))):
        _create(world, key=f"a{i}", title=f"Action {i}", owner_id="UC1", due_on=due)
    _create(world, key="today", title="Due today", owner_id="UC1", due_on=date(2026, 11, 30))
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 1
    assert _reminders(world) == [("UC1", f"actions-overdue:{world.partnership_id}:UC1:2026-11-30", world.partnership_id)]
    reminder = actions.overdue_reminder(world.uow_factory(), partnership_id=world.partnership_id, owner_id="UC1")
    assert reminder is not None and [a.title for a in reminder.actions] == ["Action 0", "Action 1", "Action 2"]
    assert all(a.overdue for a in reminder.actions) and reminder.as_of == date(2026, 11, 30)
    # Later the same day: nothing more.
    assert actions.remind_overdue(world.uow_factory, now=NOW + timedelta(hours=5)) == 0
    # Next working day: one again, now listing the action that was due on Monday too.
    assert actions.remind_overdue(world.uow_factory, now=NOW + timedelta(days=1)) == 1
    reminder = actions.overdue_reminder(world.uow_factory(), partnership_id=world.partnership_id, owner_id="UC1")
    assert reminder is not None and len(reminder.actions) == 4
    assert len(_reminders(world)) == 2


def test_no_reminder_outside_the_owners_working_time(world: IssueWorld) -> None:
    _create(world, key="a", owner_id="UC1", due_on=date(2026, 11, 23))
    saturday = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    early = datetime(2026, 11, 30, 13, 59, tzinfo=UTC)  # 08:59 in New York
    evening = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # 17:00 in New York: the window has ended
    for at in (saturday, early):
        assert actions.remind_overdue(world.uow_factory, now=at) == 0
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 1
    assert _reminders(world)[0][1].endswith(":2026-11-30")
    # Tuesday after hours: still nothing for Tuesday.
    assert actions.remind_overdue(world.uow_factory, now=evening + timedelta(days=1)) == 0


def test_each_owner_is_reminded_in_their_own_sides_hours(world: IssueWorld) -> None:
    put_provider_in_kolkata(world, now=CREATED)
    _create(world, key="c", owner_id="UC1", due_on=date(2026, 11, 23))
    _create(world, key="p1", owner_id="UP1", due_on=date(2026, 11, 23))
    _create(world, key="p2", owner_id="UP1", due_on=date(2026, 11, 24))
    _create(world, key="p3", owner_id="UP2", due_on=date(2026, 11, 24))
    # 10:00 in New York is 20:30 in Kolkata: only the client owner now.
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 1
    # Tuesday 10:00 in Kolkata (04:30 UTC): one each for the two provider owners, none for the client.
    assert actions.remind_overdue(world.uow_factory, now=datetime(2026, 12, 1, 4, 30, tzinfo=UTC)) == 2
    assert sorted(user for user, _, _ in _reminders(world)) == ["UC1", "UP1", "UP2"]


def test_a_reminder_lists_only_what_is_still_open_when_it_goes_out(world: IssueWorld) -> None:
    a = _create(world, key="a", owner_id="UC1", due_on=date(2026, 11, 23))
    b = _create(world, key="b", owner_id="UC1", due_on=date(2026, 11, 24))
    actions.remind_overdue(world.uow_factory, now=NOW)
    for action in (a, b):
        set_action_status_in(world, action.id, ActionStatus.DONE, actor="UC1", now=NOW)
        remaining = actions.overdue_reminder(world.uow_factory(), partnership_id=world.partnership_id, owner_id="UC1")
        if action is a:
            assert remaining is not None and [x.id for x in remaining.actions] == [b.id]
    assert actions.overdue_reminder(world.uow_factory(), partnership_id=world.partnership_id, owner_id="UC1") is None


def test_paused_partnerships_are_not_reminded(world: IssueWorld) -> None:
    _create(world, key="a", owner_id="UC1", due_on=date(2026, 11, 23))
    from bot.services.partnerships import set_paused

    set_paused(world.uow_factory(), **world.where, actor="UCL", paused=True, now=NOW)
    assert actions.remind_overdue(world.uow_factory, now=NOW) == 0
