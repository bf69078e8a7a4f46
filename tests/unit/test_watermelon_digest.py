"""The watermelon check in the digest and its signals, against a real database (SQLite; PostgreSQL too).

The partnership (Northwind client, Contoso provider, New York, digest Fridays 16:00, threshold 3) has its digest of
Fri 11 Dec 2026 21:00 UTC; the week's last whole local day is Thu 10 Dec, so a weekly KPI's figure counts for the
periods ending Sun 6 Dec or Sun 29 Nov. One round closed on Wed 9 Dec:

    dimension        client answers    client score      provider answers   provider score
    trust            2 3 3             8/3 = 2.67 -> 2.7  4 4 5              13/3 = 4.33 -> 4.3
    responsiveness   4 4 4             12/3 = 4.0         4 5 4              13/3 = 4.33 -> 4.3

KPIs (agreed, weekly, higher is better):

    #1 Handover notes on time   trust            target 95, amber 90, red 80   6 Dec: 96 -> green
    #2 First-contact resolution responsiveness   target 80, amber 75, red 65   6 Dec: 60 -> red
    #3 Value reviews held       value            target 4, amber 3, red 2      22 Nov: 4 -> too old: no data

So trust is "KPIs green, people unhappy" (the client, 2.7 <= 3.0) and responsiveness "people happy, KPIs red"
(4.0 and 4.3, both >= 4.0); value has no figure and no score.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, date, datetime

import pytest

from bot import export_html, export_kpis
from bot.blocks.digest import build_digest_detail
from bot.blocks.digest_headline import build_digest_headline
from bot.blocks.pulse import Message
from bot.blocks.signals import signal_text
from bot.services import digest, digest_headline, digest_schedule, export, signals, watermelon_signals
from bot.services.issue_models import SignalKind
from bot.services.kpi_models import Rag
from bot.services.partnership_models import Side
from bot.services.portfolio_risk import assess
from bot.services.watermelon_models import Attainment, Pairing
from storage.models import OutboxMessage, Signal
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, add_closed_round, answers_for, make_issue_world
from tests.helpers import mrkdwn_texts
from tests.kpi_factories import add_agreed_kpi, record_figure

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
DIGEST_AT = datetime(2026, 12, 11, 21, 0, tzinfo=UTC)
WEEK_START = date(2026, 12, 4)
C, P = Side.CLIENT, Side.PROVIDER

TRUST = "Trust: KPIs green, people unhappy. Every agreed KPI is green, but Northwind rates it 3.0 or lower (Northwind 2.7, Contoso 4.3 of 5)."
RESPONSIVENESS = (
    "Responsiveness: people happy, KPIs red. Both sides rate it 4.0 or higher (Northwind 4.0, Contoso 4.3 of 5), "
    "but 1 of its KPIs is red: First-contact resolution."
)


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=START)


def _seed(world: IssueWorld, *, client_trust: list[int] | None = None) -> None:
    f, pid = world.uow_factory, world.partnership_id
    client = answers_for(
        C, {"trust": client_trust or [2, 3, 3], "responsiveness": [4, 4, 4][: len(client_trust or [2, 3, 3])]}
    )
    provider = answers_for(P, {"trust": [4, 4, 5], "responsiveness": [4, 5, 4]})
    add_closed_round(f, partnership_id=pid, closed_at=datetime(2026, 12, 9, 15, 0, tzinfo=UTC), answers=client + provider)
    kpis = (  # name, dimension, target, amber, red, unit, delivered by; a figure's period end and value
        ("Handover notes on time", "trust", 95, 90, 80, "%", "provider", date(2026, 12, 6), 96),
        ("First-contact resolution", "responsiveness", 80, 75, 65, "%", "provider", date(2026, 12, 6), 60),
        ("Value reviews held", "value", 4, 3, 2, "", "client", date(2026, 11, 22), 4),
    )
    for name, dimension, target, amber, red, unit, side, period_end, value in kpis:
        kpi_id = add_agreed_kpi(
            f, pid, effective_from=date(2026, 11, 2), now=START, name=name, dimension=dimension,
            target=target, amber=amber, red=red, unit=unit, delivered_by=side,
        )  # fmt: skip
        record_figure(f, kpi_id, period_end, value, now=DIGEST_AT)


def _texts(message: Message) -> list[str]:
    return mrkdwn_texts([b.to_dict() for b in message.blocks])


def _digest(world: IssueWorld) -> digest.DigestView:
    return digest.build_digest(
        world.uow_factory(), partnership_id=world.partnership_id, week_start=WEEK_START, now=DIGEST_AT
    )


def test_the_digest_sets_each_dimensions_kpis_beside_each_sides_score(world: IssueWorld) -> None:
    _seed(world)
    view = _digest(world)
    assert view.kpis is not None and view.kpis.last_day == date(2026, 12, 10)
    got = [
        (c.dimension, str(c.client), str(c.provider), c.attainment, c.pairing, [k.rag for k in c.kpis])
        for c in view.kpis.dimensions
    ]
    assert got == [
        ("trust", "2.7", "4.3", Attainment.GREEN, Pairing.GREEN_UNHAPPY, [Rag.GREEN]),
        ("responsiveness", "4.0", "4.3", Attainment.RED, Pairing.RED_HAPPY, [Rag.RED]),
        ("value", "None", "None", Attainment.MIXED, None, [None]),
    ]
    # The batched read (the portfolio's and the sender's) finds the same.
    (batched,) = digest.build_digests(world.uow_factory(), partnership_ids=[world.partnership_id], now=DIGEST_AT)
    assert batched.kpis == view.kpis


def test_the_headline_names_each_pairing_and_the_detail_lists_every_kpi(world: IssueWorld) -> None:
    _seed(world)
    view = _digest(world)
    h = digest_headline.headline(view)
    assert [c.dimension for c in h.attention.kpis] == ["trust", "responsiveness"]
    main = "\n".join(_texts(build_digest_headline(view, h)))
    assert TRUST in main and RESPONSIVENESS in main
    detail = "\n".join(t for m in build_digest_detail(view) for t in _texts(m))
    assert "• *Trust: Northwind 2.7, Contoso 4.3 of 5 — KPIs green, people unhappy*" in detail
    assert "◦ Handover notes on time: 96%, green (target 95%)" in detail
    assert "◦ First-contact resolution: 60%, red (target 80%)" in detail
    assert "• *Value delivered: Northwind –, Contoso – of 5*" in detail
    assert "◦ Value reviews held: no recent figure (target 4)" in detail


def _signals(world: IssueWorld) -> list[tuple[str, str, str | None]]:
    with world.uow_factory() as uow:
        return [(s.kind, s.subject, s.side) for s in uow.session.query(Signal).order_by(Signal.id)]


def _signal_recipients(world: IssueWorld) -> list[str | None]:
    with world.uow_factory() as uow:
        rows = uow.session.query(OutboxMessage).filter(OutboxMessage.purpose == "signal").order_by(OutboxMessage.id)
        return sorted(r.user_id for r in rows)


def _digest_due(world: IssueWorld) -> None:
    with world.uow_factory() as uow:
        uow.partnerships.get(world.partnership_id).next_digest_at = DIGEST_AT
        uow.commit()


def test_queuing_the_digest_signals_each_pairing_once_to_both_leads(world: IssueWorld) -> None:
    _seed(world)
    f = world.uow_factory
    _digest_due(world)
    assert digest_schedule.queue_due_digests(f, now=DIGEST_AT, on_queued=watermelon_signals.signal_week) == 1
    assert _signals(world) == [("kpis_green_unhappy", "trust", "client"), ("kpis_red_happy", "responsiveness", None)]
    assert _signal_recipients(world) == ["UCL", "UCL", "UPL", "UPL"]
    # Once per partnership, dimension and week: the same week checked again sends nothing.
    with f() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert watermelon_signals.signal_week(uow, p, DIGEST_AT, DIGEST_AT) == 0
    assert len(_signals(world)) == 2 and len(_signal_recipients(world)) == 4


def test_a_failing_check_never_holds_back_the_digest(world: IssueWorld) -> None:
    f = world.uow_factory
    _digest_due(world)
    seen: list[datetime] = []

    def broken(uow: object, p: object, ends_at: datetime, now: datetime) -> None:
        seen.append(ends_at)
        raise RuntimeError("the check failed")

    assert digest_schedule.queue_due_digests(f, now=DIGEST_AT, on_queued=broken) == 1
    assert seen == [DIGEST_AT]
    with f() as uow:
        assert uow.digests.get_for_week(world.partnership_id, WEEK_START) is not None


def test_the_signal_and_its_prefilled_issue_say_what_the_digest_says(world: IssueWorld) -> None:
    _seed(world)
    with world.uow_factory() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert watermelon_signals.signal_week(uow, p, DIGEST_AT, DIGEST_AT) == 2
        uow.commit()
        ids = {s.kind: s.id for s in uow.session.query(Signal)}
    green = signals.signal_context(world.uow_factory(), signal_id=ids["kpis_green_unhappy"])
    assert green is not None and green.kind is SignalKind.KPIS_GREEN_UNHAPPY
    assert signal_text(green) == f"{TRUST}\n• Handover notes on time: 96%, green (target 95%)"
    draft = signals.draft_from_signal(world.uow_factory(), channel_id=world.channel_id, signal_id=ids["kpis_red_happy"])
    assert draft.title == "Responsiveness: people happy, KPIs red"
    assert draft.details == f"{RESPONSIVENESS}\nFirst-contact resolution: 60%, red (target 80%)"
    assert draft.category is None  # no default category is named after the dimension (as for a drop or a gap)


def test_a_side_below_the_anonymity_threshold_has_no_score_and_raises_no_signal(world: IssueWorld) -> None:
    # Two client people answered (threshold 3): the client is withheld, so trust has no client score; the provider's
    # 4.3 is not unhappy, and "people happy" needs both sides.
    _seed(world, client_trust=[1, 1])
    view = _digest(world)
    assert view.kpis is not None
    assert [(c.dimension, c.client, c.pairing) for c in view.kpis.dimensions][:2] == [
        ("trust", None, None),
        ("responsiveness", None, None),
    ]
    with world.uow_factory() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert watermelon_signals.signal_week(uow, p, DIGEST_AT, DIGEST_AT) == 0


def test_a_partnership_without_agreed_kpis_has_an_empty_check(world: IssueWorld) -> None:
    view = _digest(world)
    assert view.kpis is not None and view.kpis.dimensions == ()
    assert "Agreed KPIs" not in "\n".join(t for m in build_digest_detail(view) for t in _texts(m))


def test_the_portfolio_scores_each_pairing_with_its_reason(world: IssueWorld) -> None:
    _seed(world)
    view = _digest(world)
    with_kpis, without = assess(view), assess(dataclasses.replace(view, kpis=None))
    # 10 points for the first pairing, 5 more for the second (the part is capped at 15).
    assert with_kpis.score - without.score == 15
    assert set(with_kpis.reasons) - set(without.reasons) == {
        "Trust: KPIs green, people unhappy (Northwind 2.7, Contoso 4.3 of 5)",
        "Responsiveness: people happy, KPIs red (Northwind 4.0, Contoso 4.3 of 5)",
    }


def test_the_export_lists_the_weeks_kpis_and_pairings_with_the_same_figures(world: IssueWorld) -> None:
    _seed(world)
    report = export.build_export(
        world.uow_factory, partnership_id=world.partnership_id, start=WEEK_START, end=WEEK_START, now=DIGEST_AT
    )
    rows = list(csv.DictReader(io.StringIO(export_kpis.render_kpi_csv(report))))
    got = [
        (r["dimension"], r["client_score"], r["provider_score"], r["pairing"], r["kpi_name"], r["value"], r["status"])
        for r in rows
    ]
    assert got == [
        ("trust", "2.7", "4.3", "kpis_green_unhappy", "Handover notes on time", "96", "green"),
        ("responsiveness", "4.0", "4.3", "kpis_red_happy", "First-contact resolution", "60", "red"),
        ("value", "", "", "", "Value reviews held", "", ""),
    ]
    assert (rows[1]["week_start"], rows[1]["target"], rows[1]["period_end"]) == ("2026-12-04", "80", "2026-12-06")
    page = export_html.render_html(report)
    assert f"<li>{TRUST}</li>" in page and f"<li>{RESPONSIVENESS}</li>" in page
    assert "<td>First-contact resolution</td><td class=n>60%</td><td>Red</td><td class=n>80%</td>" in page
