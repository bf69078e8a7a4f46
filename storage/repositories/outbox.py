"""The outbox of messages to send, and the record of processed events."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, insert, inspect, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage import queued_outbox
from storage.models import OutboxMessage, Partnership, ProcessedEvent, Workspace
from storage.repositories.base import Repository, TableRepository, claiming

_S = TypeVar("_S", bound=Select[Any])


class OutboxRepository(TableRepository[OutboxMessage]):
    """Messages recorded before they are sent."""

    model = OutboxMessage

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        #: What this transaction queued, for ``queued_ids`` (the unit of work notes them when it commits).
        self._added: list[OutboxMessage] = []
        self._inserted_ids: list[int] = []

    def queued_ids(self) -> list[int]:
        """Ids of the rows this transaction queued and still holds (the caller has flushed); then forgets them."""
        ids = [m.id for m in self._added if m.id is not None and inspect(m).persistent] + self._inserted_ids
        self.forget_queued()
        return ids

    def has_unflushed(self) -> bool:
        return any(m.id is None for m in self._added)

    def forget_queued(self) -> None:
        self._added, self._inserted_ids = [], []

    def add(self, row: OutboxMessage) -> OutboxMessage:
        """Store a new message, flushed, and note it as queued by this transaction."""
        super().add(row)
        self._added.append(row)
        return row

    def add_once(self, message: OutboxMessage) -> bool:
        """Record a message unless one with the same dedupe key exists. Returns True if it was added."""
        if self.get_by_key(message.dedupe_key) is not None:
            return False
        self.add(message)
        return True

    def add_unflushed(self, message: OutboxMessage) -> None:
        """Record a message whose key is new by construction, without looking it up or flushing."""
        self.session.add(message)
        self._added.append(message)

    def existing_keys(self, dedupe_keys: Collection[str]) -> set[str]:
        """Which of ``dedupe_keys`` are recorded already (one SELECT)."""
        stmt = select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(dedupe_keys)))
        return set(self.session.scalars(stmt))

    def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert many messages in one statement (executemany), after the session's pending changes."""
        self.session.flush()  # pending ORM changes first, so the rows go in the order the caller made them
        if not queued_outbox.is_collecting():  # a batch job: nobody needs the ids
            self.session.execute(insert(OutboxMessage), list(rows))
            return
        # A request that sends what it queued: the ids back (RETURNING, still one statement's batches).
        self._inserted_ids += self.session.scalars(insert(OutboxMessage).returning(OutboxMessage.id), list(rows)).all()

    def get_by_key(self, dedupe_key: str) -> OutboxMessage | None:
        return self.find_one(OutboxMessage.dedupe_key == dedupe_key)

    def claim_ready(
        self, now: datetime, stale_before: datetime, limit: int, *, partnership_id: int | None = None
    ) -> Sequence[OutboxMessage]:
        """Pending rows that may go now, plus rows stuck in 'sending' since before ``stale_before``, taken fairly
        across partnerships: each partnership's first ready row, then each one's second, and so on (each in the
        order queued), so one partnership's 500-row round never keeps another's one message out of the batch.

        A row stuck in 'sending' belongs to a process that died between claiming and recording; sending it
        again can at worst repeat that one message, never lose it. Rows of paused partnerships and of
        workspaces whose token failed wait where they are. With ``partnership_id``, that partnership's rows only.
        """
        turn = func.row_number().over(partition_by=OutboxMessage.partnership_id, order_by=OutboxMessage.id)
        ready_stmt = _sendable(select(OutboxMessage.id, turn.label("turn"))).where(_ready(now, stale_before))
        if partnership_id is not None:
            ready_stmt = ready_stmt.where(OutboxMessage.partnership_id == partnership_id)
        ready = ready_stmt.subquery()
        chosen = select(ready.c.id).order_by(ready.c.turn, ready.c.id).limit(limit)
        # The window cannot be locked (FOR UPDATE): lock the chosen rows, re-checking they are still ready (a
        # concurrent sender may have claimed one since this statement's snapshot).
        stmt = (
            select(OutboxMessage).where(OutboxMessage.id.in_(chosen), _ready(now, stale_before)).order_by(OutboxMessage.id)
        )
        return self.session.scalars(claiming(stmt, OutboxMessage)).all()

    def claim_ids(self, message_ids: Collection[int], now: datetime) -> Sequence[OutboxMessage]:
        """Those of ``message_ids`` pending and free to go now (locked; rows another sender holds are skipped)."""
        stmt = (
            _sendable(select(OutboxMessage))
            .where(
                OutboxMessage.id.in_(list(message_ids)),
                OutboxMessage.status == "pending",
                OutboxMessage.available_at <= now,
            )
            .order_by(OutboxMessage.id)
        )
        return self.session.scalars(claiming(stmt, OutboxMessage)).all()

    def renew_claim(self, claim_token: str, message_ids: Collection[int], now: datetime) -> int:
        """Extend the lease of those of ``message_ids`` still in 'sending' under ``claim_token``.

        Returns how many rows were renewed: a row not renewed was taken over by another sender after its lease ran
        out (or is finished).
        """
        stmt = (
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(message_ids)),
                OutboxMessage.claim_token == claim_token,
                OutboxMessage.status == "sending",
            )
            .values(claimed_at=now)
            .returning(OutboxMessage.id)
        )
        # RETURNING, not rowcount, as in EventRepository.record_once; no ORM sync: the rows are not loaded here.
        return len(self.session.execute(stmt, execution_options={"synchronize_session": False}).all())

    def held_workspaces_due(self, now: datetime) -> Sequence[Workspace]:
        """Workspaces whose sending is held for a rejected token and whose token re-check is due (locked); never one
        uninstalled or waiting for a reinstall (held without re-checks)."""
        stmt = (
            select(Workspace)
            .where(
                Workspace.sending_enabled.is_(False),
                Workspace.uninstalled_at.is_(None),
                Workspace.needs_reinstall_at.is_(None),
                or_(Workspace.auth_recheck_at.is_(None), Workspace.auth_recheck_at <= now),
            )
            .order_by(Workspace.id)
        )
        return self.session.scalars(claiming(stmt)).all()

    def count_by_status(self) -> dict[str, int]:
        return self.count_by(OutboxMessage.status)


