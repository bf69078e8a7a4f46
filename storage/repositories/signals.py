"""Early-warning signals, each recorded once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from storage.models import Signal
from storage.repositories.base import TableRepository


class SignalRepository(TableRepository[Signal]):
    """Signals sent to the leads."""

    model = Signal

    def get_by_key(self, dedupe_key: str) -> Signal | None:
        return self.find_one(Signal.dedupe_key == dedupe_key)

    def add_once(self, signal: Signal) -> bool:
        """Record the signal unless one with the same key exists. True if it was added."""
        if self.get_by_key(signal.dedupe_key) is not None:
            return False
        self.add(signal)
        return True

    def latest(self, partnership_id: int, kind: str, subject: str) -> Signal | None:
        stmt = (
            select(Signal)
            .where(Signal.partnership_id == partnership_id, Signal.kind == kind, Signal.subject == subject)
            .order_by(Signal.created_at.desc(), Signal.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def since(self, partnership_id: int, since: datetime) -> list[Signal]:
        stmt = select(Signal).where(Signal.partnership_id == partnership_id, Signal.created_at >= since)
        return list(self.session.scalars(stmt.order_by(Signal.id)).all())
