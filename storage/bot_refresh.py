"""The lock a bot token's refresh is taken under (issue 15), and what a refused refresh records.

Slack's refresh tokens work once: two processes refreshing with the same one leave the loser with
``invalid_refresh_token``, and the workspace with no token. So a refresh runs in one transaction holding the
workspace's lock: its ``workspaces`` row ``FOR UPDATE`` on PostgreSQL; on SQLite the database's write lock, taken
by writing that row at once (a writing transaction there starts with ``BEGIN IMMEDIATE``; see storage/db.py).
The holder re-reads the newest bot inside the lock: whoever waited finds the token the first one saved. Slack is
asked inside the lock (bounded by the client's timeout, ``bot.slack_client.CLIENT_TIMEOUT_SECONDS``): on SQLite every
writer waits meanwhile, once per workspace every 12 hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Engine, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import Workspace, held_for_reinstall

_workspaces = cast(Table, Workspace.__table__)


@dataclass(frozen=True)
class LockedWorkspace:
    """The transaction holding a workspace's lock, and since when the workspace waits for a reinstall (None: it
    does not)."""

    conn: Connection
    needs_reinstall_at: datetime | None


@contextmanager
def workspace_locked(engine: Engine, *, team_id: str, team_name: str | None, now: datetime) -> Iterator[LockedWorkspace]:
    """A transaction holding ``team_id``'s workspace lock until it ends (committed if the block returns, rolled back
    if it raises). The workspace's row is created first if the app has none yet (an install not yet recorded)."""
    with engine.begin() as conn:
        values = {"team_id": team_id, "name": team_name or "", "created_at": now}
        row = select(_workspaces.c.needs_reinstall_at).where(_workspaces.c.team_id == team_id)
        if conn.dialect.name == "postgresql":
            conn.execute(postgresql.insert(_workspaces).values(values).on_conflict_do_nothing(index_elements=["team_id"]))
            row = row.with_for_update()
        else:
            conn.execute(sqlite.insert(_workspaces).values(values).on_conflict_do_nothing(index_elements=["team_id"]))
            conn.execute(update(_workspaces).where(_workspaces.c.team_id == team_id).values(id=_workspaces.c.id))
        yield LockedWorkspace(conn, needs_reinstall_at=conn.execute(row).scalar())


def mark_needs_reinstall(conn: Connection, *, team_id: str, reason: str, now: datetime) -> None:
    """Record on the caller's transaction that the workspace's token cannot be refreshed: its sending is held with
    no token re-check planned (``bot.services.outbox_hold`` re-checks only workspaces not waiting for a reinstall)
    until someone installs the app again."""
    conn.execute(update(_workspaces).where(_workspaces.c.team_id == team_id).values(held_for_reinstall(reason, now)))
