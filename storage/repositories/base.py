"""What every repository shares: the unit of work's session, and for a table's rows get by id, find one, add."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from storage.base import Base

M = TypeVar("M", bound=Base)


class Repository:
    """Queries over the unit of work's session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def count_by(self, column: Any, *criteria: Any) -> dict[str, int]:
        """How many rows matching ``criteria`` there are for each value of ``column`` (values with none are absent)."""
        stmt = select(column, func.count()).where(*criteria).group_by(column)
        return {str(value): int(n) for value, n in self.session.execute(stmt).all()}


class RowRepository(Repository, Generic[M]):
    """The rows of one table (``model``)."""

    model: type[M]

    def find_one(self, *criteria: Any) -> M | None:
        """The one row matching ``criteria`` (a unique key), or None."""
        return self.session.scalars(select(self.model).where(*criteria)).one_or_none()

    def add(self, row: M) -> M:
        """Store a new row; flushed, so its id and database defaults are filled in."""
        self.session.add(row)
        self.session.flush()
        return row


class TableRepository(RowRepository[M]):
    """The rows of one table (``model``), also by their integer id."""

    def get(self, row_id: int, *, for_update: bool = False) -> M | None:
        """The row, or None. ``for_update``: also take its row lock (``FOR UPDATE`` on PostgreSQL; a writing unit
        of work already holds SQLite's write lock), held until the transaction ends."""
        if not for_update:
            return self.session.get(self.model, row_id)
        stmt = select(self.model).where(inspect(self.model).primary_key[0] == row_id).with_for_update(of=self.model)
        return self.session.scalars(stmt).one_or_none()


class AnsweringWindowRepository(TableRepository[M]):
    """Rows people answer while they are open: pulse rounds and scorecards (``status``, ``remind_at``,
    ``reminded_at``, ``closes_at``). Both claims lock the rows they return and skip rows another process holds."""

    #: The anonymous responses' table (with a ``respondent_hash`` column) and its column naming the row answered.
    response_model: Any
    response_of: str

    def respondent_hashes(self, row_ids: Collection[int]) -> dict[int, set[str]]:
        """Who answered each row (keyed hashes), in one query."""
        found: dict[int, set[str]] = {i: set() for i in row_ids}
        if found:
            of = getattr(self.response_model, self.response_of)
            stmt = select(of, self.response_model.respondent_hash).where(of.in_(list(found)))
            for row_id, key in self.session.execute(stmt):
                found[int(row_id)].add(str(key))
        return found

    def claim_due_reminders(self, now: datetime, limit: int) -> Sequence[M]:
        """Open rows whose reminder time has come, not reminded yet and not closing yet."""
        m: Any = self.model
        stmt = (
            select(m)
            .where(
                m.status == "open", m.reminded_at.is_(None), m.remind_at.is_not(None), m.remind_at <= now, m.closes_at > now
            )
            .order_by(m.remind_at, m.id)
            .limit(limit)
            .with_for_update(of=m, skip_locked=True)
        )
        return self.session.scalars(stmt).all()

    def claim_due_closes(self, now: datetime, limit: int) -> Sequence[M]:
        """Open rows whose time is up."""
        m: Any = self.model
        stmt = (
            select(m)
            .where(m.status == "open", m.closes_at <= now)
            .order_by(m.closes_at, m.id)
            .limit(limit)
            .with_for_update(of=m, skip_locked=True)
        )
        return self.session.scalars(stmt).all()
