"""The weekly digest's content and its once-a-week queuing, against a real database (SQLite; PostgreSQL too).

The seeded history, with the digest of Friday 11 Dec 2026 16:00 New York (21:00 UTC); the week is Fri 4 Dec
21:00 UTC (inclusive) to Fri 11 Dec 21:00 UTC (exclusive). Threshold 3. Client C1–C4, provider P1–P3.

    week       closed (UTC)         client trust / communication      provider trust / communication
    W0         Fri 4 Dec 21:00      5 5 4 4 / 2 2 3 1                  3 3 3 / 4 3 2
    W-1        Wed 2 Dec 15:00      4 4 4 / 2 3 4                      4 5 3 / 4 5 4
    W-2        Wed 25 Nov 15:00     3 4 5 / 3 3 4                      1 1 / 1 1   (two answered: withheld)
    W-3        Wed 18 Nov 15:00     4 4 4 / 3 3 3                      4 4 4 / 4 4 4
    W-5        Fri 30 Oct 20:30     trust 5 5 5                        trust 2 2 2 (16:30 EDT: inside W-5)
    next week  Fri 11 Dec 21:00     all 1s                             all 1s      (closes at the end: excluded)

Each dimension is asked with the bank's first item for it: trust "The provider tells us about problems early"
(subject: the provider), communication "Information reaches the right people" (subject: the relationship).
Hand-computed (one decimal, halves up; gap = provider − client of the rounded averages; the trend compares the
same item the last time it was asked, W-1):
    the provider's trust        client 4.5 (18/4)  provider 3.0 (9/3)  gap −1.5 (act)
                                last time: client 4.0 (12/3) ↑ +0.5, provider 4.0 (12/3) ↓ −1.0
    the relationship's comm.    client 2.0 (8/4)   provider 3.0 (9/3)  gap +1.0 (watch)
                                last time: client 3.0 (9/3) ↓ −1.0, provider 4.3 (13/3 = 4.33) ↓ −1.3
    health index                not enough data: the last four weeks cover 2 of the 8 dimensions
                                (client 26 answers in W0..W-3, provider 18: W-2 withheld, not pooled)
    participation               client 4 of 5, provider 3 of 4
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import fmean

import pytest

from bot.blocks.digest import build_digest_messages
from bot.services import digest, digest_schedule, escalation, issue_lifecycle, outbox
from bot.services.digest_models import DigestView
from bot.services.errors import NotFound
from bot.services.issue_models import ActionStatus, IssueStatus
from bot.services.partnership_models import Side
from bot.services.pulse_models import Trend
from bot.services.sentiment import analyse
from storage.models import Digest, OutboxMessage, Partnership
from storage.uow import UnitOfWorkFactory
from tests.factories import Answered, IssueWorld, add_closed_round, answers_for, make_issue_world
from tests.unit_support import create_action_in, log_issue_in, set_action_status_in

#: Monday 2 Nov 2026, 10:00 in New York: the partnership is set up. Its digest: Fridays 16:00 New York.
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
DIGEST_AT = datetime(2026, 12, 11, 21, 0, tzinfo=UTC)
WEEK_START = date(2026, 12, 4)
C, P = Side.CLIENT, Side.PROVIDER


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=START)


def _round(world: IssueWorld, closed_at: datetime, answers: list[Answered], asked: tuple[int, int] = (5, 4)) -> int:
    return add_closed_round(
        world.uow_factory, partnership_id=world.partnership_id, closed_at=closed_at, answers=answers, asked=asked
    )


def _seed_history(world: IssueWorld) -> None:
    w0 = answers_for(C, {"trust": [5, 5, 4, 4], "communication": [2, 2, 3, 1]})
    w0[0] = Answered(C, "C1", w0[0].scores, {"trust": "The handover was late again <!channel>"})
    w0[1] = Answered(C, "C2", w0[1].scores, {"communication": "Handover notes missing, late again <@U123>"})
    w0[2] = Answered(C, "C3", w0[2].scores, {"trust": "Great proactive support this week"})
    provider_w0 = answers_for(P, {"trust": [3, 3, 3], "communication": [4, 3, 2]})
    provider_w0[0] = Answered(P, "P1", provider_w0[0].scores, {"communication": "Still waiting on access from the client"})
    _round(world, datetime(2026, 12, 4, 21, 0, tzinfo=UTC), w0 + provider_w0)
    _round(
        world,
        datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
        answers_for(C, {"trust": [4, 4, 4], "communication": [2, 3, 4]})
        + answers_for(P, {"trust": [4, 5, 3], "communication": [4, 5, 4]}),
    )
    two = answers_for(P, {"trust": [1, 1], "communication": [1, 1]})
    two[0] = Answered(P, "P1", two[0].scores, {"trust": "A secret complaint"})
    _round(
        world,
        datetime(2026, 11, 25, 15, 0, tzinfo=UTC),
        answers_for(C, {"trust": [3, 4, 5], "communication": [3, 3, 4]}) + two,
    )
    _round(
        world,
        datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
        answers_for(C, {"trust": [4, 4, 4], "communication": [3, 3, 3]})
        + answers_for(P, {"trust": [4, 4, 4], "communication": [4, 4, 4]}),
    )
    _round(
        world,
        datetime(2026, 10, 30, 20, 30, tzinfo=UTC),
        answers_for(C, {"trust": [5, 5, 5]}) + answers_for(P, {"trust": [2, 2, 2]}),
    )
    _round(
        world,
        DIGEST_AT,
        answers_for(C, {"trust": [1, 1, 1], "communication": [1, 1, 1]})
        + answers_for(P, {"trust": [1, 1, 1], "communication": [1, 1, 1]}),
    )


def _build(world: IssueWorld, *, week_start: date | None = WEEK_START, now: datetime = DIGEST_AT) -> DigestView:
    return digest.build_digest(world.uow_factory(), partnership_id=world.partnership_id, week_start=week_start, now=now)


def _blocks_json(view: DigestView) -> str:
    """The digest's blocks and fallback texts as JSON, without header blocks (plain text: never parsed)."""
    messages = build_digest_messages(view)
    blocks = [[b.to_dict() for b in m.blocks if b.type != "header"] for m in messages]
    return json.dumps([blocks, [m.text for m in messages]], ensure_ascii=False)


