"""The escalation benchmark's hand-written baselines: the floor's query, and the least writes (by hand in Python,
or set-based in the database) that record the escalations it finds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    cast,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)

from storage.base import UTCDateTime
from storage.models import (
    Issue,
    IssueEvent,
    OutboxMessage,
)

#: The floor: the due escalations, every column, in the order ``claim_due_escalations`` takes them.
FLOOR_SQL = text(
    "SELECT * FROM issues WHERE status IN ('open', 'acknowledged') AND next_escalation_at <= :now "
    "ORDER BY next_escalation_at, id"
).bindparams(bindparam("now", type_=UTCDateTime()))


def _floor_writes(conn: Any, now: datetime) -> int:
    """The floor's query, then the same writes as ``escalate_due`` by hand: 1 UPDATE, 2 INSERTs (executemany)."""
    with conn.begin():
        rows = conn.execute(FLOOR_SQL, {"now": now}).mappings().all()
        if rows:
            conn.execute(
                update(Issue)
                .where(Issue.id == bindparam("b_id"))
                .values(escalation_level=bindparam("b_level"), next_escalation_at=None, updated_at=now),
                [{"b_id": r["id"], "b_level": min(3, r["escalation_level"] + 1)} for r in rows],
            )
            conn.execute(
                insert(IssueEvent),
                [
                    {
                        "issue_id": r["id"],
                        "at": now,
                        "actor": None,
                        "kind": "escalated",
                        "level": min(3, r["escalation_level"] + 1),
                        "detail": None,
                        "data": {"reason": "resolve", "skipped": []},
                    }
                    for r in rows
                ],
            )
            conn.execute(
                insert(OutboxMessage),
                [
                    {
                        "dedupe_key": f"bench-floor:{r['id']}:{purpose}",
                        "workspace_id": 1,
                        "partnership_id": r["partnership_id"],
                        "purpose": purpose,
                        "ref_id": r["id"],
                        "method": method,
                        "channel_id": "C0",
                        "user_id": None,
                        "status": "pending",
                        "attempts": 0,
                        "available_at": now,
                        "created_at": now,
                    }
                    for r in rows
                    for purpose, method in (("issue-card-update", "chat.update"), ("issue-escalation", "chat.postMessage"))
                ],
            )
    return len(rows)


def _set_writes(conn: Any, now: datetime, *, commit: bool) -> int:
    """The least any implementation can write: the same rows as ``_floor_writes``, set-based in the database.

    Three statements and no row ever reaches Python: INSERT ... SELECT of a history entry per due issue, INSERT ...
    SELECT of its two outbox rows, then one UPDATE raising each level (``next_escalation_at`` set to NULL: no
    working-time arithmetic at all, which a real escalation cannot skip). With ``commit=False`` the transaction is
    rolled back: the statements' cost without the commit that makes them durable.
    """
    due = and_(Issue.status.in_(("open", "acknowledged")), Issue.next_escalation_at <= literal(now, UTCDateTime()))
    level = case((Issue.escalation_level < 3, Issue.escalation_level + 1), else_=3)
    at = literal(now, UTCDateTime())
    kinds = union_all(
        select(literal("issue-card-update").label("purpose"), literal("chat.update").label("method")),
        select(literal("issue-escalation").label("purpose"), literal("chat.postMessage").label("method")),
    ).subquery()
    transaction = conn.begin()
    try:
        conn.execute(
            insert(IssueEvent).from_select(
                ["issue_id", "at", "kind", "level"], select(Issue.id, at, literal("escalated"), level).where(due)
            )
        )
        conn.execute(
            insert(OutboxMessage).from_select(
                [
                    "dedupe_key",
                    "workspace_id",
                    "partnership_id",
                    "purpose",
                    "ref_id",
                    "method",
                    "channel_id",
                    "status",
                    "attempts",
                    "available_at",
                    "created_at",
                ],
                select(
                    literal("bench-set:") + cast(Issue.id, String) + literal(":") + kinds.c.purpose,
                    literal(1),
                    Issue.partnership_id,
                    kinds.c.purpose,
                    Issue.id,
                    kinds.c.method,
                    literal("C0"),
                    literal("pending"),
                    literal(0),
                    at,
                    at,
                )
                .select_from(Issue)
                .join(kinds, literal(True))
                .where(due),
            )
        )
        fired = conn.execute(
            update(Issue).where(due).values(escalation_level=level, next_escalation_at=None, updated_at=at)
        ).rowcount
    except BaseException:
        transaction.rollback()
        raise
    if commit:
        transaction.commit()
    else:
        transaction.rollback()
    return int(fired)
