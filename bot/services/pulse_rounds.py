"""The life of a pulse round: opening on schedule (or when a lead asks), reminding once, closing.

Answering a round and reading its results live in ``bot.services.pulses``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.services import outbox
from bot.services.anonymity import respondent_hash
from bot.services.batches import claimed_batches
from bot.services.errors import Conflict
from bot.services.partnership_guards import require_lead, require_partnership
from bot.services.partnership_models import Side
from bot.services.partnerships import answerable_by_side
from bot.services.pulse_models import QuestionView, RoundView
from bot.services.question_bank import NPS_INTERVAL_DAYS, ROTATION_HISTORY_ROUNDS, choose_questions
from bot.services.read_models_from_rows import question_view, round_view
from bot.services.schedule import next_pulse_time
from storage.models import Partnership, PulseRound, RoundQuestion, Scorecard
from storage.repositories.base import AnsweringWindowRepository
from storage.uow import UnitOfWork, UowFactory

logger = logging.getLogger(__name__)

BATCH = 100


@dataclass(frozen=True)
class OpenReport:
    opened: tuple[int, ...]
    skipped: int


# --- opening rounds -------------------------------------------------------------------------------------


def open_due_rounds(uow_factory: UowFactory, *, now: datetime) -> OpenReport:
    """Open every round that is due by ``now``, once.

    Each partnership is claimed with a row lock (``SKIP LOCKED`` on PostgreSQL), so several heartbeats can
    run together. After downtime only the latest missed occurrence can still open; an occurrence whose
    round would already have closed is skipped and logged, never posted late.
    """
    opened: list[int] = []
    skipped = 0
    for uow, due in claimed_batches(uow_factory, lambda uow: uow.partnerships.claim_due_pulses(now, BATCH)):
        for p in due:
            try:
                with uow.savepoint():
                    round_id, missed = _open_scheduled(uow, p, now)
            except Exception:
                # One broken partnership must not block the others (it would be claimed again forever):
                # pause it, with a reason its leads see in /partner status.
                logger.exception("partnership %s: could not open its pulse; pausing it", p.id)
                p.status, p.pause_reason, p.paused_by = (
                    "paused",
                    "its pulse could not be scheduled; a lead should check /partner setup",
                    None,
                )
                skipped += 1
                continue
            skipped += missed
            if round_id is not None:
                opened.append(round_id)
    return OpenReport(tuple(opened), skipped)


def _open_scheduled(uow: UnitOfWork, p: Partnership, now: datetime) -> tuple[int | None, int]:
    assert p.next_pulse_at is not None
    window = timedelta(hours=p.response_window_hours)
    due = p.next_pulse_at
    missed = 0
    # Walk forward through occurrences that have passed; only the last one may still be open.
    while True:
        following = next_pulse_time(p, after=due, last=due)
        if following > now:
            break
        logger.warning("partnership %s: pulse due at %s skipped (missed while down)", p.id, due.isoformat())
        missed += 1
        due = following
    p.next_pulse_at = next_pulse_time(p, after=due, last=due)
    if due + window <= now:
        logger.warning(
            "partnership %s: pulse due at %s skipped: it would have closed at %s, before now (%s)",
            p.id,
            due.isoformat(),
            (due + window).isoformat(),
            now.isoformat(),
        )
        return None, missed + 1
    if uow.rounds.get_scheduled(p.id, due) is not None:  # already opened by an earlier run
        return None, missed
    if uow.rounds.latest(p.id, status="open") is not None:
        logger.warning("partnership %s: pulse due at %s skipped: the previous round is still open", p.id, due.isoformat())
        return None, missed + 1
    r = _create_round(uow, p, scheduled_at=due, now=now, adhoc=False)
    return r.id, missed


def _create_round(uow: UnitOfWork, p: Partnership, *, scheduled_at: datetime, now: datetime, adhoc: bool) -> PulseRound:
    questions = _questions_for_round(uow, p, now)
    window = timedelta(hours=p.response_window_hours)
    closes_at = now + window if adhoc else scheduled_at + window
    remind_at = closes_at - timedelta(hours=p.reminder_before_close_hours)
    asked = answerable_by_side(uow, p.id)
    r = uow.rounds.add(
        PulseRound(
            partnership_id=p.id,
            sequence=uow.rounds.count(p.id) + 1,
            scheduled_at=scheduled_at,
            opened_at=now,
            remind_at=remind_at if remind_at > now else None,
            closes_at=closes_at,
            status="open",
            is_adhoc=adhoc,
            asked_client=asked[Side.CLIENT.value],
            asked_provider=asked[Side.PROVIDER.value],
            questions=[RoundQuestion(position=i, question_id=q.id) for i, q in enumerate(questions)],
        )
    )
    outbox.enqueue(uow, p, purpose=outbox.Purpose.PULSE, ref_id=r.id, now=now)
    logger.info("partnership %s: round %s opened (%s questions, closes %s)", p.id, r.id, len(questions), closes_at)
    return r


def _questions_for_round(uow: UnitOfWork, p: Partnership, now: datetime) -> list[QuestionView]:
    available = [question_view(q) for q in uow.questions.available_for(p.id)]
    history = uow.rounds.question_history(p.id, ROTATION_HISTORY_ROUNDS)
    chosen = choose_questions(available, history, count=p.questions_per_round)
    nps = next((q for q in available if q.kind == "nps"), None)
    if nps is not None and _nps_due(uow, p, nps.id, now):
        chosen.append(nps)
    if not chosen:
        raise Conflict("There are no active questions to ask.")
    return chosen


def _nps_due(uow: UnitOfWork, p: Partnership, nps_id: int, now: datetime) -> bool:
    """The relationship NPS is asked once a quarter."""
    for r in uow.rounds.recent(p.id, ROTATION_HISTORY_ROUNDS):
        if any(rq.question_id == nps_id for rq in r.questions):
            return r.opened_at <= now - timedelta(days=NPS_INTERVAL_DAYS)
    return True


def start_round_now(uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, now: datetime) -> RoundView:
    """A lead asks for a pulse right away (``/partner pulse now``).

    Raises:
        NotFound: no partnership in this channel.
        NotAllowed: the actor is not a lead.
        Conflict: a round is already open, or the partnership is paused.
    """
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        require_lead(uow, p, actor, "start a pulse")
        if p.status != "active":
            raise Conflict("The pulse is paused. Resume it with `/partner pulse resume` first.")
        current = uow.rounds.latest(p.id, status="open")
        if current is not None:
            raise Conflict(f"A pulse is already open (round {current.sequence}); it closes before a new one starts.")
        r = _create_round(uow, p, scheduled_at=now, now=now, adhoc=True)
        uow.commit()
        return round_view(r)


# --- reminding and closing ------------------------------------------------------------------------------


def queue_due_reminders(uow_factory: UowFactory, *, secret_key: str, now: datetime) -> int:
    """Once per round, queue a nudge for each member who has not answered. Returns how many.

    The sender sends each as a message from the app, or as an ephemeral to the other organisation's people
    (``recipients``), with the closing time in the person's zone.
    """
    return queue_reminders(uow_factory, lambda uow: uow.rounds, outbox.Purpose.REMINDER, secret_key=secret_key, now=now)


def queue_reminders(
    uow_factory: UowFactory,
    rows: Callable[[UnitOfWork], AnsweringWindowRepository[Any]],
    purpose: outbox.Purpose,
    *,
    secret_key: str,
    now: datetime,
) -> int:
    """The reminder pass over pulse rounds or scorecards (``rows``): claim those due, queue ``purpose`` for each
    member who has not answered, mark them reminded; in batches. Returns how many were queued."""
    queued = 0
    for uow, due in claimed_batches(uow_factory, lambda uow: rows(uow).claim_due_reminders(now, BATCH)):
        answered = rows(uow).respondent_hashes([r.id for r in due])
        queued += remind_who_has_not_answered(uow, due, answered, purpose=purpose, secret_key=secret_key, now=now)
    return queued


def remind_who_has_not_answered(
    uow: UnitOfWork,
    due: Sequence[PulseRound] | Sequence[Scorecard],
    answered: Mapping[int, set[str]],
    *,
    purpose: outbox.Purpose,
    secret_key: str,
    now: datetime,
) -> int:
    """Queue ``purpose`` for each answering member of the claimed rounds (or scorecards) whose keyed hash is not in
    ``answered`` (by row id), and mark the rows reminded. Three queries for the whole batch, not three per row.
    Returns how many were queued."""
    partnerships = uow.partnerships.get_many({r.partnership_id for r in due})
    members = uow.members.list_answerable_for(partnerships)
    queued = 0
    for r in due:
        p = partnerships[r.partnership_id]
        for m in members[p.id]:
            if respondent_hash(secret_key, p.id, m.user_id) in answered[r.id]:
                continue
            # New by construction: the row is claimed and marked reminded in this transaction.
            key = outbox.default_key(purpose, r.id, m.user_id)
            outbox.add_new(uow, p, purpose=purpose, ref_id=r.id, user_id=m.user_id, key=key, now=now)
            queued += 1
        r.reminded_at = now
    return queued


def has_answered(uow: UnitOfWork, *, round_id: int, user_id: str, secret_key: str) -> bool:
    """Whether the user has answered (checked again just before a reminder goes out)."""
    with uow.read_only():
        r = uow.rounds.get(round_id)  # a round that is gone needs no reminder
        return r is None or uow.responses.get(r.id, respondent_hash(secret_key, r.partnership_id, user_id)) is not None


def close_due_rounds(uow_factory: UowFactory, *, now: datetime) -> tuple[int, ...]:
    """Close rounds whose time is up and queue their results and the update of the pulse message."""
    closed: list[int] = []
    for uow, due in claimed_batches(uow_factory, lambda uow: uow.rounds.claim_due_closes(now, BATCH)):
        partnerships = uow.partnerships.get_many({r.partnership_id for r in due})
        for r in due:
            p = partnerships[r.partnership_id]
            r.status, r.closed_at = "closed", now
            for purpose in (outbox.Purpose.PULSE_CLOSED, outbox.Purpose.RESULTS):
                # New by construction: the round is claimed and closed in this transaction.
                outbox.add_new(uow, p, purpose=purpose, ref_id=r.id, key=outbox.default_key(purpose, r.id), now=now)
            closed.append(r.id)
            logger.info("partnership %s: round %s closed", p.id, r.id)
    return tuple(closed)
