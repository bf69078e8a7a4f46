"""The agreed KPIs of many partnerships with their versions and recent figures, read in three statements
whatever the number of partnerships (the digest's batched way; the watermelon check and the export use them).

The rows are plain rows of the columns the read models use, read on the session's connection: a batch of
1,000 digests with 10 KPIs each reads 10,000 KPIs, 12,000 versions and 69,000 figures, and as ORM objects (kept in
the session's identity map) they made the digest benchmark's batched build 4.0x its floor on SQLite and 5.2x on
PostgreSQL, with a peak of 250 MB on SQLite (README, Benchmarks, for the figures as plain rows).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Row, select

from storage.models import Kpi, KpiValue, KpiVersion
from storage.repositories.base import Repository

#: A row read as plain columns (attribute access by column name, as on the ORM object): a whole ``kpis`` or
#: ``kpi_versions`` row, or a figure's ``FIGURE_COLUMNS``.
StoredRow = Row[*tuple[Any, ...]]

#: What a figure's read models use of a ``kpi_values`` row.
FIGURE_COLUMNS = (KpiValue.kpi_id, KpiValue.period_end, KpiValue.value, KpiValue.note, KpiValue.source)


@dataclass
class KpiRows:
    """One agreed, unretired KPI: its row, all its versions (oldest first) and its figures in the window read
    (stored objects or, read in a batch, plain rows of the same columns)."""

    kpi: Kpi | StoredRow
    versions: list[KpiVersion | StoredRow] = field(default_factory=list)
    values: list[KpiValue | StoredRow] = field(default_factory=list)


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
        kpis = conn.execute(select(Kpi.__table__).where(Kpi.id.in_(chosen)).order_by(Kpi.partnership_id, Kpi.number)).all()
        if not kpis:
            return {}
        by_id = {int(k.id): KpiRows(k) for k in kpis}
        versions = select(KpiVersion.__table__).where(KpiVersion.kpi_id.in_(chosen))
        for version in conn.execute(versions.order_by(KpiVersion.kpi_id, KpiVersion.version)):
            by_id[version.kpi_id].versions.append(version)
        values = select(*FIGURE_COLUMNS).where(
            KpiValue.kpi_id.in_(chosen), KpiValue.period_end >= since, KpiValue.period_end <= until
        )
        for value in conn.execute(values.order_by(KpiValue.kpi_id, KpiValue.period_end)):
            by_id[value.kpi_id].values.append(value)
        found: dict[int, list[KpiRows]] = {}
        for rows in by_id.values():
            found.setdefault(rows.kpi.partnership_id, []).append(rows)
        return found
