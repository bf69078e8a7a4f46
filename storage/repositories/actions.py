"""Actions and the follow-up contributions they can come from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import bindparam, or_, select, update

from storage.models import Action, ActionEvent, Followup
from storage.repositories.base import TableRepository, claiming


class ActionRepository(TableRepository[Action]):
    """Actions: one owner, one side, a due date and a status."""

    model = Action

    def get_by_request_key(self, partnership_id: int, request_key: str) -> Action | None:
        return self.find_one(Action.partnership_id == partnership_id, Action.request_key == request_key)

    def get_by_followup(self, followup_id: int) -> Action | None:
        return self.find_one(Action.followup_id == followup_id)

    def record(
        self,
        action: Action,
        *,
        kind: str,
        at: datetime,
        actor: str | None,
        status: str | None = None,
        due_on: date | None = None,
    ) -> None:
        """Add an entry to the action's history (``status``, ``due_on``: what it has from ``at`` on; None: unchanged)."""
        self.session.add(ActionEvent(action_id=action.id, at=at, actor=actor, kind=kind, status=status, due_on=due_on))

    def list(
        self,
        partnership_id: int,
        *,
        owner_id: str | None = None,
        statuses: Sequence[str] | None = None,
        due_before: date | None = None,
        limit: int = 100,
    ) -> Sequence[Action]:
        """Actions of a partnership, open ones first, then by due date."""
        stmt = select(Action).where(Action.partnership_id == partnership_id)
        if owner_id is not None:
            stmt = stmt.where(Action.owner_id == owner_id)
        if statuses is not None:
            stmt = stmt.where(Action.status.in_(statuses))
        if due_before is not None:
            stmt = stmt.where(Action.due_on < due_before)
        stmt = stmt.order_by((Action.status != "open"), Action.due_on, Action.id).limit(limit)
        return self.session.scalars(stmt).all()

    def for_issue(self, issue_id: int) -> Sequence[Action]:
        return self.session.scalars(select(Action).where(Action.issue_id == issue_id).order_by(Action.id)).all()

    def for_followups(self, followup_ids: Sequence[int]) -> dict[int, int]:
        """followup id -> action id, for the follow-ups that became actions."""
        if not followup_ids:
            return {}
        stmt = select(Action.followup_id, Action.id).where(Action.followup_id.in_(followup_ids))
        return {int(f): int(a) for f, a in self.session.execute(stmt).all() if f is not None}

    def reminders_due(self, *, now: datetime, due_before: date, after_id: int, limit: int) -> Sequence[Action]:
        """Open actions due before ``due_before`` whose next reminder time has come (or is not computed yet),
        row-locked; rows another process holds are skipped.

        ``next_reminder_at`` (indexed with ``status``) keeps the actions already reminded today, and those whose
        owner's working day has not begun, out of the read: a tick reads only what it may act on. Pages by id
        (``after_id``) so rows the caller leaves as they are (a paused partnership) are not fetched twice in a pass.
        """
        stmt = (
            select(Action)
            .where(
                Action.status == "open",
                or_(Action.next_reminder_at.is_(None), Action.next_reminder_at <= now),
                Action.due_on < due_before,
                Action.id > after_id,
            )
            .order_by(Action.id)
            .limit(limit)
        )
        return self.session.scalars(claiming(stmt, Action)).all()

    def set_reminder_times(self, times: Sequence[tuple[int, date | None, datetime]]) -> None:
        """Store (action id, last reminded on, next reminder at) of actions the reminder pass read, with one
        executemany UPDATE (the ORM's flush would write them one statement per row whenever consecutive rows
        change different columns, as reminded and not-yet-due actions do). The caller holds their row locks."""
        if times:
            self.session.connection().execute(
                update(Action)
                .where(Action.id == bindparam("b_id"))
                .values(last_reminded_on=bindparam("b_reminded"), next_reminder_at=bindparam("b_next")),
                [{"b_id": i, "b_reminded": reminded, "b_next": at} for i, reminded, at in times],
            )

    def clear_reminder_times(self, partnership_id: int, side: str) -> int:
        """Forget the next reminder time of a side's open actions (its calendar changed). Returns how many."""
        stmt = (
            update(Action)
            .where(Action.partnership_id == partnership_id, Action.side == side, Action.status == "open")
            .values(next_reminder_at=None)
            .execution_options(synchronize_session="fetch")
        )
        return int(getattr(self.session.execute(stmt), "rowcount", 0) or 0)

    def reminded_open(self, partnership_id: int, owner_id: str) -> Sequence[Action]:
        """The owner's open actions that were overdue when last reminded (what a reminder message lists)."""
        stmt = (
            select(Action)
            .where(
                Action.partnership_id == partnership_id,
                Action.owner_id == owner_id,
                Action.status == "open",
                Action.last_reminded_on.is_not(None),
                Action.due_on < Action.last_reminded_on,
            )
            .order_by(Action.due_on, Action.id)
        )
        return self.session.scalars(stmt).all()


class FollowupRepository(TableRepository[Followup]):
    """Contributions to the blameless question asked when an issue is resolved."""

    model = Followup

    def get_by_request_key(self, issue_id: int, request_key: str) -> Followup | None:
        return self.find_one(Followup.issue_id == issue_id, Followup.request_key == request_key)

    def for_issue(self, issue_id: int) -> Sequence[Followup]:
        stmt = select(Followup).where(Followup.issue_id == issue_id).order_by(Followup.created_at, Followup.id)
        return self.session.scalars(stmt).all()
