"""Early-warning signals from synthetic pulse results and from recurring issue categories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.services import pulse_rounds, pulses, signals
from bot.services.errors import NotFound
from bot.services.issue_models import SignalKind
from bot.services.partnership_models import SlackProfile
from bot.services.pulse_models import AnswerInput, RoundView
from storage.models import OutboxMessage, Signal
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world
from tests.unit_support import log_issue_in

#: Monday 2 Nov 2026, 10:00 in New York: the first of four weekly rounds.
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
KEY = "s" * 40
CLIENT = ("UCL", "UC1", "UC2", "UC3")
PROVIDER = ("UPL", "UP1", "UP2", "UP3")


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    w = make_issue_world(uow_factory, now=START)
    with uow_factory() as uow:  # every round asks one question of each of the eight dimensions
        p = uow.partnerships.get(w.partnership_id)
        assert p is not None
        p.questions_per_round = 8
        uow.commit()
    return w


def _round(
    world: IssueWorld,
    week: int,
    client: Callable[[str, str], int],
    provider: Callable[[str, str], int],
    *,
    provider_people: tuple[str, ...] = PROVIDER,
) -> RoundView:
    """Open a round in week ``week``, have both sides answer (score by person and dimension) and close it."""
    opened = START + timedelta(weeks=week)
    r = pulse_rounds.start_round_now(world.uow_factory(), **world.where, actor="UCL", now=opened)
    for people, score, team in ((CLIENT, client, "TCLIENT"), (provider_people, provider, "TPROV")):
        for user in people:
            pulses.submit_answers(
                world.uow_factory(),
                round_id=r.id,
                profile=SlackProfile(user, team, user.lower()),
                answers=[AnswerInput(q.id, 7 if q.kind == "nps" else score(user, q.dimension), None) for q in r.questions],
                secret_key=KEY,
                now=opened + timedelta(minutes=5),
            )
    assert r.id in pulse_rounds.close_due_rounds(world.uow_factory, now=opened + timedelta(days=3))
    return r


def _steady(user: str, dimension: str) -> int:
    return 4


def _signals(world: IssueWorld) -> list[tuple[str, str, str | None]]:
    with world.uow_factory() as uow:
        rows = uow.session.query(Signal).order_by(Signal.id).all()
        return [(s.kind, s.subject, s.side) for s in rows]


def _signal_messages(world: IssueWorld) -> list[str | None]:
    with world.uow_factory() as uow:
        rows = uow.session.query(OutboxMessage).filter(OutboxMessage.purpose == "signal").order_by(OutboxMessage.id).all()
        return [r.user_id for r in rows]


def _asked(r: RoundView, dimension: str) -> list[str | None]:
    return [q.subject for q in r.questions if q.dimension == dimension]


def test_a_drop_and_a_gap_are_signalled_once(world: IssueWorld) -> None:
    for week in range(3):
        r = _round(world, week, _steady, _steady)
        assert signals.signals_after_round(world.uow_factory(), round_id=r.id, now=r.closes_at) == 0
    # Week 4: the provider's communication score falls from 4.0 to 2.0; the client still gives 4.
    r = _round(world, 3, _steady, lambda u, d: 2 if d == "communication" else 4)
    assert signals.signals_after_round(world.uow_factory(), round_id=r.id, now=r.closes_at) == 2
    assert _signals(world) == [("drop", "communication", "provider"), ("gap", "communication", None)]
    # One ephemeral per lead in the channel, per signal.
    assert sorted(_signal_messages(world)) == ["UCL", "UCL", "UPL", "UPL"]
    # The gap names what was rated and has the one sign of every surface: provider 2.0 − client 4.0 = −2.0.
    assert _asked(r, "communication") == ["relationship"]
    with world.uow_factory() as uow:
        detail = dict(uow.session.query(Signal).filter(Signal.kind == "gap").one().detail)
    assert (detail["subject"], detail["client"], detail["provider"], detail["gap"]) == (
        "relationship",
        4.0,
        2.0,
        -2.0,
    )
    # The next call (a second heartbeat, a restart) sends nothing again.
    assert signals.signals_after_round(world.uow_factory(), round_id=r.id, now=r.closes_at + timedelta(hours=1)) == 0
    assert len(_signal_messages(world)) == 4


def test_the_signal_message_and_its_prefilled_issue(world: IssueWorld) -> None:
    first = _round(world, 0, _steady, _steady)
    for week in (1, 2):
        _round(world, week, _steady, _steady)
    r = _round(world, 3, _steady, lambda u, d: 2 if d == "communication" else 4)
    # Rounds 1 and 4 ask about the relationship's communication, rounds 2 and 3 about another subject: the drop
    # compares like with like, so its baseline is round 1 alone.
    assert _asked(first, "communication") == _asked(r, "communication") == ["relationship"]
    signals.signals_after_round(world.uow_factory(), round_id=r.id, now=r.closes_at)
    with world.uow_factory() as uow:
        drop_id = uow.session.query(Signal).filter(Signal.kind == "drop").one().id
    view = signals.signal_context(world.uow_factory(), signal_id=drop_id)
    assert view is not None and view.kind is SignalKind.DROP
    assert (view.detail["current"], view.detail["baseline"], view.detail["baseline_rounds"]) == (2.0, 4.0, 1)
    draft = signals.draft_from_signal(world.uow_factory(), channel_id=world.channel_id, signal_id=drop_id)
    assert draft.title == "The relationship's communication: Contoso's rating dropped"
    assert draft.category == "Communication"
    assert draft.details == (
        "In round 4, Contoso rated the relationship's communication 2.0 against 4.0 on average over the previous four weeks."
    )
    with pytest.raises(NotFound):
        signals.draft_from_signal(world.uow_factory(), channel_id="C999", signal_id=drop_id)


def test_small_changes_make_no_signal(world: IssueWorld) -> None:
    for week in range(2):
        _round(world, week, _steady, _steady)
    # Trust 3.25 for the provider: a drop of 0.75 and a gap of 0.75 stay below the thresholds (1.0 and 1.5).
    r = _round(world, 2, _steady, lambda u, d: 3 if d == "trust" and u != "UPL" else 4)
    assert signals.signals_after_round(world.uow_factory(), round_id=r.id, now=r.closes_at) == 0


def test_the_thresholds_are_inclusive(world: IssueWorld) -> None:
    baseline = [_round(world, week, lambda u, d: 5 if d == "value" else 4, _steady) for week in range(2)]
    # Value: the provider falls by exactly 1.0 (4 -> 3) and the sides end exactly 2.0 apart (5 vs 3); trust: the
    # client gives 2.5 and the provider 4.0, a gap of exactly 1.5.
    r = _round(
        world,
        2,
        lambda u, d: {"value": 5, "trust": 2 if u in ("UCL", "UC1") else 3}.get(d, 4),
        lambda u, d: 3 if d == "value" else 4,
    )
    # Round 3 asks about the client's trust, which rounds 1 and 2 (the provider's trust) did not: a drop compares
    # the same subject only, so the client's 2.5 against their 4.0 for the provider's trust is no drop.
    assert [_asked(b, "trust") for b in baseline] == [["provider"], ["provider"]] and _asked(r, "trust") == ["client"]
    assert [_asked(b, "value") for b in baseline] == [["provider"], ["provider"]] and _asked(r, "value") == ["provider"]
    assert signals.signals_after_round(world.uow_factory(), round_id=r.id, now=r.closes_at) == 3
    assert sorted(_signals(world)) == [
        ("drop", "value", "provider"),
        ("gap", "trust", None),
        ("gap", "value", None),
    ]


def test_a_withheld_side_raises_no_signal(world: IssueWorld) -> None:
    for week in range(2):
        _round(world, week, _steady, _steady)
    # Only two provider people answer: below the threshold of three, so their 1s are never used.
    r = _round(world, 2, _steady, lambda u, d: 1, provider_people=("UP1", "UP2"))
    assert signals.signals_after_round(world.uow_factory(), round_id=r.id, now=r.closes_at) == 0
    assert _signals(world) == []


def test_rounds_older_than_four_weeks_are_not_the_baseline(world: IssueWorld) -> None:
    _round(world, 0, _steady, _steady)
    r = _round(world, 5, _steady, lambda u, d: 2 if d == "trust" else 4)
    assert signals.signals_after_round(world.uow_factory(), round_id=r.id, now=r.closes_at) == 1
    assert _signals(world) == [("gap", "trust", None)]


# --- recurring categories ---------------------------------------------------------------------------------


def _log(world: IssueWorld, key: str, now: datetime, category: str = "Communication") -> None:
    log_issue_in(world, key=key, now=now, actor="UC2", category=category)


def test_three_issues_of_one_category_in_30_days_signal_once(world: IssueWorld) -> None:
    _log(world, "a", START)
    _log(world, "b", START + timedelta(days=10), category="Staffing")
    _log(world, "c", START + timedelta(days=20))
    assert _signals(world) == []
    _log(world, "d", START + timedelta(days=29))
    assert _signals(world) == [("recurring_category", "Communication", None)]
    _log(world, "e", START + timedelta(days=30))  # a fourth: no second signal within 30 days
    assert (
        signals.recurring_categories(
            world.uow_factory(), partnership_id=world.partnership_id, now=START + timedelta(days=31)
        )
        == 0
    )
    assert len(_signals(world)) == 1
    # Spread over more than 30 days it is not "recurring".
    _log(world, "f", START + timedelta(days=75))
    assert len(_signals(world)) == 1
    # A new run after the quiet period is signalled again.
    _log(world, "g", START + timedelta(days=76))
    _log(world, "h", START + timedelta(days=77))
    assert [s[1] for s in _signals(world)] == ["Communication", "Communication"]
