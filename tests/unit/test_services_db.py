"""Service-level tests against a real database (SQLite; PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.services import installs, partnership_setup, partnerships, pulse_rounds, pulses, question_bank
from bot.services.errors import Conflict, InvalidInput, NotAllowed
from bot.services.partnership_models import SetupInput, Side, SlackProfile
from bot.services.pulse_models import AnswerInput, RoundView
from bot.services.question_bank import BANK
from storage.uow import UnitOfWorkFactory
from tests.factories import setup_input

#: Monday 30 Nov 2026, 07:00 in New York; the pulse is at 09:00 New York = 14:00 UTC.
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FIRST_PULSE = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
KEY = "s" * 40
CLIENT_TEAM, PROVIDER_TEAM, CHANNEL = "TCLIENT", "TPROV", "C100"
CLIENT_LEAD, PROVIDER_LEAD = "UCL", "UPL"
CLIENT_PEOPLE = ("UC1", "UC2", "UC3")
PROVIDER_PEOPLE = ("UP1", "UP2", "UP3")


def _setup_input(**kw: object) -> SetupInput:
    values: dict[str, object] = {
        "name": "Northwind desk",
        "client_org": "Northwind",
        "provider_org": "Contoso",
        "client_leads": (CLIENT_LEAD,),
        "provider_leads": (PROVIDER_LEAD,),
    }
    return setup_input(**{**values, **kw})


def _profile(user_id: str) -> SlackProfile:
    team = CLIENT_TEAM if user_id.startswith("UC") else PROVIDER_TEAM
    return SlackProfile(user_id=user_id, team_id=team, display_name=user_id.lower())


def _channel_members() -> list[SlackProfile]:
    people = (CLIENT_LEAD, *CLIENT_PEOPLE, PROVIDER_LEAD, *PROVIDER_PEOPLE)
    return [_profile(u) for u in people] + [SlackProfile("UBOT", CLIENT_TEAM, "bot", is_bot=True)]


def _configure(uow_factory: UnitOfWorkFactory, *, user_id: str = CLIENT_LEAD, now: datetime = NOW, **kw: object):
    return partnership_setup.configure_partnership(
        uow_factory(),
        team_id=CLIENT_TEAM,
        channel_id=CHANNEL,
        user_id=user_id,
        data=_setup_input(**kw),
        is_connect=True,
        channel_members=_channel_members(),
        now=now,
    )


def _installed(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """The app installed in the client's workspace, the question bank loaded and the partnership set up."""
    installs.workspace_installed(uow_factory(), team_id=CLIENT_TEAM, name="Northwind", bot_user_id="UBOT", now=NOW)
    question_bank.sync_bank(uow_factory(), now=NOW)
    _configure(uow_factory)
    return uow_factory


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    return _installed(uow_factory)


def _partnership_id(uow_factory: UnitOfWorkFactory) -> int:
    p = partnerships.get_partnership(uow_factory(), team_id=CLIENT_TEAM, channel_id=CHANNEL)
    assert p is not None
    return p.id


