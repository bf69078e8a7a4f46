"""Engine and session factory. Built once per process by the composition root, never at import."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

#: Execution option a read-only unit of work sets on its connection (see ``UnitOfWork.read_only``).
READ_ONLY = "partnerpulse_read_only"
#: Execution option a bounded unit of work sets on its connection: how long SQLite waits for the write lock, in ms.
BUSY_TIMEOUT_MS = "partnerpulse_busy_timeout_ms"
#: How long SQLite waits for the write lock otherwise.
DEFAULT_BUSY_MS = 30_000
#: Pooled connections when the caller does not say (tools, benchmarks); ``serve`` sizes its pools from its
#: threads (``bot.container.pool_size``), so that its processes stay well under PostgreSQL's ``max_connections``.
POOL_SIZE = 20
#: Connections a pool may open beyond its size for a burst, closed again when returned.
MAX_OVERFLOW = 5


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would otherwise pick psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, echo: bool = False, pool_size: int = POOL_SIZE) -> Engine:
    """Create the process's engine.

    Error messages never show bound values (``hide_parameters``: a person's text or a token must not reach the
    logs). On PostgreSQL every connection is checked before use (``pool_pre_ping``): after the server restarted,
    the stale pooled connections are dropped and replaced, so the process recovers without a restart.

    SQLite gets WAL, foreign keys and a busy timeout. Units of work that write start with ``BEGIN IMMEDIATE``:
    a deferred transaction that upgrades from read to write can fail at once with "database is locked"
    instead of waiting. Read-only units start a plain deferred ``BEGIN`` and, under WAL, never wait for a
    writer (otherwise every read would queue behind the one write lock).
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=MAX_OVERFLOW,
            connect_args={"timeout": 30, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let the "begin" hook below start transactions
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={DEFAULT_BUSY_MS}")
            if ":memory:" not in url and url not in ("sqlite://", "sqlite+pysqlite://"):
                cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            options = conn.get_execution_options()
            busy_ms = int(options.get(BUSY_TIMEOUT_MS, DEFAULT_BUSY_MS))
            info = conn.connection.info  # the pooled connection's: remembers its setting between transactions
            if info.get(BUSY_TIMEOUT_MS, DEFAULT_BUSY_MS) != busy_ms:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={busy_ms}")
                info[BUSY_TIMEOUT_MS] = busy_ms
            conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    return create_engine(
        url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=pool_size, max_overflow=MAX_OVERFLOW
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """One session factory per process; ``expire_on_commit=False`` so read models can be built after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
