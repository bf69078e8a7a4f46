"""The issue log's service layer: logging, bad input, duplicates, permissions, the life cycle and configuration.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.services import calendar_settings, issue_lifecycle, issue_queries, issue_settings
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.issue_models import DEFAULT_CATEGORIES, IssueFilter, IssueStatus, IssueView
from bot.services.partnership_models import Side, SlackProfile
from bot.services.partnerships import member_left
from storage.models import Issue, OutboxMessage
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, issue_input, make_issue_world, put_provider_in_kolkata
from tests.unit_support import in_channel, log_issue_in, member_in_channel

#: Monday 30 Nov 2026, 10:00 in New York (EST, UTC-5): working time for the client side.
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=NOW)


def _log(world: IssueWorld, *, actor: str = "UC2", key: str = "k1", now: datetime = NOW, **kw: object):
    return log_issue_in(world, key=key, now=now, actor=actor, **kw)


def _outbox(world: IssueWorld) -> list[tuple[str, str, int | None]]:
    """(purpose, dedupe key, ref id) of every outbox row, in order."""
    with world.uow_factory() as uow:
        rows = uow.session.query(OutboxMessage).order_by(OutboxMessage.id).all()
        return [(r.purpose, r.dedupe_key, r.ref_id) for r in rows if not r.dedupe_key.startswith("menu:")]


def _purposes(world: IssueWorld) -> list[str]:
    return [purpose for purpose, _, _ in _outbox(world)]


# --- logging ----------------------------------------------------------------------------------------------


def test_log_issue_numbers_it_schedules_escalation_and_queues_the_card(world: IssueWorld) -> None:
    result = _log(world)
    issue = result.issue
    assert result.created
    assert (issue.number, issue.status, issue.owner_id, issue.raised_by) == (1, IssueStatus.OPEN, "UC1", "UC2")
    assert issue.raised_by_side is Side.CLIENT and issue.owning_side is Side.CLIENT
    # S2: acknowledge within 4 working hours -> level 1 at 14:00 New York = 19:00 UTC.
    assert issue.next_escalation_at == datetime(2026, 11, 30, 19, 0, tzinfo=UTC)
    assert _outbox(world) == [("issue-card", f"issue-card:{issue.id}", issue.id)]
    assert [e.kind for e in issue_queries.history(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id)] == [
        "created"
    ]
    second = _log(world, key="k2", title="Second")
    assert second.issue.number == 2


def test_the_same_submission_twice_creates_one_issue(world: IssueWorld) -> None:
    first = _log(world, key="view-123")
    again = _log(world, key="view-123", title="Changed on the retry")
    assert again.created is False and again.issue.id == first.issue.id and again.issue.title == first.issue.title
    assert len(issue_queries.list_issues(world.uow_factory(), **world.where, user_id="UC1")) == 1
    assert _purposes(world) == ["issue-card"]
    # The number the retry took was given back.
    assert _log(world, key="view-456").issue.number == 2


def test_numbers_are_per_partnership(world: IssueWorld) -> None:
    other = make_issue_world(world.uow_factory, now=NOW, channel_id="C200", name="Other desk")
    _log(world)
    _log(world, key="k2")
    result = _log(other, key="k1")
    assert result.issue.number == 1
    assert issue_queries.list_issues(world.uow_factory(), team_id=world.team_id, channel_id="C200", user_id="UC1")[
        0
    ].title == (result.issue.title)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 151}, "title"),
        ({"details": "d" * 3001}, "details"),
        ({"severity": "S5"}, "severity"),
        ({"category": "Gossip"}, "category"),
        ({"owner_id": "UNOBODY"}, "owner_id"),
        ({"owner_id": ""}, "owner_id"),
        ({"owner_id": "UBOT"}, "owner_id"),
        ({"owner_id": "UPS"}, "owner_id"),  # a sponsor who is not in the channel
        ({"owner_id": "UP1"}, "owner_id"),  # on the provider side, but the client side owns it
        ({"due_on": date(2026, 11, 29)}, "due_on"),  # yesterday in New York
        ({"due_on": date(2030, 1, 1)}, "due_on"),
    ],
)
def test_bad_input_is_rejected_with_the_field(world: IssueWorld, overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _log(world, **overrides)
    assert caught.value.field == field
    assert str(caught.value)  # a sentence for the user
    assert _purposes(world) == []


def test_limits_are_inclusive_and_text_is_stripped(world: IssueWorld) -> None:
    issue = _log(world, title="  " + "t" * 150 + "  ", details="d" * 3000, due_on=date(2026, 11, 30)).issue
    assert issue.title == "t" * 150 and len(issue.details) == 3000 and issue.due_on == date(2026, 11, 30)


def test_a_deactivated_owner_is_rejected(world: IssueWorld) -> None:
    member_in_channel(world, SlackProfile("UC3", "TCLIENT", "uc3", deleted=True), now=NOW)
    with pytest.raises(InvalidInput, match="deactivated") as caught:
        _log(world, owner_id="UC3")
    assert caught.value.field == "owner_id"


def test_an_owner_who_left_the_channel_is_rejected(world: IssueWorld) -> None:
    member_left(world.uow_factory(), **world.where, user_id="UC3", event_id="", now=NOW)
    with pytest.raises(InvalidInput, match="not in this channel"):
        _log(world, owner_id="UC3")


def test_mentions_are_stored_as_written(world: IssueWorld) -> None:
    # Stored verbatim; every builder escapes them (tests/unit/test_issue_blocks.py).
    issue = _log(world, title="<!channel> look <@UCL>", details="<!here|here> & <https://evil|x>").issue
    assert issue.title == "<!channel> look <@UCL>"


def test_only_slack_permalinks_are_kept(world: IssueWorld) -> None:
    good = "https://northwind.slack.com/archives/C100/p1700000000000100"
    assert _log(world, key="a", source_permalink=good).issue.source_permalink == good
    assert _log(world, key="b", source_permalink="javascript:alert(1)").issue.source_permalink is None
    assert _log(world, key="c", source_permalink="https://x.example/|<!channel>").issue.source_permalink is None


def test_no_partnership_in_the_channel(world: IssueWorld) -> None:
    with pytest.raises(NotFound):
        issue_lifecycle.log_issue(
            world.uow_factory(),
            team_id=world.team_id,
            channel_id="C999",
            actor="UC1",
            data=issue_input(),
            request_key="k",
            now=NOW,
        )


# --- the life cycle ---------------------------------------------------------------------------------------


def test_acknowledge_by_owner_or_lead_only(world: IssueWorld) -> None:
    issue = _log(world).issue
    with pytest.raises(NotAllowed, match="owner"):
        issue_lifecycle.acknowledge(
            world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC2", now=NOW
        )
    # A lead of the other side may.
    acked = issue_lifecycle.acknowledge(
        world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UPL", now=NOW
    )
    assert acked.status is IssueStatus.ACKNOWLEDGED and acked.acknowledged_by == "UPL"
    with pytest.raises(Conflict, match="already acknowledged"):
        issue_lifecycle.acknowledge(
            world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", now=NOW
        )
    # Acknowledged: the next trigger is 75% of the resolve time (18 of 24 working hours) -> Wed 12:00 New York.
    assert acked.next_escalation_at == datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def test_each_change_updates_the_card_and_adds_a_thread_line(world: IssueWorld) -> None:
    issue = _log(world).issue
    issue_lifecycle.acknowledge(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", now=NOW)
    rows = _outbox(world)
    assert [p for p, _, _ in rows] == ["issue-card", "issue-card-update", "issue-history"]
    events = issue_queries.history(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id)
    assert [e.kind for e in events] == ["created", "acknowledged"]
    assert rows[2][2] == events[1].id  # the thread line names the stored event


def test_resolve_stops_escalation_and_asks_the_blameless_question(world: IssueWorld) -> None:
    issue = _log(world).issue
    with pytest.raises(NotAllowed):
        issue_lifecycle.resolve(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UP1", now=NOW)
    done = issue_lifecycle.resolve(
        world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", now=NOW, comment="Fixed"
    )
    assert done.status is IssueStatus.RESOLVED and done.next_escalation_at is None and done.resolved_by == "UC1"
    assert _purposes(world)[-3:] == ["issue-card-update", "issue-history", "followup-question"]
    with pytest.raises(Conflict, match="already resolved"):
        issue_lifecycle.resolve(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", now=NOW)
    with pytest.raises(Conflict):
        issue_lifecycle.acknowledge(
            world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", now=NOW
        )


def test_reopen_restarts_the_clock(world: IssueWorld) -> None:
    issue = _log(world).issue
    issue_lifecycle.acknowledge(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", now=NOW)
    issue_lifecycle.resolve(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", now=NOW)
    later = NOW + timedelta(days=1)  # Tuesday 10:00 New York
    with pytest.raises(NotAllowed):
        issue_lifecycle.reopen(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UP1", now=later)
    # The person who raised it may reopen it.
    again = issue_lifecycle.reopen(
        world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC2", now=later
    )
    assert again.status is IssueStatus.OPEN and again.acknowledged_at is None and again.escalation_level == 0
    assert again.opened_at == later and again.next_escalation_at == later + timedelta(hours=4)
    with pytest.raises(Conflict, match="nothing to reopen"):
        issue_lifecycle.reopen(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", now=later)


def _update(world: IssueWorld, issue_id: int, *, actor: str, status: IssueStatus | None, comment: str | None) -> IssueView:
    return in_channel(
        world, issue_lifecycle.update_issue, issue_id=issue_id, actor=actor, status=status, comment=comment, now=NOW
    )


def test_update_with_a_comment_or_a_status(world: IssueWorld) -> None:
    issue = _log(world).issue
    with pytest.raises(InvalidInput) as caught:
        _update(world, issue.id, actor="UP2", status=None, comment="  ")
    assert caught.value.field == "comment"
    with pytest.raises(InvalidInput):
        _update(world, issue.id, actor="UP2", status=None, comment="c" * 3001)
    # Anyone may comment; only the owner or a lead may change the status.
    _update(world, issue.id, actor="UP2", status=IssueStatus.OPEN, comment="We can send it a day earlier <!channel>")
    with pytest.raises(NotAllowed):
        _update(world, issue.id, actor="UP2", status=IssueStatus.RESOLVED, comment=None)
    updated = _update(world, issue.id, actor="UC1", status=IssueStatus.ACKNOWLEDGED, comment="On it")
    assert updated.status is IssueStatus.ACKNOWLEDGED
    events = issue_queries.history(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id)
    assert [(e.kind, e.actor, e.detail) for e in events[1:]] == [
        ("updated", "UP2", "We can send it a day earlier <!channel>"),
        ("acknowledged", "UC1", "On it"),
    ]


def test_reassign_moves_the_clock_to_the_new_owners_side(world: IssueWorld) -> None:
    put_provider_in_kolkata(world, now=NOW)
    issue = _log(world).issue
    with pytest.raises(NotAllowed):
        issue_lifecycle.reassign(
            world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC2", new_owner_id="UP1", now=NOW
        )
    with pytest.raises(InvalidInput) as caught:
        issue_lifecycle.reassign(
            world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", new_owner_id="UC1", now=NOW
        )
    assert caught.value.field == "owner_id"
    with pytest.raises(InvalidInput):
        issue_lifecycle.reassign(
            world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", new_owner_id="UX", now=NOW
        )
    moved = issue_lifecycle.reassign(
        world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id, actor="UC1", new_owner_id="UP1", now=NOW
    )
    assert moved.owner_id == "UP1" and moved.owning_side is Side.PROVIDER
    # Logged Monday 20:30 in Kolkata (after hours): 4 working hours -> Tuesday 13:00 IST = 07:30 UTC.
    assert moved.next_escalation_at == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    last = issue_queries.history(world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id)[-1]
    assert last.kind == "reassigned" and last.data["from"] == "UC1" and last.data["to"] == "UP1"


def test_a_button_cannot_reach_another_channels_issue(world: IssueWorld) -> None:
    make_issue_world(world.uow_factory, now=NOW, channel_id="C200", name="Other")
    issue = _log(world).issue
    with pytest.raises(NotFound):
        issue_lifecycle.acknowledge(world.uow_factory(), channel_id="C200", issue_id=issue.id, actor="UCL", now=NOW)
    with pytest.raises(NotFound):
        issue_queries.get_issue(world.uow_factory(), channel_id="C200", issue_id=issue.id)


def test_list_issues_filters(world: IssueWorld) -> None:
    a = _log(world, key="a", owner_id="UC1").issue
    b = _log(world, key="b", owner_id="UC2").issue
    issue_lifecycle.resolve(world.uow_factory(), channel_id=world.channel_id, issue_id=a.id, actor="UC1", now=NOW)

    def numbers(user: str, f: IssueFilter) -> list[int]:
        found = issue_queries.list_issues(world.uow_factory(), **world.where, user_id=user, filter=f)
        return [i.number for i in found]

    assert numbers("UC1", IssueFilter.OPEN) == [b.number]
    assert numbers("UC2", IssueFilter.MINE) == [b.number]
    assert numbers("UC1", IssueFilter.MINE) == []
    assert numbers("UC1", IssueFilter.ALL) == [b.number, a.number]


# --- configuration ----------------------------------------------------------------------------------------


def test_only_leads_change_policy_categories_and_calendars(world: IssueWorld) -> None:
    kw = {"team_id": world.team_id, "channel_id": world.channel_id, "actor": "UC1", "now": NOW}
    with pytest.raises(NotAllowed):
        issue_settings.set_policy(
            world.uow_factory(), severity="S1", acknowledge=timedelta(hours=2), resolve=timedelta(hours=8), **kw
        )
    with pytest.raises(NotAllowed):
        issue_settings.edit_categories(world.uow_factory(), verb="set", names=["Only"], **kw)
    with pytest.raises(NotAllowed):
        calendar_settings.add_holiday(world.uow_factory(), side=Side.CLIENT, day=date(2026, 12, 25), name="Christmas", **kw)


def test_policy_change_reschedules_open_issues(world: IssueWorld) -> None:
    issue = _log(world).issue
    view = issue_settings.set_policy(
        world.uow_factory(),
        **world.where,
        actor="UPL",
        severity="S2",
        acknowledge=timedelta(hours=1),
        resolve=timedelta(hours=16),
        now=NOW,
    )
    s2 = next(s for s in view.severities if s.severity == "S2")
    assert (s2.acknowledge, s2.resolve, s2.custom) == (timedelta(hours=1), timedelta(hours=16), True)
    assert not next(s for s in view.severities if s.severity == "S1").custom
    assert issue_queries.get_issue(
        world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id
    ).next_escalation_at == (NOW + timedelta(hours=1))
    view = issue_settings.reset_policy(world.uow_factory(), **world.where, actor="UCL", severity="S2", now=NOW)
    assert next(s for s in view.severities if s.severity == "S2").acknowledge == timedelta(hours=4)
    assert issue_queries.get_issue(
        world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id
    ).next_escalation_at == (NOW + timedelta(hours=4))


@pytest.mark.parametrize(
    ("severity", "ack", "resolve", "field"),
    [
        ("S9", timedelta(hours=1), timedelta(hours=2), "severity"),
        ("S1", timedelta(0), timedelta(hours=2), "acknowledge"),
        ("S1", timedelta(seconds=90), timedelta(hours=2), "acknowledge"),
        ("S1", timedelta(hours=3), timedelta(hours=2), "acknowledge"),
        ("S1", timedelta(hours=1), timedelta(hours=8 * 251), "resolve"),
    ],
)
def test_bad_policy(world: IssueWorld, severity: str, ack: timedelta, resolve: timedelta, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        issue_settings.set_policy(
            world.uow_factory(),
            **world.where,
            actor="UCL",
            severity=severity,
            acknowledge=ack,
            resolve=resolve,
            now=NOW,
        )
    assert caught.value.field == field


def test_categories_can_be_edited_by_a_lead(world: IssueWorld) -> None:
    kw = {"team_id": world.team_id, "channel_id": world.channel_id}
    assert issue_settings.get_categories(world.uow_factory(), **kw) == DEFAULT_CATEGORIES
    with pytest.raises(InvalidInput):
        issue_settings.edit_categories(world.uow_factory(), actor="UCL", verb="set", names=["A", "a"], now=NOW, **kw)
    with pytest.raises(InvalidInput):
        issue_settings.edit_categories(world.uow_factory(), actor="UCL", verb="set", names=[" "], now=NOW, **kw)
    assert issue_settings.edit_categories(
        world.uow_factory(), actor="UCL", verb="set", names=["Data quality ", "Other"], now=NOW, **kw
    ) == (
        "Data quality",
        "Other",
    )
    with pytest.raises(InvalidInput):
        _log(world, category="Timeliness")
    assert _log(world, category="Data quality").issue.category == "Data quality"


def test_holidays_move_deadlines_and_can_be_removed(world: IssueWorld) -> None:
    # Logged Monday 16:00 New York: 1 hour left that day, so the 4-hour deadline is Tuesday 12:00...
    issue = _log(world, now=NOW + timedelta(hours=6)).issue
    assert issue.next_escalation_at == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    kw = {"team_id": world.team_id, "channel_id": world.channel_id, "actor": "UCL", "now": NOW}
    cal = calendar_settings.add_holiday(world.uow_factory(), side=Side.CLIENT, day=date(2026, 12, 1), name="Offsite", **kw)
    assert [(h.day, h.name) for h in cal.holidays] == [(date(2026, 12, 1), "Offsite")]
    # ...or Wednesday 12:00 when Tuesday is a client holiday.
    assert issue_queries.get_issue(
        world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id
    ).next_escalation_at == (datetime(2026, 12, 2, 17, 0, tzinfo=UTC))
    # A provider holiday changes nothing for a client-owned issue.
    calendar_settings.add_holiday(world.uow_factory(), side=Side.PROVIDER, day=date(2026, 12, 2), name="Diwali", **kw)
    assert issue_queries.get_issue(
        world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id
    ).next_escalation_at == (datetime(2026, 12, 2, 17, 0, tzinfo=UTC))
    calendar_settings.remove_holiday(world.uow_factory(), side=Side.CLIENT, day=date(2026, 12, 1), **kw)
    assert issue_queries.get_issue(
        world.uow_factory(), channel_id=world.channel_id, issue_id=issue.id
    ).next_escalation_at == (datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
    with pytest.raises(NotFound):
        calendar_settings.remove_holiday(world.uow_factory(), side=Side.CLIENT, day=date(2026, 12, 1), **kw)


def test_bad_calendar(world: IssueWorld) -> None:
    kw = {"team_id": world.team_id, "channel_id": world.channel_id, "actor": "UCL", "side": Side.CLIENT, "now": NOW}
    with pytest.raises(InvalidInput) as caught:
        calendar_settings.set_calendar(
            world.uow_factory(), timezone="Mars/Olympus", workdays=range(5), day_start=time(9), day_end=time(17), **kw
        )
    assert caught.value.field == "timezone"
    with pytest.raises(InvalidInput) as caught:
        calendar_settings.set_calendar(
            world.uow_factory(), timezone=None, workdays=[], day_start=time(9), day_end=time(17), **kw
        )
    assert caught.value.field == "workdays"
    with pytest.raises(InvalidInput) as caught:
        calendar_settings.set_calendar(
            world.uow_factory(), timezone=None, workdays=range(5), day_start=time(22), day_end=time(6), **kw
        )
    assert caught.value.field == "day_end"
    cal = calendar_settings.set_calendar(
        world.uow_factory(), timezone="Europe/Berlin", workdays=[0, 1, 2, 3], day_start=time(8), day_end=time(16), **kw
    )
    assert (cal.timezone, cal.workdays, cal.day_start, cal.day_end) == ("Europe/Berlin", (0, 1, 2, 3), time(8), time(16))


def test_recheck_uses_the_stored_issue(world: IssueWorld) -> None:
    # The read model is a snapshot; the row is the truth.
    issue = _log(world).issue
    with world.uow_factory() as uow:
        row = uow.session.get(Issue, issue.id)
        assert row is not None and row.request_key == "k1" and row.number == issue.number
    assert replace(issue, title="x").id == issue.id
