"""Escalation through the service layer, travelling in time by passing ``now``.

Each level fires exactly once, at the working-hours moment DESIGN 3.3 gives, and never for a missing
acknowledgement once the issue is acknowledged; weekends, time zones and daylight-saving changes included.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.services import calendar_settings, escalation, issue_lifecycle, issue_queries
from bot.services.errors import Conflict
from bot.services.partnership_models import Side
from storage.models import Issue, IssueEvent, OutboxMessage
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world
from tests.unit_support import log_issue_in

#: Monday 30 Nov 2026, 10:00 in New York (EST, UTC-5).
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
# S2 (acknowledge 4 working hours, resolve 3 working days = 24 hours), client side, New York 09:00-17:00:
LEVEL1 = datetime(2026, 11, 30, 19, 0, tzinfo=UTC)  # Mon 14:00: the acknowledge time
LEVEL2 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tue 10:00: twice the acknowledge time (8 working hours)
LEVEL3 = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)  # Tue 8 Dec 10:00: twice the resolve time (48 working hours)
# Once acknowledged: 75% of the resolve time (18 h) and the resolve time (24 h).
ACK_LEVEL1 = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # Wed 12:00
ACK_LEVEL2 = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # Thu 10:00


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=NOW)


def _log(world: IssueWorld, *, now: datetime = NOW, key: str = "k", **kw: object) -> int:
    return log_issue_in(world, key=key, now=now, actor="UC2", **kw).issue.id


def _tick(world: IssueWorld, at: datetime) -> int:
    return escalation.escalate_due(world.uow_factory, now=at)


def _escalations(world: IssueWorld, issue_id: int) -> list[tuple[int | None, str, list[int]]]:
    """(level, reason, skipped) of each stored escalation of the issue."""
    with world.uow_factory() as uow:
        rows = (
            uow.session.query(IssueEvent)
            .filter(IssueEvent.issue_id == issue_id, IssueEvent.kind == "escalated")
            .order_by(IssueEvent.id)
            .all()
        )
        return [(e.level, (e.data or {})["reason"], (e.data or {})["skipped"]) for e in rows]


def _escalation_messages(world: IssueWorld) -> int:
    with world.uow_factory() as uow:
        return uow.session.query(OutboxMessage).filter(OutboxMessage.purpose == "issue-escalation").count()


def test_each_level_fires_once_at_its_working_time_moment(world: IssueWorld) -> None:
    issue_id = _log(world)
    assert _tick(world, LEVEL1 - TICK) == 0
    assert _tick(world, LEVEL1) == 1
    assert _tick(world, LEVEL1) == 0  # a second heartbeat at the same moment
    assert _tick(world, LEVEL2 - TICK) == 0
    assert _tick(world, LEVEL2) == 1
    assert _tick(world, LEVEL3 - TICK) == 0
    assert _tick(world, LEVEL3) == 1
    for later in (LEVEL3 + timedelta(hours=1), LEVEL3 + timedelta(days=60)):
        assert _tick(world, later) == 0
    assert _escalations(world, issue_id) == [(1, "acknowledge", []), (2, "acknowledge", []), (3, "resolve", [])]
    assert _escalation_messages(world) == 3
    view = issue_queries.get_issue(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id)
    assert view.escalation_level == 3 and view.next_escalation_at is None


def test_nothing_for_a_missing_acknowledgement_after_acknowledging(world: IssueWorld) -> None:
    issue_id = _log(world)
    assert _tick(world, LEVEL1) == 1
    issue_lifecycle.acknowledge(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id, actor="UC1", now=LEVEL1)
    # Level 2 would have come at twice the acknowledge time: it does not.
    assert _tick(world, LEVEL2) == 0
    assert _tick(world, ACK_LEVEL1) == 0  # level 1 already fired
    # The resolve time still counts: level 2 when it passes.
    assert _tick(world, ACK_LEVEL2 - TICK) == 0
    assert _tick(world, ACK_LEVEL2) == 1
    assert _escalations(world, issue_id) == [(1, "acknowledge", []), (2, "resolve", [])]


def test_acknowledged_early_the_owner_is_nudged_at_three_quarters_of_the_resolve_time(world: IssueWorld) -> None:
    issue_id = _log(world)
    issue_lifecycle.acknowledge(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id, actor="UC1", now=NOW)
    for at in (LEVEL1, LEVEL2, ACK_LEVEL1 - TICK):
        assert _tick(world, at) == 0
    assert _tick(world, ACK_LEVEL1) == 1
    assert _escalations(world, issue_id) == [(1, "resolve", [])]


def test_resolving_stops_everything(world: IssueWorld) -> None:
    issue_id = _log(world)
    assert _tick(world, LEVEL1) == 1
    issue_lifecycle.resolve(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id, actor="UCL", now=LEVEL1)
    for at in (LEVEL2, LEVEL3, LEVEL3 + timedelta(days=30)):
        assert _tick(world, at) == 0
    assert len(_escalations(world, issue_id)) == 1


def test_after_downtime_only_the_highest_due_level_fires(world: IssueWorld) -> None:
    issue_id = _log(world)
    assert _tick(world, LEVEL3 + timedelta(hours=2)) == 1
    assert _escalations(world, issue_id) == [(3, "resolve", [1, 2])]
    assert _escalation_messages(world) == 1
    assert _tick(world, LEVEL3 + timedelta(days=1)) == 0


def test_a_weekend_and_a_daylight_saving_change_do_not_count(world: IssueWorld) -> None:
    # Friday 30 Oct 2026, 16:00 in New York (EDT, UTC-4). Clocks go back on Sunday 1 Nov.
    friday = datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
    issue_id = _log(world, now=friday)
    # One working hour on Friday, three on Monday from 09:00 EST: Monday 12:00 EST = 17:00 UTC.
    due = datetime(2026, 11, 2, 17, 0, tzinfo=UTC)
    assert (
        issue_queries.get_issue(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id).next_escalation_at
        == due
    )
    for at in (
        datetime(2026, 10, 31, 16, 0, tzinfo=UTC),  # Saturday noon
        datetime(2026, 11, 1, 16, 0, tzinfo=UTC),  # Sunday
        datetime(2026, 11, 2, 16, 0, tzinfo=UTC),  # Monday 11:00 EST: 12:00 if the change were ignored
        due - TICK,
    ):
        assert _tick(world, at) == 0
    assert _tick(world, due) == 1


def test_the_owning_sides_time_zone_and_holidays_count(world: IssueWorld) -> None:
    kw = {"team_id": world.team_id, "channel_id": world.channel_id, "actor": "UPL", "now": NOW}
    calendar_settings.set_calendar(
        world.uow_factory(),
        side=Side.PROVIDER,
        timezone="Asia/Kolkata",
        workdays=range(5),
        day_start=time(9, 0),
        day_end=time(17, 0),
        **kw,
    )
    calendar_settings.add_holiday(
        world.uow_factory(), side=Side.PROVIDER, day=datetime(2026, 12, 1).date(), name="Local", **kw
    )
    # S1 owned by the provider, logged Monday 20:30 in Kolkata: Tuesday is a holiday, so one working hour
    # ends Wednesday 10:00 IST = 04:30 UTC.
    issue_id = _log(world, severity="S1", owning_side=Side.PROVIDER, owner_id="UP1")
    due = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
    assert _tick(world, datetime(2026, 12, 1, 4, 30, tzinfo=UTC)) == 0
    assert _tick(world, due - TICK) == 0
    assert _tick(world, due) == 1
    assert _escalations(world, issue_id) == [(1, "acknowledge", [])]


def test_escalate_now_then_the_schedule_continues_above_it(world: IssueWorld) -> None:
    issue_id = _log(world)
    view = escalation.escalate_now(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id, actor="UP3", now=NOW)
    assert view.escalation_level == 1 and view.next_escalation_at == LEVEL2
    assert _tick(world, LEVEL1) == 0  # level 1 fired by hand, not again
    assert _tick(world, LEVEL2) == 1
    escalation.escalate_now(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id, actor="UP3", now=LEVEL2)
    with pytest.raises(Conflict, match="executive sponsors"):
        escalation.escalate_now(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id, actor="UP3", now=LEVEL2)
    assert _tick(world, LEVEL3) == 0
    assert [(level, reason) for level, reason, _ in _escalations(world, issue_id)] == [
        (1, "manual"),
        (2, "acknowledge"),
        (3, "manual"),
    ]


def test_many_issues_in_many_partnerships_are_batched(world: IssueWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    other = make_issue_world(world.uow_factory, now=NOW, channel_id="C200", name="Other")
    monkeypatch.setattr(escalation, "BATCH", 3)
    ids = [_log(world, key=f"a{i}") for i in range(4)] + [_log(other, key=f"b{i}") for i in range(3)]
    assert _tick(world, LEVEL1) == 7
    assert _tick(world, LEVEL1) == 0
    assert all(_escalations(world, i) == [(1, "acknowledge", [])] for i in ids)


def _set_next_escalation(world: IssueWorld, issue_id: int, at: datetime | None) -> None:
    with world.uow_factory() as uow:
        uow.session.get_one(Issue, issue_id).next_escalation_at = at
        uow.commit()


def _issue(world: IssueWorld, issue_id: int) -> tuple[int, datetime | None, datetime]:
    """(level, next escalation, updated_at) of the issue as stored."""
    with world.uow_factory() as uow:
        issue = uow.session.get_one(Issue, issue_id)
        return issue.escalation_level, issue.next_escalation_at, issue.updated_at


def test_an_index_key_earlier_than_any_level_only_moves_the_key(world: IssueWorld) -> None:
    """A stale ``next_escalation_at`` (before the level it stands for) fires nothing: no history, no message;
    the pass writes the true time, and the level then fires once, at that time."""
    issue_id = _log(world)
    before = _issue(world, issue_id)
    _set_next_escalation(world, issue_id, NOW + timedelta(minutes=5))
    assert _tick(world, NOW + timedelta(minutes=10)) == 0
    assert _issue(world, issue_id) == before  # level, the true next time (LEVEL1) and updated_at as they were
    assert before[1] == LEVEL1
    assert _escalations(world, issue_id) == [] and _escalation_messages(world) == 0
    assert _tick(world, LEVEL1) == 1
    assert _escalations(world, issue_id) == [(1, "acknowledge", [])]
    level, following, updated = _issue(world, issue_id)
    assert (level, following, updated) == (1, LEVEL2, LEVEL1)


def test_the_escalation_notice_names_who_is_needed_never_who_is_at_fault(world: IssueWorld) -> None:
    issue_id = _log(world)
    _tick(world, LEVEL1)
    _tick(world, LEVEL2)
    _tick(world, LEVEL3)
    with world.uow_factory() as uow:
        event_ids = [
            e.id for e in uow.session.query(IssueEvent).filter(IssueEvent.kind == "escalated").order_by(IssueEvent.id).all()
        ]
    notices = [issue_queries.escalation_notice(world.uow_factory(), event_id=e) for e in event_ids]
    assert [n.recipients if n else None for n in notices] == [("UC1",), ("UCL", "UPL"), ("UCS", "UPS")]
    assert all(n is not None and n.issue.id == issue_id and n.missing_sides == () for n in notices)
    assert notices[0] is not None and notices[0].acknowledge_within == timedelta(hours=4)


def test_a_late_acknowledgement_cancels_an_unsent_acknowledgement_nudge(world: IssueWorld) -> None:
    issue_id = _log(world)
    _tick(world, LEVEL1)
    issue_lifecycle.acknowledge(world.uow_factory(), channel_id=world.channel_id, issue_id=issue_id, actor="UC1", now=LEVEL1)
    with world.uow_factory() as uow:
        event_id = uow.session.query(IssueEvent).filter(IssueEvent.kind == "escalated").one().id
    assert issue_queries.escalation_notice(world.uow_factory(), event_id=event_id) is None
