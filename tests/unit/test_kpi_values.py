"""Recording KPI figures: a batch is saved whole or refused whole, a repeat replaces, every bad entry is named.

The world's partnership is in New York; at NOW (Wednesday 2 December 2026, 09:00 UTC, 04:00 in New York) the
current weekly period ends on Sunday 6 December, the last complete one ended on Sunday 29 November, and the
current monthly period ends on 31 December.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.services.errors import NotFound
from bot.services.kpi_models import KpiSource, KpiValueInput, Rag
from bot.services.kpi_values import FiguresRefused, record_values
from storage.uow import UnitOfWorkFactory
from tests.factories import make_issue_world
from tests.kpi_factories import add_kpi, stored_values

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)
NOV_29 = date(2026, 11, 29)


def _world(uow_factory: UnitOfWorkFactory) -> tuple[int, int]:
    partnership_id = make_issue_world(uow_factory, now=NOW).partnership_id
    return partnership_id, add_kpi(uow_factory, partnership_id, key="fcr", now=NOW)


def _record(uow_factory: UnitOfWorkFactory, partnership_id: int, *entries: KpiValueInput):  # type: ignore[no-untyped-def]
    return record_values(
        uow_factory, partnership_id, list(entries), source=KpiSource.CSV, recorded_by="figures.csv", now=NOW
    )


def test_new_figures_are_saved_and_judged_by_the_version_in_force(uow_factory: UnitOfWorkFactory) -> None:
    """Levels: target 80, amber 75, red 65 (higher is better). 81.5 is green and on target; 70 is worse than 75
    but not than 65, so amber and not on target."""
    partnership_id, kpi_id = _world(uow_factory)
    result = _record(
        uow_factory,
        partnership_id,
        KpiValueInput("fcr", NOV_29, 81.5, "  after the new triage  "),
        KpiValueInput("fcr", date(2026, 11, 22), 70),
    )
    assert (result.new, result.replaced) == (2, 0)
    assert [(f.period_end, f.rag, f.on_target) for f in result.figures] == [
        (NOV_29, Rag.GREEN, True),
        (date(2026, 11, 22), Rag.AMBER, False),
    ]
    assert stored_values(uow_factory, kpi_id) == [
        (date(2026, 11, 22), 70.0, None, "csv"),
        (NOV_29, 81.5, "after the new triage", "csv"),
    ]


def test_a_repeated_figure_replaces_the_stored_one(uow_factory: UnitOfWorkFactory) -> None:
    partnership_id, kpi_id = _world(uow_factory)
    _record(uow_factory, partnership_id, KpiValueInput("fcr", NOV_29, 81.5, "first"))
    again = record_values(
        uow_factory, partnership_id, [KpiValueInput("fcr", NOV_29, 60)], source=KpiSource.API, recorded_by="t", now=NOW
    )
    assert (again.new, again.replaced) == (0, 1)
    assert again.figures[0].rag is Rag.RED
    assert stored_values(uow_factory, kpi_id) == [(NOV_29, 60.0, None, "api")]


def test_the_current_period_may_be_recorded_but_not_a_later_one(uow_factory: UnitOfWorkFactory) -> None:
    partnership_id, kpi_id = _world(uow_factory)
    assert _record(uow_factory, partnership_id, KpiValueInput("fcr", date(2026, 12, 6), 90)).new == 1
    with pytest.raises(FiguresRefused) as refused:
        _record(uow_factory, partnership_id, KpiValueInput("fcr", date(2026, 12, 13), 90))
    assert refused.value.problems[0].reason == "The period ending 2026-12-13 has not started yet."


def test_a_bad_batch_saves_nothing_and_names_every_bad_entry(uow_factory: UnitOfWorkFactory) -> None:
    partnership_id, kpi_id = _world(uow_factory)
    add_kpi(uow_factory, partnership_id, key="old", number=2, now=NOW, retired=True)
    add_kpi(uow_factory, partnership_id, key="draft", number=3, now=NOW, agreed=False)
    add_kpi(uow_factory, partnership_id, key="monthly", number=4, now=NOW, period="monthly")
    with pytest.raises(FiguresRefused) as refused:
        _record(
            uow_factory,
            partnership_id,
            KpiValueInput("fcr", NOV_29, 81.5),  # fine on its own
            KpiValueInput("nope", NOV_29, 1),
            KpiValueInput("old", NOV_29, 1),
            KpiValueInput("draft", NOV_29, 1),
            KpiValueInput("fcr", date(2026, 11, 30), 1),  # a Monday
            KpiValueInput("monthly", NOV_29, 1),  # not a month's last day
            KpiValueInput("fcr", date(2026, 11, 22), float("nan")),
            KpiValueInput("fcr", date(2026, 11, 15), 1, "x" * 3001),
            KpiValueInput("fcr", NOV_29, 82),  # the first entry's KPI and period again
        )
    reasons = {p.index: p.reason for p in refused.value.problems}
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert reasons[1] == "There is no KPI with the key 'nope' in this partnership."
    assert "retired" in reasons[2]
    assert "not agreed yet" in reasons[3]
    assert reasons[4] == "2026-11-30 is not the end of a weekly period of 'fcr' (that period ends 2026-12-06)."
    assert reasons[5] == "2026-11-29 is not the end of a monthly period of 'monthly' (that period ends 2026-11-30)."
    assert reasons[6] == "The value must be a number."
    assert reasons[7] == "The note can be at most 3,000 characters (this one has 3,001)."
    assert reasons[8] == "The same KPI and period are given twice."
    assert refused.value.problems[-1].same_as == 0
    assert str(refused.value) == "Nothing was saved: 8 entries have a problem."
    assert stored_values(uow_factory, kpi_id) == []


def test_another_partnerships_keys_are_unknown(uow_factory: UnitOfWorkFactory) -> None:
    partnership_id, kpi_id = _world(uow_factory)
    other = make_issue_world(uow_factory, now=NOW, channel_id="C200", name="Other desk").partnership_id
    with pytest.raises(FiguresRefused) as refused:
        _record(uow_factory, other, KpiValueInput("fcr", NOV_29, 81.5))
    assert "no KPI with the key 'fcr'" in refused.value.problems[0].reason
    assert stored_values(uow_factory, kpi_id) == []


def test_a_note_is_cleaned_of_control_characters(uow_factory: UnitOfWorkFactory) -> None:
    partnership_id, kpi_id = _world(uow_factory)
    _record(uow_factory, partnership_id, KpiValueInput("fcr", NOV_29, 81.5, "ok\u202e\x00 now"))
    assert stored_values(uow_factory, kpi_id)[0][2] == "ok now"


def test_an_empty_batch_and_a_missing_partnership_are_refused(uow_factory: UnitOfWorkFactory) -> None:
    partnership_id, _ = _world(uow_factory)
    with pytest.raises(FiguresRefused, match="1 entry has a problem"):
        _record(uow_factory, partnership_id)
    with pytest.raises(NotFound):
        _record(uow_factory, partnership_id + 999, KpiValueInput("fcr", NOV_29, 1))