# --- content ---------------------------------------------------------------------------------------------


def test_health_trends_and_gaps_match_the_hand_computed_values(world: IssueWorld) -> None:
    _seed_history(world)
    view = _build(world)
    assert (view.week_start, view.starts_at, view.ends_at) == (WEEK_START, datetime(2026, 12, 4, 21, tzinfo=UTC), DIGEST_AT)
    assert view.rounds == 1
    assert [(i.subject, i.dimension) for i in view.items] == [("provider", "trust"), ("relationship", "communication")]
    trust, comm = view.items
    assert (trust.client.average, trust.client.previous, trust.client.answers) == (Decimal("4.5"), Decimal("4.0"), 4)
    assert (trust.client.trend, trust.client.change) == (Trend.UP, Decimal("0.5"))
    assert (trust.provider.average, trust.provider.previous) == (Decimal("3.0"), Decimal("4.0"))
    assert (trust.provider.trend, trust.provider.change) == (Trend.DOWN, Decimal("-1.0"))
    assert (comm.client.average, comm.client.previous) == (Decimal("2.0"), Decimal("3.0"))
    assert (comm.provider.average, comm.provider.previous, comm.provider.change) == (
        Decimal("3.0"),
        Decimal("4.3"),
        Decimal("-1.3"),
    )
    assert [(g.dimension, g.gap, int(g.flag)) for g in view.gaps] == [
        ("trust", Decimal("-1.5"), 2),
        ("communication", Decimal("1.0"), 1),
    ]
    for side, answers in ((C, 26), (P, 18)):
        h = view.health_of(side)
        assert (h.value, h.covered, h.dimensions, h.answers, h.trend) == (None, 2, 8, answers, Trend.NONE)
    client, provider = view.sides
    assert (client.participation.responded, client.participation.asked) == (4, 5)
    assert (provider.participation.responded, provider.participation.asked) == (3, 4)
    assert not client.withheld and not provider.withheld


