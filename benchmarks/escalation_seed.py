"""The escalation benchmark's data (``benchmarks.escalation``): built by the production functions, and loaded.

Data, bulk-inserted with SQLAlchemy Core into a schema built by the real migrations: 1 workspace, N
partnerships (8 people each: lead, sponsor and 2 members per side), working calendars in 10 time zones (some
Sunday-Thursday or six-day weeks, some other hours, holidays in 30 %), policy overrides in 10 %, M open issues
(severity S1 5 % / S2 20 % / S3 45 % / S4 30 %, either side, opened up to 120 days before with a mean age of 10
days, mostly in the owning side's working hours, about half acknowledged, every card posted), their history, and one action per 4 issues (about 40 %
overdue). Each issue's level and ``next_escalation_at`` are what a heartbeat that ran until ``last tick``
would have left: ``escalation_policy.decide`` (what the escalation pass applies) decides the levels fired before
its acknowledgement and up to the last tick, and ``next_escalation_time`` gives the index key; likewise each action's
``next_reminder_at`` comes from ``next_reminder_time``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Engine,
    func,
    insert,
    select,
    text,
)

from bot.services.actions import next_reminder_time
from bot.services.escalation_policy import decide, next_escalation_time, policy_from_rows
from bot.services.issue_models import DEFAULT_CATEGORIES
from bot.services.working_calendar import WorkingCalendar, is_working_time
from storage.models import (
    Action,
    EscalationPolicyRow,
    Holiday,
    Issue,
    IssueEvent,
    Member,
    Partnership,
    Workspace,
)

#: The last tick before the measured ones: a Tuesday, 15:00 UTC.
LAST_TICK = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
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