def _start(uow_factory: UnitOfWorkFactory, now: datetime = NOW) -> RoundView:
    return pulse_rounds.start_round_now(uow_factory(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor=CLIENT_LEAD, now=now)


def _answers(r: RoundView, score: int, comment: str | None = None) -> list[AnswerInput]:
    return [AnswerInput(q.id, min(score, 10) if q.kind == "nps" else score, comment) for q in r.questions]


def _submit(uow_factory: UnitOfWorkFactory, r: RoundView, user: str, score: int, comment: str | None = None, **kw):
    return pulses.submit_answers(
        uow_factory(),
        round_id=r.id,
        profile=_profile(user),
        answers=kw.pop("answers", None) or _answers(r, score, comment),
        secret_key=KEY,
        now=kw.pop("now", NOW + timedelta(minutes=5)),
    )


def _outbox_keys(uow_factory: UnitOfWorkFactory) -> dict[str, str]:
    from storage.models import OutboxMessage

    with uow_factory() as uow:
        return {m.dedupe_key: m.status for m in uow.session.query(OutboxMessage).all()}


def _round_count(uow_factory: UnitOfWorkFactory) -> int:
    with uow_factory() as uow:
        return uow.rounds.count(_partnership_id(uow_factory))


# --- setup ------------------------------------------------------------------------------------------------


def test_sync_bank_is_idempotent(uow_factory: UnitOfWorkFactory) -> None:
    assert question_bank.sync_bank(uow_factory(), now=NOW) == len(BANK)
    assert question_bank.sync_bank(uow_factory(), now=NOW + timedelta(days=1)) == 0
    with uow_factory() as uow:
        stored = uow.questions.bank()
        assert sorted(q.key for q in stored) == sorted(q.key for q in BANK)


def test_recording_an_install_twice_keeps_one_workspace(uow_factory: UnitOfWorkFactory) -> None:
    first = installs.workspace_installed(uow_factory(), team_id="T9", name="a", bot_user_id="UB", now=NOW)
    second = installs.workspace_installed(uow_factory(), team_id="T9", name="b", bot_user_id="UB", now=NOW)
    assert first.workspace_id == second.workspace_id


def test_configure_creates_partnership_with_sides_from_teams(world: UnitOfWorkFactory) -> None:
    p = partnerships.get_partnership(world(), team_id=CLIENT_TEAM, channel_id=CHANNEL)
    assert p is not None and p.name == "Northwind desk" and p.is_connect
    assert p.next_pulse_at == FIRST_PULSE
    status = partnerships.status(world(), team_id=CLIENT_TEAM, channel_id=CHANNEL)
    assert status.members_by_side == {"client": 4, "provider": 4}  # the bot is not counted
    assert {m.user_id for m in status.leads} == {CLIENT_LEAD, PROVIDER_LEAD}
    assert _outbox_keys(world) == {f"menu:{p.id}:setup": "pending"}
    with world() as uow:
        assert uow.members.get(p.id, "UC2").side == "client"
        assert uow.members.get(p.id, "UP2").side == "provider"
        assert uow.members.get(p.id, PROVIDER_LEAD).role == "lead"
    # Another channel is another partnership: nothing leaks.
    assert partnerships.get_partnership(world(), team_id=CLIENT_TEAM, channel_id="C999") is None


def test_sponsor_outside_the_channel_is_recorded_on_their_side(world: UnitOfWorkFactory) -> None:
    # Executive sponsors are often not in the joint channel and not in either member list.
    _configure(world, client_sponsors=("UCS9",), provider_sponsors=("UPS9",))
    p = partnerships.get_partnership(world(), team_id=CLIENT_TEAM, channel_id=CHANNEL)
    assert p is not None
    with world() as uow:
        client_sponsor, provider_sponsor = uow.members.get(p.id, "UCS9"), uow.members.get(p.id, "UPS9")
        assert (client_sponsor.role, client_sponsor.side, client_sponsor.in_channel) == ("sponsor", "client", False)
        assert (provider_sponsor.role, provider_sponsor.side) == ("sponsor", "provider")


def test_non_lead_cannot_reconfigure(world: UnitOfWorkFactory) -> None:
    with pytest.raises(NotAllowed):
        _configure(world, user_id="UC1", client_leads=("UC1",), name="Hijacked")
    p = partnerships.get_partnership(world(), team_id=CLIENT_TEAM, channel_id=CHANNEL)
    assert p is not None and p.name == "Northwind desk"
    # A lead can.
    result = _configure(world, name="Renamed")
    assert not result.created and result.partnership.name == "Renamed"


@pytest.mark.parametrize(
    ("kw", "user", "field"),
    [
        ({"name": "   "}, CLIENT_LEAD, "name"),
        ({"anonymity_threshold": 2}, CLIENT_LEAD, "anonymity_threshold"),
        ({}, "UC1", "client_leads"),
        ({"installing_side": Side.PROVIDER}, "UP1", "provider_leads"),
        ({"provider_leads": (CLIENT_LEAD,)}, CLIENT_LEAD, "provider_leads"),
        ({"timezone": "Mars/Base"}, CLIENT_LEAD, "timezone"),
        ({"pulse_every_weeks": 5}, CLIENT_LEAD, "pulse_every_weeks"),
    ],
)
def test_validate_setup_errors(kw: dict[str, object], user: str, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        partnership_setup.validate_setup(_setup_input(**kw), user_id=user)
    assert info.value.field == field


def test_side_override_wins_over_team(world: UnitOfWorkFactory) -> None:
    m = partnerships.set_side_override(
        world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor=CLIENT_LEAD, user_id="UP1", side=Side.CLIENT, now=NOW
    )
    assert m.side is Side.CLIENT
    status = partnerships.status(world(), team_id=CLIENT_TEAM, channel_id=CHANNEL)
    assert status.members_by_side == {"client": 5, "provider": 3}
    m = partnerships.set_side_override(
        world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor=CLIENT_LEAD, user_id="UP1", side=None, now=NOW
    )
    assert m.side is Side.PROVIDER
    with pytest.raises(NotAllowed):
        partnerships.set_side_override(
            world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor="UC1", user_id="UC2", side=Side.PROVIDER, now=NOW
        )


# --- starting and answering ---------------------------------------------------------------------------------


def test_start_round_now(world: UnitOfWorkFactory) -> None:
    with pytest.raises(NotAllowed):
        pulse_rounds.start_round_now(world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor="UC1", now=NOW)
    assert _round_count(world) == 0
    r = _start(world)
    kinds = [q.kind for q in r.questions]
    assert kinds.count("scale") == 3 and kinds.count("nps") == 1
    assert len({q.dimension for q in r.questions if q.kind == "scale"}) == 3
    assert r.status == "open" and r.sequence == 1 and r.closes_at == NOW + timedelta(hours=48)
    outbox = _outbox_keys(world)
    assert outbox[f"pulse:{r.id}"] == "pending"
    assert sum(1 for k in outbox if k.startswith("pulse:")) == 1
    with pytest.raises(Conflict):
        _start(world, NOW + timedelta(minutes=1))
    assert _round_count(world) == 1


def test_second_round_has_no_nps_and_new_dimensions(world: UnitOfWorkFactory) -> None:
    first = _start(world)
    pulse_rounds.close_due_rounds(world, now=first.closes_at)
    second = _start(world, first.closes_at + timedelta(hours=1))
    assert [q.kind for q in second.questions] == ["scale"] * 3
    assert not {q.dimension for q in first.questions} & {q.dimension for q in second.questions}


def test_submit_twice_updates_one_response(world: UnitOfWorkFactory) -> None:
    r = _start(world)
    first = _submit(world, r, "UC1", 2, "meh")
    second = _submit(world, r, "UC1", 5, "better now")
    assert first.created and not second.created
    with world() as uow:
        responses = uow.responses.list_for_round(r.id)
        assert len(responses) == 1
        scale = {a.question_id: a.score for a in responses[0].answers}
        assert len(scale) == len(r.questions)
        assert {s for qid, s in scale.items()} == {5}
        assert {a.comment for a in responses[0].answers} == {"better now"}
        assert responses[0].user_id is None  # anonymous by default
        assert "UC1" not in responses[0].respondent_hash
    form = pulses.answer_form(world(), round_id=r.id, profile=_profile("UC1"), secret_key=KEY, now=NOW)
    assert {a.score for a in form.previous.values()} == {5}
    assert form.side is Side.CLIENT and form.other_org == "Contoso"


def test_oversized_comment_and_bad_score(world: UnitOfWorkFactory) -> None:
    r = _start(world)
    q = next(q for q in r.questions if q.kind == "scale")
    answers = [AnswerInput(a.question_id, a.score, "x" * 3001 if a.question_id == q.id else None) for a in _answers(r, 3)]
    with pytest.raises(InvalidInput) as info:
        _submit(world, r, "UC1", 3, answers=answers)
    assert info.value.field == f"comment-{q.id}"
    answers = [AnswerInput(a.question_id, 6 if a.question_id == q.id else a.score, None) for a in _answers(r, 3)]
    with pytest.raises(InvalidInput) as info:
        _submit(world, r, "UC1", 3, answers=answers)
    assert info.value.field == f"score-{q.id}"
    # Exactly 3,000 characters is fine.
    answers = [AnswerInput(a.question_id, a.score, "y" * 3000) for a in _answers(r, 3)]
    assert _submit(world, r, "UC1", 3, answers=answers).created
    with world() as uow:
        assert len(uow.responses.list_for_round(r.id)) == 1


def test_answering_after_close_is_conflict(world: UnitOfWorkFactory) -> None:
    r = _start(world)
    _submit(world, r, "UC1", 4)
    assert pulse_rounds.close_due_rounds(world, now=r.closes_at - timedelta(seconds=1)) == ()
    assert pulse_rounds.close_due_rounds(world, now=r.closes_at) == (r.id,)
    assert pulse_rounds.close_due_rounds(world, now=r.closes_at) == ()
    with pytest.raises(Conflict):
        _submit(world, r, "UC1", 1, now=r.closes_at + timedelta(minutes=1))
    with pytest.raises(Conflict):
        _submit(world, r, "UC2", 1, now=r.closes_at + timedelta(minutes=1))
    keys = _outbox_keys(world)
    assert f"results:{r.id}" in keys and f"pulse-closed:{r.id}" in keys


# --- results ------------------------------------------------------------------------------------------------


def test_results_withhold_side_below_threshold(world: UnitOfWorkFactory) -> None:
    r = _start(world)
    for user, score in (("UC1", 5), ("UC2", 4), ("UC3", 4)):
        _submit(world, r, user, score, f"client view {user}")
    for user, score in (("UP1", 1), ("UP2", 2)):
        _submit(world, r, user, score, f"provider secret {user}")
    pulse_rounds.close_due_rounds(world, now=r.closes_at)
    res = pulses.round_results(world(), round_id=r.id)
    assert res.withheld == (Side.PROVIDER,)
    assert res.participation[Side.CLIENT].responded == 3 and res.participation[Side.PROVIDER].responded == 2
    assert res.participation[Side.CLIENT].asked == 4 and res.participation[Side.PROVIDER].asked == 4
    assert res.comments[Side.PROVIDER] == ()
    expected_comments = [f"client view {u}" for u in ("UC1", "UC2", "UC3") for _ in r.questions]
    assert sorted(res.comments[Side.CLIENT]) == sorted(expected_comments)
    assert len(res.items) == len([q for q in r.questions if q.kind == "scale"])
    for d in res.items:
        assert d.provider.average is None and d.provider.withheld and d.gap is None
        assert d.client.average == Decimal("4.3")  # 5, 4, 4 on every question: 13 / 3 = 4.333…
        assert d.client.answers == 3
    assert res.nps is not None and res.nps[1].withheld and res.nps[1].score is None
    assert res.nps[0].score == -100  # 5, 4, 4 on the 0–10 NPS question: three detractors


def test_results_average_and_gap(world: UnitOfWorkFactory) -> None:
    r = _start(world)
    scale = [q for q in r.questions if q.kind == "scale"]
    nps = next(q for q in r.questions if q.kind == "nps")
    # Client: first question 5, 4, 4 (13/3 = 4.333 → 4.3); provider: 2, 3, 3 (8/3 = 2.667 → 2.7);
    # gap = provider − client of the rounded averages: 2.7 − 4.3 = −1.6.
    plan = {"UC1": 5, "UC2": 4, "UC3": 4, "UP1": 2, "UP2": 3, "UP3": 3}
    for user, score in plan.items():
        answers = [AnswerInput(scale[0].id, score, None)]
        answers += [AnswerInput(q.id, 3, None) for q in scale[1:]]
        answers.append(AnswerInput(nps.id, 10 if user.startswith("UC") else 0, None))
        _submit(world, r, user, 0, answers=answers)
    res = pulses.round_results(world(), round_id=r.id)
    assert res.withheld == ()
    by_dim = {d.dimension: d for d in res.items}
    first = by_dim[scale[0].dimension]
    assert first.subject == scale[0].subject
    assert (first.client.average, first.provider.average) == (Decimal("4.3"), Decimal("2.7"))
    assert first.gap == Decimal("-1.6")
    assert first.client.answers == 3 and first.provider.answers == 3
    for q in scale[1:]:
        assert by_dim[q.dimension].gap == Decimal("0.0")
    assert "nps" not in by_dim  # NPS is not an average: promoters minus detractors, per side
    assert res.nps is not None
    assert (res.nps[0].score, res.nps[0].promoters, res.nps[1].score, res.nps[1].detractors) == (100, 3, -100, 3)


# --- the schedule -------------------------------------------------------------------------------------------


def test_open_due_rounds_once_at_the_scheduled_time(world: UnitOfWorkFactory) -> None:
    assert pulse_rounds.open_due_rounds(world, now=FIRST_PULSE - timedelta(seconds=1)).opened == ()
    report = pulse_rounds.open_due_rounds(world, now=FIRST_PULSE)
    assert len(report.opened) == 1 and report.skipped == 0
    again = pulse_rounds.open_due_rounds(world, now=FIRST_PULSE)
    assert again.opened == () and again.skipped == 0
    assert _round_count(world) == 1
    p = partnerships.get_partnership(world(), team_id=CLIENT_TEAM, channel_id=CHANNEL)
    assert p is not None and p.next_pulse_at == FIRST_PULSE + timedelta(days=7)
    ctx = pulses.round_context(world(), round_id=report.opened[0])
    assert ctx is not None and ctx[0].closes_at == FIRST_PULSE + timedelta(hours=48)


def test_paused_partnership_does_not_open(world: UnitOfWorkFactory) -> None:
    partnerships.set_paused(world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor=CLIENT_LEAD, paused=True, now=NOW)
    assert pulse_rounds.open_due_rounds(world, now=FIRST_PULSE).opened == ()
    with pytest.raises(Conflict):
        _start(world)


def test_downtime_opens_at_most_one_round(world: UnitOfWorkFactory) -> None:
    latest = FIRST_PULSE + timedelta(weeks=3)
    report = pulse_rounds.open_due_rounds(world, now=latest + timedelta(hours=1))
    assert len(report.opened) == 1 and report.skipped == 3
    ctx = pulses.round_context(world(), round_id=report.opened[0])
    assert ctx is not None and ctx[0].closes_at == latest + timedelta(hours=48)
    p = ctx[1]
    assert p.next_pulse_at == latest + timedelta(days=7)
    assert pulse_rounds.open_due_rounds(world, now=latest + timedelta(hours=2)).opened == ()


def test_downtime_past_close_skips_without_round(world: UnitOfWorkFactory) -> None:
    before = _outbox_keys(world)
    now = FIRST_PULSE + timedelta(weeks=3, hours=49)
    report = pulse_rounds.open_due_rounds(world, now=now)
    assert report.opened == () and report.skipped == 4
    assert _round_count(world) == 0
    assert _outbox_keys(world) == before
    p = partnerships.get_partnership(world(), team_id=CLIENT_TEAM, channel_id=CHANNEL)
    assert p is not None and p.next_pulse_at is not None and p.next_pulse_at > now
    assert p.next_pulse_at == FIRST_PULSE + timedelta(weeks=4)


def test_reminders_queued_once_for_non_responders(world: UnitOfWorkFactory) -> None:
    report = pulse_rounds.open_due_rounds(world, now=FIRST_PULSE)
    ctx = pulses.round_context(world(), round_id=report.opened[0])
    assert ctx is not None
    r = ctx[0]
    _submit(world, r, "UC1", 4, now=FIRST_PULSE + timedelta(hours=1))
    _submit(world, r, "UP2", 2, now=FIRST_PULSE + timedelta(hours=1))
    assert pulse_rounds.queue_due_reminders(world, secret_key=KEY, now=FIRST_PULSE + timedelta(hours=23)) == 0
    assert pulse_rounds.queue_due_reminders(world, secret_key=KEY, now=FIRST_PULSE + timedelta(hours=25)) == 6
    assert pulse_rounds.queue_due_reminders(world, secret_key=KEY, now=FIRST_PULSE + timedelta(hours=26)) == 0
    reminders = {k for k in _outbox_keys(world) if k.startswith(f"remind:{r.id}:")}
    expected = {CLIENT_LEAD, "UC2", "UC3", PROVIDER_LEAD, "UP1", "UP3"}
    assert reminders == {f"remind:{r.id}:{u}" for u in expected}
    assert pulse_rounds.has_answered(world(), round_id=r.id, user_id="UC1", secret_key=KEY)
    assert not pulse_rounds.has_answered(world(), round_id=r.id, user_id="UC2", secret_key=KEY)


def test_member_without_side_cannot_answer(world: UnitOfWorkFactory) -> None:
    r = _start(world)
    with pytest.raises(NotAllowed):
        pulses.submit_answers(
            world(),
            round_id=r.id,
            profile=SlackProfile("UX1", None, "stranger"),
            answers=_answers(r, 3),
            secret_key=KEY,
            now=NOW,
        )
    with world() as uow:
        assert uow.responses.list_for_round(r.id) == []


def test_setup_input_is_frozen() -> None:
    data = _setup_input()
    assert replace(data, name="x").name == "x" and data.name == "Northwind desk"


def test_a_broken_partnership_is_paused_and_does_not_block_the_others(world: UnitOfWorkFactory) -> None:
    from sqlalchemy import update

    from storage.models import Partnership

    other = partnership_setup.configure_partnership(
        world(),
        team_id=CLIENT_TEAM,
        channel_id="C0OTHER",
        user_id=CLIENT_LEAD,
        data=_setup_input(name="Other"),
        is_connect=True,
        channel_members=_channel_members(),
        now=NOW,
    )
    broken_id = _partnership_id(world)
    due = other.partnership.next_pulse_at
    assert due is not None
    with world() as uow:  # corrupt data that validation would never let in
        uow.session.execute(update(Partnership).where(Partnership.id == broken_id).values(timezone="Not/AZone"))
        uow.commit()
    report = pulse_rounds.open_due_rounds(world, now=due)
    assert len(report.opened) == 1 and report.skipped == 1
    with world() as uow:
        broken = uow.partnerships.get(broken_id)
        assert broken is not None and broken.status == "paused" and "could not be scheduled" in str(broken.pause_reason)
        assert uow.rounds.latest(other.partnership.id) is not None
    assert pulse_rounds.open_due_rounds(world, now=due).opened == ()  # no endless retry
