"""The KPI rules (bot.services.kpi_rules): statuses, periods, versions in force; figures worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.services import kpi_rules
from bot.services.kpi_models import KpiDirection, KpiPeriod, KpiVersionStatus, KpiVersionView, Rag
from bot.services.partnership_models import Side
from tests.kpi_factories import FCR

# First-contact resolution (FCR): aim 80 %, amber below 75 %, red below 65 %.
# Days to grant access: aim 3, amber above 5, red above 8.
ACCESS = replace(
    FCR, name="Access granted", unit="days", direction=KpiDirection.LOWER, target=3, amber=5, red=8, delivered_by=Side.CLIENT
)


@pytest.mark.parametrize(
    ("value", "rag", "on_target"),
    [
        (90, Rag.GREEN, True),
        (80, Rag.GREEN, True),  # at the target
        (76, Rag.GREEN, False),  # within the tolerance the amber level leaves
        (75, Rag.GREEN, False),  # exactly at the amber level is not worse than it
        (74.9, Rag.AMBER, False),
        (65, Rag.AMBER, False),  # exactly at the red level
        (64.99, Rag.RED, False),
        (0, Rag.RED, False),
    ],
)
def test_higher_is_better(value: float, rag: Rag, on_target: bool) -> None:
    assert kpi_rules.rag_of(value, FCR) is rag
    assert kpi_rules.on_target(value, FCR) is on_target


@pytest.mark.parametrize(
    ("value", "rag", "on_target"),
    [
        (1, Rag.GREEN, True),
        (3, Rag.GREEN, True),
        (5, Rag.GREEN, False),
        (5.5, Rag.AMBER, False),
        (8, Rag.AMBER, False),
        (9, Rag.RED, False),
    ],
)
def test_lower_is_better(value: float, rag: Rag, on_target: bool) -> None:
    assert kpi_rules.rag_of(value, ACCESS) is rag
    assert kpi_rules.on_target(value, ACCESS) is on_target


def test_levels_must_run_from_the_target_towards_worse() -> None:
    assert kpi_rules.levels_problem(FCR) is None
    assert kpi_rules.levels_problem(ACCESS) is None
    assert kpi_rules.levels_problem(replace(FCR, amber=85)) is not None  # amber above the target
    assert kpi_rules.levels_problem(replace(FCR, red=76)) is not None  # red above amber
    assert kpi_rules.levels_problem(replace(ACCESS, amber=2)) is not None  # lower is better: amber below target
    assert kpi_rules.levels_problem(replace(FCR, target=float("nan"))) is not None
    assert kpi_rules.levels_problem(replace(FCR, red=float("-inf"))) is not None


def test_keys() -> None:
    assert kpi_rules.key_from_name("First-contact resolution (%)") == "first-contact-resolution"
    assert kpi_rules.key_from_name("!!!") == "kpi"
    assert kpi_rules.key_problem("first-contact-resolution") is None
    for bad in ("", "-fcr", "fcr-", "FCR", "f c r", "a" * 41, "<@U1>"):
        assert kpi_rules.key_problem(bad) is not None, bad


def test_period_ends() -> None:
    wednesday = date(2026, 12, 2)
    assert kpi_rules.period_end_of(wednesday, KpiPeriod.WEEKLY) == date(2026, 12, 6)  # that week's Sunday
    assert kpi_rules.period_end_of(date(2026, 12, 6), KpiPeriod.WEEKLY) == date(2026, 12, 6)
    assert kpi_rules.period_end_of(wednesday, KpiPeriod.MONTHLY) == date(2026, 12, 31)
    assert kpi_rules.period_end_of(date(2028, 2, 10), KpiPeriod.MONTHLY) == date(2028, 2, 29)  # leap year
    assert kpi_rules.is_period_end(date(2026, 11, 30), KpiPeriod.MONTHLY)
    assert not kpi_rules.is_period_end(date(2026, 11, 30), KpiPeriod.WEEKLY)  # a Monday
    assert kpi_rules.previous_period_end(date(2026, 3, 31), KpiPeriod.MONTHLY) == date(2026, 2, 28)
    assert kpi_rules.period_ends_back(date(2026, 12, 2), KpiPeriod.MONTHLY, 3) == [
        date(2026, 10, 31),
        date(2026, 11, 30),
        date(2026, 12, 31),
    ]
    weeks = kpi_rules.period_ends_back(date(2026, 12, 2), KpiPeriod.WEEKLY, 12)
    assert len(weeks) == 12 and weeks[-1] == date(2026, 12, 6) and weeks[0] == date(2026, 9, 20)  # 11 weeks earlier


def _version(number: int, status: KpiVersionStatus, effective_from: date | None, target: float) -> KpiVersionView:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return KpiVersionView(
        version=number,
        definition=replace(FCR, target=target),
        status=status,
        proposed_side=Side.PROVIDER,
        proposed_by="U1",
        proposed_at=at,
        responded_by="U2",
        responded_at=at,
        response=None,
        effective_from=effective_from,
    )


def test_the_version_in_force_judges_each_period_as_it_was() -> None:
    v1 = _version(1, KpiVersionStatus.SUPERSEDED, date(2026, 10, 1), 80)
    v2 = _version(2, KpiVersionStatus.AGREED, date(2026, 11, 15), 85)
    v3 = _version(3, KpiVersionStatus.PROPOSED, None, 90)  # not agreed: judges nothing
    versions = [v3, v1, v2]
    assert kpi_rules.version_in_force(versions, date(2026, 11, 8)) is v1
    assert kpi_rules.version_in_force(versions, date(2026, 11, 15)) is v2  # effective from that day on
    assert kpi_rules.version_in_force(versions, date(2026, 12, 6)) is v2
    assert kpi_rules.version_in_force(versions, date(2026, 9, 6)) is v1  # before the first agreement: the first
    assert kpi_rules.version_in_force([v3], date(2026, 12, 6)) is None