def test_the_chart_draws_the_health_index_only_where_its_window_covers_the_bank(world: IssueWorld) -> None:
    _seed_history(world)
    chart = _build(world).chart
    # Each point needs its four weeks inside the twelve read, and none ended before the setup (Mon 2 Nov): the
    # first is the week of Fri 30 Oct, in daylight-saving time. Two of eight dimensions were ever asked: not
    # enough data, so nothing is drawn.
    assert chart.weeks[0] == date(2026, 10, 30) and chart.weeks[-1] == WEEK_START and len(chart.weeks) == 6
    client, provider = chart.lines
    assert (client.side, client.label, provider.label) == (C, "Northwind", "Contoso")
    assert client.values == (None,) * 6 and provider.values == (None,) * 6


def test_the_health_index_and_its_trend_once_every_dimension_is_covered(world: IssueWorld) -> None:
    from bot.services.pulse_models import DIMENSIONS

    # Every dimension, both sides, in W-1 (all 4s) and W-5 (all 3s); one more round in W0 (all 5s on trust).
    everything = {d: [4, 4, 4] for d in DIMENSIONS}
    _round(world, datetime(2026, 12, 2, 15, 0, tzinfo=UTC), answers_for(C, everything) + answers_for(P, everything))
    earlier = {d: [3, 3, 3] for d in DIMENSIONS}
    _round(world, datetime(2026, 11, 4, 15, 0, tzinfo=UTC), answers_for(C, earlier) + answers_for(P, earlier))
    _round(
        world,
        datetime(2026, 12, 9, 15, 0, tzinfo=UTC),
        answers_for(C, {"trust": [5, 5, 5]}) + answers_for(P, {"trust": [5, 5, 5]}),
    )
    view = _build(world)
    h = view.health_of(C)
    # W0..W-3: 24 fours and 3 fives = 111 / 27 = 4.11 → 4.1; W-4..W-7: 24 threes → 3.0; ↑ +1.1.
    assert (h.value, h.previous, h.covered, h.answers, h.trend) == (Decimal("4.1"), Decimal("3.0"), 8, 27, Trend.UP)
    assert view.chart.lines[0].values[-1] == 4.1


def test_sentiment_and_themes_per_side(world: IssueWorld) -> None:
    _seed_history(world)
    client, provider = _build(world).sides
    said = (
        "The handover was late again <!channel>",
        "Handover notes missing, late again <@U123>",
        "Great proactive support this week",
    )
    assert client.comments == said
    assert client.sentiment is not None and client.sentiment.comments == 3
    scores = [analyse(c) for c in said]
    assert client.sentiment.mean == round(fmean(s.score for s in scores), 3)
    assert (client.sentiment.positive, client.sentiment.negative) == (
        sum(s.label == "positive" for s in scores),
        sum(s.label == "negative" for s in scores),
    )
    assert client.sentiment.negative >= 2  # "late again" twice
    # "again" is a stopword, so "late again" is not a phrase; the mentions are never themes.
    assert [(t.phrase, t.comments) for t in client.themes] == [("handover", 2), ("late", 2)]
    assert provider.comments == ("Still waiting on access from the client",)
    assert provider.themes == ()  # one comment: nothing recurs


def test_mentions_in_comments_render_inert(world: IssueWorld) -> None:
    _seed_history(world)
    rendered = _blocks_json(_build(world))
    assert "<!channel>" not in rendered and "<@U123>" not in rendered
    assert "&lt;!channel&gt;" in rendered and "&lt;@U123&gt;" in rendered


