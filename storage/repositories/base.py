"""What every repository shares: the unit of work's session, and for a table's rows get by id, find one, add."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from storage.base import Base

M = TypeVar("M", bound=Base)


class Repository:
    """Queries over the unit of work's session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session


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
