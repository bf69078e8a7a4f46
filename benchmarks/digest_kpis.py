"""The digest benchmark's agreed KPIs (issue 14): seeded rows and the floor's read of them.

With ``--kpis K --kpi-periods P`` each partnership gets K agreed KPIs (mixed weekly and monthly, every fourth with a
second agreed version that superseded the first part-way through) and P periods of figures each, up to the latest
period ended by the digest week's last day. The digest reads them with its batched KPI read
(``uow.kpi_figures.agreed``) for the figure window of the watermelon check, and judges each KPI's figure of the
week by the version in force for its period.

The floor's KPI part (``KPI_FLOOR_SQL``) is one hand-written query over the same rows: every figure in that window
of every agreed, unretired KPI, joined to its KPI and to the KPI's current version (its dimension, period and
thresholds), fetched fully. It is less than a watermelon check must do, on purpose: the check also picks, for a
figure of a period before a KPI's latest version, the version in force then (done in SQL with a correlated
subquery, that query took three times as long as the digest's KPI reads on PostgreSQL), and the floor should
not flatter the ratio.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from bot.services import kpi_rules
from bot.services.kpi_models import KpiPeriod
from bot.services.watermelon import figure_window, fresh_period_ends, last_day_of

#: Every figure in the window of an agreed, unretired KPI, with its KPI's definition in force now.
KPI_FLOOR_SQL = text(
    "SELECT k.partnership_id, k.id AS kpi_id, v.period_end, v.value, kv.version, kv.period, kv.direction, kv.target, "
    "kv.amber, kv.red, kv.dimension "
    "FROM kpis k JOIN kpi_values v ON v.kpi_id = k.id "
    "JOIN kpi_versions kv ON kv.kpi_id = k.id AND kv.version = k.current_version "
    "WHERE k.current_version IS NOT NULL AND k.retired_at IS NULL AND v.period_end >= :since AND v.period_end <= :until"
).bindparams(bindparam("since"), bindparam("until"))

#: (name, unit, direction, target, amber, red): what the seeded KPIs measure, in turn.
DEFINITIONS = (
    ("First-contact resolution", "%", "higher", 80.0, 75.0, 70.0),
    ("P1 response time", "min", "lower", 30.0, 45.0, 60.0),
    ("On-time delivery", "%", "higher", 95.0, 90.0, 85.0),
    ("Reopened tickets", "%", "lower", 5.0, 8.0, 12.0),
    ("Availability", "%", "higher", 99.5, 99.0, 98.0),
)


def kpi_window(ends_at: datetime, tz: str) -> tuple[date, date]:
    """The period ends the digest of the week ending at ``ends_at`` reads figures for (inclusive)."""
    return figure_window(last_day_of(ends_at, tz))


def floor_rows(conn: Connection, since: date, until: date) -> int:
    """Run the floor's KPI query for period ends ``since``..``until``; the number of figures it read."""
    return len(conn.execute(KPI_FLOOR_SQL, {"since": since, "until": until}).all())


def _period(j: int) -> KpiPeriod:
    """Every third KPI is monthly, the rest weekly."""
    return KpiPeriod.MONTHLY if j % 3 == 2 else KpiPeriod.WEEKLY


def kpi_rows(
    pid: int, *, kpis: int, periods: int, dimensions: tuple[str, ...], ends_at: datetime, tz: str, rng: random.Random
) -> dict[str, list[dict[str, Any]]]:
    """Partnership ``pid``'s agreed KPIs, their versions and ``periods`` figures each (ids explicit)."""
    last_day = last_day_of(ends_at, tz)
    created = datetime.combine(last_day, datetime.min.time(), tzinfo=UTC) - timedelta(days=400)
    rows: dict[str, list[dict[str, Any]]] = {"kpis": [], "kpi_versions": [], "kpi_values": []}
    for j in range(kpis):
        kpi_id = pid * 100 + j
        period = _period(j)
        ends = kpi_rules.period_ends_back(fresh_period_ends(last_day, period)[0], period, periods)
        name, unit, direction, target, amber, red = DEFINITIONS[j % len(DEFINITIONS)]
        two_versions = j % 4 == 3
        rows["kpis"].append(
            {
                "id": kpi_id,
                "partnership_id": pid,
                "number": j + 1,
                "key": f"kpi-{j + 1}",
                "delivered_by": "client" if j % 5 == 4 else "provider",
                "current_version": 2 if two_versions else 1,
                "created_by": "U0PLEAD",
                "created_at": created,
            }
        )
        # Version 1 judges every period; with two versions, version 2 (a target a step stricter) from mid-way on.
        starts = [ends[0]] + ([ends[len(ends) // 2]] if two_versions else [])
        for n, effective_from in enumerate(starts, start=1):
            step = (n - 1) * (1.0 if direction == "higher" else -1.0)
            rows["kpi_versions"].append(
                {
                    "id": kpi_id * 10 + n,
                    "kpi_id": kpi_id,
                    "version": n,
                    "name": f"{name} ({period.value})",
                    "measure": f"{name}, from the service desk",
                    "unit": unit,
                    "direction": direction,
                    "target": target + step,
                    "amber": amber + step,
                    "red": red + step,
                    "period": period.value,
                    "dimension": dimensions[j % len(dimensions)],
                    "status": "superseded" if n < len(starts) else "agreed",
                    "proposed_side": "provider",
                    "proposed_by": "U0PLEAD",
                    "proposed_at": created,
                    "responded_by": "U0CLEAD",
                    "responded_at": created,
                    "effective_from": effective_from,
                }
            )
        spread = abs(target - red) * 1.5
        for end in ends:
            rows["kpi_values"].append(
                {
                    "kpi_id": kpi_id,
                    "period_end": end,
                    "value": round(target + rng.uniform(-spread, spread), 1),
                    "source": "api",
                    "recorded_by": "monitor",
                    "recorded_at": datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
                }
            )
    return rows
