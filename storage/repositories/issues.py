"""Issues, their history, escalation policies and holidays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from storage.models import EscalationPolicyRow, Holiday, Issue, IssueEvent, Partnership
from storage.repositories.base import RowRepository, TableRepository, claiming

#: Statuses in which an issue can still escalate.
UNRESOLVED = ("open", "acknowledged")


@dataclass(frozen=True, slots=True)
class DueIssue:
    """What the escalation pass reads of an issue it claimed: plain values, no ORM object loaded or tracked."""

    id: int
    partnership_id: int
    status: str
    severity: str
    owning_side: str
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    escalation_level: int


@dataclass(frozen=True, slots=True)
class Escalation:
    """What the escalation pass decided for one claimed issue.

    ``level`` is the level fired now, with ``data`` for its history entry; None when nothing fired and only
    the next escalation time moves. ``next_escalation_at`` is the issue's new index key (None: nothing left).
    """

    issue_id: int
    level: int | None
    next_escalation_at: datetime | None
    data: dict[str, Any] | None = None


class IssueRepository(TableRepository[Issue]):
    """Tracked issues, numbered per partnership."""

    model = Issue

    def get_by_number(self, partnership_id: int, number: int) -> Issue | None:
        return self.find_one(Issue.partnership_id == partnership_id, Issue.number == number)

    def get_by_request_key(self, partnership_id: int, request_key: str) -> Issue | None:
        return self.find_one(Issue.partnership_id == partnership_id, Issue.request_key == request_key)

    def take_number(self, partnership_id: int) -> int:
        """The partnership's next issue number, taken atomically.

        The UPDATE holds the partnership's row lock until the transaction ends, so two processes logging
        issues in one partnership at once are serialised (and a rolled-back transaction gives its number back).
        """
        self.session.execute(
            update(Partnership)
            .where(Partnership.id == partnership_id)
            .values(next_issue_number=Partnership.next_issue_number + 1)
            .execution_options(synchronize_session=False)
        )
        taken = self.session.scalar(select(Partnership.next_issue_number).where(Partnership.id == partnership_id))
        if taken is None:
            raise LookupError(f"partnership {partnership_id} does not exist")
        return int(taken) - 1

    def list(
        self,
        partnership_id: int,
        *,
        statuses: Sequence[str] | None = None,
        owner_id: str | None = None,
        limit: int = 50,
    ) -> Sequence[Issue]:
        stmt = select(Issue).where(Issue.partnership_id == partnership_id)
        if statuses is not None:
            stmt = stmt.where(Issue.status.in_(statuses))
        if owner_id is not None:
            stmt = stmt.where(Issue.owner_id == owner_id)
        stmt = stmt.order_by(Issue.number.desc()).limit(limit)
        return self.session.scalars(stmt).all()

    def unresolved(self, partnership_id: int, *, owning_side: str | None = None) -> Sequence[Issue]:
        """Issues that can still escalate, row-locked (their escalation time is about to be recomputed)."""
        stmt = select(Issue).where(Issue.partnership_id == partnership_id, Issue.status.in_(UNRESOLVED))
        if owning_side is not None:
            stmt = stmt.where(Issue.owning_side == owning_side)
        return self.session.scalars(stmt.order_by(Issue.id).with_for_update(of=Issue)).all()

    def claim_due_escalations(self, now: datetime, limit: int) -> Sequence[DueIssue]:
        """Unresolved issues whose next escalation is due, row-locked; rows another process holds are skipped.

        One range scan of ``ix_issues_due_escalation`` (status, next_escalation_at), reading only the columns the
        escalation decision needs.
        """
        stmt = (
            select(
                Issue.id,
                Issue.partnership_id,
                Issue.status,
                Issue.severity,
                Issue.owning_side,
                Issue.opened_at,
                Issue.acknowledged_at,
                Issue.resolved_at,
                Issue.escalation_level,
            )
            .where(Issue.status.in_(UNRESOLVED), Issue.next_escalation_at <= now)
            .order_by(Issue.next_escalation_at, Issue.id)
            .limit(limit)
        )
        return [DueIssue(**row._mapping) for row in self.session.execute(claiming(stmt, Issue))]

    def record_escalations(self, escalations: Sequence[Escalation], *, at: datetime) -> dict[int, int]:
        """Write what the escalation pass decided for a batch of claimed issues, with executemany statements:
        the fired issues' level, next escalation time and ``updated_at``; the others' next time only; one
        history entry per fired level (no actor: PartnerPulse). Returns issue id -> the new entry's id.

        Row by row through the ORM these writes were most of a catch-up tick. The entries' ids are read back in
        one SELECT: the issues are row-locked by the claim and an issue gets at most one automatic entry per
        pass, so (issue, kind, instant, no actor) names each row.
        """
        fired = [e for e in escalations if e.level is not None]
        moved = [e for e in escalations if e.level is None]
        conn = self.session.connection()
        if fired:
            conn.execute(
                update(Issue)
                .where(Issue.id == bindparam("b_id"))
                .values(escalation_level=bindparam("b_level"), next_escalation_at=bindparam("b_next"), updated_at=at),
                [{"b_id": e.issue_id, "b_level": e.level, "b_next": e.next_escalation_at} for e in fired],
            )
        if moved:
            conn.execute(
                update(Issue).where(Issue.id == bindparam("b_id")).values(next_escalation_at=bindparam("b_next")),
                [{"b_id": e.issue_id, "b_next": e.next_escalation_at} for e in moved],
            )
        if not fired:
            return {}
        conn.execute(
            insert(IssueEvent),
            [
                {
                    "issue_id": e.issue_id,
                    "at": at,
                    "actor": None,
                    "kind": "escalated",
                    "level": e.level,
                    "detail": None,
                    "data": e.data,
                }
                for e in fired
            ],
        )
        stmt = select(IssueEvent.issue_id, IssueEvent.id).where(
            IssueEvent.issue_id.in_(sorted(e.issue_id for e in fired)),
            IssueEvent.kind == "escalated",
            IssueEvent.at == at,
            IssueEvent.actor.is_(None),
        )
        ids: dict[int, int] = {}
        for issue_id, event_id in conn.execute(stmt).all():
            ids[int(issue_id)] = max(int(event_id), ids.get(int(issue_id), 0))
        return ids

    def partnerships_by_id(self, partnership_ids: set[int]) -> dict[int, Partnership]:
        """The partnerships of a batch of issues, in one query."""
        if not partnership_ids:
            return {}
        rows = self.session.scalars(select(Partnership).where(Partnership.id.in_(sorted(partnership_ids)))).all()
        return {p.id: p for p in rows}

    def category_counts_since(self, partnership_id: int, since: datetime) -> dict[str, int]:
        """How many issues of each category were logged at or after ``since``."""
        return self.count_by(Issue.category, Issue.partnership_id == partnership_id, Issue.created_at >= since)


class IssueEventRepository(TableRepository[IssueEvent]):
    """The history of each issue."""

    model = IssueEvent

    def list_for_issue(self, issue_id: int) -> Sequence[IssueEvent]:
        stmt = select(IssueEvent).where(IssueEvent.issue_id == issue_id).order_by(IssueEvent.at, IssueEvent.id)
        return self.session.scalars(stmt).all()


class PolicyRepository(RowRepository[EscalationPolicyRow]):
    """Leads' overrides of the default escalation deadlines."""

    model = EscalationPolicyRow

    def for_partnership(self, partnership_id: int) -> Sequence[EscalationPolicyRow]:
        stmt = select(EscalationPolicyRow).where(EscalationPolicyRow.partnership_id == partnership_id)
        return self.session.scalars(stmt.order_by(EscalationPolicyRow.severity)).all()

    def for_partnerships(self, partnership_ids: Sequence[int]) -> Sequence[EscalationPolicyRow]:
        """Overrides of several partnerships in one query (the escalation tick works in batches)."""
        if not partnership_ids:
            return []
        stmt = select(EscalationPolicyRow).where(EscalationPolicyRow.partnership_id.in_(partnership_ids))
        return self.session.scalars(stmt).all()

    def get(self, partnership_id: int, severity: str) -> EscalationPolicyRow | None:
        stmt = select(EscalationPolicyRow).where(
            EscalationPolicyRow.partnership_id == partnership_id, EscalationPolicyRow.severity == severity
        )
        return self.session.scalars(stmt).one_or_none()

    def delete(self, partnership_id: int, severity: str) -> int:
        result = self.session.execute(
            delete(EscalationPolicyRow).where(
                EscalationPolicyRow.partnership_id == partnership_id, EscalationPolicyRow.severity == severity
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


class HolidayRepository(RowRepository[Holiday]):
    """Days off per side."""

    model = Holiday

    def for_partnership(self, partnership_id: int, side: str | None = None) -> Sequence[Holiday]:
        stmt = select(Holiday).where(Holiday.partnership_id == partnership_id)
        if side is not None:
            stmt = stmt.where(Holiday.side == side)
        return self.session.scalars(stmt.order_by(Holiday.day, Holiday.side)).all()

    def for_partnerships(self, partnership_ids: Sequence[int]) -> Sequence[Holiday]:
        if not partnership_ids:
            return []
        return self.session.scalars(select(Holiday).where(Holiday.partnership_id.in_(partnership_ids))).all()

    def get(self, partnership_id: int, side: str, day: date) -> Holiday | None:
        return self.find_one(Holiday.partnership_id == partnership_id, Holiday.side == side, Holiday.day == day)

    def delete(self, holiday: Holiday) -> None:
        self.session.delete(holiday)
        self.session.flush()