def test_issues_and_actions_of_the_week(world: IssueWorld) -> None:
    def log(title: str, severity: str, at: datetime) -> int:
        result = log_issue_in(world, key=title, now=at, actor="UC1", title=title, severity=severity)
        return result.issue.id

    def day(d: int, month: int = 12) -> datetime:
        return datetime(2026, month, d, 15, 0, tzinfo=UTC)

    log("Old and open", "S3", day(3, 11))  # 38 days open at the digest
    old_resolved = log("Resolved this week", "S3", day(3, 11))
    escalated = log("Escalated this week", "S2", day(20, 11))  # 21 days open
    log("New this week <!here>", "S1", day(7))  # 4 days open
    issue_lifecycle.resolve(world.uow_factory(), channel_id=world.channel_id, issue_id=old_resolved, actor="UC1", now=day(8))
    escalation.escalate_now(world.uow_factory(), channel_id=world.channel_id, issue_id=escalated, actor="UC1", now=day(7))

    def act(title: str, owner: str, due: date, at: datetime) -> int:
        return create_action_in(world, key=title, now=at, actor="UCL", title=title, owner_id=owner, due_on=due).id

    act("Overdue checklist", "UC1", date(2026, 12, 1), day(20, 11))
    act("Provider runbook", "UP1", date(2026, 12, 31), day(20, 11))
    done = act("Done this week", "UC2", date(2026, 12, 10), day(20, 11))
    done_before = act("Done last week", "UC2", date(2026, 12, 10), day(20, 11))
    for action_id, at in ((done, day(9)), (done_before, day(1))):
        set_action_status_in(world, action_id, ActionStatus.DONE, actor="UCL", now=at)

    view = _build(world)
    s = view.issues
    assert [i.title for i in s.new] == ["New this week <!here>"]
    assert [(i.title, i.status) for i in s.resolved] == [("Resolved this week", IssueStatus.RESOLVED)]
    assert [(i.title, i.escalation_level) for i in s.escalated] == [("Escalated this week", 1)]
    # Oldest first, with days open at the digest.
    assert [(i.title, i.age_days) for i in s.open] == [
        ("Old and open", 38),
        ("Escalated this week", 21),
        ("New this week <!here>", 4),
    ]
    assert {a.severity: a.by_age for a in s.open_by_severity} == {
        "S1": (1, 0, 0),
        "S2": (0, 1, 0),
        "S3": (0, 0, 1),
        "S4": (0, 0, 0),
    }
    assert s.open_total == 3
    a = view.actions
    assert a.open_by_side == {C: 1, P: 1} and a.open_total == 2
    assert [(x.title, x.side, x.due_on) for x in a.overdue] == [("Overdue checklist", C, date(2026, 12, 1))]
    assert [x.title for x in a.done] == ["Done this week"]
    assert view.goals.tracked is False and view.goals.goals == ()
    rendered = _blocks_json(view)
    assert "<!here>" not in rendered and "New this week &lt;!here&gt;" in rendered
    assert "UC1" not in rendered and "UC2" not in rendered  # nobody is named in the public digest


def test_a_week_with_no_answers(world: IssueWorld) -> None:
    _round(
        world,
        datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
        answers_for(C, {"trust": [4, 4, 4]}) + answers_for(P, {"trust": [3, 3, 3]}),
    )
    view = _build(world)
    assert view.rounds == 0 and view.items == () and view.gaps == ()
    for side in view.sides:
        assert (side.participation.responded, side.participation.asked, side.withheld) == (0, 0, False)
        assert side.comments == () and side.sentiment is None and side.themes == ()
    text = _blocks_json(view)
    assert "No pulse closed this week." in text and "not enough data yet (1 of 8 dimensions" in text


def test_an_empty_partnership_has_a_digest_too(world: IssueWorld) -> None:
    view = _build(world, week_start=None, now=DIGEST_AT + timedelta(hours=1))
    assert view.week_start == WEEK_START and view.items == () and view.rounds == 0
    assert view.chart.lines[0].values == (None,) * 6  # the weeks since setup
    assert build_digest_messages(view)  # renders


