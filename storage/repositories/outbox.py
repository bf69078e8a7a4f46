"""The outbox of messages to send, and the record of processed events."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.models import OutboxMessage, Partnership, ProcessedEvent, Workspace
from storage.repositories.base import Repository, TableRepository


class OutboxRepository(TableRepository[OutboxMessage]):
    """Messages recorded before they are sent."""

    model = OutboxMessage

    def add_once(self, message: OutboxMessage) -> bool:
        """Record a message unless one with the same dedupe key exists. Returns True if it was added."""
        if self.get_by_key(message.dedupe_key) is not None:
            return False
        self.add(message)
        return True

    def add_unflushed(self, message: OutboxMessage) -> None:
        """Record a message whose key is new by construction, without looking it up or flushing."""
        self.session.add(message)

    def existing_keys(self, dedupe_keys: Collection[str]) -> set[str]:
        """Which of ``dedupe_keys`` are recorded already (one SELECT)."""
        stmt = select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(dedupe_keys)))
        return set(self.session.scalars(stmt))

    def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert many messages in one statement (executemany), after the session's pending changes."""
        self.session.flush()  # pending ORM changes first, so the rows go in the order the caller made them
        self.session.execute(insert(OutboxMessage), list(rows))

    def get_by_key(self, dedupe_key: str) -> OutboxMessage | None:
        return self.find_one(OutboxMessage.dedupe_key == dedupe_key)

    def claim_ready(self, now: datetime, stale_before: datetime, limit: int) -> Sequence[OutboxMessage]:
        """Pending rows that may go now, plus rows stuck in 'sending' since before ``stale_before``.

        A row stuck in 'sending' belongs to a process that died between claiming and recording; sending it
        again can at worst repeat that one message, never lose it. Rows of paused partnerships and of
        workspaces whose token failed wait where they are.
        """
        stmt = (
            select(OutboxMessage)
            .join(Workspace, Workspace.id == OutboxMessage.workspace_id)
            .outerjoin(Partnership, Partnership.id == OutboxMessage.partnership_id)
            .where(
                Workspace.sending_enabled.is_(True),
                or_(OutboxMessage.partnership_id.is_(None), Partnership.status == "active"),
                or_(
                    and_(OutboxMessage.status == "pending", OutboxMessage.available_at <= now),
                    and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < stale_before),
                ),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(of=OutboxMessage, skip_locked=True)
        )
        return self.session.scalars(stmt).all()

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
        """Workspaces whose sending is held for a rejected token and whose token re-check is due (locked)."""
        stmt = (
            select(Workspace)
            .where(
                Workspace.sending_enabled.is_(False),
                or_(Workspace.auth_recheck_at.is_(None), Workspace.auth_recheck_at <= now),
            )
            .order_by(Workspace.id)
            .with_for_update(skip_locked=True)
        )
        return self.session.scalars(stmt).all()

    def count_by_status(self) -> dict[str, int]:
        stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        return {status: int(n) for status, n in self.session.execute(stmt).all()}


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
