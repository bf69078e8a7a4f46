"""The KPI ledger (DESIGN 3.6): KPIs both sides agree, changed only by agreeing a new version.

Who may do what (the README's "KPIs" section says the same):

- a lead of either side proposes a KPI, delivered by either side (its owner, if named, is on the delivering side);
- a lead of the OTHER side than the proposer's agrees to it or asks to discuss it (with a reason); a discussion can
  still end in agreement;
- a lead of the proposer's side withdraws a proposal that is not agreed yet;
- a lead of either side proposes a change to a KPI: a new version, which the other side answers in turn. The version
  in force stays in force until the new one is agreed; it then becomes ``superseded`` and the new one judges the
  periods ending on or after the local date of the agreement (``effective_from``). Every version is kept;
- a lead retires a KPI (no more figures; its history stays).

A proposal and each answer are posted in the channel (``Purpose.KPI_PROPOSAL``, ``KPI_PROPOSAL_UPDATE``,
``KPI_ANSWER``). The rules of levels and keys are ``kpi_rules``', the checks ``kpi_checks``', the reads
``kpi_reads``'.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.services import outbox, outbox_notices
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.kpi_checks import check_definition, check_owner, check_reason, lead_side, new_key
from bot.services.kpi_ledger_models import KpiCard, KpiProposalInput
from bot.services.kpi_models import (
    KpiDefinition,
    KpiVersionStatus,
    KpiView,
)
from bot.services.kpi_rows import kpi_view, version_view
from bot.services.outbox_notices import Notice
from bot.services.partnership_guards import (
    MAX_REQUEST_KEY,
    Proposal,
    partnership_a_lead_changes,
    partnership_to_change,
    require_answering_side,
    require_partnership,
    require_proposing_side,
    today_in,
)
from bot.services.partnership_models import Side
from bot.services.read_models_from_rows import partnership_view
from storage.models import Kpi, KpiVersion, Partnership
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

_AWAITING = (KpiVersionStatus.PROPOSED.value, KpiVersionStatus.DISCUSSING.value)
_AGREED = KpiVersionStatus.AGREED.value


# --- rows -----------------------------------------------------------------------------------------------------------


def _version_row(kpi: Kpi, number: int, d: KpiDefinition, side: Side, actor: str, now: datetime) -> KpiVersion:
    return KpiVersion(
        kpi_id=kpi.id,
        version=number,
        name=d.name,
        measure=d.measure,
        unit=d.unit,
        direction=d.direction.value,
        target=d.target,
        amber=d.amber,
        red=d.red,
        period=d.period.value,
        dimension=d.dimension,
        owner_id=d.owner_id,
        status=KpiVersionStatus.PROPOSED.value,
        proposed_side=side.value,
        proposed_by=actor,
        proposed_at=now,
    )


def card_of(uow: UnitOfWork, p: Partnership, kpi: Kpi, version: KpiVersion) -> KpiCard:
    view = kpi_view(kpi, uow.kpi_versions.of_kpi(kpi.id))
    return KpiCard(partnership=partnership_view(p), kpi=view, version=version_view(version, kpi.delivered_by))


def _queue_update(uow: UnitOfWork, p: Partnership, v: KpiVersion, now: datetime, *, answer: bool) -> None:
    """The proposal's message shows its new state; an answer is also posted in its thread."""
    outbox.enqueue_change(
        uow, p, purpose=outbox.Purpose.KPI_PROPOSAL_UPDATE, ref_id=v.id, state=v.status, now=now, name="kpi-update"
    )
    if answer:
        outbox.enqueue_change(uow, p, purpose=outbox.Purpose.KPI_ANSWER, ref_id=v.id, state=v.status, now=now)


# --- proposing ------------------------------------------------------------------------------------------------------


def propose(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    data: KpiProposalInput,
    request_key: str,
    now: datetime,
) -> KpiCard:
    """A lead proposes a new KPI (version 1), or with ``data.change`` a new version of the KPI ``data.key``; it is
    posted for the other side to answer. A new KPI is proposed once per ``request_key``; the same change proposed
    again by the same person (a repeated submission) gives the version already proposed.

    Raises:
        NotFound (no partnership; no KPI with that key), NotAllowed (not a lead on a side), Conflict (a change to a
        retired KPI), InvalidInput (the definition, the key, the owner, the delivering side of a change).
    """
    definition = check_definition(data.definition)
    rkey = request_key[:MAX_REQUEST_KEY]
    with uow:
        p = partnership_to_change(uow, team_id, channel_id)
        if data.change:
            return _new_version(uow, p, kpi_by_key(uow, p, data.key or ""), definition, actor, now)
        existing = uow.kpis.get_by_request_key(p.id, rkey)
        if existing is not None:
            return card_of(uow, p, existing, uow.kpi_versions.of_kpi(existing.id)[0])
        return _new_kpi(uow, p, definition, data.key, actor, rkey, now)


