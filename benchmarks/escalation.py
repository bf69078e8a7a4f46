"""Escalation (issue 3): ``tick()`` with 10,000 open issues across 1,000 partnerships, next to the SQL floor.

The **floor** is one hand-written SQL query (``text()``) selecting the issues whose escalation is due at
``now`` — unresolved, ``next_escalation_at <= now``, the rows ``escalate_due`` claims — fetched fully (every
column). Measured next to it, each in a fresh child process (multiprocessing ``spawn``):

- **floor + writes (Core)**: the same query, then the writes ``escalate_due`` makes, by hand with SQLAlchemy
  Core in one transaction: one executemany UPDATE of the due issues, one executemany INSERT of a history entry
  each, one of two outbox rows each. No working-time arithmetic, no ORM: the least the database work can cost.
- **escalate_due**: ``bot.services.escalation.escalate_due(uow_factory, now=now)``, the tick's escalation step:
  claims the due issues (one indexed query per batch of 200), decides each one's level in its owning side's
  working hours, records the history entries, queues the outbox rows (card update + escalation message) and
  reschedules each issue. Nothing is sent.
- **tick (no send)**: ``bot.jobs.tick(services, now)`` exactly as the heartbeat calls it, with an
  ``OutboxSender`` whose ``deliver_pending`` sends nothing: open, remind and close rounds (none are due),
  escalate, overdue-action reminders. This is what the target is judged on.
- **tick + send**: ``LocalStack.tick(now)`` (the same ``tick`` with the real sender) against the Slack sandbox
  with the demo world: the queued rows are rendered and sent. The bot's pacer is switched off
  (``Pacer(speedup=1e6)``) and the sandbox's rate limits are off, so this is the bot's own throughput, not
  Slack's limits. Once per scenario; the sandbox runs in the measured process, so its memory counts.

Data, bulk-inserted with SQLAlchemy Core into a schema built by the real migrations: 1 workspace, N
partnerships (8 people each: lead, sponsor and 2 members per side), working calendars in 10 time zones (some
Sunday-Thursday or six-day weeks, some other hours, holidays in 30 %), policy overrides in 10 %, M open issues
(severity S1 5 % / S2 20 % / S3 45 % / S4 30 %, either side, opened up to 120 days before with a mean age of 10
days, mostly in the owning side's working hours, about half acknowledged, every card posted), their history, and one action per 4 issues (about 40 %
overdue). Each issue's level and ``next_escalation_at`` are what a heartbeat that ran until ``last tick``
would have left: ``escalation_policy.decide`` (what the escalation pass applies) decides the levels fired before
its acknowledgement and up to the last tick, and ``next_escalation_time`` gives the index key; likewise each action's
``next_reminder_at`` comes from ``next_reminder_time``.

Scenarios: **steady**, a tick when ~1 % of the issues have become due since the last tick, and **catch-up**,
a tick after downtime when ~10 % have (``now``: the whole minute by which the number of due issues is nearest
1 %/10 %; due times cluster at the starts and ends of working days). Between measurements the changed rows are restored, so every measurement starts from the same state.

Each measured call runs in a fresh process after a warm-up that touches nothing (the same call at a ``now``
when nothing is due: connection, mappers and the claim queries are ready). Reported: wall and CPU time,
SQL statements as the driver gets them (an executemany counts once; on SQLite the ORM's INSERT ... RETURNING
goes one row per statement), peak RSS growth during the call (the kernel's peak-RSS mark
``VmHWM``, reset just before the call, minus the RSS before it) and the process's absolute peak RSS (``VmHWM``;
not ``ru_maxrss``, which a spawned child inherits from its parent). ``rounds`` measurements of each, in alternating
order (floor, floor + writes, escalate_due, tick, then the reverse); the medians are reported. Targets (reported, not
asserted): tick (no send) within 3x the floor, and its process's peak RSS under 200 MB.
"""

from __future__ import annotations

import math
import os
import random
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Engine,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)

from benchmarks.common import fmt, in_fresh_process, postgres_database, sqlite_database, table
from bot.services.actions import next_reminder_time
from bot.services.escalation_policy import decide, next_escalation_time, policy_from_rows
from bot.services.issue_models import DEFAULT_CATEGORIES
from bot.services.working_calendar import WorkingCalendar, is_working_time
from storage.base import UTCDateTime
from storage.db import make_engine
from storage.models import (
    Action,
    EscalationPolicyRow,
    Holiday,
    Issue,
    IssueEvent,
    Member,
    OutboxMessage,
    Partnership,
    Workspace,
)

