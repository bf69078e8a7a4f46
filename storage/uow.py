"""Unit of work: one session per use case, owned by the service that runs it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from storage.repositories.outbox import EventRepository, OutboxRepository
from storage.repositories.partnerships import MemberRepository, PartnershipRepository, WorkspaceRepository
from storage.repositories.pulses import QuestionRepository, ResponseRepository, RoundRepository


class UnitOfWork:
    """Opens a session on enter; rolls back whatever was not committed on exit; closes.

    Usage::

        with uow_factory() as uow:
            ...
            uow.commit()
    """

    session: Session
    workspaces: WorkspaceRepository
    partnerships: PartnershipRepository
    members: MemberRepository
    questions: QuestionRepository
    rounds: RoundRepository
    responses: ResponseRepository
    outbox: OutboxRepository
    events: EventRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.workspaces = WorkspaceRepository(self.session)
        self.partnerships = PartnershipRepository(self.session)
        self.members = MemberRepository(self.session)
        self.questions = QuestionRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.responses = ResponseRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.events = EventRepository(self.session)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class UnitOfWorkFactory:
    """Callable that makes a fresh UnitOfWork; one per process, built by the composition root."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)
