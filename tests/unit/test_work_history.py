"""Issues, actions and goals shown week by week as they were, never by today's state (issue 12 item 4).

The partnership is set up Mon 2 Nov 2026 10:00 New York; its digest is Fridays 16:00 New York (21:00 UTC, after
the clocks changed on 1 Nov). Its weeks, by the local date they began (each ends at the next one's start):

    week 1  Fri 30 Oct (ends Fri  6 Nov 21:00 UTC)      week 4  Fri 20 Nov (ends Fri 27 Nov 21:00 UTC)
    week 2  Fri  6 Nov (ends Fri 13 Nov 21:00 UTC)      week 5  Fri 27 Nov (ends Fri  4 Dec 21:00 UTC)
    week 3  Fri 13 Nov (ends Fri 20 Nov 21:00 UTC)      week 6  Fri  4 Dec (ends Fri 11 Dec 21:00 UTC)

What happened (all at 15:00 UTC), and what each week's end saw, worked out by hand:
    issue #1 (S2)   logged Mon 16 Nov (week 3), escalated Tue 24 Nov (week 4), resolved Mon 30 Nov (week 5)
                    open in weeks 3-4 only: 4 days old at the end of week 3 (20 Nov 21:00 − 16 Nov 15:00 = 4 d 6 h),
                    11 at the end of week 4; resolved in week 5 after 14 days; nothing in weeks 1-2 and 6
    "Checklist"     created Mon 9 Nov (week 2), due Wed 25 Nov, done Thu 26 Nov (week 4): open in weeks 2-3,
                    done in week 4, gone after
    "Runbook"       created Mon 9 Nov (week 2), due Wed 18 Nov, still open: open in weeks 2-6, overdue from
                    week 3 (the client's date at the end of week 3 is Fri 20 Nov)
    goal "Backlog"  added Tue 3 Nov (week 1) on track, set at risk Tue 1 Dec (week 5)
    goal "Pilot"    added Tue 3 Nov (week 1) on track, done Wed 18 Nov (week 3): listed as done in week 3 only
Today (the export's "now") is Mon 14 Dec: everything above is its current state, which no past week may show.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from bot.services import actions, digest, escalation, export, goals, issue_lifecycle
from bot.services.digest_models import DigestView
from bot.services.issue_models import ActionStatus, IssueStatus
from bot.services.partnership_models import Side
from bot.services.review_models import GoalInput, GoalStatus
from storage import migrate
from storage.models import ActionEvent, GoalEvent
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, action_input, issue_input, issue_world_at_revision, make_issue_world
from tests.unit_support import set_action_status_in

SETUP = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)
WEEKS = [
    date(2026, 10, 30),
    date(2026, 11, 6),
    date(2026, 11, 13),
    date(2026, 11, 20),
    date(2026, 11, 27),
    date(2026, 12, 4),
]


def _at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 15, 0, tzinfo=UTC)


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    w = make_issue_world(uow_factory, now=SETUP)
    kw = {"team_id": w.team_id, "channel_id": w.channel_id}
    issue = issue_lifecycle.log_issue(
        uow_factory(), **kw, actor="UC1", data=issue_input(title="Late reports"), request_key="i1", now=_at(16)
    ).issue.id
    escalation.escalate_now(uow_factory(), channel_id=w.channel_id, issue_id=issue, actor="UCL", now=_at(24))
    issue_lifecycle.resolve(uow_factory(), channel_id=w.channel_id, issue_id=issue, actor="UC1", now=_at(30))
    checklist = actions.create_action(
        uow_factory(),
        **kw,
        actor="UCL",
        data=action_input(title="Checklist", owner_id="UC1", due_on=date(2026, 11, 25)),
        request_key="a1",
        now=_at(9),
    ).id
    actions.create_action(
        uow_factory(),
        **kw,
        actor="UCL",
        data=action_input(title="Runbook", owner_id="UC1", due_on=date(2026, 11, 18)),
        request_key="a2",
        now=_at(9),
    )
    actions.set_action_status(
        uow_factory(), channel_id=w.channel_id, action_id=checklist, actor="UC1", status=ActionStatus.DONE, now=_at(26)
    )
    ids = {}
    for title in ("Backlog", "Pilot"):
        ids[title] = goals.create_goal(
            uow_factory(),
            **kw,
            actor="UC1",
            data=GoalInput(title=title, client_owner_id="UC2", provider_owner_id="UP1"),
            request_key=title,
            now=_at(3),
        ).id
    for title, status, at in (("Pilot", GoalStatus.DONE, _at(18)), ("Backlog", GoalStatus.AT_RISK, _at(1, 12))):
        goals.set_goal_status(
            uow_factory(), channel_id=w.channel_id, goal_id=ids[title], actor="UCL", status=status, note=None, now=at
        )
    return w


def _weeks(world: IssueWorld) -> tuple[DigestView, ...]:
    report = export.build_export(world.uow_factory, partnership_id=world.partnership_id, start=None, end=None, now=NOW)
    assert [v.week_start for v in report.weeks] == WEEKS  # nothing before the setup's week
    return report.weeks


def test_an_issue_counts_open_only_in_the_weeks_it_was_open_with_its_age_then(world: IssueWorld) -> None:
    weeks = _weeks(world)
    assert [[(i.number, i.age_days) for i in v.issues.open] for v in weeks] == [[], [], [(1, 4)], [(1, 11)], [], []]
    assert [v.issues.open_total for v in weeks] == [0, 0, 1, 1, 0, 0]
    assert [len(v.issues.new) for v in weeks] == [0, 0, 1, 0, 0, 0]
    assert [[(i.escalation_level, i.status) for i in v.issues.escalated] for v in weeks] == [
        [],
        [],
        [],
        [(1, IssueStatus.OPEN)],
        [],
        [],
    ]
    assert weeks[2].issues.open[0].escalation_level == 0  # not escalated yet at the end of week 3
    assert [[(i.status, i.age_days) for i in v.issues.resolved] for v in weeks] == [
        [],
        [],
        [],
        [],
        [(IssueStatus.RESOLVED, 14)],
        [],
    ]
    s2 = [next(s.by_age for s in v.issues.open_by_severity if s.severity == "S2") for v in weeks]
    assert s2 == [(0, 0, 0), (0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 0), (0, 0, 0)]


def test_actions_are_open_overdue_and_done_as_of_each_weeks_end(world: IssueWorld) -> None:
    weeks = _weeks(world)
    assert [v.actions.open_by_side[Side.CLIENT] for v in weeks] == [0, 2, 2, 1, 1, 1]
    assert [[a.title for a in v.actions.overdue] for v in weeks] == [
        [],
        [],
        ["Runbook"],
        ["Runbook"],
        ["Runbook"],
        ["Runbook"],
    ]
    assert [[a.title for a in v.actions.done] for v in weeks] == [[], [], [], ["Checklist"], [], []]


def test_goals_show_the_status_they_had_each_week(world: IssueWorld) -> None:
    weeks = _weeks(world)
    assert [[(g.title, g.status) for g in v.goals.goals] for v in weeks] == [
        [("Backlog", "On track"), ("Pilot", "On track")],
        [("Backlog", "On track"), ("Pilot", "On track")],
        [("Backlog", "On track"), ("Pilot", "Done")],
        [("Backlog", "On track")],
        [("Backlog", "At risk")],
        [("Backlog", "At risk")],
    ]
    assert all(v.goals.tracked for v in weeks)


def test_the_digest_the_batch_and_the_export_agree_on_each_week(world: IssueWorld) -> None:
    weeks = _weeks(world)
    for view in weeks:
        alone = digest.build_digest(
            world.uow_factory(), partnership_id=world.partnership_id, week_start=view.week_start, now=NOW
        )
        assert (alone.issues, alone.actions, alone.goals) == (view.issues, view.actions, view.goals)
    (latest,) = digest.build_digests(world.uow_factory(), partnership_ids=[world.partnership_id], now=NOW)
    assert (latest.issues, latest.actions, latest.goals) == (weeks[-1].issues, weeks[-1].actions, weeks[-1].goals)
    assert latest.as_of == datetime(2026, 12, 11, 21, 0, tzinfo=UTC)  # the week's end, not the time it is built


def test_the_services_record_the_history(world: IssueWorld) -> None:
    with world.uow_factory().read_only() as uow:
        action_rows = [(e.kind, e.status, e.due_on, e.at) for e in uow.session.query(ActionEvent).order_by(ActionEvent.id)]
        goal_rows = [(e.kind, e.status, e.at) for e in uow.session.query(GoalEvent).order_by(GoalEvent.id)]
    assert action_rows == [
        ("created", "open", date(2026, 11, 25), _at(9)),
        ("created", "open", date(2026, 11, 18), _at(9)),
        ("status_changed", "done", None, _at(26)),
    ]
    assert goal_rows == [
        ("created", "on_track", _at(3)),
        ("created", "on_track", _at(3)),
        ("status_changed", "done", _at(18)),
        ("status_changed", "at_risk", _at(1, 12)),
    ]


def test_a_reopened_action_is_open_again_from_then_on(world: IssueWorld) -> None:
    with world.uow_factory().read_only() as uow:
        done = next(e.action_id for e in uow.session.query(ActionEvent) if e.status == "done")
    set_action_status_in(world, done, ActionStatus.OPEN, actor="UC1", now=_at(8, 12))
    weeks = _weeks(world)
    assert [v.actions.open_by_side[Side.CLIENT] for v in weeks] == [0, 2, 2, 1, 1, 2]
    assert [[a.title for a in v.actions.done] for v in weeks] == [[], [], [], ["Checklist"], [], []]


def test_the_migration_backfills_a_history_from_the_rows(empty_database_url: str) -> None:
    """Rows from before 0009: an action created open, a done one (done at closed_at), a goal at risk (at risk
    since it was added: its earlier statuses are unknown) and a done goal (on track until its last change)."""
    # The partnership is set up with today's models, then the schema goes back to 0008 (what later migrations
    # added is dropped, the partnership stays), so the rows below are written as before 0009.
    with issue_world_at_revision(empty_database_url, "0008", now=SETUP) as (engine, pid):
        with engine.begin() as conn:
            for n, (status, closed) in enumerate((("open", None), ("done", _at(20)))):
                conn.execute(
                    text(
                        "INSERT INTO actions (partnership_id, title, owner_id, side, due_on, status, created_by, "
                        "created_at, closed_at, closed_by, updated_at) VALUES (:pid, :title, 'UC1', 'client', :due, "
                        ":status, 'UCL', :created, :closed, :by, :created)"
                    ),
                    {
                        "pid": pid,
                        "title": f"a{n}",
                        "due": date(2026, 11, 25),
                        "status": status,
                        "created": _at(9),
                        "closed": closed,
                        "by": "UC1" if closed else None,
                    },
                )
            for n, (status, updated) in enumerate((("at_risk", _at(24)), ("done", _at(18)))):
                conn.execute(
                    text(
                        "INSERT INTO goals (partnership_id, number, title, client_owner_id, provider_owner_id, status, "
                        "created_by, created_at, updated_by, updated_at) VALUES (:pid, :n, :title, 'UC2', 'UP1', "
                        ":status, 'UC1', :created, 'UCL', :updated)"
                    ),
                    {"pid": pid, "n": n + 1, "title": f"g{n}", "status": status, "created": _at(3), "updated": updated},
                )
        migrate.upgrade(empty_database_url)
        with engine.connect() as conn:
            action_rows = conn.execute(text("SELECT kind, status, due_on FROM action_events ORDER BY action_id, id")).all()
            goal_rows = conn.execute(text("SELECT kind, status FROM goal_events ORDER BY goal_id, id")).all()
    assert [(k, s, str(d) if d else None) for k, s, d in action_rows] == [
        ("created", "open", "2026-11-25"),
        ("created", "open", "2026-11-25"),
        ("status_changed", "done", None),
    ]
    assert [tuple(r) for r in goal_rows] == [
        ("created", "at_risk"),
        ("created", "on_track"),
        ("status_changed", "done"),
    ]
