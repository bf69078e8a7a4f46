"""One measurement of the escalation benchmark, each in a fresh ``spawn``ed process: the call measured twice
(after a warm-up, then after undoing it), and what undoes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Engine,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from benchmarks.common import in_fresh_process
from benchmarks.escalation_floor import FLOOR_SQL, _floor_writes, _set_writes
from benchmarks.escalation_seed import BOT_USER, PEOPLE, TEAM, Seed
from benchmarks.measuring import _Statements, _timed
from storage.db import make_engine
from storage.models import (
    Action,
    Issue,
    IssueEvent,
    OutboxMessage,
    Partnership,
    Workspace,
)

#: Warm-ups run at this ``now``: nothing is due, nothing changes.
WARM_UP_AT = datetime(2020, 1, 6, 12, 0, tzinfo=UTC)
CHILD_TIMEOUT = 600.0


@dataclass(frozen=True)
class ResetState:
    """What a measured call may change, as loaded: passed to each measuring process so it can undo its first call."""

    issues: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    last_event_id: int


def reset_state(seed: Seed, last_event_id: int, changed_before: datetime) -> ResetState:
    """The rows of the issues due by ``changed_before`` and every action, as loaded."""
    restore = [
        {
            "b_id": r["id"],
            "b_level": r["escalation_level"],
            "b_next": r["next_escalation_at"],
            "b_updated": r["updated_at"],
            "b_card": r["card_ts"],
        }
        for r in seed.issues
        if r["next_escalation_at"] is not None and r["next_escalation_at"] <= changed_before
    ]
    return ResetState(issues=restore, actions=seed.actions, last_event_id=last_event_id)


def reset(engine: Engine, state: ResetState) -> None:
    """Undo what a measured call did: the due issues, new history, the outbox, actions."""
    with engine.begin() as conn:
        conn.execute(delete(OutboxMessage))
        conn.execute(delete(IssueEvent).where(IssueEvent.id > state.last_event_id))
        if state.issues:
            conn.execute(
                update(Issue)
                .where(Issue.id == bindparam("b_id"))
                .values(
                    escalation_level=bindparam("b_level"),
                    next_escalation_at=bindparam("b_next"),
                    updated_at=bindparam("b_updated"),
                    card_ts=bindparam("b_card"),
                ),
                state.issues,
            )
        conn.execute(delete(Action))
        if state.actions:
            conn.execute(insert(Action), state.actions)
        conn.execute(update(Partnership).values(status="active", pause_reason=None, paused_by=None))
        conn.execute(update(Workspace).values(sending_enabled=True, disabled_reason=None))


def _cold_then_warm(
    engine: Engine,
    call: Callable[[datetime], Any],
    now: datetime,
    state: ResetState,
    rows: Callable[[Any], int],
    *,
    end: Callable[[], Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Measure ``call(now)`` twice in this process: first as the first real call after a warm-up that touches
    nothing (``call`` at a ``now`` when nothing is due), then, after ``reset`` undid it, once more. The first
    pays what a long-running heartbeat pays once: compiling the write statements, the first flushes. The second
    is a tick of a process that has been running, and is the figure judged; the first is reported beside it.
    ``end`` (not timed) ends what the call left open, such as the floor's read transaction, before the reset."""
    call(WARM_UP_AT)
    statements = _Statements(engine)
    first, cold = _timed(lambda: call(now), statements)
    if end is not None:
        end()
    reset(engine, state)
    second, warm = _timed(lambda: call(now), statements)
    if rows(first) != rows(second):
        raise RuntimeError(f"the repeated call found {rows(second)} rows, the first {rows(first)}: the reset is incomplete")
    return second, {
        **warm,
        "rows": rows(second),
        "cold_ms": cold["ms"],
        "cold_queries": cold["queries"],
        "peak_rss_mb": max(cold["peak_rss_mb"], warm["peak_rss_mb"]),
        "rss_growth_mb": max(cold["rss_growth_mb"], warm["rss_growth_mb"]),
    }


def _null_sender_services(url: str) -> Any:
    """The services ``tick`` needs, with a sender that sends nothing (``tick`` itself is unchanged)."""
    from slack_sdk import WebClient

    from bot.clock import utcnow
    from bot.container import Services
    from bot.delivery.pacer import Pacer
    from bot.delivery.renderer import Renderer
    from bot.delivery.sender import DeliveryReport, OutboxSender
    from bot.settings import Settings
    from bot.workspace_clients import OneWorkspace
    from storage.db import make_session_factory
    from storage.uow import UnitOfWorkFactory

    class NullSender(OutboxSender):
        def deliver_pending(self) -> DeliveryReport:
            return DeliveryReport()

    engine = make_engine(url)
    uow_factory = UnitOfWorkFactory(make_session_factory(engine))
    client = WebClient(token="xox" + "b-unused")  # never called: the sender sends nothing
    secret = "benchmark-secret-key-0123456789abcdef0123456789"
    settings = Settings.load({"database_url": url, "secret_key": secret}, env_file=None)
    clients = OneWorkspace(client, team_id=TEAM, pacer=Pacer())
    sender = NullSender(uow_factory=uow_factory, clients=clients, renderer=Renderer(uow_factory, secret), clock=utcnow)
    return Services(
        settings=settings,
        engine=engine,
        uow_factory=uow_factory,
        secret_key=secret,
        clock=utcnow,
        client=client,
        clients=clients,
        sender=sender,
        team_id=TEAM,
        bot_user_id=BOT_USER,
    )


