"""Unit of work: one session per use case, owned by the service that runs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage import queued_outbox
from storage.db import BUSY_TIMEOUT_MS, READ_ONLY
from storage.errors import DuplicateKey, is_unique_violation
from storage.models import Partnership
from storage.repositories.actions import ActionRepository, FollowupRepository
from storage.repositories.digests import DigestQueries, DigestRepository
from storage.repositories.goals import ExpectationRepository, GoalRepository
from storage.repositories.home import HomeQueries
from storage.repositories.installations import OAuthStateRepository
from storage.repositories.issues import (
    HolidayRepository,
    IssueEventRepository,
    IssueRepository,
    PolicyRepository,
)
from storage.repositories.kpi_figures import KpiFigureQueries
from storage.repositories.kpi_values import ApiTokenRepository, KpiValueRepository
from storage.repositories.kpis import KpiRepository, KpiVersionRepository
from storage.repositories.outbox import EventRepository, OutboxRepository
from storage.repositories.partnerships import (
    MemberRepository,
    PartnershipRepository,
    SideGroupRepository,
    WorkspaceRepository,
)
from storage.repositories.portfolio import PortfolioRepository
from storage.repositories.pulses import QuestionRepository, ResponseRepository, RoundRepository
from storage.repositories.scorecards import ScorecardRepository, ScorecardResponseRepository
from storage.repositories.signals import SignalRepository
from storage.repositories.work_history import WorkHistoryRepository

T = TypeVar("T")


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
    issues: IssueRepository
    issue_events: IssueEventRepository
    policies: PolicyRepository
    holidays: HolidayRepository
    actions: ActionRepository
    followups: FollowupRepository
    signals: SignalRepository
    goals: GoalRepository
    expectations: ExpectationRepository
    scorecards: ScorecardRepository
    scorecard_responses: ScorecardResponseRepository
    digests: DigestRepository
    digest_queries: DigestQueries
    home: HomeQueries
    oauth_states: OAuthStateRepository
    portfolio: PortfolioRepository
    work_history: WorkHistoryRepository
    kpis: KpiRepository
    kpi_versions: KpiVersionRepository
    kpi_values: KpiValueRepository
    api_tokens: ApiTokenRepository
    kpi_figures: KpiFigureQueries

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._read_only = False
        self._bound_ms: int | None = None

    def bounded(self, seconds: float) -> Self:
        """Enter with every wait cut short: a lock, or a statement, that takes longer than ``seconds`` fails instead of
        waiting (PostgreSQL's ``lock_timeout`` and ``statement_timeout`` for this transaction; SQLite's busy timeout).

        For the few writes made before an acknowledgement (see handlers/events.py): Slack retries an answer of 500,
        not one that never comes. Usage: ``with uow.bounded(1.0): ...`` or passed, unentered, to a service.
        """
        self._bound_ms = max(1, round(seconds * 1000))
        return self

    def read_only(self) -> Self:
        """Enter for reading only: no write lock on SQLite, a READ ONLY transaction on PostgreSQL.

        Usage: ``with uow.read_only(): ...``. A write inside fails on PostgreSQL, which keeps this honest.
        """
        self._read_only = True
        return self

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        postgres = self.session.get_bind().dialect.name == "postgresql"
        options: dict[str, object] = {}
        if self._read_only:
            options[READ_ONLY] = True
            if postgres:
                options["postgresql_readonly"] = True
        if self._bound_ms is not None and not postgres:
            options[BUSY_TIMEOUT_MS] = self._bound_ms
        if options:
            self.session.connection(execution_options=options)
        if self._bound_ms is not None and postgres:
            # SET LOCAL: for this transaction only; the pooled connection keeps its defaults afterwards.
            self.session.execute(text(f"SET LOCAL lock_timeout = {self._bound_ms}"))
            self.session.execute(text(f"SET LOCAL statement_timeout = {self._bound_ms}"))
        self.workspaces = WorkspaceRepository(self.session)
        self.partnerships = PartnershipRepository(self.session)
        self.members = MemberRepository(self.session)
        self.side_groups = SideGroupRepository(self.session)
        self.questions = QuestionRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.responses = ResponseRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.events = EventRepository(self.session)
        self.issues = IssueRepository(self.session)
        self.issue_events = IssueEventRepository(self.session)
        self.policies = PolicyRepository(self.session)
        self.holidays = HolidayRepository(self.session)
        self.actions = ActionRepository(self.session)
        self.followups = FollowupRepository(self.session)
        self.signals = SignalRepository(self.session)
        self.goals = GoalRepository(self.session)
        self.expectations = ExpectationRepository(self.session)
        self.scorecards = ScorecardRepository(self.session)
        self.scorecard_responses = ScorecardResponseRepository(self.session)
        self.digests = DigestRepository(self.session)
        self.digest_queries = DigestQueries(self.session)
        self.home = HomeQueries(self.session)
        self.portfolio = PortfolioRepository(self.session)
        self.work_history = WorkHistoryRepository(self.session)
        self.kpis = KpiRepository(self.session)
        self.kpi_versions = KpiVersionRepository(self.session)
        self.kpi_values = KpiValueRepository(self.session)
        self.api_tokens = ApiTokenRepository(self.session)
        self.kpi_figures = KpiFigureQueries(self.session)
        self.oauth_states = OAuthStateRepository(self.session)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self.outbox.forget_queued()
            self._read_only = False
            self._bound_ms = None

    def commit(self) -> None:
        """Commit; the outbox rows the transaction queued are then noted for the request that queued them
        (``storage.queued_outbox``), which sends those and only those."""
        queued = self._queued_outbox()
        self.session.commit()
        queued_outbox.note(queued)

    def rollback(self) -> None:
        self.session.rollback()
        self.outbox.forget_queued()

    def _queued_outbox(self) -> list[int]:
        if self.outbox.has_unflushed():
            self.session.flush()  # the ids of rows added without a flush (``OutboxRepository.add``)
        return self.outbox.queued_ids()

    def commit_or_duplicate(self) -> None:
        """Commit; if a unique key refuses the write, roll back and raise DuplicateKey (a repeated delivery or a
        concurrent writer stored the same row first: the caller reads that one back)."""
        try:
            self.commit()
        except IntegrityError as e:
            if not is_unique_violation(e.orig):
                raise
            self.rollback()
            raise DuplicateKey(str(e.orig)) from e

    def commit_or_read_back(self, read: Callable[[], T | None]) -> T | None:
        """Commit and give None; or, if a unique key refuses the write (a repeated delivery or a concurrent writer
        stored the same row first), roll back and give that row, as ``read()`` finds it. DuplicateKey when
        ``read()`` finds none (the key that refused was another one)."""
        try:
            self.commit_or_duplicate()
        except DuplicateKey:
            stored = read()
            if stored is None:
                raise
            return stored
        return None

    def flush(self) -> None:
        """Send pending changes now, so the queries that follow see them (and database defaults are filled in)."""
        self.session.flush()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Writes that may be undone alone: a unique-key violation inside rolls back to the savepoint only and
        raises DuplicateKey; the rest of the transaction stands."""
        try:
            with self.session.begin_nested():
                yield
                self.session.flush()
        except IntegrityError as e:
            if not is_unique_violation(e.orig):
                raise
            raise DuplicateKey(str(e.orig)) from e

    def lock_partnership(self, partnership_id: int) -> Partnership:
        """The partnership, re-read under its row lock held until the transaction ends: changes to its
        configuration go one at a time and each sees the one before.

        ``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL (the lock an UPDATE of the row takes; as in
        ``storage.repositories.base.claiming``, rows referencing the partnership can still be inserted meanwhile); SQLite has no row locks, but a writing unit of work already holds
        the database's write lock (``BEGIN IMMEDIATE``, see storage/db.py), so there it just re-reads the row.
        """
        p = self.session.get(Partnership, partnership_id)  # usually already loaded: no query
        if p is None:
            raise LookupError(f"partnership {partnership_id} does not exist")
        # A refresh, not a locking query: unsaved changes to the row are discarded, never flushed under the lock.
        self.session.refresh(p, with_for_update={"of": Partnership, "key_share": True})
        return p


class UnitOfWorkFactory:
    """Callable that makes a fresh UnitOfWork; one per process, built by the composition root."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)


#: What services that run several units of work (the heartbeat's jobs, reports) are given: a UnitOfWorkFactory,
#: or in tests anything that makes a UnitOfWork.
UowFactory = Callable[[], UnitOfWork]
