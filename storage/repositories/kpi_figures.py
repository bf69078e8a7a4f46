"""The agreed KPIs of many partnerships with their versions and recent figures, read in three statements
whatever the number of partnerships (the digest's batched way; the watermelon check and the export use them).

The KPIs and figures are named tuples of the columns the read models use, the versions (about one per KPI)
plain rows, all read on the session's connection: a batch of
1,000 digests with 10 KPIs each reads 10,000 KPIs, 12,000 versions and 69,000 figures, and as ORM objects (kept in
the session's identity map) they made the digest benchmark's batched build 4.0x its floor on SQLite and 5.2x on
PostgreSQL, with a peak of 250 MB on SQLite (3.2x, 3.3x and 158 MB since; README, Benchmarks). A plain ``Row`` would
save making the tuples, but its attributes cost ten times a named tuple's, and the build more CPU in all.

A digest rendered again reads them as they were when it was made (``as_of``): the versions agreed by then, and each
period's figure in force then, from ``kpi_values`` or, for a figure replaced since, ``kpi_value_history``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Row, literal, or_, select, union_all

from storage.models import Kpi, KpiValue, KpiValueHistory, KpiVersion
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

    def agreed(
        self, partnership_ids: Collection[int], *, since: date, until: date, as_of: datetime | None = None
    ) -> dict[int, list[KpiRows]]:
        """Per partnership (absent: none), its agreed, unretired KPIs by number, each with every version and its
        figures for periods ending from ``since`` to ``until`` (inclusive), oldest first.

        With ``as_of``, as they were at that instant (a digest's KPIs as it was made): only the versions agreed at or
        before it (``responded_at``; the KPI's ``current_version`` the last of them), KPIs retired after it still
        agreed and unretired, and for each period the figure in force then (``_figures_as_of``).
        """
        if not partnership_ids:
            return {}
        agreed: tuple[ColumnElement[bool], ...]
        versions_read: tuple[ColumnElement[bool], ...] = ()
        if as_of is None:
            agreed = (Kpi.current_version.is_not(None), Kpi.retired_at.is_(None))
        else:
            versions_read = (KpiVersion.status.in_(_AGREED), KpiVersion.responded_at <= as_of)
            was_agreed = select(KpiVersion.id).where(KpiVersion.kpi_id == Kpi.id, *versions_read).exists()
            agreed = (was_agreed, or_(Kpi.retired_at.is_(None), Kpi.retired_at > as_of))
        chosen = select(Kpi.id).where(Kpi.partnership_id.in_(partnership_ids), *agreed).scalar_subquery()
        conn = self.session.connection()
        kpis = conn.execute(
            select(*_columns(Kpi, KpiRow)).where(Kpi.id.in_(chosen)).order_by(Kpi.partnership_id, Kpi.number)
        ).all()
        if not kpis:
            return {}
        by_id = {int(k.id): KpiRows(KpiRow._make(k)) for k in kpis}
        versions = select(KpiVersion.__table__).where(KpiVersion.kpi_id.in_(chosen), *versions_read)
        for version in conn.execute(versions.order_by(KpiVersion.kpi_id, KpiVersion.version)):
            by_id[version.kpi_id].versions.append(version)
        if as_of is None:
            values = select(*_columns(KpiValue, KpiValueRow)).where(
                KpiValue.kpi_id.in_(chosen), KpiValue.period_end >= since, KpiValue.period_end <= until
            )
            for value in conn.execute(values.order_by(KpiValue.kpi_id, KpiValue.period_end)):
                by_id[value.kpi_id].values.append(KpiValueRow._make(value))
        else:
            for figure in _figures_as_of(conn, chosen, since, until, as_of):
                by_id[figure.kpi_id].values.append(figure)
            for rows in by_id.values():
                rows.kpi = _kpi_as_of(rows)
        found: dict[int, list[KpiRows]] = {}
        for rows in by_id.values():
            found.setdefault(rows.kpi.partnership_id, []).append(rows)
        return found


#: The statuses of a version that was agreed (the one in force, or one since superseded).
_AGREED = ("agreed", "superseded")


def _kpi_as_of(rows: KpiRows) -> KpiRow:
    """The KPI's row as it stood at the instant its ``versions`` (those agreed by then) were read as of: in force, the
    version agreed last by then; not retired (a KPI retired by then is not read)."""
    kpi = rows.kpi
    assert isinstance(kpi, KpiRow)
    latest = max(rows.versions, key=lambda v: (v.responded_at, v.version))
    return kpi._replace(current_version=latest.version, retired_at=None)


def _figures_as_of(conn: Connection, chosen: Any, since: date, until: date, as_of: datetime) -> list[KpiValueRow]:
    """The figures of the ``chosen`` KPIs for periods ending from ``since`` to ``until`` as they were at ``as_of``,
    by KPI and period: per period the stored figure if recorded at or before ``as_of``, else the newest replaced one
    in force then (recorded at or before it, replaced after it); none for a period first recorded after it. One
    statement: both tables' candidates, each period's first kept."""
    current = select(*_columns(KpiValue, KpiValueRow), KpiValue.recorded_at, literal(0).label("replaced")).where(
        KpiValue.kpi_id.in_(chosen), KpiValue.period_end.between(since, until), KpiValue.recorded_at <= as_of
    )
    kept = KpiValueHistory
    replaced = select(*_columns(kept, KpiValueRow), kept.recorded_at, literal(1).label("replaced")).where(
        kept.kpi_id.in_(chosen), kept.period_end.between(since, until), kept.recorded_at <= as_of, kept.replaced_at > as_of
    )
    both = union_all(current, replaced).subquery()
    stmt = select(*(both.c[name] for name in KpiValueRow._fields)).order_by(
        both.c.kpi_id, both.c.period_end, both.c.replaced, both.c.recorded_at.desc()
    )
    figures: list[KpiValueRow] = []
    for row in conn.execute(stmt):
        figure = KpiValueRow._make(row)
        if not figures or (figures[-1].kpi_id, figures[-1].period_end) != (figure.kpi_id, figure.period_end):
            figures.append(figure)
    return figures
