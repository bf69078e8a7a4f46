"""Early-warning signals, each recorded once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Signal


class SignalRepository:
    """Signals sent to the leads."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, signal_id: int) -> Signal | None:
        return self.session.get(Signal, signal_id)

    def get_by_key(self, dedupe_key: str) -> Signal | None:
        return self.session.scalars(select(Signal).where(Signal.dedupe_key == dedupe_key)).one_or_none()

    def add_once(self, signal: Signal) -> bool:
        """Record the signal unless one with the same key exists. True if it was added."""
        if self.get_by_key(signal.dedupe_key) is not None:
            return False
        self.session.add(signal)
        self.session.flush()
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