def test_a_silent_side_is_withheld(world: IssueWorld) -> None:
    _round(world, datetime(2026, 12, 2, 15, 0, tzinfo=UTC), answers_for(P, {"trust": [4, 4, 4]}))  # last week
    _round(world, datetime(2026, 12, 9, 15, 0, tzinfo=UTC), answers_for(C, {"trust": [5, 4, 4]}))
    view = _build(world)
    client, provider = view.sides
    assert not client.withheld and provider.withheld
    assert (provider.participation.responded, provider.participation.asked) == (0, 4)
    (trust,) = view.items
    assert trust.client.average == Decimal("4.3") and trust.provider.withheld and trust.provider.average is None
    # The client did not answer this item the last time it was asked: no trend, not a change from nothing.
    assert trust.client.previous is None and trust.client.trend is Trend.NONE
    assert view.gaps == ()
    assert "withheld: fewer than 3 answered" in _blocks_json(view)


def test_a_side_below_the_threshold_shows_no_averages_and_no_comments(world: IssueWorld) -> None:
    two = [
        Answered(P, "P1", {"trust": 1}, {"trust": "Only two of us answered <!channel>"}),
        Answered(P, "P2", {"trust": 2}, {"trust": "Our secret view"}),
    ]
    _round(world, datetime(2026, 12, 9, 15, 0, tzinfo=UTC), answers_for(C, {"trust": [4, 4, 4]}) + two)
    view = _build(world)
    provider = view.side(P)
    assert provider.withheld and provider.comments == () and provider.sentiment is None and provider.themes == ()
    assert provider.participation.responded == 2
    (trust,) = view.items
    assert (trust.provider.average, trust.provider.answers, trust.provider.withheld) == (None, 0, True)
    assert view.health_of(P).withheld and view.chart.lines[1].values[-1] is None
    rendered = _blocks_json(view)
    assert "secret" not in rendered and "Only two of us" not in rendered
    fields = [
        f["text"]
        for m in build_digest_messages(view)
        for b in m.blocks
        for f in (b.to_dict().get("fields") or [])
        if f["text"].startswith("*Contoso*")
    ]
    assert fields and all(":lock: withheld" in f and "1.5" not in f for f in fields)  # 1.5: the provider's average


def test_the_threshold_counts_per_round(world: IssueWorld) -> None:
    # Two rounds this week: the provider meets the threshold in the first only. The second round's answers
    # (two people) never enter the week's average, so it cannot be worked out by difference.
    _round(world, datetime(2026, 12, 7, 15, 0, tzinfo=UTC), answers_for(P, {"trust": [4, 4, 4]}))
    _round(world, datetime(2026, 12, 9, 15, 0, tzinfo=UTC), answers_for(P, {"trust": [1, 1]}))
    view = _build(world)
    assert not view.side(P).withheld
    assert view.items[0].provider.average == Decimal("4.0") and view.items[0].provider.answers == 3
    assert view.side(P).participation.responded == 5 and view.side(P).participation.asked == 8


def test_week_start_none_means_the_last_digest_time(world: IssueWorld) -> None:
    _seed_history(world)
    assert _build(world, week_start=None, now=DIGEST_AT).week_start == WEEK_START
    assert _build(world, week_start=None, now=DIGEST_AT - timedelta(seconds=1)).week_start == date(2026, 11, 27)
    with pytest.raises(NotFound):
        digest.build_digest(world.uow_factory(), partnership_id=999, week_start=None, now=DIGEST_AT)


# --- queuing once per week --------------------------------------------------------------------------------


def _digest_rows(world: IssueWorld) -> list[tuple[date, str]]:
    with world.uow_factory() as uow:
        rows = uow.session.query(Digest).order_by(Digest.week_start).all()
        return [(d.week_start, d.status) for d in rows]


def _digest_messages(world: IssueWorld) -> list[tuple[str, str, int | None]]:
    with world.uow_factory() as uow:
        rows = uow.session.query(OutboxMessage).filter(OutboxMessage.purpose == "digest").order_by(OutboxMessage.id)
        return [(m.dedupe_key, m.method, m.ref_id) for m in rows]


def _next_digest_at(world: IssueWorld) -> datetime | None:
    with world.uow_factory() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert p is not None
        return p.next_digest_at


