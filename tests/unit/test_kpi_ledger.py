"""The KPI ledger's rules (bot.services.kpis): who may propose, agree, discuss, withdraw, change and retire; versions
and their history; what a definition may hold. Against the unit of work, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.blocks.kpi_ledger import build_kpi_detail, build_kpi_ledger, build_kpi_proposal
from bot.services import kpi_reads, kpis
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.kpi_ledger_models import KpiCard, KpiProposalInput
from bot.services.kpi_models import KpiDefinition, KpiDirection, KpiVersionStatus, Rag
from bot.services.outbox_notices import Notice
from bot.services.partnership_models import Side
from storage.models import Kpi, KpiValue, KpiVersion, OutboxMessage
from storage.uow import UnitOfWorkFactory
from tests import kpi_factories
from tests.factories import IssueWorld, make_issue_world

# Wednesday 2 December 2026, 09:00 UTC: 04:00 the same day in New York (the partnership's zone).
NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)

# First-contact resolution, weekly, from the provider: aim 75 %, amber below 70 %, red below 60 %.
FCR = replace(kpi_factories.FCR, target=75, amber=70, red=60)


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=NOW)


def _propose(
    world: IssueWorld,
    actor: str = "UPL",
    definition: KpiDefinition = FCR,
    *,
    key: str | None = None,
    request_key: str = "r1",
) -> KpiCard:
    return kpis.propose(
        world.uow_factory(),
        **world.where,
        actor=actor,
        data=KpiProposalInput(definition, key),
        request_key=request_key,
        now=NOW,
    )


def _answer(
    world: IssueWorld,
    card: KpiCard,
    actor: str,
    *,
    agree: bool = True,
    reason: str | None = None,
    channel_id: str | None = None,
    now: datetime = NOW,
) -> KpiCard:
    return kpis.respond(
        world.uow_factory(),
        team_id=world.team_id,
        channel_id=channel_id or world.channel_id,
        kpi_id=card.kpi.id,
        version=card.version.version,
        actor=actor,
        agree=agree,
        reason=reason,
        now=now,
    )


def _change(world: IssueWorld, key: str, definition: KpiDefinition, actor: str = "UCL") -> KpiCard:
    return kpis.propose(
        world.uow_factory(),
        **world.where,
        actor=actor,
        data=KpiProposalInput(definition, key, change=True),
        request_key="change",
        now=NOW,
    )


def _purposes(world: IssueWorld) -> list[str]:
    """What the ledger queued (the setup's own messages left out)."""
    with world.uow_factory() as uow:
        purposes = uow.session.scalars(select(OutboxMessage.purpose).order_by(OutboxMessage.id))
        return [p for p in purposes if p.startswith("kpi") or p == "notice"]


def _count(world: IssueWorld, model: type) -> int:
    with world.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_provider_lead_proposes_and_the_client_lead_agrees(world: IssueWorld) -> None:
    card = _propose(world)
    assert (card.kpi.number, card.kpi.key, card.version.version) == (1, "first-contact-resolution", 1)
    assert card.version.status is KpiVersionStatus.PROPOSED and card.kpi.current is None
    assert _purposes(world) == ["kpi-proposal"]

    agreed = _answer(world, card, "UCL")
    assert agreed.version.status is KpiVersionStatus.AGREED
    # 09:00 UTC on 2 December is still 2 December in New York.
    assert agreed.version.effective_from == date(2026, 12, 2)
    assert agreed.kpi.current is not None and agreed.kpi.current.version == 1 and agreed.kpi.pending is None
    # The proposal's message is updated in place and the answer posted in its thread.
    assert _purposes(world)[1:] == ["kpi-proposal-update", "kpi-answer"]
    # Agreeing again changes nothing and posts nothing.
    _answer(world, card, "UCL")
    assert len(_purposes(world)) == 3


def test_only_a_lead_of_the_other_side_answers(world: IssueWorld) -> None:
    card = _propose(world)
    with pytest.raises(NotAllowed) as refused:
        _answer(world, card, "UPL")
    assert str(refused.value) == (
        "Your side proposed this: only a lead of Northwind can agree to it or ask to discuss it. Your side can withdraw it."
    )
    with pytest.raises(NotAllowed, match="leads"):
        _answer(world, card, "UC1")  # a client member, not a lead
    with pytest.raises(NotAllowed, match="leads"):
        kpi_reads.card_to_answer(
            world.uow_factory(),
            **world.where,
            kpi_id=card.kpi.id,
            version=1,
            actor="UP1",
        )
    # Another partnership's channel cannot reach this KPI, though UCL leads there too.
    make_issue_world(world.uow_factory, now=NOW, channel_id="C200", name="Other desk")
    with pytest.raises(NotFound, match="does not exist in this channel's partnership"):
        _answer(world, card, "UCL", channel_id="C200")
    with world.uow_factory() as uow:
        assert uow.session.scalars(select(KpiVersion.status)).one() == "proposed"


def test_members_cannot_propose_and_the_owner_is_on_the_delivering_side(world: IssueWorld) -> None:
    with pytest.raises(NotAllowed, match="Only the partnership's leads can propose a KPI"):
        _propose(world, "UP1")
    with pytest.raises(InvalidInput) as refused:
        _propose(world, definition=replace(FCR, owner_id="UC1"))  # a client member, for a provider KPI
    assert refused.value.field == "owner_id"
    card = _propose(world, definition=replace(FCR, owner_id="UP1"))
    assert card.version.definition.owner_id == "UP1"
    # A client lead proposes a client KPI: the provider lead answers it.
    access = replace(FCR, name="Access granted within 5 days", delivered_by=Side.CLIENT, dimension="collaboration")
    client_kpi = _propose(world, "UCL", access, request_key="r2")
    assert client_kpi.version.proposed_side is Side.CLIENT and client_kpi.kpi.delivered_by is Side.CLIENT
    assert _answer(world, client_kpi, "UPL").version.status is KpiVersionStatus.AGREED


def test_discuss_needs_a_reason_and_can_end_in_agreement(world: IssueWorld) -> None:
    card = _propose(world)
    with pytest.raises(InvalidInput) as refused:
        _answer(world, card, "UCL", agree=False, reason="  ")
    assert refused.value.field == "reason"
    discussed = _answer(world, card, "UCL", agree=False, reason="75% is high for the first quarter")
    assert discussed.version.status is KpiVersionStatus.DISCUSSING
    assert discussed.version.response == "75% is high for the first quarter" and discussed.kpi.pending is not None
    assert _answer(world, card, "UCL").version.status is KpiVersionStatus.AGREED
    with pytest.raises(Conflict, match="propose a change"):
        _answer(world, card, "UCL", agree=False, reason="again")


def test_withdraw_is_the_proposers_side_and_only_before_agreement(world: IssueWorld) -> None:
    card = _propose(world)

    def withdraw(proposal: KpiCard, actor: str) -> KpiCard:
        return kpis.withdraw(
            world.uow_factory(),
            **world.where,
            kpi_id=proposal.kpi.id,
            version=1,
            actor=actor,
            now=NOW,
        )

    with pytest.raises(NotAllowed) as refused:
        withdraw(card, "UCL")
    assert str(refused.value) == (
        "Only a lead of Contoso, whose proposal this is, can withdraw it. You can agree to it or ask to discuss it."
    )
    assert withdraw(card, "UPL").version.status is KpiVersionStatus.WITHDRAWN
    with pytest.raises(Conflict, match="withdrawn"):
        _answer(world, card, "UCL")
    second = _propose(world, request_key="r2")
    _answer(world, second, "UCL")
    with pytest.raises(Conflict, match="cannot be withdrawn"):
        withdraw(second, "UPL")


def test_a_change_is_a_new_version_the_old_one_in_force_until_agreed_and_history_kept(world: IssueWorld) -> None:
    """Version 1 (target 75, amber 70, red 60) is agreed on 2 December; version 2 (target 85, amber 80, red 70) is
    proposed by the client and agreed on 9 December (effective that day). A figure of 78 for the week ending Sunday
    29 November is judged by version 1: not below 70, so green, and at least 75, so on target. The same 78 for the
    week ending Sunday 13 December is judged by version 2: below 80 but not below 70, so amber, not on target."""
    card = _propose(world)
    _answer(world, card, "UCL")
    stricter = replace(FCR, target=85, amber=80, red=70)
    v2 = _change(world, card.kpi.key, stricter)
    assert v2.version.version == 2 and v2.version.proposed_side is Side.CLIENT
    assert v2.kpi.current is not None and v2.kpi.current.version == 1  # version 1 stays in force
    assert v2.kpi.pending is not None and v2.kpi.pending.version == 2
    # The same change submitted again is the same version.
    assert _change(world, card.kpi.key, stricter).version.version == 2
    with pytest.raises(NotAllowed, match="Your side proposed this"):
        _answer(world, v2, "UCL")
    later = NOW + timedelta(days=7)
    agreed = _answer(world, v2, "UPL", now=later)
    assert agreed.version.effective_from == date(2026, 12, 9)
    with world.uow_factory() as uow:
        for end, value in ((date(2026, 11, 29), 78.0), (date(2026, 12, 13), 78.0)):
            uow.kpi_values.add(
                KpiValue(kpi_id=card.kpi.id, period_end=end, value=value, source="csv", recorded_by="f", recorded_at=later)
            )
        uow.commit()
    detail = kpi_reads.detail(world.uow_factory(), **world.where, key=card.kpi.key)
    assert [(v.version, v.status) for v in detail.versions] == [
        (1, KpiVersionStatus.SUPERSEDED),
        (2, KpiVersionStatus.AGREED),
    ]
    assert detail.kpi.current is not None and detail.kpi.current.definition.target == 85
    assert [(f.period_end, f.version, f.rag, f.on_target) for f in detail.figures] == [
        (date(2026, 11, 29), 1, Rag.GREEN, True),
        (date(2026, 12, 13), 2, Rag.AMBER, False),
    ]
    shown = json.dumps(build_kpi_detail(detail).blocks[-3].to_dict())
    assert "Superseded" in shown and "Version 2" in shown


def test_a_change_replaces_a_proposal_awaiting_an_answer(world: IssueWorld) -> None:
    card = _propose(world)
    _answer(world, card, "UCL", agree=False, reason="Too high")
    counter = _change(world, card.kpi.key, replace(FCR, target=70, amber=65))
    with world.uow_factory() as uow:
        statuses = list(uow.session.scalars(select(KpiVersion.status).order_by(KpiVersion.version)))
    assert statuses == ["withdrawn", "proposed"]
    assert counter.kpi.current is None
    with pytest.raises(InvalidInput) as refused:
        _change(world, card.kpi.key, replace(FCR, delivered_by=Side.CLIENT))
    assert refused.value.field == "delivered_by"
    with pytest.raises(NotFound, match="no KPI with the key `nope`"):
        _change(world, "nope", FCR)


@pytest.mark.parametrize(
    ("definition", "field", "words"),
    [
        (replace(FCR, red=72), "amber", "red level must be at or below the amber level"),
        (replace(FCR, amber=80), "amber", "amber at or below the target"),
        (replace(FCR, direction=KpiDirection.LOWER), "amber", "When lower is better"),
        (replace(FCR, target=float("nan")), "amber", "must be numbers"),
        (replace(FCR, name="x" * 81), "name", "at most 80"),
        (replace(FCR, name=" \t "), "name", "Please write a KPI name"),
        (replace(FCR, measure="m" * 3001), "measure", "at most 3,000"),
        (replace(FCR, unit="percent of tickets"), "unit", "at most 16"),
        (replace(FCR, dimension="happiness"), "dimension", "Choose the dimension"),
    ],
)
def test_a_bad_definition_is_refused_and_nothing_is_stored(
    world: IssueWorld, definition: KpiDefinition, field: str, words: str
) -> None:
    with pytest.raises(InvalidInput, match=words) as refused:
        _propose(world, definition=definition)
    assert refused.value.field == field
    assert (_count(world, Kpi), _count(world, KpiVersion), _purposes(world)) == (0, 0, [])


def test_keys_are_unique_per_partnership(world: IssueWorld) -> None:
    assert _propose(world, key="FCR").kpi.key == "fcr"
    with pytest.raises(InvalidInput, match="KPI #1 has the key `fcr` already") as refused:
        _propose(world, key="fcr", request_key="r2")
    assert refused.value.field == "key"
    with pytest.raises(InvalidInput, match="lower-case letters") as refused:
        _propose(world, key="-bad key", request_key="r3")
    # A key made from a name that is taken gets a number.
    assert _propose(world, request_key="r4").kpi.key == "first-contact-resolution"
    assert _propose(world, request_key="r5").kpi.key == "first-contact-resolution-2"
    assert _propose(world, request_key="r6").kpi.number == 4


def test_the_same_submission_twice_proposes_once(world: IssueWorld) -> None:
    first = _propose(world, request_key="view-1")
    again = _propose(world, request_key="view-1")
    assert again.kpi.id == first.kpi.id
    assert (_count(world, Kpi), _count(world, KpiVersion), _purposes(world)) == (1, 1, ["kpi-proposal"])


def test_control_characters_are_removed_and_mentions_are_shown_as_text(world: IssueWorld) -> None:
    sneaky = replace(FCR, name="SLA\u202e <!channel>\x00 met", measure="Ping <@UPL> and <https://evil|link>\r\nsecond")
    card = _propose(world, definition=sneaky)
    assert card.version.definition.name == "SLA <!channel> met"
    assert card.version.definition.measure == "Ping <@UPL> and <https://evil|link>\nsecond"
    posted = json.dumps([b.to_dict() for b in build_kpi_proposal(card).blocks])
    assert "&lt;!channel&gt;" in posted and "<!channel>" not in posted
    assert "&lt;@UPL&gt;" in posted and "<https://evil" not in posted
    ledger = kpi_reads.ledger(world.uow_factory(), **world.where)
    listed = json.dumps([b.to_dict() for b in build_kpi_ledger(ledger).blocks])
    assert "<!channel>" not in listed and "kpi-agree" in listed  # awaiting an answer: its buttons


def test_retire_is_for_leads_withdraws_a_proposal_and_keeps_the_history(world: IssueWorld) -> None:
    card = _propose(world)
    _answer(world, card, "UCL")
    _change(world, card.kpi.key, replace(FCR, target=80, amber=75))

    def retire(actor: str) -> object:
        return kpis.retire(
            world.uow_factory(),
            **world.where,
            actor=actor,
            key=card.kpi.key,
            notice=Notice("cmd-1", lambda view: f"retired {view.key}"),
            now=NOW,
        )

    with pytest.raises(NotAllowed, match="leads can retire a KPI"):
        retire("UC1")
    retire("UPL")
    retire("UPL")  # twice: nothing more
    detail = kpi_reads.detail(world.uow_factory(), **world.where, key=card.kpi.key)
    assert detail.kpi.retired and [v.status for v in detail.versions] == [
        KpiVersionStatus.AGREED,
        KpiVersionStatus.WITHDRAWN,
    ]
    assert _purposes(world).count("notice") == 1
    with pytest.raises(Conflict, match="retired"):
        _change(world, card.kpi.key, FCR)
