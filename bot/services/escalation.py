"""The escalation pass and rescheduling (DESIGN 3.3, 4.1): applying the escalation policy to stored issues.

The next moment anything can fire for an issue is precomputed into ``Issue.next_escalation_at`` whenever the
issue, the policy or the calendar changes (``reschedule``, ``reschedule_all``), so the heartbeat finds due
escalations with one indexed query (``escalate_due``). The rules themselves live in ``escalation_policy``.

Escalation messages say what is waiting, since when, what is needed and from whom; they never say whose fault it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from bot.services import outbox
from bot.services.errors import Conflict
from bot.services.escalation_policy import EscalationPolicy, decide, next_escalation_time, policy_from_rows
from bot.services.issue_models import IssueStatus, IssueView
from bot.services.issue_queries import issue_view
from bot.services.partnership_guards import issue_in_channel
from bot.services.working_calendar import WorkingCalendar, load_calendar, side_calendar
from storage.models import EscalationPolicyRow, Issue, IssueEvent, Partnership
from storage.repositories.issues import DueIssue, Escalation
from storage.uow import UnitOfWork, UowFactory

logger = logging.getLogger(__name__)


#: Issues handled per transaction by the escalation tick.
BATCH = 200


class _Context:
    """Partnerships, policies and calendars of a batch of issues, each loaded once."""

    def __init__(self, uow: UnitOfWork, partnerships: dict[int, Partnership]) -> None:
        ids = list(partnerships)
        self.partnerships = partnerships
        rows: dict[int, list[EscalationPolicyRow]] = {}
        for row in uow.policies.for_partnerships(ids):
            rows.setdefault(row.partnership_id, []).append(row)
        self._policies = {pid: policy_from_rows(rows.get(pid, [])) for pid in ids}
        self._holidays: dict[tuple[int, str], set[date]] = {}
        for h in uow.holidays.for_partnerships(ids):
            self._holidays.setdefault((h.partnership_id, h.side), set()).add(h.day)
        self._calendars: dict[tuple[int, str], WorkingCalendar] = {}

    def policy(self, partnership_id: int) -> EscalationPolicy:
        return self._policies[partnership_id]

    def calendar(self, partnership_id: int, side: str) -> WorkingCalendar:
        key = (partnership_id, side)
        cal = self._calendars.get(key)
        if cal is None:
            cal = side_calendar(self.partnerships[partnership_id], side, self._holidays.get(key, ()))
            self._calendars[key] = cal
        return cal


def reschedule(uow: UnitOfWork, p: Partnership, issue: Issue) -> None:
    """Recompute one issue's ``next_escalation_at`` after it changed (logged, acknowledged, reassigned ...)."""
    policy = policy_from_rows(uow.policies.for_partnership(p.id))
    issue.next_escalation_at = next_escalation_time(issue, policy, load_calendar(uow, p, issue.owning_side))


def reschedule_all(uow: UnitOfWork, p: Partnership, *, owning_side: str | None = None) -> int:
    """Recompute the escalation time of the partnership's unresolved issues (after a policy or calendar change).

    A calendar change (``owning_side`` given) also moves that side's overdue-action reminders: their precomputed
    times are cleared, and the next reminder pass computes them from the new working hours and holidays.
    """
    if owning_side is not None:
        uow.actions.clear_reminder_times(p.id, owning_side)
    issues = uow.issues.unresolved(p.id, owning_side=owning_side)
    if not issues:
        return 0
    context = _Context(uow, {p.id: p})
    for issue in issues:
        issue.next_escalation_at = next_escalation_time(
            issue, context.policy(p.id), context.calendar(p.id, issue.owning_side)
        )
    return len(issues)


def _fire(issue: Issue, *, level: int, reason: str, actor: str | None, skipped: Sequence[int], now: datetime) -> IssueEvent:
    """Raise the issue to ``level`` and return its (unflushed) history entry."""
    issue.escalation_level = level
    issue.updated_at = now
    return IssueEvent(
        issue_id=issue.id, at=now, actor=actor, kind="escalated", level=level, detail=None, data=_fired(reason, skipped)
    )