#: The last tick before the measured ones: a Tuesday, 15:00 UTC.
LAST_TICK = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
#: Warm-ups run at this ``now``: nothing is due, nothing changes.
WARM_UP_AT = datetime(2020, 1, 6, 12, 0, tzinfo=UTC)
SCENARIOS = (("steady", 0.01), ("catch-up", 0.10))
TEAM, PROVIDER_TEAM, BOT_USER = "T0CLIENT", "T0PROVID", "U0BOT"  # the sandbox's demo world
#: (user id, team, side, role): the same eight demo-world people in every partnership, so the sandbox knows them.
PEOPLE = (
    ("U0CLEAD", TEAM, "client", "lead"),
    ("U0CSPON", TEAM, "client", "sponsor"),
    ("U0CMEM1", TEAM, "client", "member"),
    ("U0CMEM2", TEAM, "client", "member"),
    ("U0PLEAD", PROVIDER_TEAM, "provider", "lead"),
    ("U0PSPON", PROVIDER_TEAM, "provider", "sponsor"),
    ("U0PMEM1", PROVIDER_TEAM, "provider", "member"),
    ("U0PMEM2", PROVIDER_TEAM, "provider", "member"),
)
CLIENT_ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London", "Europe/Berlin")
PROVIDER_ZONES = ("Asia/Kolkata", "Europe/Warsaw", "America/Sao_Paulo", "Asia/Manila", "Europe/London", "Asia/Tokyo")
SEVERITY_WEIGHTS = (("S1", 5), ("S2", 20), ("S3", 45), ("S4", 30))
WORDS = (
    "the report arrived late again and the team had to rework the numbers before the steering meeting "
    "handover missed two tickets escalation path unclear invoices do not match the agreed rate card "
    "access to the staging environment was revoked without notice release notes missing customer impact"
).split()
#: The floor: the due escalations, every column, in the order ``claim_due_escalations`` takes them.
FLOOR_SQL = text(
    "SELECT * FROM issues WHERE status IN ('open', 'acknowledged') AND next_escalation_at <= :now "
    "ORDER BY next_escalation_at, id"
).bindparams(bindparam("now", type_=UTCDateTime()))
TARGET_RATIO = 3.0
TARGET_PEAK_MB = 200.0
CHILD_TIMEOUT = 600.0
KINDS = ("floor", "set_rollback", "set_writes", "floor_writes", "escalate_due", "tick")


# --- the data ----------------------------------------------------------------------------------------------


@dataclass
class Seed:
    """Rows to bulk-insert, and what the benchmark needs to know about them."""

    workspace: dict[str, Any]
    partnerships: list[dict[str, Any]]
    members: list[dict[str, Any]]
    holidays: list[dict[str, Any]]
    policies: list[dict[str, Any]]
    issues: list[dict[str, Any]]
    events: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    seconds: float = 0.0
    due_times: list[datetime] = field(default_factory=list)


def _minute(at: datetime) -> datetime:
    """Rounded up to the next whole minute."""
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + timedelta(minutes=1)


def _text(rng: random.Random, low: int, high: int) -> str:
    words: list[str] = []
    target = rng.randint(low, high)
    while sum(len(w) + 1 for w in words) < target:
        words.append(rng.choice(WORDS))
    return " ".join(words).capitalize() + "."