def _new_kpi(
    uow: UnitOfWork, p: Partnership, d: KpiDefinition, key: str | None, actor: str, rkey: str, now: datetime
) -> KpiCard:
    side = lead_side(uow, p, actor, "propose a KPI")
    check_owner(uow, p, d)
    kpi = uow.kpis.add(
        Kpi(
            partnership_id=p.id,
            number=p.next_kpi_number,
            key=new_key(uow, p, d.name, key),
            delivered_by=d.delivered_by.value,
            created_by=actor,
            created_at=now,
            request_key=rkey,
        )
    )
    p.next_kpi_number += 1
    version = uow.kpi_versions.add(_version_row(kpi, 1, d, side, actor, now))
    outbox.enqueue(uow, p, purpose=outbox.Purpose.KPI_PROPOSAL, ref_id=version.id, now=now)
    card = card_of(uow, p, kpi, version)
    stored = uow.commit_or_read_back(lambda: uow.kpis.get_by_request_key(p.id, rkey))
    if stored is not None:  # the same submission delivered twice at once: the first one stands
        return card_of(uow, p, stored, uow.kpi_versions.of_kpi(stored.id)[0])
    logger.info("partnership %s: KPI #%s (%s) proposed by the %s side", p.id, kpi.number, kpi.key, side.value)
    return card


def _same_definition(v: KpiVersion, d: KpiDefinition) -> bool:
    ours = (d.name, d.measure, d.unit, d.direction.value, d.target, d.amber, d.red, d.period.value, d.dimension)
    theirs = (v.name, v.measure, v.unit, v.direction, v.target, v.amber, v.red, v.period, v.dimension)
    return ours == theirs and v.owner_id == d.owner_id


def kpi_by_key(uow: UnitOfWork, p: Partnership, key: str) -> Kpi:
    kpi = uow.kpis.get_by_key(p.id, key.strip().lower())
    if kpi is None:
        raise NotFound(f"There is no KPI with the key `{key[:40]}` here. `/partner kpi` lists the KPIs and their keys.")
    return kpi


def _new_version(uow: UnitOfWork, p: Partnership, kpi: Kpi, d: KpiDefinition, actor: str, now: datetime) -> KpiCard:
    """The version in force stays in force until the new one is agreed; a version still awaiting an answer is
    replaced (withdrawn), so a change can answer a discussion."""
    side = lead_side(uow, p, actor, "propose a change to a KPI")
    if kpi.retired_at is not None:
        raise Conflict(f"KPI #{kpi.number} ({kpi.key}) is retired; propose a new KPI instead.")
    if d.delivered_by.value != kpi.delivered_by:
        raise InvalidInput("Which side delivers a KPI cannot change: retire it and propose a new one.", "delivered_by")
    check_owner(uow, p, d)
    versions = uow.kpi_versions.of_kpi(kpi.id)
    for v in versions:
        if v.status in _AWAITING and v.proposed_by == actor and _same_definition(v, d):
            return card_of(uow, p, kpi, v)
    for v in versions:
        if v.status in _AWAITING:
            v.status = KpiVersionStatus.WITHDRAWN.value
            _queue_update(uow, p, v, now, answer=False)
    version = uow.kpi_versions.add(_version_row(kpi, versions[-1].version + 1, d, side, actor, now))
    outbox.enqueue(uow, p, purpose=outbox.Purpose.KPI_PROPOSAL, ref_id=version.id, now=now)
    card = card_of(uow, p, kpi, version)
    uow.commit()
    logger.info("partnership %s: KPI #%s version %s proposed", p.id, kpi.number, version.version)
    return card


# --- answering and withdrawing ------------------------------------------------------------------------------------


def version_in_channel(
    uow: UnitOfWork, team_id: str, channel_id: str, kpi_id: int, version: int, *, lock: bool = False
) -> tuple[KpiVersion, Kpi, Partnership]:
    """The version, its KPI and the channel's partnership, if they belong together (a button cannot reach another
    partnership). ``lock``: under the partnership's lock, taken before the KPI and the version are read, so two
    answers at once go one after the other and the second sees the first."""
    p = require_partnership(uow, team_id, channel_id)
    if lock:
        uow.lock_partnership(p.id)
    kpi = uow.kpis.get(kpi_id)
    v = uow.kpi_versions.get_version(kpi_id, version) if kpi is not None and kpi.partnership_id == p.id else None
    if v is None or kpi is None:
        raise NotFound("This KPI does not exist in this channel's partnership.")
    return v, kpi, p


def _proposal(v: KpiVersion) -> Proposal:
    return Proposal(
        v.proposed_side,
        answer_refusal="Your side proposed this: only a lead of {answerer} can agree to it or ask to discuss it. "
        "Your side can withdraw it.",
        withdraw_refusal="Only a lead of {proposer}, whose proposal this is, can withdraw it. "
        "You can agree to it or ask to discuss it.",
    )


