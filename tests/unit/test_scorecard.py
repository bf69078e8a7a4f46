"""The bilateral scorecard, shared goals and the expectations ledger through the service layer (no Slack):
periods and the schedule, gap numbers checked by hand, anonymity, permissions, bad input and idempotency."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.blocks.expectations import build_expectation_card
from bot.blocks.goals import build_goal_list
from bot.blocks.scorecard import build_scorecard_report
from bot.services import digest, expectations, goals, scorecard, scorecard_rounds
from bot.services.errors import Conflict, InvalidInput, NotAllowed
from bot.services.partnership_models import Side
from bot.services.pulse_models import DIMENSIONS
from bot.services.review_models import ExpectationStatus, GoalInput, GoalStatus, ScorecardCadence, ScorecardInput
from storage.models import Goal, OutboxMessage, Partnership, Scorecard, ScorecardResponse
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world

#: Monday 30 Nov 2026, 10:00 New York.
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
SECRET = "unit-test-secret"


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=NOW - timedelta(days=10))


def _ratings(own: int, other: int) -> ScorecardInput:
    scores = {("self", d): own for d in DIMENSIONS} | {("other", d): other for d in DIMENSIONS}
    return ScorecardInput(scores=scores)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- periods and the schedule --------------------------------------------------------------------------------


def test_periods_follow_the_partnership_time_zone() -> None:
    # 23:30 on 31 December in New York is already 1 January in UTC: the period is still December / Q4.
    late = datetime(2027, 1, 1, 4, 30, tzinfo=UTC)
    assert scorecard_rounds.period_of(late, "America/New_York", ScorecardCadence.MONTHLY) == "2026-12"
    assert scorecard_rounds.period_of(late, "America/New_York", ScorecardCadence.QUARTERLY) == "2026-Q4"
    assert scorecard_rounds.period_of(late, "UTC", ScorecardCadence.QUARTERLY) == "2027-Q1"
    assert scorecard_rounds.period_of(late, "UTC", ScorecardCadence.OFF) == "2027-Q1"  # a lead's "start" counts per quarter


def test_next_scorecard_is_the_first_digest_weekday_of_the_next_month_or_quarter(world: IssueWorld) -> None:
    with world.uow_factory() as uow:
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None and p.scorecard_cadence == "quarterly" and p.digest_weekday == 4 and p.digest_hour == 16
        # The first Friday of the next quarter, at the digest time: Friday 1 January 2027, 16:00 New York (EST).
        assert scorecard_rounds.next_scorecard_time(p, NOW) == datetime(2027, 1, 1, 21, 0, tzinfo=UTC)
        p.scorecard_cadence = "monthly"
        assert scorecard_rounds.next_scorecard_time(p, NOW) == datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
        p.scorecard_cadence = "off"
        assert scorecard_rounds.next_scorecard_time(p, NOW) is None


def test_only_leads_change_the_cadence_or_start_one(world: IssueWorld) -> None:
    kw = {"team_id": world.team_id, "channel_id": world.channel_id, "now": NOW}
    with pytest.raises(NotAllowed, match="Only the partnership's leads"):
        scorecard.set_cadence(world.uow_factory(), actor="UC1", cadence=ScorecardCadence.MONTHLY, **kw)
    with pytest.raises(NotAllowed):
        scorecard.start_now(world.uow_factory(), actor="UP1", **kw)
    status = scorecard.set_cadence(world.uow_factory(), actor="UPL", cadence=ScorecardCadence.MONTHLY, **kw)
    assert status.cadence is ScorecardCadence.MONTHLY and status.next_at == datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    off = scorecard.set_cadence(world.uow_factory(), actor="UCL", cadence=ScorecardCadence.OFF, **kw)
    assert off.next_at is None and off.current is None


def test_one_scorecard_per_period_and_a_repeated_tick_opens_nothing(world: IssueWorld) -> None:
    uf = world.uow_factory
    kw = {"team_id": world.team_id, "channel_id": world.channel_id}
    opened = scorecard.start_now(uf(), actor="UCL", now=NOW, **kw)
    assert opened.period == "2026-Q4" and opened.closes_at == NOW + timedelta(days=7)
    with pytest.raises(Conflict, match="2026-Q4 is open already"):
        scorecard.start_now(uf(), actor="UPL", now=NOW + timedelta(minutes=1), **kw)
    # The schedule: first a time is computed, then the due scorecard opens once, however often the tick runs. Not
    # on Fri 4 Dec, four days after the lead's start: at least three weeks after it, on the first Friday of January.
    scorecard.set_cadence(uf(), actor="UCL", cadence=ScorecardCadence.MONTHLY, now=NOW, **kw)
    due = datetime(2027, 1, 1, 21, 0, tzinfo=UTC)
    assert scorecard_rounds.open_due(uf, now=datetime(2026, 12, 4, 21, 0, tzinfo=UTC)) == 0
    assert scorecard_rounds.open_due(uf, now=due - timedelta(minutes=1)) == 0
    assert scorecard_rounds.open_due(uf, now=due) == 1
    assert scorecard_rounds.open_due(uf, now=due) == 0
    assert scorecard_rounds.open_due(uf, now=due + timedelta(hours=1)) == 0
    with uf() as uow:
        periods = sorted(uow.session.scalars(select(Scorecard.period)))
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None and p.next_scorecard_at == datetime(2027, 2, 5, 21, 0, tzinfo=UTC)
        opens = uow.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose == "scorecard-open")
        )
    assert periods == ["2026-Q4", "2027-01"] and opens == 2
    # Closing: after seven days, once.
    assert scorecard_rounds.close_due(uf, now=NOW + timedelta(days=7) - timedelta(seconds=1)) == []
    assert scorecard_rounds.close_due(uf, now=NOW + timedelta(days=7)) == [opened.id]
    assert scorecard_rounds.close_due(uf, now=NOW + timedelta(days=7)) == []


def test_a_scorecard_missed_during_downtime_is_skipped_not_opened_late(world: IssueWorld) -> None:
    uf = world.uow_factory
    scorecard.set_cadence(uf(), **world.where, actor="UCL", cadence=ScorecardCadence.MONTHLY, now=NOW)
    assert scorecard_rounds.open_due(uf, now=datetime(2026, 12, 20, 12, 0, tzinfo=UTC)) == 0  # due 4 Dec, 16 days ago
    with uf() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Scorecard)) == 0
        p = uow.session.get(Partnership, world.partnership_id)
        assert p is not None and p.next_scorecard_at == datetime(2027, 1, 1, 21, 0, tzinfo=UTC)


# --- filling it in and the report ------------------------------------------------------------------------------


def _submit(world: IssueWorld, scorecard_id: int, user: str, data: ScorecardInput, now: datetime = NOW) -> bool:
    return scorecard.submit(
        world.uow_factory(), scorecard_id=scorecard_id, user_id=user, data=data, secret_key=SECRET, now=now
    )


def test_gaps_by_hand_and_one_response_per_person(world: IssueWorld) -> None:
    uf = world.uow_factory
    s = scorecard.start_now(uf(), **world.where, actor="UCL", now=NOW)
    # Client raters rate themselves 4, 4, 5 (13/3 = 4.33 → 4.3) and the provider 3, 2, 3 (8/3 = 2.67 → 2.7).
    for user, own, other in (("UC1", 4, 3), ("UC2", 4, 2), ("UC3", 5, 3)):
        assert _submit(world, s.id, user, _ratings(own, other)) is True
    # Provider raters rate themselves 5, 5, 4 (14/3 = 4.67 → 4.7) and the client 3, 4, 2 (3.0). UP1 first submits 1s, then
    # changes their mind: the second submission replaces the first.
    assert _submit(world, s.id, "UP1", _ratings(1, 1)) is True
    for user, own, other in (("UP1", 5, 3), ("UP2", 5, 4), ("UP3", 4, 2)):
        _submit(world, s.id, user, ScorecardInput(_ratings(own, other).scores, comment=f"comment of {user}"))
    with uf() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ScorecardResponse)) == 6
        # Anonymous: no user ids are stored, only keyed hashes.
        hashes = list(uow.session.scalars(select(ScorecardResponse.respondent_hash)))
        assert all(len(h) == 64 and not h.startswith("U") for h in hashes)
    # The form shows UP1 their own (replaced) answers.
    form = scorecard.scorecard_form(uf(), scorecard_id=s.id, user_id="UP1", secret_key=SECRET, now=NOW)
    assert form.side is Side.PROVIDER and form.previous[("self", "trust")] == 5 and form.previous_comment == "comment of UP1"

    assert scorecard.report(uf(), scorecard_id=s.id) is None  # still open
    scorecard_rounds.close_due(uf, now=NOW + timedelta(days=7))
    report = scorecard.report(uf(), scorecard_id=s.id)
    assert report is not None
    client, provider = report.sides
    assert (client.respondents, provider.respondents, client.withheld, provider.withheld) == (3, 3, False, False)
    trust_client = next(r for r in client.about if r.dimension == "trust")
    # Both sides rated the same subject (the client); gap = provider − client: 3.0 − 4.3 = −1.3 (watch).
    assert (trust_client.self_rating, trust_client.other_rating, trust_client.gap, trust_client.level) == (
        Decimal("4.3"),
        Decimal("3.0"),
        Decimal("-1.3"),
        1,
    )
    trust_provider = next(r for r in provider.about if r.dimension == "trust")
    # The provider's own 4.7 minus the client's 2.7 of it: +2.0 (act).
    assert (trust_provider.self_rating, trust_provider.other_rating, trust_provider.gap, trust_provider.level) == (
        Decimal("4.7"),
        Decimal("2.7"),
        Decimal("2.0"),
        2,
    )
    assert len(client.about) == len(DIMENSIONS) and provider.comments == (
        "comment of UP1",
        "comment of UP2",
        "comment of UP3",
    )
    text = _dumps([m.blocks and [b.to_dict() for b in m.blocks] for m in build_scorecard_report(report)])
    assert "rates itself 4.3 · Contoso rates it 3.0 · gap −1.3 🔸" in text
    assert "rates itself 4.7 · Northwind rates it 2.7 · gap +2.0 ⚠️" in text
    # The export's view of the period: the same report; nothing outside the period.
    between = scorecard.reports_between(uf(), partnership_id=world.partnership_id, start=NOW, end=NOW + timedelta(days=8))
    assert between == (report,)
    assert scorecard.reports_between(uf(), partnership_id=world.partnership_id, start=NOW, end=NOW + timedelta(days=7)) == ()
    # Closed: no more answers.
    with pytest.raises(Conflict, match="has closed"):
        _submit(world, s.id, "UC1", _ratings(3, 3), now=NOW + timedelta(days=7))


def test_a_side_below_the_threshold_shows_no_averages_and_no_comments(world: IssueWorld) -> None:
    uf = world.uow_factory
    s = scorecard.start_now(uf(), **world.where, actor="UCL", now=NOW)
    for user in ("UC1", "UC2", "UC3"):
        _submit(world, s.id, user, ScorecardInput(_ratings(4, 2).scores, comment=f"client says <!channel> {user}"))
    for user in ("UP1", "UP2"):  # two provider people: below the threshold of three
        _submit(world, s.id, user, ScorecardInput(_ratings(5, 1).scores, comment="SECRET-PROVIDER-COMMENT"))
    scorecard_rounds.close_due(uf, now=NOW + timedelta(days=7))
    report = scorecard.report(uf(), scorecard_id=s.id)
    assert report is not None
    client, provider = report.sides
    assert provider.withheld and not client.withheld and provider.comments == ()
    # How the client is seen: its own rating (4.0) shows; the provider's view of it (1s) is withheld, so no gap.
    assert {(r.self_rating, r.other_rating, r.gap) for r in client.about} == {(4.0, None, None)}
    # How the provider is seen: its own rating (5s) is withheld; the client's view (2.0) shows.
    assert {(r.self_rating, r.other_rating, r.gap) for r in provider.about} == {(None, 2.0, None)}
    text = _dumps([[b.to_dict() for b in m.blocks] for m in build_scorecard_report(report)])
    assert "SECRET-PROVIDER-COMMENT" not in text and "itself 5.0" not in text and "rates it 1.0" not in text
    assert "2 answered, fewer than 3" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text


def test_scorecard_bad_input_and_people_without_a_side(world: IssueWorld) -> None:
    uf = world.uow_factory
    s = scorecard.start_now(uf(), **world.where, actor="UCL", now=NOW)
    missing = dict(_ratings(4, 4).scores)
    del missing[("other", "trust")]
    with pytest.raises(InvalidInput) as exc:
        _submit(world, s.id, "UC1", ScorecardInput(missing))
    assert exc.value.field == "other-trust"
    with pytest.raises(InvalidInput) as exc:
        _submit(world, s.id, "UC1", ScorecardInput(_ratings(4, 4).scores | {("self", "trust"): 6}))
    assert exc.value.field == "self-trust"
    with pytest.raises(InvalidInput) as exc:
        _submit(world, s.id, "UC1", ScorecardInput(_ratings(4, 4).scores, comment="x" * 3001))
    assert exc.value.field == "comment" and "3,000" in str(exc.value)
    with pytest.raises(InvalidInput):
        _submit(world, s.id, "UC1", ScorecardInput(_ratings(4, 4).scores | {("self", "made-up"): 3}))
    with pytest.raises(NotAllowed, match="Only members of this partnership.s channel"):
        _submit(world, s.id, "UNOBODY", _ratings(4, 4))
    with uf() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ScorecardResponse)) == 0


# --- goals ----------------------------------------------------------------------------------------------------


def _goal(world: IssueWorld, key: str, actor: str = "UC1", **kw: object):
    values: dict[str, object] = {"title": "Cut ticket backlog by half", "client_owner_id": "UC2", "provider_owner_id": "UP1"}
    values.update(kw)
    return goals.create_goal(
        world.uow_factory(),
        **world.where,
        actor=actor,
        data=GoalInput(**values),  # type: ignore[arg-type]
        request_key=key,
        now=NOW,
    )


def test_goals_are_numbered_checked_and_updated_by_owners_or_leads(world: IssueWorld) -> None:
    first = _goal(world, "k1")
    assert first.number == 1 and first.status is GoalStatus.ON_TRACK
    assert _goal(world, "k1").id == first.id  # the same submission twice adds one goal
    assert _goal(world, "k2", actor="UP2", title="Go live in Madrid").number == 2  # either side may add
    for bad, field in (
        ({"title": "   "}, "title"),
        ({"title": "t" * 151}, "title"),
        ({"client_owner_id": "UP1"}, "client_owner_id"),  # a provider person as the client's owner
        ({"provider_owner_id": "UC3"}, "provider_owner_id"),
        ({"provider_owner_id": ""}, "provider_owner_id"),
        ({"client_owner_id": "UNOBODY"}, "client_owner_id"),
        ({"due_on": date(2026, 11, 1)}, "due_on"),
    ):
        with pytest.raises(InvalidInput) as exc:
            _goal(world, f"bad-{field}-{len(str(bad))}", **bad)
        assert exc.value.field == field, bad
    with pytest.raises(InvalidInput, match="Contoso side"):
        _goal(world, "wrong-side", client_owner_id="UP1")
    with pytest.raises(NotAllowed):
        _goal(world, "nobody", actor="UNOBODY")

    kw = {"channel_id": world.channel_id, "goal_id": first.id, "now": NOW}
    with pytest.raises(NotAllowed, match="Only the goal's owners"):
        goals.set_goal_status(world.uow_factory(), actor="UC3", status=GoalStatus.DONE, note=None, **kw)
    with pytest.raises(InvalidInput):
        goals.set_goal_status(world.uow_factory(), actor="UC2", status=GoalStatus.AT_RISK, note="n" * 3001, **kw)
    changed = goals.set_goal_status(world.uow_factory(), actor="UP1", status=GoalStatus.AT_RISK, note="Test env", **kw)
    assert changed.status is GoalStatus.AT_RISK and changed.note == "Test env" and changed.updated_by == "UP1"
    lead = goals.set_goal_status(world.uow_factory(), actor="UPL", status=GoalStatus.OFF_TRACK, note=None, **kw)
    assert lead.status is GoalStatus.OFF_TRACK and lead.note is None
    with pytest.raises(NotAllowed):
        goals.goal_for_update(world.uow_factory(), channel_id=world.channel_id, goal_id=first.id, actor="UC1")
    with world.uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Goal)) == 2


def test_the_digest_reports_goals_from_the_goals_table(world: IssueWorld) -> None:
    def section(now: datetime):  # type: ignore[no-untyped-def]
        return digest.build_digest(world.uow_factory(), partnership_id=world.partnership_id, week_start=None, now=now).goals

    assert not section(NOW).tracked  # no goals yet: "not tracked"
    first = _goal(world, "k1", title="Launch <!channel> portal")
    second = _goal(world, "k2", title="Retire the old VPN")
    goals.set_goal_status(
        world.uow_factory(),
        channel_id=world.channel_id,
        goal_id=second.id,
        actor="UCL",
        status=GoalStatus.DONE,
        note=None,
        now=NOW,
    )
    # The digest of Friday 4 December covers 27 Nov to 4 Dec: the goal was done in that week.
    this_week = section(NOW + timedelta(days=5))
    assert this_week.tracked and [(g.title, g.status) for g in this_week.goals] == [
        ("Launch <!channel> portal", "On track"),
        ("Retire the old VPN", "Done"),
    ]
    assert this_week.goals[0].client_owner == "UC2" and this_week.goals[0].provider_owner == "UP1"
    # A week later the done goal is no longer news; the open one still shows.
    later = section(NOW + timedelta(days=14))
    assert later.tracked and [g.title for g in later.goals] == ["Launch <!channel> portal"]
    assert first.number == 1
    # The batch form (one read for many partnerships) gives the same section.
    batch = digest.build_digests(
        world.uow_factory(), partnership_ids=[world.partnership_id, 999], now=NOW + timedelta(days=5)
    )
    assert [v.goals for v in batch] == [this_week]
    # The list escapes titles.
    from bot.services import partnerships

    p = partnerships.get_partnership_by_id(world.uow_factory(), partnership_id=world.partnership_id)
    assert p is not None
    listing = _dumps([b.to_dict() for b in build_goal_list(p, goals.list_goals(world.uow_factory(), **world.where)).blocks])
    assert "Launch &lt;!channel&gt; portal" in listing and "<!channel>" not in listing


# --- expectations ----------------------------------------------------------------------------------------------


def test_expectations_are_answered_by_the_other_side_and_withdrawn_by_their_own(world: IssueWorld) -> None:
    uf = world.uow_factory
    kw = {"team_id": world.team_id, "channel_id": world.channel_id}
    e = expectations.record_expectation(
        uf(), actor="UC1", text="  Weekly report <@UPL> by Friday  ", request_key="e1", now=NOW, **kw
    )
    assert e.number == 1 and e.from_side is Side.CLIENT and e.text == "Weekly report <@UPL> by Friday"
    assert expectations.record_expectation(uf(), actor="UC1", text="again", request_key="e1", now=NOW, **kw).id == e.id
    with pytest.raises(InvalidInput):
        expectations.record_expectation(uf(), actor="UC1", text=" ", request_key="e2", now=NOW, **kw)
    with pytest.raises(InvalidInput, match="3,000"):
        expectations.record_expectation(uf(), actor="UC1", text="x" * 3001, request_key="e3", now=NOW, **kw)
    with pytest.raises(NotAllowed):
        expectations.record_expectation(uf(), actor="UNOBODY", text="x", request_key="e4", now=NOW, **kw)

    at = {"channel_id": world.channel_id, "expectation_id": e.id, "now": NOW}
    with pytest.raises(NotAllowed) as refused:
        expectations.respond(uf(), actor="UC2", agree=True, reason=None, **at)
    assert str(refused.value) == (
        "This is what your side expects of Contoso: only people on the Contoso side can agree to it or ask to discuss "
        "it. Your side can withdraw it."
    )
    with pytest.raises(InvalidInput):
        expectations.respond(uf(), actor="UP1", agree=False, reason="  ", **at)
    discussed = expectations.respond(uf(), actor="UP1", agree=False, reason="Friday is release day", **at)
    assert discussed.status is ExpectationStatus.DISCUSSING and discussed.response == "Friday is release day"
    agreed = expectations.respond(uf(), actor="UPL", agree=True, reason=None, **at)
    assert agreed.status is ExpectationStatus.AGREED and agreed.responded_by == "UPL"
    expectations.respond(uf(), actor="UP2", agree=True, reason=None, **at)  # the same answer again: no change
    with pytest.raises(NotAllowed) as refused:
        expectations.withdraw(uf(), actor="UP1", **at)
    assert str(refused.value) == (
        "Only people on the Northwind side, whose expectation this is, can withdraw it. "
        "You can agree to it or ask to discuss it."
    )
    assert expectations.withdraw(uf(), actor="UC3", **at).status is ExpectationStatus.WITHDRAWN
    with pytest.raises(Conflict, match="withdrawn"):
        expectations.respond(uf(), actor="UP1", agree=True, reason=None, **at)
    with uf() as uow:
        purposes = list(uow.session.scalars(select(OutboxMessage.purpose).order_by(OutboxMessage.id)))
    # Posted once; updated for: discuss, agree, withdraw (the repeated agree queued nothing).
    assert purposes.count("expectation") == 1 and purposes.count("expectation-update") == 3

    card = expectations.expectation_card(uf(), expectation_id=e.id)
    assert card is not None
    blocks = _dumps([b.to_dict() for b in build_expectation_card(card).blocks])
    assert "&lt;@UPL&gt;" in blocks and "<@UPL>" not in blocks and "expectation-agree" not in blocks  # withdrawn
    ledger = expectations.ledger_summary
    with uf() as uow:
        summary = ledger(uow, world.partnership_id)
    assert summary.counts[ExpectationStatus.WITHDRAWN] == 1 and summary.entries == ()


# --- Slack's limits ---------------------------------------------------------------------------------------------


def test_long_reports_and_ledgers_are_split_never_rejected(world: IssueWorld) -> None:
    from bot.blocks.expectations import build_expectation_list
    from bot.blocks.pulse import MAX_BLOCKS_PER_MESSAGE, MAX_MESSAGE_TEXT, text_length

    uf = world.uow_factory
    kw = {"team_id": world.team_id, "channel_id": world.channel_id}
    for n in range(60):
        expectations.record_expectation(uf(), actor="UC1", text=f"{n} " + "e" * 2990, request_key=f"k{n}", now=NOW, **kw)
    s = scorecard.start_now(uf(), actor="UCL", now=NOW, **kw)
    for user in ("UC1", "UC2", "UC3", "UP1", "UP2", "UP3"):
        _submit(world, s.id, user, ScorecardInput(_ratings(3, 3).scores, comment=f"{user} " + "c" * 2990))
    scorecard_rounds.close_due(uf, now=NOW + timedelta(days=7))
    report = scorecard.report(uf(), scorecard_id=s.id)
    assert report is not None
    messages = build_scorecard_report(report)
    assert len(messages) > 1
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS_PER_MESSAGE
        assert sum(text_length(b.to_dict()) for b in m.blocks) <= MAX_MESSAGE_TEXT
        for b in m.blocks:
            text = (b.to_dict().get("text") or {}).get("text", "")
            assert len(text) <= 3000
    everything = _dumps([[b.to_dict() for b in m.blocks] for m in messages])
    assert all(f"{user} ccc" in everything for user in ("UC1", "UC2", "UC3", "UP1", "UP2", "UP3"))
    from bot.services import partnerships

    p = partnerships.get_partnership_by_id(uf(), partnership_id=world.partnership_id)
    assert p is not None
    listing = build_expectation_list(p, expectations.list_expectations(uf(), **kw))
    assert len(listing.blocks) <= MAX_BLOCKS_PER_MESSAGE
    assert sum(text_length(b.to_dict()) for b in listing.blocks) <= MAX_MESSAGE_TEXT
    assert "more." in _dumps([b.to_dict() for b in listing.blocks])  # the rest is counted, not dropped silently
