"""The agreed KPIs of many partnerships with their versions and recent figures, read in three statements
whatever the number of partnerships (the digest's batched way; the watermelon check and the export use them).

The KPIs and figures are named tuples of the columns the read models use, the versions (about one per KPI)
plain rows, all read on the session's connection: a batch of
1,000 digests with 10 KPIs each reads 10,000 KPIs, 12,000 versions and 69,000 figures, and as ORM objects (kept in
the session's identity map) they made the digest benchmark's batched build 4.0x its floor on SQLite and 5.2x on
PostgreSQL, with a peak of 250 MB on SQLite (3.2x, 3.3x and 158 MB since; README, Benchmarks). A plain ``Row`` would
save making the tuples, but its attributes cost ten times a named tuple's, and the build more CPU in all.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, select

from storage.models import Kpi, KpiValue, KpiVersion
from storage.repositories.base import Repository


class KpiRow(NamedTuple):
    id: int
    partnership_id: int
    number: int
    key: str
    delivered_by: str
    current_version: int | None
    retired_at: datetime | None


#: A whole ``kpi_versions`` row read as plain columns (attribute access by column name, as on the ORM object): a
#: batch reads about one per KPI, so the slower attribute access of a ``Row`` costs little there.
KpiVersionRow = Row[*tuple[Any, ...]]


class KpiValueRow(NamedTuple):
    kpi_id: int
    period_end: date
    value: float
    note: str | None
    source: str


@dataclass
class KpiRows:
    """One agreed, unretired KPI: its row, all its versions (oldest first) and its figures in the window read
    (stored rows or, read in a batch, named tuples or plain rows of the same columns)."""

    kpi: Kpi | KpiRow
    versions: list[KpiVersion | KpiVersionRow] = field(default_factory=list)
    values: list[KpiValue | KpiValueRow] = field(default_factory=list)


def _columns(model: Any, row: type[tuple[Any, ...]]) -> list[Any]:
    """The model's columns named by the named tuple's fields, in its order."""
    return [getattr(model, name) for name in row._fields]  # type: ignore[attr-defined]


class KpiFigureQueries(Repository):
    """Batched reads of agreed KPIs and their figures."""

    def has_agreed(self, partnership_id: int) -> bool:
        """Whether the partnership has an agreed, unretired KPI."""
        stmt = select(Kpi.id).where(
            Kpi.partnership_id == partnership_id, Kpi.current_version.is_not(None), Kpi.retired_at.is_(None)
        )
        return self.session.scalars(stmt.limit(1)).first() is not None

    def agreed(self, partnership_ids: Collection[int], *, since: date, until: date) -> dict[int, list[KpiRows]]:
        """Per partnership (absent: none), its agreed, unretired KPIs by number, each with every version and its
        figures for periods ending from ``since`` to ``until`` (inclusive), oldest first."""
        if not partnership_ids:
            return {}
        chosen = (
            select(Kpi.id)
            .where(Kpi.partnership_id.in_(partnership_ids), Kpi.current_version.is_not(None), Kpi.retired_at.is_(None))
            .scalar_subquery()
        )
        conn = self.session.connection()
        kpis = conn.execute(
            select(*_columns(Kpi, KpiRow)).where(Kpi.id.in_(chosen)).order_by(Kpi.partnership_id, Kpi.number)
        ).all()
        if not kpis:
            return {}
        by_id = {int(k.id): KpiRows(KpiRow._make(k)) for k in kpis}
        versions = select(KpiVersion.__table__).where(KpiVersion.kpi_id.in_(chosen))
        for version in conn.execute(versions.order_by(KpiVersion.kpi_id, KpiVersion.version)):
            by_id[version.kpi_id].versions.append(version)
        values = select(*_columns(KpiValue, KpiValueRow)).where(
            KpiValue.kpi_id.in_(chosen), KpiValue.period_end >= since, KpiValue.period_end <= until
        )
        for value in conn.execute(values.order_by(KpiValue.kpi_id, KpiValue.period_end)):
            by_id[value.kpi_id].values.append(KpiValueRow._make(value))
        found: dict[int, list[KpiRows]] = {}
        for rows in by_id.values():
            found.setdefault(rows.kpi.partnership_id, []).append(rows)
        return found
