"""The digest benchmark with agreed KPIs (issue 14), at a tiny N: its seeding, its floor's KPI query, and that the
digests read the same KPI rows the floor does. Nothing is timed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from benchmarks import digest, digest_kpis, digest_seed
from bot.services.digest import build_digests
from storage.db import make_session_factory
from storage.uow import UnitOfWorkFactory


def test_without_kpis_the_seed_is_what_it_was() -> None:
    plain = digest_seed.seed_rows(1, 2)
    with_kpis = digest_seed.seed_rows(1, 2, kpis=10, kpi_periods=12)
    assert plain["kpis"] == plain["kpi_versions"] == plain["kpi_values"] == []
    # The KPIs draw from their own generator: the answers are the same either way.
    assert with_kpis["answers"] == plain["answers"]


def test_seed_counts_and_periods() -> None:
    rows = digest_seed.seed_rows(1, 2, kpis=10, kpi_periods=12)
    # 10 KPIs each; KPIs 4 and 8 (j = 3, 7) have a second version; 12 figures per KPI.
    assert len(rows["kpis"]) == 20
    assert len(rows["kpi_versions"]) == 2 * (10 + 2)
    assert len(rows["kpi_values"]) == 2 * 10 * 12
    ends = sorted(v["period_end"] for v in rows["kpi_values"] if v["kpi_id"] == 100)  # weekly
    # The week's last day is Sunday 6 Dec 2026 (the digest time is Monday 7 Dec, 09:00 in New York).
    assert ends[-1] == date(2026, 12, 6) and ends[0] == date(2026, 9, 20)
    monthly = sorted(v["period_end"] for v in rows["kpi_values"] if v["kpi_id"] == 102)
    assert monthly[-1] == date(2026, 11, 30) and monthly[0] == date(2025, 12, 31)
    v2 = [v for v in rows["kpi_versions"] if v["kpi_id"] == 103]
    assert [(v["version"], v["status"]) for v in v2] == [(1, "superseded"), (2, "agreed")]
    # Version 2 is in force from the 7th of the 12 weekly periods: 20 Sep + 6 weeks.
    assert v2[1]["effective_from"] == date(2026, 11, 1)


def test_floor_reads_the_figures_the_digests_use(engine: Engine) -> None:
    digest_seed.load_base(engine)
    digest_seed.load_rows(engine, digest_seed.seed_rows(1, 2, kpis=10, kpi_periods=12))
    since, until = digest_kpis.kpi_window(digest_seed.ENDS_AT, digest_seed.TIMEZONE)
    assert (since, until) == (date(2026, 10, 5), date(2026, 12, 6))  # 62 days back from the last day
    with engine.connect() as conn:
        # Weekly KPIs (7 of 10): period ends 11 Oct .. 6 Dec, 9 of them; monthly (3): 31 Oct and 30 Nov.
        assert digest_kpis.floor_rows(conn, since, until) == 2 * (7 * 9 + 3 * 2)
        rows = conn.execute(digest_kpis.KPI_FLOOR_SQL, {"since": since, "until": until}).all()
        answers = conn.execute(digest.FLOOR_SQL, {"first": digest_seed.FIRST, "end": digest_seed.ENDS_AT}).all()
    assert {r.partnership_id for r in answers} == {1, 2}
    # KPI 4 of partnership 1: its 9 weekly figures, each beside the definition in force now (version 2).
    assert [r.version for r in rows if r.kpi_id == 103] == [2] * 9
    # Raw SQL: SQLite returns the period end as its ISO text, PostgreSQL as a date.
    latest = {(r.kpi_id, str(r.period_end)): r for r in rows}

    views = build_digests(UnitOfWorkFactory(make_session_factory(engine))(), partnership_ids=[1, 2], now=digest_seed.NOW)
    lines = [line for v in views for d in (v.kpis.dimensions if v.kpis else ()) for line in d.kpis]
    assert len(lines) == 20 and all(line.figure is not None for line in lines)
    figure = next(line.figure for line in lines if line.kpi_id == 103)
    assert figure is not None and figure.period_end == date(2026, 12, 6) and figure.version == 2
    assert figure.value == latest[(103, "2026-12-06")].value
    assert digest._counts(views)["kpis_with_figure"] == 20
