"""The watermelon check's pure rules (bot.services.watermelon), figures worked out by hand.

The KPI: first-contact resolution, higher is better, target 80, amber below 75, red below 65, weekly (periods end
on Sunday). The digest week's last whole day is Sunday 29 November 2026, so a figure counts for the periods ending
29 or 22 November.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.services import watermelon
from bot.services.kpi_models import KpiPeriod, Rag
from bot.services.partnership_models import Side
from bot.services.watermelon_models import Attainment, Pairing
from storage.repositories.kpi_figures import KpiRows
from tests.kpi_factories import agreed_kpi_rows, figure_row

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LAST_DAY = date(2026, 11, 29)


def _kpi(number: int, values: dict[date, float], *, dimension: str = "responsiveness") -> KpiRows:
    kpi, version = agreed_kpi_rows(
        number, partnership_id=1, effective_from=date(2026, 9, 1), now=NOW,
        name=f"KPI {number}", dimension=dimension, target=80, amber=75, red=65,
    )  # fmt: skip
    kpi.id = version.kpi_id = number
    return KpiRows(kpi, [version], [figure_row(number, d, v) for d, v in values.items()])


def _scores(client: str | None, provider: str | None, dimension: str = "responsiveness") -> watermelon.SideScores:
    return {
        (Side.CLIENT, dimension): None if client is None else Decimal(client),
        (Side.PROVIDER, dimension): None if provider is None else Decimal(provider),
    }


def test_the_last_day_is_the_day_before_the_digest_time_in_the_partnerships_zone() -> None:
    # Monday 30 November 09:00 UTC is 20:00 that Monday in Sydney and 04:00 in New York: both local Mondays.
    assert watermelon.last_day_of(NOW, "Australia/Sydney") == LAST_DAY
    assert watermelon.last_day_of(NOW, "America/New_York") == LAST_DAY
    # 01:00 UTC on Monday is still Sunday evening in New York: Sunday's period is not over there.
    assert watermelon.last_day_of(datetime(2026, 11, 30, 1, 0, tzinfo=UTC), "America/New_York") == date(2026, 11, 28)


@pytest.mark.parametrize(
    ("last_day", "period", "ends"),
    [
        (date(2026, 11, 29), KpiPeriod.WEEKLY, (date(2026, 11, 29), date(2026, 11, 22))),  # a Sunday: its own week
        (date(2026, 11, 28), KpiPeriod.WEEKLY, (date(2026, 11, 22), date(2026, 11, 15))),  # Saturday: last week's
        (date(2026, 11, 29), KpiPeriod.MONTHLY, (date(2026, 10, 31), date(2026, 9, 30))),
        (date(2026, 11, 30), KpiPeriod.MONTHLY, (date(2026, 11, 30), date(2026, 10, 31))),
    ],
)
def test_a_figure_counts_for_the_latest_ended_period_or_the_one_before(
    last_day: date, period: KpiPeriod, ends: tuple[date, date]
) -> None:
    assert watermelon.fresh_period_ends(last_day, period) == ends


def test_kpis_green_and_the_client_exactly_at_three_is_unhappy() -> None:
    view = watermelon.check_week([_kpi(1, {date(2026, 11, 29): 82})], _scores("3.0", "4.2"), LAST_DAY)
    (check,) = view.dimensions
    assert check.kpis[0].rag is Rag.GREEN and check.kpis[0].figure is not None and check.kpis[0].figure.value == 82
    assert check.attainment is Attainment.GREEN
    assert check.pairing is Pairing.GREEN_UNHAPPY and check.unhappy == (Side.CLIENT,)
    assert view.pairings == (check,)


def test_just_above_three_is_not_unhappy() -> None:
    (check,) = watermelon.check_week([_kpi(1, {date(2026, 11, 29): 82})], _scores("3.1", "3.1"), LAST_DAY).dimensions
    assert check.attainment is Attainment.GREEN and check.pairing is None and check.unhappy == ()


def test_a_red_kpi_with_both_sides_exactly_at_four_is_people_happy_kpis_red() -> None:
    # 60 is below the red level 65; the other KPI is green: one red is enough.
    kpis = [_kpi(1, {date(2026, 11, 29): 60}), _kpi(2, {date(2026, 11, 29): 90})]
    (check,) = watermelon.check_week(kpis, _scores("4.0", "4.0"), LAST_DAY).dimensions
    assert [k.rag for k in check.kpis] == [Rag.RED, Rag.GREEN]
    assert check.attainment is Attainment.RED and check.pairing is Pairing.RED_HAPPY


def test_one_side_below_four_is_not_happy() -> None:
    (check,) = watermelon.check_week([_kpi(1, {date(2026, 11, 29): 60})], _scores("4.5", "3.9"), LAST_DAY).dimensions
    assert check.pairing is None


def test_a_figure_two_periods_old_is_no_data_and_never_green() -> None:
    # 15 November ended two weeks before 29 November: too old. No data makes the dimension neither green nor red.
    (check,) = watermelon.check_week([_kpi(1, {date(2026, 11, 15): 90})], _scores("2.0", "2.0"), LAST_DAY).dimensions
    assert check.kpis[0].figure is None and check.kpis[0].rag is None
    assert check.attainment is Attainment.MIXED and check.pairing is None


def test_the_latest_fresh_figure_wins_and_one_period_old_still_counts() -> None:
    both = _kpi(1, {date(2026, 11, 22): 60, date(2026, 11, 29): 90})
    late = _kpi(2, {date(2026, 11, 22): 60})
    lines = watermelon.check_week([both, late], _scores(None, None), LAST_DAY).dimensions[0].kpis
    assert [(k.figure.period_end, k.rag) for k in lines if k.figure] == [
        (date(2026, 11, 29), Rag.GREEN),
        (date(2026, 11, 22), Rag.RED),
    ]


def test_an_amber_kpi_makes_the_dimension_neither_green_nor_red() -> None:
    kpis = [_kpi(1, {date(2026, 11, 29): 70}), _kpi(2, {date(2026, 11, 29): 90})]  # 70: below amber 75, not red
    (check,) = watermelon.check_week(kpis, _scores("1.0", "1.0"), LAST_DAY).dimensions
    assert check.attainment is Attainment.MIXED and check.pairing is None


def test_no_score_means_nothing_is_said_about_that_side() -> None:
    # The client is withheld (too few answered): no score. The provider alone unhappy still makes the pairing.
    (green,) = watermelon.check_week([_kpi(1, {date(2026, 11, 29): 82})], _scores(None, "2.5"), LAST_DAY).dimensions
    assert green.pairing is Pairing.GREEN_UNHAPPY and green.unhappy == (Side.PROVIDER,)
    # "People happy" needs both sides' scores.
    (red,) = watermelon.check_week([_kpi(1, {date(2026, 11, 29): 60})], _scores(None, "4.5"), LAST_DAY).dimensions
    assert red.pairing is None
    # Neither side scored: nothing.
    (none,) = watermelon.check_week([_kpi(1, {date(2026, 11, 29): 82})], {}, LAST_DAY).dimensions
    assert none.pairing is None and none.client is None and none.provider is None


def test_dimensions_in_the_banks_order_and_kpis_by_number() -> None:
    kpis = [_kpi(3, {}, dimension="value"), _kpi(2, {}, dimension="trust"), _kpi(1, {}, dimension="value")]
    view = watermelon.check_week(kpis, {}, LAST_DAY)
    assert [(d.dimension, [k.number for k in d.kpis]) for d in view.dimensions] == [("trust", [2]), ("value", [1, 3])]
