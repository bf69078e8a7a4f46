"""Shared fixtures. Every test runs on SQLite; set TEST_DATABASE_URL to run the same tests on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.harness import LocalStack, start_local_stack
from storage import migrate
from storage.db import make_engine, make_session_factory
from storage.uow import UnitOfWorkFactory

#: A Monday noon UTC (07:00 in New York): the demo world's partnerships pulse at 09:00 New York time.
START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """An empty database: a fresh SQLite file, or the PostgreSQL test database emptied."""
    pg = os.environ.get("TEST_DATABASE_URL")
    if pg:
        _reset_postgres(pg)
        return pg
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def uow_factory(database_url: str) -> Iterator[UnitOfWorkFactory]:
    """A migrated database and a unit-of-work factory, for service tests without Slack."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    yield UnitOfWorkFactory(make_session_factory(engine))
    engine.dispose()


@pytest.fixture
def stack(database_url: str) -> Iterator[LocalStack]:
    """The real bot served over HTTP against the Slack sandbox with the demo world, clock at START."""
    s = start_local_stack(database_url=database_url, start=START)
    try:
        yield s
    finally:
        s.close()