def test_queue_due_digests_once_per_week(world: IssueWorld) -> None:
    first = datetime(2026, 11, 6, 21, 0, tzinfo=UTC)  # Friday 16:00 New York
    # The first tick only computes the digest time.
    assert digest_schedule.queue_due_digests(world.uow_factory, now=START) == 0
    assert _next_digest_at(world) == first
    assert digest_schedule.digest_due(world.uow_factory, now=first - timedelta(seconds=1)) == []
    assert digest_schedule.digest_due(world.uow_factory, now=first) == [world.partnership_id]

    assert digest_schedule.queue_due_digests(world.uow_factory, now=first) == 1
    # A second tick in the same week (and a second heartbeat at the same instant) queues nothing.
    assert digest_schedule.queue_due_digests(world.uow_factory, now=first) == 0
    assert digest_schedule.queue_due_digests(world.uow_factory, now=first + timedelta(hours=3)) == 0
    assert _digest_rows(world) == [(date(2026, 10, 30), "queued")]
    ((key, method, ref_id),) = _digest_messages(world)
    assert (key, method) == (f"digest:{world.partnership_id}:2026-10-30", "chat.postMessage")
    assert outbox.SPECS[outbox.Purpose.DIGEST].method == "chat.postMessage"
    assert _next_digest_at(world) == first + timedelta(weeks=1)

    # Next week: another one.
    assert digest_schedule.queue_due_digests(world.uow_factory, now=first + timedelta(weeks=1, minutes=1)) == 1
    assert [w for w, _ in _digest_rows(world)] == [date(2026, 10, 30), date(2026, 11, 6)]
    assert len(_digest_messages(world)) == 2

    # The sender renders the queued row at send time: the same week as build_digest.
    view = digest.digest_for(world.uow_factory(), digest_id=ref_id or 0, now=first)
    assert view is not None and view.week_start == date(2026, 10, 30) and view.ends_at == first
    assert digest.digest_for(world.uow_factory(), digest_id=9999, now=first) is None
    digest_schedule.mark_digest_sent(world.uow_factory(), digest_id=ref_id or 0, now=first)
    assert _digest_rows(world)[0] == (date(2026, 10, 30), "sent")


def test_after_downtime_only_the_latest_digest_goes_out(world: IssueWorld) -> None:
    digest_schedule.queue_due_digests(world.uow_factory, now=START)
    # Down from before 6 Nov until Saturday 21 Nov: the digests of 6 and 13 Nov are skipped, 20 Nov's is sent.
    assert digest_schedule.queue_due_digests(world.uow_factory, now=datetime(2026, 11, 21, 12, tzinfo=UTC)) == 1
    assert _digest_rows(world) == [(date(2026, 11, 13), "queued")]
    assert _next_digest_at(world) == datetime(2026, 11, 27, 21, tzinfo=UTC)


def test_a_changed_digest_schedule_is_picked_up(world: IssueWorld) -> None:
    digest_schedule.queue_due_digests(world.uow_factory, now=START)
    with world.uow_factory() as uow:
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None
        p.digest_weekday = 2  # Wednesdays from now on (the stored time still says Friday)
        uow.commit()
    stale = datetime(2026, 11, 6, 21, 0, tzinfo=UTC)
    assert digest_schedule.queue_due_digests(world.uow_factory, now=stale) == 0
    assert _next_digest_at(world) == datetime(2026, 11, 11, 21, 0, tzinfo=UTC)
    assert digest_schedule.queue_due_digests(world.uow_factory, now=datetime(2026, 11, 11, 21, 0, tzinfo=UTC)) == 1
    assert _digest_rows(world) == [(date(2026, 11, 4), "queued")]


def test_paused_partnerships_are_not_claimed(world: IssueWorld) -> None:
    digest_schedule.queue_due_digests(world.uow_factory, now=START)
    with world.uow_factory() as uow:
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None
        p.status = "paused"
        uow.commit()
    first = datetime(2026, 11, 6, 21, 0, tzinfo=UTC)
    assert digest_schedule.digest_due(world.uow_factory, now=first) == []
    assert digest_schedule.queue_due_digests(world.uow_factory, now=first) == 0
    assert _digest_rows(world) == []
