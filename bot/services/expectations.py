"""The expectations ledger (DESIGN 3.5): what one side expects of the other, agreed explicitly.

A person records what their side expects of the other side; the entry is posted in the channel, where people of
the OTHER side agree to it or ask to discuss it (with a short reason), and the author's side may withdraw it.
The ledger is reviewed in the bilateral scorecard (``ledger_summary``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.services import outbox
from bot.services.created_once import created_once
from bot.services.errors import Conflict, InvalidInput
from bot.services.goals import require_side_member
from bot.services.partnership_guards import (
    MAX_REQUEST_KEY,
    Proposal,
    check_text,
    partnership_to_change,
    require_answering_side,
    require_partnership,
    require_proposing_side,
    row_in_channel,
    shown_at_send_time,
)
from bot.services.partnership_models import Side
from bot.services.read_models_from_rows import partnership_view, view_from_row
from bot.services.review_models import MAX_REVIEW_TEXT, ExpectationCard, ExpectationStatus, ExpectationView, LedgerSummary
from storage.models import Expectation, Partnership
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

#: Entries the scorecard asks people to review: everything not withdrawn.
IN_PLAY = (ExpectationStatus.AGREED.value, ExpectationStatus.OPEN.value, ExpectationStatus.DISCUSSING.value)
LEDGER_ENTRIES = 20


def expectation_view(e: Expectation) -> ExpectationView:
    return view_from_row(ExpectationView, e, from_side=Side(e.from_side), status=ExpectationStatus(e.status))


def check_expectation_text(text: str) -> str:
    """Raises InvalidInput (field ``text``) for an empty or too long expectation."""
    if not text.strip():
        raise InvalidInput("Please write what your side expects of the other side.", "text")
    return check_text(text, field="text", label="expectation", limit=MAX_REVIEW_TEXT, required=True)


def check_reason(text: str) -> str:
    """Raises InvalidInput (field ``reason``) for an empty or too long reason to discuss."""
    return check_text(text, field="reason", label="short reason", limit=MAX_REVIEW_TEXT, required=True)


def record_expectation(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    text: str,
    request_key: str,
    now: datetime,
) -> ExpectationView:
    """Record what the actor's side expects of the other side and queue its message. Once per ``request_key``.

    Raises:
        NotFound (no partnership), NotAllowed (the actor is on no side), InvalidInput (empty or long text).
    """
    body = check_expectation_text(text)
    key = request_key[:MAX_REQUEST_KEY]
    with uow:
        p = partnership_to_change(uow, team_id, channel_id)
        e, added = created_once(uow, uow.expectations, p.id, key, lambda: _add_expectation(uow, p, actor, body, key, now))
        if added:
            logger.info("partnership %s: expectation #%s recorded (%s side)", p.id, e.number, e.from_side)
        return expectation_view(e)


def _add_expectation(uow: UnitOfWork, p: Partnership, actor: str, body: str, key: str, now: datetime) -> Expectation:
    side = require_side_member(uow, p, actor, "record what their side expects")
    e = uow.expectations.add(
        Expectation(
            partnership_id=p.id,
            number=uow.expectations.next_number(p.id),
            from_side=side.value,
            text=body,
            status=ExpectationStatus.OPEN.value,
            created_by=actor,
            created_at=now,
            updated_at=now,
            request_key=key,
        )
    )
    outbox.add_new(uow, p, purpose=outbox.Purpose.EXPECTATION, ref_id=e.id, key=f"expectation:{e.id}", now=now)
    return e


def _queue_update(uow: UnitOfWork, p: Partnership, e: Expectation, now: datetime) -> None:
    outbox.enqueue_change(uow, p, purpose=outbox.Purpose.EXPECTATION_UPDATE, ref_id=e.id, state=e.status, now=now)


def require_other_side(uow: UnitOfWork, channel_id: str, expectation_id: int, actor: str) -> ExpectationView:
    """The entry, if the actor is on the side it is addressed to (the "Discuss" button checks before its form).

    Raises:
        NotFound, NotAllowed, Conflict (withdrawn).
    """
    with uow.read_only():
        e, p = row_in_channel(uow, uow.expectations, channel_id, expectation_id, "expectation", for_update=False)
        _check_responder(uow, p, e, actor)
        return expectation_view(e)


def _proposal(e: Expectation) -> Proposal:
    return Proposal(
        e.from_side,
        answer_refusal="This is what your side expects of {answerer}: only people on the {answerer} side can agree to "
        "it or ask to discuss it. Your side can withdraw it.",
        withdraw_refusal="Only people on the {proposer} side, whose expectation this is, can withdraw it. "
        "You can agree to it or ask to discuss it.",
    )


def _check_responder(uow: UnitOfWork, p: Partnership, e: Expectation, actor: str) -> None:
    side = require_side_member(uow, p, actor, "answer an expectation")
    require_answering_side(p, side, _proposal(e))
    if e.status == ExpectationStatus.WITHDRAWN.value:
        raise Conflict(f"Expectation #{e.number} was withdrawn; there is nothing to answer.")


def respond(
    uow: UnitOfWork,
    *,
    channel_id: str,
    expectation_id: int,
    actor: str,
    agree: bool,
    reason: str | None,
    now: datetime,
) -> ExpectationView:
    """The other side agrees to an expectation, or asks to discuss it (a reason is required then).

    Either answer can follow the other (a discussion can end in agreement); the same answer again changes
    nothing and posts nothing.

    Raises:
        NotFound, NotAllowed (the author's side, or no side), Conflict (withdrawn), InvalidInput (reason).
    """
    text = None if agree else check_reason(reason or "")
    status = ExpectationStatus.AGREED if agree else ExpectationStatus.DISCUSSING
    with uow:
        e, p = row_in_channel(uow, uow.expectations, channel_id, expectation_id, "expectation", for_update=True)
        _check_responder(uow, p, e, actor)
        if e.status == status.value and (agree or e.response == text):
            return expectation_view(e)
        e.status, e.response, e.responded_by, e.responded_at, e.updated_at = status.value, text, actor, now, now
        _queue_update(uow, p, e, now)
        uow.commit()
        return expectation_view(e)


def withdraw(uow: UnitOfWork, *, channel_id: str, expectation_id: int, actor: str, now: datetime) -> ExpectationView:
    """The author's side takes an expectation back. Withdrawing twice changes nothing.

    Raises:
        NotFound, NotAllowed (the other side, or no side).
    """
    with uow:
        e, p = row_in_channel(uow, uow.expectations, channel_id, expectation_id, "expectation", for_update=True)
        side = require_side_member(uow, p, actor, "withdraw an expectation")
        require_proposing_side(p, side, _proposal(e))
        if e.status != ExpectationStatus.WITHDRAWN.value:
            e.status, e.updated_at = ExpectationStatus.WITHDRAWN.value, now
            _queue_update(uow, p, e, now)
        uow.commit()
        return expectation_view(e)


def list_expectations(uow: UnitOfWork, *, team_id: str, channel_id: str) -> tuple[ExpectationView, ...]:
    """``/partner expectations``: the whole ledger, oldest first (the builder groups it by status)."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        return tuple(expectation_view(e) for e in uow.expectations.list(p.id))


def expectation_card(uow: UnitOfWork, *, expectation_id: int) -> ExpectationCard | None:
    """What the entry's channel message shows now (None when it is gone)."""
    return shown_at_send_time(
        uow,
        lambda u: u.expectations,
        expectation_id,
        lambda _, e, p: ExpectationCard(partnership=partnership_view(p), expectation=expectation_view(e)),
    )


def ledger_summary(uow: UnitOfWork, partnership_id: int) -> LedgerSummary:
    """The ledger for the scorecard: counts by status and the entries still in play (oldest first)."""
    repo = uow.expectations
    counts = {s: 0 for s in ExpectationStatus}
    for status, n in repo.counts(partnership_id).items():
        counts[ExpectationStatus(status)] = n
    entries = tuple(expectation_view(e) for e in repo.list(partnership_id, statuses=IN_PLAY, limit=LEDGER_ENTRIES))
    return LedgerSummary(counts=counts, entries=entries)