def _fired(reason: str, skipped: Sequence[int]) -> dict[str, Any]:
    """An escalation history entry's data: which deadline made it due, and the levels passed over."""
    return {"reason": reason, "skipped": list(skipped)}


def _queue_escalation(uow: UnitOfWork, p: Partnership, issue: Issue, event: IssueEvent, now: datetime) -> None:
    # The card first: if someone deleted it, the update posts it again and the reply finds the new thread.
    outbox.add_new(
        uow, p, purpose=outbox.Purpose.ISSUE_CARD_UPDATE, ref_id=issue.id, key=f"issue-card:{issue.id}:{event.id}", now=now
    )
    outbox.add_new(uow, p, purpose=outbox.Purpose.ESCALATION, ref_id=event.id, key=f"issue-escalation:{event.id}", now=now)


def _decide(issue: DueIssue, policy: EscalationPolicy, calendar: WorkingCalendar, now: datetime) -> Escalation:
    """The policy's decision for one claimed issue (``escalation_policy.decide``), as the row it writes."""
    decision = decide(issue, policy, calendar, now)
    data = None
    if decision.level is not None and decision.reason is not None:
        data = _fired(decision.reason, decision.skipped)
    return Escalation(issue_id=issue.id, level=decision.level, next_escalation_at=decision.next_at, data=data)


def escalate_due(uow_factory: UowFactory, *, now: datetime) -> int:
    """Fire every escalation due by ``now``, each level once. Returns how many escalation messages were queued.

    Due issues come from one indexed query on ``next_escalation_at`` (row-locked, ``SKIP LOCKED``), in batches.
    The level follows the policy's rule (``escalation_policy.decide``): when several levels fell due while the heartbeat
    was down, only the highest fires and the ones passed over are recorded as skipped (no burst of stale nudges).
    Each batch is written with a handful of executemany statements (``record_escalations``, ``outbox.add_many``).
    """
    fired = 0
    while True:
        with uow_factory() as uow:
            due = uow.issues.claim_due_escalations(now, BATCH)
            if not due:
                return fired
            context = _Context(uow, uow.issues.partnerships_by_id({i.partnership_id for i in due}))
            decided = [
                _decide(i, context.policy(i.partnership_id), context.calendar(i.partnership_id, i.owning_side), now)
                for i in due
            ]
            event_ids = uow.issues.record_escalations(decided, at=now)
            partnership_of = {i.id: context.partnerships[i.partnership_id] for i in due}
            messages: list[outbox.NewMessage] = []
            for e in decided:
                if e.level is None:
                    continue
                p, event_id = partnership_of[e.issue_id], event_ids[e.issue_id]
                # The card first: if someone deleted it, the update posts it again and the reply finds the new thread.
                messages.append(
                    outbox.NewMessage(p, outbox.Purpose.ISSUE_CARD_UPDATE, e.issue_id, f"issue-card:{e.issue_id}:{event_id}")
                )
                messages.append(outbox.NewMessage(p, outbox.Purpose.ESCALATION, event_id, f"issue-escalation:{event_id}"))
            outbox.add_many(uow, messages, now=now, skip_existing=False)
            uow.commit()
            escalated = sum(1 for e in decided if e.level is not None)
            fired += escalated
            if escalated:
                logger.info("escalation: %s issue(s) escalated", escalated)


def escalate_now(uow: UnitOfWork, *, channel_id: str, issue_id: int, actor: str, now: datetime) -> IssueView:
    """Anyone in the channel brings the issue to its next level now (the card's "Escalate now" button).

    Raises:
        NotFound, Conflict (resolved, or already with the executive sponsors).
    """
    with uow:
        issue, p = issue_in_channel(uow, channel_id, issue_id, for_update=True)
        if issue.status == IssueStatus.RESOLVED.value:
            raise Conflict(f"Issue #{issue.number} is resolved, so there is nothing to escalate.")
        if issue.escalation_level >= 3:
            raise Conflict(f"Issue #{issue.number} is already with the executive sponsors of both sides.")
        event = _fire(issue, level=issue.escalation_level + 1, reason="manual", actor=actor, skipped=(), now=now)
        uow.issue_events.add(event)
        reschedule(uow, p, issue)
        _queue_escalation(uow, p, issue, event, now)
        uow.commit()
        return issue_view(issue)
