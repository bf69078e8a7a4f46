"""The one computation of every figure (bot.services.figures) and its formatting: rounding, the threshold, gaps
only between ratings of the same subject, the sign, flags, trends of the same items, the health index and NPS."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.services import figures
from bot.services.figures import Comparison, Flag, SideFigure, Tally
from bot.services.figures_format import (
    comparison_line,
    format_gap,
    format_nps,
    format_participation,
    format_score,
    trend_text,
)
from bot.services.partnership_models import Side
from bot.services.pulse_models import Participation, Trend


@pytest.mark.parametrize(
    ("total", "count", "shown"),
    [
        (9, 4, "2.3"),  # 2.25: a half goes up
        (47, 20, "2.4"),  # 2.35: a half goes up (a float would print 2.4 or 2.3 depending on its binary value)
        (7, 3, "2.3"),  # 2.333…
        (15, 4, "3.8"),  # 3.75
        (13, 4, "3.3"),  # 3.25 (the CSV's 3.25 that showed as 3.2 and as 3.3)
        (5, 1, "5.0"),
    ],
)
def test_an_average_is_rounded_once_half_up(total: int, count: int, shown: str) -> None:
    assert format_score(figures.average(total, count)) == shown


def test_no_scores_no_average() -> None:
    assert figures.average(0, 0) is None
    assert format_score(None) == "–"


def test_the_threshold_is_never_below_three() -> None:
    assert figures.min_respondents(2) == 3 and figures.min_respondents(5) == 5
    assert not figures.side_shown(2, 1)
    assert figures.side_shown(3, 3) and not figures.side_shown(4, 5)


def test_the_gap_is_provider_minus_client_of_the_rounded_averages() -> None:
    client, provider = figures.average(7, 3), figures.average(15, 4)  # 2.3, 3.8
    assert figures.gap(client, provider) == Decimal("1.5")
    assert format_gap(figures.gap(client, provider)) == "+1.5"
    assert format_gap(figures.gap(provider, client)) == "−1.5"
    assert format_gap(figures.gap(provider, client), ascii_sign=True) == "-1.5"
    assert format_gap(Decimal("0.0")) == "0.0"


def test_flags_by_size() -> None:
    assert figures.flag(Decimal("0.9")) is Flag.NONE
    assert figures.flag(Decimal("-1.0")) is Flag.WATCH
    assert figures.flag(Decimal("1.5")) is Flag.ACT


def test_a_gap_only_between_ratings_of_the_same_subject() -> None:
    tallies = {
        ("provider", "responsiveness", "client"): Tally(6, 3),
        ("client", "responsiveness", "provider"): Tally(16, 4),
        (None, "value", "client"): Tally(9, 3),
        (None, "value", "provider"): Tally(12, 3),
    }
    found = figures.compare_all(tallies, shown=Side)
    by_key = {(c.subject, c.dimension): c for c in found}
    # The client rated the provider, the provider rated the client: two comparisons, each one-sided, no gap.
    assert by_key[("provider", "responsiveness")].gap is None
    assert by_key[("client", "responsiveness")].gap is None
    # An item that is not comparable has averages per side but never a gap.
    assert by_key[(None, "value")].client.average == Decimal("3.0") and by_key[(None, "value")].gap is None
    assert figures.widest_first(found) == ()


def test_a_result_names_what_was_rated() -> None:
    c = Comparison("provider", "responsiveness", SideFigure(Decimal("2.2"), 3), SideFigure(Decimal("3.8"), 4))
    assert comparison_line(c, "Northwind", "Contoso") == ("Contoso's responsiveness: client 2.2 · provider 3.8 · gap +1.6 ⚠️")


def test_a_withheld_side_shows_nothing() -> None:
    found = figures.compare_all({("provider", "trust", "client"): Tally(12, 3)}, shown=[Side.PROVIDER])
    assert found[0].client.withheld and found[0].client.average is None and found[0].gap is None


def test_a_trend_compares_the_same_items_or_says_there_is_not_enough_data() -> None:
    now = {("provider", "trust", "client"): Tally(12, 3)}
    before = {("provider", "trust", "client"): Tally(9, 3)}
    c = figures.compare_all(now, shown=Side, previous=before)[0]
    assert c.client.trend is Trend.UP and format_gap(c.client.change) == "+1.0"
    assert trend_text(c.client.average, c.client.previous, c.client.trend) == "↑ +1.0 vs 3.0 the last time"
    fresh = figures.compare_all(now, shown=Side)[0]
    assert fresh.client.trend is Trend.NONE
    assert trend_text(fresh.client.average, None, fresh.client.trend) == "not enough data yet"


def test_the_health_index_needs_every_dimension_in_its_window() -> None:
    dims = ("trust", "value")
    partial = figures.health_index(Side.CLIENT, {"trust": Tally(8, 2)}, dimensions=dims)
    assert partial.value is None and (partial.covered, partial.dimensions) == (1, 2)
    full = figures.health_index(
        Side.CLIENT, {"trust": Tally(8, 2), "value": Tally(7, 2)}, previous={"trust": Tally(3, 1)}, dimensions=dims
    )
    assert full.value == Decimal("3.8") and full.previous is None and full.trend is Trend.NONE


def test_nps_is_promoters_minus_detractors_per_side() -> None:
    n = figures.nps(Side.CLIENT, [10, 9, 8, 7, 6, 0], shown=True)  # 2 promoters, 2 passives, 2 detractors
    assert (n.score, n.promoters, n.passives, n.detractors, n.respondents) == (0, 2, 2, 2, 6)
    n = figures.nps(Side.PROVIDER, [10, 10, 9], shown=True)
    assert n.score == 100 and format_nps(n).startswith("NPS +100 (3 answers")
    assert figures.nps(Side.CLIENT, [1, 2, 10], shown=True).score == -33
    assert figures.nps(Side.CLIENT, [10, 10], shown=False).withheld


@pytest.mark.parametrize(
    ("responded", "asked", "shown"),
    [
        # Worked out by hand, half up to a whole per cent: 2/3 = 66.67 -> 67; 6/7 = 85.71 -> 86; 1/8 = 12.5 -> 13
        # (half up, not half to even: 12); 5/8 = 62.5 -> 63; 1/3 = 33.33 -> 33; 0/6 -> 0.
        (2, 3, "2 of 3 (67%)"),
        (4, 6, "4 of 6 (67%)"),
        (6, 7, "6 of 7 (86%)"),
        (1, 8, "1 of 8 (13%)"),
        (5, 8, "5 of 8 (63%)"),
        (1, 3, "1 of 3 (33%)"),
        (0, 6, "0 of 6 (0%)"),
        (0, 0, "0 of 0"),
    ],
)
def test_participation_is_rounded_half_up_like_every_figure(responded: int, asked: int, shown: str) -> None:
    assert format_participation(Participation(responded, asked)) == shown
