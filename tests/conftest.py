"""Shared fixtures. Every test runs on SQLite; set TEST_DATABASE_URL to run the same tests on PostgreSQL.

The schema is migrated once per test run, not once per test (a full Alembic upgrade costs about 0.3 s): on SQLite
each test gets a byte copy of a migrated template file; on PostgreSQL the one test database is migrated once and
emptied between tests with ``TRUNCATE ... RESTART IDENTITY`` (so ids start at 1 again). Tests of the migrations
themselves ask for ``empty_database_url`` instead.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.delivery.pacer import Pacer
from bot.harness import LocalStack, start_local_stack
from storage import migrate
from storage.db import make_engine, make_session_factory
from storage.uow import UnitOfWorkFactory

#: A Monday noon UTC (07:00 in New York): the demo world's partnerships pulse at 09:00 New York time.
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
#: How much faster than Slack's limits the ``stack`` fixture's sender paces. The sandbox enforces no limits
#: unless a test turns them on, and pacing itself is tested with a fake clock (tests/unit/test_pacer.py);
#: at real speed every second message to a channel waited a second, most of the end-to-end tier's time.
STACK_PACER_SPEEDUP = 1000.0


class PostgresTestDatabase:
    """The one PostgreSQL database named by TEST_DATABASE_URL: migrated once, emptied (not rebuilt) per test."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine = make_engine(url)
        # False until migrated, and again after a test was handed the database un-migrated (it may leave any schema).
        self._at_head = False

    def empty(self) -> str:
        """No tables at all: the state before the first migration."""
        self._at_head = False
        with self._engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        return self.url

    def migrated(self) -> str:
        """Every table at the head revision and no rows but Alembic's, identity sequences restarted."""
        if not self._at_head:
            self.empty()
            migrate.upgrade(self.url)
            self._at_head = True
            return self.url
        with self._engine.begin() as conn:
            # Listed each time: APScheduler creates its jobs table at run time, outside the migrations.
            names = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            ).scalars()
            quote = conn.dialect.identifier_preparer.quote
            tables = ", ".join(quote(name) for name in names)
            if tables:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return self.url

    def close(self) -> None:
        self._engine.dispose()


def _build_sqlite_template(path: Path) -> Path:
    migrate.upgrade(f"sqlite:///{path}")
    # The migrations leave the file in WAL mode; fold the log into the file so that a byte copy is complete.
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    assert not path.with_name(path.name + "-wal").exists(), "the template's WAL was not folded into the file"
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresTestDatabase | None]:
    """The PostgreSQL test database when TEST_DATABASE_URL is set, else None (the tests run on SQLite)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield None
        return
    db = PostgresTestDatabase(url)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per test run; tests get copies of it, never the file itself."""
    return _build_sqlite_template(tmp_path_factory.mktemp("template") / "migrated.db")


@pytest.fixture
def empty_database_url(tmp_path: Path, postgres_database: PostgresTestDatabase | None) -> str:
    """An empty, un-migrated database, for tests of the migrations and of migrating at start."""
    if postgres_database is not None:
        return postgres_database.empty()
    return f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_database: PostgresTestDatabase | None) -> str:
    """A database at the head revision with no rows: a fresh copy of the SQLite template, or PostgreSQL emptied."""
    if postgres_database is not None:
        return postgres_database.migrated()
    path = tmp_path / "test.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database's engine, for tests of what works below the unit of work (stores, locks)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def uow_factory(engine: Engine) -> UnitOfWorkFactory:
    """A migrated database and a unit-of-work factory, for service tests without Slack."""
    return UnitOfWorkFactory(make_session_factory(engine))


@pytest.fixture
def stack(database_url: str) -> Iterator[LocalStack]:
    """The real bot served over HTTP against the Slack sandbox with the demo world, clock at START.

    Its sender paces STACK_PACER_SPEEDUP times faster than Slack's limits (the demo, the subprocess tests and
    the benchmarks keep their own pacing).
    """
    with closing(start_local_stack(database_url=database_url, start=START, pacer=Pacer(speedup=STACK_PACER_SPEEDUP))) as s:
        yield s
