"""What every repository shares: the unit of work's session, and for a table's rows get by id, find one, add."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.orm import Session

from storage.base import Base

M = TypeVar("M", bound=Base)
S = TypeVar("S", bound="Select[*tuple[Any, ...]]")


def claiming(stmt: S, *of: Any) -> S:
    """``stmt`` as a claim: each row it returns (of the tables ``of``, else every table it reads) is locked until
    the transaction ends, and rows another process holds are skipped (``FOR NO KEY UPDATE SKIP LOCKED``).

    No *key* update: a claim never changes a row's key, so it need not wait for, or skip, a row that another
    transaction is only referencing (inserting a row with a foreign key to it takes ``FOR KEY SHARE``, which
    ``FOR UPDATE`` would conflict with: a partnership receiving an outbox row would be skipped by the tick). Two
    claims still exclude each other, and a ``FOR SHARE`` reader (an answer being recorded) holds a claim off.
    SQLite has no row locks; a writing unit of work holds its write lock (storage/db.py)."""
    return stmt.with_for_update(of=list(of) or None, skip_locked=True, key_share=True)


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

    def get(self, row_id: int, *, for_update: bool = False, for_share: bool = False) -> M | None:
        """The row, or None. ``for_update``: also take its row lock (``FOR UPDATE`` on PostgreSQL; a writing unit
        of work already holds SQLite's write lock), held until the transaction ends. ``for_share``: a shared lock
        instead (``FOR SHARE``): the row cannot change, nor be claimed, until the transaction ends, and it is read
        as the last transaction to change it left it (after waiting for that one to end)."""
        if not (for_update or for_share):
            return self.session.get(self.model, row_id)
        stmt = select(self.model).where(inspect(self.model).primary_key[0] == row_id)
        stmt = stmt.with_for_update(of=self.model, read=not for_update)
        # populate_existing: a row already in the session is refreshed from what the locking read returned.
        return self.session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()


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
        )
        return self.session.scalars(claiming(stmt, m)).all()

    def claim_due_closes(self, now: datetime, limit: int) -> Sequence[M]:
        """Open rows whose time is up."""
        m: Any = self.model
        stmt = select(m).where(m.status == "open", m.closes_at <= now).order_by(m.closes_at, m.id).limit(limit)
        return self.session.scalars(claiming(stmt, m)).all()