def check_responder(uow: UnitOfWork, p: Partnership, kpi: Kpi, v: KpiVersion, actor: str) -> None:
    """NotAllowed unless the actor is a lead of the side that did not propose ``v``; Conflict when it cannot be
    answered any more (withdrawn, superseded, or the KPI retired)."""
    side = lead_side(uow, p, actor, "agree to a KPI or ask to discuss it")
    require_answering_side(p, side, _proposal(v))
    if v.status not in (*_AWAITING, _AGREED) or kpi.retired_at is not None:
        raise Conflict(f"Version {v.version} of KPI #{kpi.number} is {v.status}; there is nothing to answer.")


def respond(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    kpi_id: int,
    version: int,
    actor: str,
    agree: bool,
    reason: str | None,
    now: datetime,
) -> KpiCard:
    """The other side's lead agrees to a proposed version, or asks to discuss it (a reason is required then).

    Agreeing puts it in force from today's local date in the partnership's zone; the version in force before it
    becomes superseded. The same answer again changes nothing and posts nothing.

    Raises:
        NotFound, NotAllowed (the proposer's side, not a lead), Conflict (withdrawn, superseded, retired, or asked to
        discuss an agreed version), InvalidInput (reason).
    """
    text = None if agree else check_reason(reason or "")
    with uow:
        v, kpi, p = version_in_channel(uow, team_id, channel_id, kpi_id, version, lock=True)
        check_responder(uow, p, kpi, v, actor)
        if v.status == _AGREED:
            if agree:
                return card_of(uow, p, kpi, v)
            raise Conflict(
                f"Version {v.version} of KPI #{kpi.number} is agreed. To change it, propose a change: "
                f"`/partner kpi change {kpi.key}`."
            )
        if not agree and v.status == KpiVersionStatus.DISCUSSING.value and v.response == text:
            return card_of(uow, p, kpi, v)
        if agree:
            for earlier in uow.kpi_versions.of_kpi(kpi.id):
                if earlier.status == _AGREED:
                    earlier.status = KpiVersionStatus.SUPERSEDED.value
            v.status, v.effective_from = _AGREED, today_in(p, now)
            kpi.current_version = v.version
        else:
            v.status = KpiVersionStatus.DISCUSSING.value
        v.response, v.responded_by, v.responded_at = text, actor, now
        _queue_update(uow, p, v, now, answer=True)
        card = card_of(uow, p, kpi, v)
        uow.commit()
        return card


def withdraw(
    uow: UnitOfWork, *, team_id: str, channel_id: str, kpi_id: int, version: int, actor: str, now: datetime
) -> KpiCard:
    """A lead of the proposer's side takes back a version not agreed yet. Withdrawing twice changes nothing.

    Raises:
        NotFound, NotAllowed (the other side, not a lead), Conflict (agreed or superseded: a lead retires a KPI).
    """
    with uow:
        v, kpi, p = version_in_channel(uow, team_id, channel_id, kpi_id, version, lock=True)
        side = lead_side(uow, p, actor, "withdraw a KPI proposal")
        require_proposing_side(p, side, _proposal(v))
        if v.status in (_AGREED, KpiVersionStatus.SUPERSEDED.value):
            raise Conflict(
                f"Version {v.version} of KPI #{kpi.number} was agreed; it cannot be withdrawn. A lead can retire the KPI "
                f"(`/partner kpi retire {kpi.key}`) or propose a change."
            )
        if v.status in _AWAITING:
            v.status = KpiVersionStatus.WITHDRAWN.value
            _queue_update(uow, p, v, now, answer=False)
        card = card_of(uow, p, kpi, v)
        uow.commit()
        return card


def retire(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    key: str,
    notice: Notice[KpiView] | None,
    now: datetime,
) -> KpiView:
    """A lead retires a KPI: no more figures are asked for, a proposal awaiting an answer is withdrawn, and its
    history stays. ``notice`` announces it in the channel. Retiring twice changes nothing.

    Raises:
        NotFound (no such KPI), NotAllowed (not a lead).
    """
    with uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "retire a KPI")
        kpi = kpi_by_key(uow, p, key)
        if kpi.retired_at is not None:
            return kpi_view(kpi, uow.kpi_versions.of_kpi(kpi.id))
        kpi.retired_at, kpi.next_request_at = now, None
        versions = uow.kpi_versions.of_kpi(kpi.id)
        for v in versions:
            if v.status in _AWAITING:
                v.status = KpiVersionStatus.WITHDRAWN.value
                _queue_update(uow, p, v, now, answer=False)
        return outbox_notices.commit_saved(uow, p, notice, kpi_view(kpi, versions), now=now)
