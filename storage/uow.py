"""Unit of work: one session per use case, owned by the service that runs it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from storage.db import READ_ONLY
from storage.repositories.outbox import EventRepository, OutboxRepository
from storage.repositories.partnerships import (
    MemberRepository,
    PartnershipRepository,
    SideGroupRepository,
    WorkspaceRepository,
)
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
    side_groups: SideGroupRepository
    questions: QuestionRepository
    rounds: RoundRepository
    responses: ResponseRepository
    outbox: OutboxRepository
    events: EventRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._read_only = False

    def read_only(self) -> Self:
        """Enter for reading only: no write lock on SQLite, a READ ONLY transaction on PostgreSQL.

        Usage: ``with uow.read_only(): ...``. A write inside fails on PostgreSQL, which keeps this honest.
        """
        self._read_only = True
        return self

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        if self._read_only:
            options: dict[str, object] = {READ_ONLY: True}
            if self.session.get_bind().dialect.name == "postgresql":
                options["postgresql_readonly"] = True
            self.session.connection(execution_options=options)
        self.workspaces = WorkspaceRepository(self.session)
        self.partnerships = PartnershipRepository(self.session)
        self.members = MemberRepository(self.session)
        self.side_groups = SideGroupRepository(self.session)
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
            self._read_only = False

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
