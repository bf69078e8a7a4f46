"""Alembic environment. The URL comes from the caller (``storage.migrate``) or from DATABASE_URL for the CLI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, text

import storage.models  # noqa: F401  (registers the tables on Base.metadata)
from storage.base import Base, UTCDateTime
from storage.db import make_engine

config = context.config
target_metadata = Base.metadata
# A fixed key for PostgreSQL's advisory lock, so that two processes starting together migrate one at a time.
MIGRATION_LOCK_KEY = 0x50524E50  # "PRNP"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave APScheduler's own table alone (it creates and manages it)."""
    return not (type_ == "table" and name is not None and name.startswith("apscheduler"))


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our UTC column type as a plain timestamptz, so migrations never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """On SQLite, migrate with foreign keys off (as Alembic's batch mode asks): a batch operation copies a table
    and drops the old one, and with foreign keys on, dropping a table first deletes its rows, cascading to every
    table that refers to it (a copy of ``actions`` would empty ``action_events``). The pragma only takes effect
    outside a transaction, so it is set on the driver's connection before the migrations begin; afterwards every
    reference is checked, and a migration that broke one fails loudly."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.dbapi_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows referring to missing rows: {broken[:5]}")
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", "sqlite:///partnerpulse.db")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
            try:
                with _sqlite_foreign_keys_off(conn):
                    _run(conn)
                    conn.commit()
            finally:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                    conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
