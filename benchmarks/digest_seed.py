"""The digest benchmark's data (``benchmarks.digest``): its rows, built and bulk-inserted.

Data (bulk-inserted with SQLAlchemy Core into a schema built by the real migrations, then ``ANALYZE``): N
partnerships (N = 10, 100, 1,000 by default, each size added to the same database in turn), each with 12 closed
weekly rounds of the same 3 scale questions (3 dimensions), 10 people per side asked, each answering with
probability 0.85 (so participation varies, and now and then a side falls below the anonymity threshold of 3 and
is withheld); a quarter of the answers carry a comment, stored with its sentiment score as the app stores it when
an answer is saved (computed at seed time, outside the measurement). That is about 12 x 20 x 3 = 720 answers per
partnership (about 610 with the 0.85 answer rate). No issues, actions or goals are seeded: their queries run on
empty sets.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text

from benchmarks import digest_kpis
from bot.services.sentiment import comment_sentiment
from storage.models import Answer, Kpi, KpiValue, KpiVersion, Partnership, PulseRound, Question, Response, Workspace

#: The measured instant: Monday 7 Dec 2026, 10:00 in New York, an hour after the digest time (Monday 09:00).
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
#: The digest time the week ends at (09:00 New York) and the chart's first instant (twelve local weeks before).
ENDS_AT = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
FIRST = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)  # 09:00 EDT, 84 local days earlier
WEEKS = 12
TIMEZONE = "America/New_York"
PEOPLE_PER_SIDE = 10
ANSWER_RATE = 0.85
COMMENT_RATE = 0.25
DIMENSIONS = ("communication", "delivery", "trust")
COMMENTS = (
    "Weekly syncs are useful and the notes arrive on time.",
    "Another SLA miss this week, and nobody told us before the customer did.",
    "The release is on track and ahead of schedule for the pilot stores.",
    "Not bad, but the backlog keeps growing and tickets wait too long.",
    "Blocked on access to the staging environment again.",
    "Great support from the provider team during the outage.",
    "Rework on the reporting again; the requirements were unclear.",
    "Escalations go to the right people now, thanks.",
    "Invoices do not match the agreed rate card.",
    "Handover between shifts missed two tickets.",
    "The new dashboard saves us an hour every morning.",
    "Overdue actions from the last review are still open.",
)


# --- the data ----------------------------------------------------------------------------------------------


def _partnership(pid: int, created: datetime) -> dict[str, Any]:
    return {
        "id": pid,
        "workspace_id": 1,
        "channel_id": f"CD{pid:07d}",
        "name": f"Partnership {pid}",
        "client_org": "Northwind Retail",
        "provider_org": f"Provider {pid}",
        "installing_side": "client",
        "is_connect": True,
        "timezone": TIMEZONE,
        "pulse_weekday": 2,
        "pulse_hour": 9,
        "pulse_minute": 0,
        "digest_weekday": 0,
        "digest_hour": 9,
        "digest_minute": 0,
        "status": "active",
        # Not due during the benchmark: nothing is scheduled, only built.
        "next_pulse_at": NOW + timedelta(days=30),
        "next_digest_at": NOW + timedelta(days=7),
        "created_by": "U0CLEAD",
        "created_at": created,
        "updated_at": created,
    }


def seed_rows(
    first_pid: int, last_pid: int, *, seed: int = 4, kpis: int = 0, kpi_periods: int = 12
) -> dict[str, list[dict[str, Any]]]:
    """Rows for partnerships ``first_pid..last_pid`` (ids are explicit, so sizes can be added in turn), each with
    ``kpis`` agreed KPIs of ``kpi_periods`` figures (``benchmarks.digest_kpis``; none by default)."""
    rng = random.Random(seed * 1_000_003 + first_pid)
    # The KPIs' figures draw from their own generator, so the answers are the same with or without KPIs.
    kpi_rng = random.Random(seed * 2_000_003 + first_pid)
    created = FIRST - timedelta(days=30)
    # Each comment's sentiment, stored as the app stores it when an answer is saved (``pulses.submit_answers``),
    # computed here at seed time: outside the measurement, as the app scores a comment once, not per digest.
    scores = {c: comment_sentiment(c) for c in COMMENTS}
    rows: dict[str, list[dict[str, Any]]] = {"partnerships": [], "rounds": [], "responses": [], "answers": []}
    rows.update({"kpis": [], "kpi_versions": [], "kpi_values": []})
    for pid in range(first_pid, last_pid + 1):
        rows["partnerships"].append(_partnership(pid, created))
        kpi = digest_kpis.kpi_rows(
            pid, kpis=kpis, periods=kpi_periods, dimensions=DIMENSIONS, ends_at=ENDS_AT, tz=TIMEZONE, rng=kpi_rng
        )
        for name, found in kpi.items():
            rows[name].extend(found)
        tone = rng.uniform(-1.0, 1.0)  # some partnerships are happier than others
        for k in range(WEEKS):
            round_id = pid * 100 + k
            closed = ENDS_AT - timedelta(days=7 * k + 3)
            rows["rounds"].append(
                {
                    "id": round_id,
                    "partnership_id": pid,
                    "sequence": WEEKS - k,
                    "scheduled_at": closed - timedelta(days=2),
                    "opened_at": closed - timedelta(days=2),
                    "closes_at": closed,
                    "status": "closed",
                    "asked_client": PEOPLE_PER_SIDE,
                    "asked_provider": PEOPLE_PER_SIDE,
                    "closed_at": closed,
                }
            )
            for side in ("client", "provider"):
                for person in range(PEOPLE_PER_SIDE):
                    if rng.random() >= ANSWER_RATE:
                        continue
                    response_id = round_id * 100 + (0 if side == "client" else 50) + person
                    rows["responses"].append(
                        {
                            "id": response_id,
                            "round_id": round_id,
                            "respondent_hash": f"{pid}:{side}:{person}",
                            "side": side,
                            "submitted_at": closed - timedelta(hours=12),
                            "updated_at": closed - timedelta(hours=12),
                        }
                    )
                    for q in range(len(DIMENSIONS)):
                        score = min(5, max(1, round(rng.gauss(3.4 + tone * 0.8 - (0.3 if side == "client" else 0), 0.9))))
                        comment = rng.choice(COMMENTS) if rng.random() < COMMENT_RATE else None
                        rows["answers"].append(
                            {
                                "response_id": response_id,
                                "question_id": q + 1,
                                "score": score,
                                "comment": comment,
                                "sentiment": scores[comment] if comment is not None else None,
                            }
                        )
    return rows


def load_base(engine: Engine) -> None:
    """The workspace and the three scale questions (one per dimension) every round asks."""
    created = FIRST - timedelta(days=60)
    with engine.begin() as conn:
        conn.execute(
            insert(Workspace),
            [{"id": 1, "team_id": "T0CLIENT", "name": "Northwind Retail", "bot_user_id": "U0BOT", "created_at": created}],
        )
        conn.execute(
            insert(Question),
            [
                {
                    "id": i + 1,
                    "partnership_id": None,
                    "key": f"bench-{d}",
                    "dimension": d,
                    "text_client": f"How is {d} going?",
                    "text_provider": f"How is {d} going?",
                    "kind": "scale",
                    "perspective": "mirrored",
                    "active": True,
                    "created_by": None,
                    "created_at": created,
                }
                for i, d in enumerate(DIMENSIONS)
            ],
        )


def load_rows(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> int:
    """Bulk-insert (Core executemany), then give the planner statistics. Returns the answers inserted."""
    with engine.begin() as conn:
        conn.execute(insert(Partnership), rows["partnerships"])
        conn.execute(insert(PulseRound), rows["rounds"])
        conn.execute(insert(Response), rows["responses"])
        conn.execute(insert(Answer), rows["answers"])
        for model, name in ((Kpi, "kpis"), (KpiVersion, "kpi_versions"), (KpiValue, "kpi_values")):
            if rows.get(name):
                conn.execute(insert(model), rows[name])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return len(rows["answers"])
