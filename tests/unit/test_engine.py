"""The process's engine: errors never show bound values, PostgreSQL connections are checked before use, and
``serve``'s pools stay well under PostgreSQL's default ``max_connections`` (100)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.container import pool_size
from bot.settings import Settings
from storage.db import MAX_OVERFLOW, make_engine

SECRET = "a person's words, never in a log"


def test_an_error_message_shows_the_statement_but_not_its_bound_values(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'e.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (v TEXT NOT NULL UNIQUE)"))
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": SECRET})
        with pytest.raises(IntegrityError) as info, engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": SECRET})
    finally:
        engine.dispose()
    assert "INSERT INTO t" in str(info.value)
    assert SECRET not in str(info.value)


def test_postgresql_connections_are_checked_before_use_and_hide_parameters() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none", pool_size=7)  # never connects
    try:
        assert engine.hide_parameters
        assert engine.pool._pre_ping  # type: ignore[attr-defined]
        assert engine.pool.size() == 7  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_serve_with_default_settings_keeps_at_most_67_connections() -> None:
    settings = Settings.load({}, env_file=None)
    # The serving process: 16 HTTP threads + 8 parallel sends + the heartbeat and its send step = 26;
    # each of the 2 workers: 8 threads + 4 of its modal lane + 1 spare = 13; each pool may open 5 more in a burst.
    serving = pool_size(settings, serving=True)
    worker = pool_size(settings, serving=False)
    assert (serving, worker) == (26, 13)
    most = serving + MAX_OVERFLOW + settings.worker_processes * (worker + MAX_OVERFLOW)
    assert most == 26 + 5 + 2 * (13 + 5) == 67
    assert most < 100, "PostgreSQL's default max_connections"