def _measure_floor(url: str, now: datetime, state: ResetState) -> dict[str, Any]:
    engine = make_engine(url)
    with engine.connect() as conn:
        _, m = _cold_then_warm(
            engine, lambda at: conn.execute(FLOOR_SQL, {"now": at}).all(), now, state, len, end=conn.rollback
        )
    engine.dispose()
    return m


def _measure_floor_writes(url: str, now: datetime, state: ResetState) -> dict[str, Any]:
    engine = make_engine(url)
    with engine.connect() as conn:
        _, m = _cold_then_warm(engine, lambda at: _floor_writes(conn, at), now, state, int)
    engine.dispose()
    return m


def _measure_set_writes(url: str, now: datetime, state: ResetState, *, commit: bool = True) -> dict[str, Any]:
    engine = make_engine(url)
    with engine.connect() as conn:
        _, m = _cold_then_warm(engine, lambda at: _set_writes(conn, at, commit=commit), now, state, int)
    engine.dispose()
    return m


def _measure_set_rollback(url: str, now: datetime, state: ResetState) -> dict[str, Any]:
    return _measure_set_writes(url, now, state, commit=False)


def _measure_escalate(url: str, now: datetime, state: ResetState) -> dict[str, Any]:
    from bot.services.escalation import escalate_due
    from storage.db import make_session_factory
    from storage.uow import UnitOfWorkFactory

    engine = make_engine(url)
    uow_factory = UnitOfWorkFactory(make_session_factory(engine))
    _, m = _cold_then_warm(engine, lambda at: escalate_due(uow_factory, now=at), now, state, int)
    engine.dispose()
    return m


def _measure_tick(url: str, now: datetime, state: ResetState) -> dict[str, Any]:
    from bot.jobs import TickReport, tick

    services = _null_sender_services(url)

    def escalations(report: TickReport) -> int:
        return report.escalations

    report, m = _cold_then_warm(services.engine, lambda at: tick(services, at), now, state, escalations)
    services.engine.dispose()
    return {**m, "action_reminders": report.action_reminders, "failures": report.failures}


def _measure_tick_send(url: str, now: datetime, state: ResetState) -> dict[str, Any]:
    from bot.delivery.pacer import Pacer
    from bot.harness import start_local_stack

    stack = start_local_stack(database_url=url, start=now, pacer=Pacer(speedup=1e6))
    try:
        sb = stack.sandbox
        members = [BOT_USER, *(p[0] for p in PEOPLE)]
        with stack.services.engine.connect() as conn:
            channels = list(conn.execute(select(Partnership.id, Partnership.channel_id)))
            cards = list(
                conn.execute(
                    select(Partnership.channel_id, Issue.card_ts).join(Partnership, Partnership.id == Issue.partnership_id)
                )
            )
        for pid, channel in channels:
            sb.add_channel(channel, f"partner-{pid}", TEAM, members=members, is_ext_shared=True)
        ws = sb.workspace
        for channel, ts in cards:  # every issue's card is on its channel, so updates find it
            ws.store_message(ws.channels[channel], ws.new_message(str(ts), text="card", blocks=None), None)
        stack.tick(WARM_UP_AT)
        statements = _Statements(stack.services.engine)
        calls_before = len(sb.calls)
        report, m = _timed(lambda: stack.tick(now), statements)
        calls = sb.calls[calls_before:]
        with stack.services.engine.connect() as conn:
            outbox = dict(
                conn.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).tuples().all()
            )
        return {
            **m,
            "rows": report.escalations,
            "action_reminders": report.action_reminders,
            "sent": report.delivery.sent,
            "slack_calls": len(calls),
            "slack_errors": sum(1 for c in calls if not (c.http_status == 200 and c.response.get("ok"))),
            "outbox": outbox,
            "failures": report.failures,
        }
    finally:
        stack.close()


MEASURES: dict[str, Callable[[str, datetime, ResetState], dict[str, Any]]] = {
    "floor": _measure_floor,
    "set_rollback": _measure_set_rollback,
    "set_writes": _measure_set_writes,
    "floor_writes": _measure_floor_writes,
    "escalate_due": _measure_escalate,
    "tick": _measure_tick,
    "tick_send": _measure_tick_send,
}


def measure(kind: str, url: str, now: datetime, state: ResetState) -> dict[str, Any]:
    """Run one measurement in a fresh ``spawn``ed process and return its figures."""
    return in_fresh_process(MEASURES[kind], url, now, state, name=f"bench-escalation-{kind}", timeout=CHILD_TIMEOUT)