def build_seed(*, issues: int, partnerships: int, seed: int = 3) -> Seed:
    """The benchmark's data, with each issue's escalation state computed by the production functions."""
    started = time.monotonic()
    rng = random.Random(seed)
    created = LAST_TICK - timedelta(days=200)
    workspace = {"id": 1, "team_id": TEAM, "name": "Northwind Retail", "bot_user_id": BOT_USER, "created_at": created}
    p_rows: list[dict[str, Any]] = []
    m_rows: list[dict[str, Any]] = []
    h_rows: list[dict[str, Any]] = []
    pol_rows: list[dict[str, Any]] = []
    calendars: dict[tuple[int, str], WorkingCalendar] = {}
    policies = {}
    for pid in range(1, partnerships + 1):
        client_zone, provider_zone = rng.choice(CLIENT_ZONES), rng.choice(PROVIDER_ZONES)
        row: dict[str, Any] = {
            "id": pid,
            "workspace_id": 1,
            "channel_id": f"CB{pid:07d}",
            "name": f"Partnership {pid}",
            "client_org": "Northwind Retail",
            "provider_org": f"Provider {pid}",
            "installing_side": "client",
            "is_connect": True,
            "timezone": client_zone,
            "pulse_weekday": rng.randrange(5),
            "pulse_hour": 9,
            "pulse_minute": 0,
            "status": "active",
            # Later than every measured tick: no pulse round is due (the fan-out benchmark measures those).
            "next_pulse_at": LAST_TICK + timedelta(days=30),
            # Likewise no digest or scorecard (left NULL, the warm-up tick in 2020 would compute 2020 times and the
            # measured tick would skip six years of missed weeks): this benchmark measures escalations.
            "next_digest_at": LAST_TICK + timedelta(days=30),
            "next_scorecard_at": LAST_TICK + timedelta(days=30),
            "menu_ts": None,
            "created_by": "U0CLEAD",
            "created_at": created,
            "updated_at": created,
            "client_timezone": client_zone if rng.random() < 0.3 else None,
            "provider_timezone": provider_zone,
            "issue_categories": None,
        }
        for side, zone in (("client", client_zone), ("provider", provider_zone)):
            r = rng.random()
            workdays = "0,1,2,3,4" if r < 0.9 else "6,0,1,2,3" if r < 0.95 else "0,1,2,3,4,5"
            r = rng.random()
            start, end = ("09:00", "17:00") if r < 0.8 else ("08:00", "16:00") if r < 0.9 else ("10:00", "18:30")
            row[f"{side}_workdays"], row[f"{side}_day_start"], row[f"{side}_day_end"] = workdays, start, end
            days: set[date] = set()
            if rng.random() < 0.3:
                for _ in range(rng.randint(1, 3)):
                    days.add(LAST_TICK.date() + timedelta(days=rng.randint(-60, 30)))
            for day in sorted(days):
                h_rows.append(
                    {
                        "partnership_id": pid,
                        "side": side,
                        "day": day,
                        "name": "Holiday",
                        "created_by": "U0CLEAD",
                        "created_at": created,
                    }
                )
            calendars[(pid, side)] = WorkingCalendar(
                timezone=zone,
                workdays=frozenset(int(d) for d in workdays.split(",")),
                day_start=datetime.strptime(start, "%H:%M").time(),
                day_end=datetime.strptime(end, "%H:%M").time(),
                holidays=frozenset(days),
            )
        overrides: list[EscalationPolicyRow] = []
        if rng.random() < 0.1:
            override = {
                "partnership_id": pid,
                "severity": rng.choice(("S1", "S2", "S3")),
                "acknowledge_minutes": rng.choice((30, 120, 240)),
                "resolve_minutes": rng.choice((480, 960, 2400)),
                "updated_by": "U0CLEAD",
                "updated_at": created,
            }
            pol_rows.append(override)
            overrides.append(EscalationPolicyRow(**override))
        policies[pid] = policy_from_rows(overrides)
        p_rows.append(row)
        for user_id, team, side, role in PEOPLE:
            m_rows.append(
                {
                    "partnership_id": pid,
                    "user_id": user_id,
                    "team_id": team,
                    "display_name": user_id,
                    "tz": None,
                    "side": side,
                    "side_override": None,
                    "role": role,
                    "is_bot": False,
                    "in_channel": True,
                    "deleted": False,
                    "joined_at": created,
                    "updated_at": created,
                }
            )

    i_rows: list[dict[str, Any]] = []
    e_rows: list[dict[str, Any]] = []
    numbers: dict[int, int] = {}
    severities = [s for s, _ in SEVERITY_WEIGHTS]
    weights = [w for _, w in SEVERITY_WEIGHTS]
    owners = {side: [u for u, _, s, role in PEOPLE if s == side and role != "sponsor"] for side in ("client", "provider")}
    for iid in range(1, issues + 1):
        pid = rng.randint(1, partnerships)
        number = numbers[pid] = numbers.get(pid, 0) + 1
        severity = rng.choices(severities, weights)[0]
        side = rng.choice(("client", "provider"))
        age = timedelta(minutes=int(min(120 * 1440, max(5, rng.expovariate(1 / (10 * 1440))))))
        opened = LAST_TICK - age
        policy, calendar = policies[pid], calendars[(pid, side)]
        local = opened.astimezone(calendar.zone)
        if rng.random() < 0.8 and calendar.is_workday(local.date()):
            # Most issues are logged during the owning side's working day.
            span = int((calendar.day_length.total_seconds() - 60) // 60)
            day_start = datetime.combine(local.date(), calendar.day_start, tzinfo=calendar.zone)
            moved = (day_start + timedelta(minutes=rng.randint(0, span))).astimezone(UTC)
            if moved < LAST_TICK - timedelta(minutes=5):
                opened, age = moved, LAST_TICK - moved
        acked: datetime | None = None
        if rng.random() < (0.3 if age < timedelta(days=1) else 0.6):
            acked = opened + timedelta(minutes=rng.randint(0, int(min(age, timedelta(days=3)).total_seconds() // 60)))
        # The levels a heartbeat running until LAST_TICK fired: before the acknowledgement, then up to LAST_TICK.
        before_ack = 0
        if acked:
            unacked = Issue(status="open", severity=severity, opened_at=opened, escalation_level=0)
            before_ack = decide(unacked, policy, calendar, acked).level or 0
        status = "acknowledged" if acked else "open"
        probe = Issue(status=status, severity=severity, opened_at=opened, acknowledged_at=acked, escalation_level=before_ack)
        level = decide(probe, policy, calendar, LAST_TICK).level or before_ack
        probe.escalation_level = level
        next_at = next_escalation_time(probe, policy, calendar)
        raiser = rng.choice(PEOPLE)
        title = _text(rng, 20, 80)[:150]
        i_rows.append(
            {
                "id": iid,
                "partnership_id": pid,
                "number": number,
                "title": title,
                "details": _text(rng, 60, 600),
                "severity": severity,
                "category": rng.choice(DEFAULT_CATEGORIES),
                "owning_side": side,
                "owner_id": rng.choice(owners[side]),
                "raised_by": raiser[0],
                "raised_by_side": raiser[2],
                "due_on": (LAST_TICK + timedelta(days=rng.randint(-5, 40))).date() if rng.random() < 0.3 else None,
                "status": status,
                "created_at": opened,
                "opened_at": opened,
                "acknowledged_at": acked,
                "acknowledged_by": owners[side][0] if acked else None,
                "resolved_at": None,
                "resolved_by": None,
                "escalation_level": level,
                "next_escalation_at": next_at,
                "card_ts": f"1600000000.{iid:06d}",
                "source_permalink": None,
                "request_key": f"bench:{iid}",
                "updated_at": max(opened, acked or opened),
            }
        )
        e_rows.append(_event(iid, opened, raiser[0], "created", None))
        if acked:
            e_rows.append(_event(iid, acked, owners[side][0], "acknowledged", None))
        for lvl in range(1, level + 1):
            e_rows.append(_event(iid, min(LAST_TICK, opened + timedelta(hours=lvl)), None, "escalated", lvl))

    a_rows: list[dict[str, Any]] = []
    for k in range(issues // 4):
        issue = i_rows[rng.randrange(len(i_rows))]
        pid, side = issue["partnership_id"], issue["owning_side"]
        calendar = calendars[(pid, side)]
        today = LAST_TICK.astimezone(calendar.zone).date()
        due_on = today + timedelta(days=rng.randint(-20, 30))
        # Overdue actions were reminded today if the last tick fell in the owner's working hours, else the day before.
        reminded = None
        if due_on < today:
            reminded = today if is_working_time(LAST_TICK, calendar) else today - timedelta(days=1)
        # The next reminder time the reminder job (or creating the action) would have left at the last tick.
        probe = Action(status="open", due_on=due_on, last_reminded_on=reminded)
        next_reminder = next_reminder_time(probe, calendar, after=LAST_TICK)
        a_rows.append(
            {
                "next_reminder_at": next_reminder,
                "partnership_id": pid,
                "issue_id": issue["id"],
                "followup_id": None,
                "title": _text(rng, 20, 80)[:150],
                "owner_id": issue["owner_id"],
                "side": side,
                "due_on": due_on,
                "status": "open",
                "created_by": issue["raised_by"],
                "created_at": issue["opened_at"],
                "closed_at": None,
                "closed_by": None,
                "last_reminded_on": reminded,
                "request_key": f"bench-action:{k}",
                "updated_at": issue["opened_at"],
            }
        )
    due_times = sorted(r["next_escalation_at"] for r in i_rows if r["next_escalation_at"] is not None)
    return Seed(
        workspace=workspace,
        partnerships=p_rows,
        members=m_rows,
        holidays=h_rows,
        policies=pol_rows,
        issues=i_rows,
        events=e_rows,
        actions=a_rows,
        seconds=time.monotonic() - started,
        due_times=due_times,
    )


def _event(issue_id: int, at: datetime, actor: str | None, kind: str, level: int | None) -> dict[str, Any]:
    return {"issue_id": issue_id, "at": at, "actor": actor, "kind": kind, "level": level, "detail": None, "data": None}


def scenario_now(seed: Seed, share: float, issues: int) -> datetime:
    """The tick at which about ``share`` of the issues have become due since the last tick."""
    if not seed.due_times:
        return LAST_TICK + timedelta(minutes=1)
    # Due times cluster (at the ends and starts of working days): take the whole minute whose count is nearest.
    target = max(1, round(share * issues))
    best, best_gap = LAST_TICK + timedelta(minutes=1), target
    for count, at in enumerate(seed.due_times, start=1):
        nxt = seed.due_times[count] if count < len(seed.due_times) else None
        if nxt is not None and _minute(nxt) == _minute(at):
            continue  # not the last issue due by this minute
        if abs(count - target) < best_gap:
            best, best_gap = _minute(at), abs(count - target)
        if count > target:
            break
    return best


# --- databases ---------------------------------------------------------------------------------------------


def load_seed(engine: Engine, seed: Seed) -> int:
    """Bulk-insert the seed (Core executemany). Returns the largest history entry id (entries after it are new)."""
    with engine.begin() as conn:
        conn.execute(insert(Workspace), [seed.workspace])
        conn.execute(insert(Partnership), seed.partnerships)
        conn.execute(insert(Member), seed.members)
        if seed.holidays:
            conn.execute(insert(Holiday), seed.holidays)
        if seed.policies:
            conn.execute(insert(EscalationPolicyRow), seed.policies)
        conn.execute(insert(Issue), seed.issues)
        conn.execute(insert(IssueEvent), seed.events)
        if seed.actions:
            conn.execute(insert(Action), seed.actions)
        if conn.dialect.name == "postgresql":
            # Ids were given explicitly: move the sequences past them, then give the planner statistics.
            for name in ("workspaces", "partnerships", "issues"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    with engine.connect() as conn:
        return int(conn.scalar(select(func.max(IssueEvent.id))) or 0)


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


# --- one measurement, in a fresh process ---------------------------------------------------------------------


def _proc_status_mb(field_name: str) -> float:
    """A ``VmRSS``/``VmHWM`` figure of this process from /proc/self/status, in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024.0
    raise LookupError(field_name)


def _reset_peak() -> bool:
    """Reset this process's peak RSS (``VmHWM``) to its current RSS; False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


class _Memory:
    """Peak RSS of the measured call: growth over the RSS before it, and the process's absolute peak.

    ``VmHWM`` from /proc rather than ``ru_maxrss``: a spawned child's ``ru_maxrss`` starts at its parent's
    RSS (it survives fork and exec), which would hide anything smaller. Without /proc it falls back to
    ``ru_maxrss`` (peak since the process started) and says so.
    """

    def __init__(self) -> None:
        self.proc = os.path.exists("/proc/self/status")
        if self.proc:
            self.peak_before = _proc_status_mb("VmHWM")
            self.rss_before = _proc_status_mb("VmRSS")
            self.reset = _reset_peak()
        else:
            self.peak_before = self.rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
            self.reset = False

    def figures(self) -> dict[str, Any]:
        if self.proc:
            peak = _proc_status_mb("VmHWM")
            source = "VmHWM (reset before the call)" if self.reset else "VmHWM"
        else:
            peak, source = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "ru_maxrss"
        return {
            "rss_before_mb": self.rss_before,
            "rss_growth_mb": max(0.0, peak - self.rss_before)
            if self.reset or not self.proc
            else max(0.0, peak - self.peak_before),
            "peak_rss_mb": max(peak, self.peak_before),
            "memory_source": source,
        }


class _Statements:
    """Counts SQL statements sent through an engine (an executemany counts once)."""

    def __init__(self, engine: Engine) -> None:
        from sqlalchemy import event

        self.count = 0
        self.executemany = 0
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        self.count += 1
        self.executemany += int(executemany)


def _timed(fn: Callable[[], Any], statements: _Statements | None) -> tuple[Any, dict[str, Any]]:
    queries_before = statements.count if statements else 0
    memory = _Memory()
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return value, {
        "ms": wall * 1000,
        "cpu_ms": cpu * 1000,
        "queries": (statements.count - queries_before) if statements else None,
        **memory.figures(),
    }


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


def _measure_floor_writes(url: str, now: datetime, state: ResetState) -> dict[str, Any]:
    engine = make_engine(url)
    with engine.connect() as conn:
        _, m = _cold_then_warm(engine, lambda at: _floor_writes(conn, at), now, state, int)
    engine.dispose()
    return m


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


# --- the run -------------------------------------------------------------------------------------------------


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    if not samples:
        return {}
    out: dict[str, Any] = {
        "ms": statistics.median(s["ms"] for s in samples),
        "cpu_ms": statistics.median(s["cpu_ms"] for s in samples),
        "ms_all": [round(s["ms"], 2) for s in samples],
        "cold_ms": statistics.median(s["cold_ms"] for s in samples) if "cold_ms" in samples[0] else None,
        "queries": samples[0]["queries"],
        "rows": samples[0]["rows"],
        "rss_growth_mb": max(s["rss_growth_mb"] for s in samples),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in samples),
    }
    for key in ("action_reminders", "sent", "slack_calls", "slack_errors", "outbox", "failures"):
        if key in samples[-1]:
            out[key] = samples[-1][key]
    return out


def run_database(label: str, url: str, seed: Seed, *, issues: int, rounds: int, send: bool) -> dict[str, Any]:
    """Load the seed into ``url`` and measure every scenario there."""
    engine = make_engine(url)
    try:
        started = time.monotonic()
        last_event_id = load_seed(engine, seed)
        load_s = time.monotonic() - started
        nows = {name: scenario_now(seed, share, issues) for name, share in SCENARIOS}
        state = reset_state(seed, last_event_id, max(nows.values()))
        scenarios = []
        dirty = False
        for name, share in SCENARIOS:
            now = nows[name]
            samples: dict[str, list[dict[str, Any]]] = {k: [] for k in (*KINDS, "tick_send")}
            for r in range(rounds):
                for kind in KINDS if r % 2 == 0 else tuple(reversed(KINDS)):
                    if dirty:
                        reset(engine, state)
                    samples[kind].append(measure(kind, url, now, state))
                    dirty = kind != "floor"
            if send:
                if dirty:
                    reset(engine, state)
                samples["tick_send"].append(measure("tick_send", url, now, state))
                dirty = True
            summaries = {k: _summary(v) for k, v in samples.items() if v}
            floor_ms = summaries["floor"]["ms"]
            writes_ms = summaries["floor_writes"]["ms"]
            set_ms = summaries["set_writes"]["ms"]
            for s in summaries.values():
                s["ratio"] = s["ms"] / floor_ms if floor_ms else math.nan
                s["ratio_vs_set"] = s["ms"] / set_ms if set_ms else math.nan
                s["ratio_vs_writes"] = s["ms"] / writes_ms if writes_ms else math.nan
            tick = summaries["tick"]
            escalate = summaries["escalate_due"]
            scenario = {
                "name": name,
                "target_share": share,
                "now": now.isoformat(),
                "since_last_tick": str(now - LAST_TICK),
                "due": summaries["floor"]["rows"],
                "escalated": escalate["rows"],
                "same_set": escalate["rows"] == summaries["floor"]["rows"],
                "measured": summaries,
                "meets_targets": tick["ratio"] <= TARGET_RATIO and tick["peak_rss_mb"] < TARGET_PEAK_MB,
                "escalate_due_meets_targets": escalate["ratio"] <= TARGET_RATIO and escalate["peak_rss_mb"] < TARGET_PEAK_MB,
            }
            scenarios.append(scenario)
            print(
                f"  {label} {name}: {scenario['due']} due; floor {floor_ms:.1f} ms, escalate_due "
                f"{escalate['ms']:.1f} ms ({escalate['ratio']:.1f}x), tick {tick['ms']:.1f} ms "
                f"({tick['ratio']:.1f}x), peak {tick['peak_rss_mb']:.0f} MB",
                flush=True,
            )
        if dirty:
            reset(engine, state)
        return {"database": label, "load_seconds": load_s, "scenarios": scenarios}
    finally:
        engine.dispose()


def run_escalation(
    *,
    issues: int = 10_000,
    partnerships: int = 1_000,
    rounds: int = 3,
    postgres_url: str | None = None,
    send: bool = True,
) -> dict[str, Any]:
    """SQLite always, PostgreSQL when ``postgres_url`` (or ``BENCH_POSTGRES_URL``) is given. JSON-ready results."""
    postgres_url = postgres_url or os.environ.get("BENCH_POSTGRES_URL") or None
    seed = build_seed(issues=issues, partnerships=partnerships)
    print(f"  seed: {issues} issues, {partnerships} partnerships computed in {seed.seconds:.1f} s", flush=True)
    databases = []
    with sqlite_database("escalation") as url:
        databases.append(run_database("SQLite", url, seed, issues=issues, rounds=rounds, send=send))
    if postgres_url:
        with postgres_database(postgres_url, "escalation") as url:
            databases.append(run_database("PostgreSQL", url, seed, issues=issues, rounds=rounds, send=send))
    return {
        "issues": issues,
        "partnerships": partnerships,
        "unresolved_with_next_escalation": len(seed.due_times),
        "actions": len(seed.actions),
        "last_tick": LAST_TICK.isoformat(),
        "rounds": rounds,
        "seed_seconds": seed.seconds,
        "targets": {"ratio_max": TARGET_RATIO, "peak_rss_mb_max": TARGET_PEAK_MB, "judged_on": "tick (no send)"},
        "memory": "VmHWM of a fresh spawned process: peak during the call minus RSS before it, and the absolute peak",
        "databases": databases,
    }


LABELS = {
    "floor": "floor: 1 SQL query",
    "set_rollback": "set-based writes, rolled back",
    "set_writes": "set-based writes, committed",
    "floor_writes": "floor + writes (Core)",
    "escalate_due": "escalate_due",
    "tick": "tick (no send)",
    "tick_send": "tick + send (sandbox)",
}


def render(results: dict[str, Any]) -> str:
    """The escalation tables, one per database."""
    parts = [
        f"Escalation: {results['issues']:,} open issues in {results['partnerships']:,} partnerships "
        f"({results['unresolved_with_next_escalation']:,} with a next escalation, {results['actions']:,} actions); "
        f"median of {results['rounds']} fresh processes each (tick + send: 1). Target: tick (no send) <= "
        f"{results['targets']['ratio_max']:g}x the floor and peak RSS < {results['targets']['peak_rss_mb_max']:g} MB."
    ]
    headers = [
        "scenario",
        "measured",
        "rows",
        "ms",
        "cpu ms",
        "1st call ms",
        "SQL stmts",
        "x floor",
        "x set",
        "x f+w",
        "RSS +MB",
        "peak MB",
    ]
    for db in results["databases"]:
        rows = []
        verdicts = []
        for sc in db["scenarios"]:
            title = f"{sc['name']} ({sc['due']} due, +{sc['since_last_tick']})"
            for kind in (*KINDS, "tick_send"):
                s = sc["measured"].get(kind)
                if not s:
                    continue
                rows.append(
                    [
                        title,
                        LABELS[kind],
                        str(s["rows"]),
                        fmt(s["ms"]),
                        fmt(s["cpu_ms"]),
                        "-" if s.get("cold_ms") is None else fmt(s["cold_ms"]),
                        "-" if s["queries"] is None else str(s["queries"]),
                        fmt(s["ratio"], 2),
                        fmt(s["ratio_vs_set"], 2),
                        fmt(s["ratio_vs_writes"], 2),
                        fmt(s["rss_growth_mb"]),
                        fmt(s["peak_rss_mb"]),
                    ]
                )
                title = ""
            send = sc["measured"].get("tick_send")
            extra = ""
            if send:
                extra = (
                    f"; tick + send: {send.get('sent', 0)} sent in {send['slack_calls']} Slack calls "
                    f"({send['slack_errors']} errors), outbox {send.get('outbox')}"
                )
            verdicts.append(
                f"{sc['name']}: meets targets: {'yes' if sc['meets_targets'] else 'no'} "
                f"(escalate_due alone: {'yes' if sc['escalate_due_meets_targets'] else 'no'}); "
                f"escalated {sc['escalated']} of {sc['due']} due{extra}"
            )
        parts.append(f"{db['database']} (seed loaded in {db['load_seconds']:.1f} s)\n" + table(headers, rows))
        parts.append("\n".join(verdicts))
    return "\n\n".join(parts)
