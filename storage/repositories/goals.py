"""Shared goals and the expectations ledger (DESIGN 3.5), numbered per partnership like issues."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from storage.models import Expectation, Goal, GoalEvent
from storage.repositories.base import TableRepository


class GoalRepository(TableRepository[Goal]):
    """Goals with an owner on each side and a status."""

    model = Goal

    def get_by_request_key(self, partnership_id: int, request_key: str) -> Goal | None:
        return self.find_one(Goal.partnership_id == partnership_id, Goal.request_key == request_key)

    def next_number(self, partnership_id: int) -> int:
        """One more than the highest number so far (the caller holds the partnership's row lock)."""
        highest = self.session.scalar(select(func.max(Goal.number)).where(Goal.partnership_id == partnership_id))
        return int(highest or 0) + 1

    def record(self, goal: Goal, *, kind: str, at: datetime, actor: str | None) -> None:
        """Add an entry to the goal's history: its status from ``at`` on is the goal's current one."""
        self.session.add(GoalEvent(goal_id=goal.id, at=at, actor=actor, kind=kind, status=goal.status))

    def list(self, partnership_id: int, *, limit: int = 100) -> Sequence[Goal]:
        """Goals still being worked on first (by number), then the done ones."""
        stmt = (
            select(Goal)
            .where(Goal.partnership_id == partnership_id)
            .order_by(Goal.status == "done", Goal.number)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()


class ExpectationRepository(TableRepository[Expectation]):
    """What each side expects of the other, and the other side's answer."""

    model = Expectation

    def get_by_request_key(self, partnership_id: int, request_key: str) -> Expectation | None:
        stmt = select(Expectation).where(
            Expectation.partnership_id == partnership_id, Expectation.request_key == request_key
        )
        return self.session.scalars(stmt).one_or_none()

    def next_number(self, partnership_id: int) -> int:
        """One more than the highest number so far (the caller holds the partnership's row lock)."""
        stmt = select(func.max(Expectation.number)).where(Expectation.partnership_id == partnership_id)
        return int(self.session.scalar(stmt) or 0) + 1

    def list(self, partnership_id: int, *, statuses: Sequence[str] | None = None, limit: int = 200) -> Sequence[Expectation]:
        stmt = select(Expectation).where(Expectation.partnership_id == partnership_id)
        if statuses is not None:
            stmt = stmt.where(Expectation.status.in_(statuses))
        return self.session.scalars(stmt.order_by(Expectation.number).limit(limit)).all()

    def counts(self, partnership_id: int) -> dict[str, int]:
        return self.count_by(Expectation.status, Expectation.partnership_id == partnership_id)