def _ready(now: datetime, stale_before: datetime) -> ColumnElement[bool]:
    """Pending and due, or abandoned mid-send (claimed before ``stale_before``)."""
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.available_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < stale_before),
    )


def _sendable(stmt: _S) -> _S:
    """Rows whose workspace may send and whose partnership (if any) is active."""
    return (
        stmt.join(Workspace, Workspace.id == OutboxMessage.workspace_id)
        .outerjoin(Partnership, Partnership.id == OutboxMessage.partnership_id)
        .where(
            Workspace.sending_enabled.is_(True),
            or_(OutboxMessage.partnership_id.is_(None), Partnership.status == "active"),
        )
    )


class EventRepository(Repository):
    """Events API deliveries already processed."""

    def record_once(self, event_id: str, now: datetime) -> bool:
        """Insert the event id; True on first sight, False if it was processed before (a retry)."""
        dialect = self.session.get_bind().dialect.name
        values = {"event_id": event_id, "received_at": now}
        stmt: Any
        if dialect == "postgresql":
            stmt = pg_insert(ProcessedEvent).values(**values).on_conflict_do_nothing(index_elements=["event_id"])
        elif dialect == "sqlite":
            stmt = sqlite_insert(ProcessedEvent).values(**values).on_conflict_do_nothing(index_elements=["event_id"])
        else:  # pragma: no cover - other databases are not supported
            raise RuntimeError(f"unsupported database: {dialect}")
        # RETURNING, not rowcount: through the ORM session psycopg reports rowcount -1 (truthy) for this insert,
        # which made every retried event look new on PostgreSQL.
        return self.session.execute(stmt.returning(ProcessedEvent.event_id)).first() is not None
