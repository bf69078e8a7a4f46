"""The digest's NPS per side (issue 12 item 5, as round results show it) and trends that skip a week a side was
too thin to show (a trend compares only weeks in which that side met the anonymity threshold)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.services import digest
from bot.services.figures import NpsFigure
from bot.services.pulse_models import Trend
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, answers_for, make_issue_world

# Set up Mon 2 Nov 2026 (START); digest Fridays 16:00 New York. The week of Fri 4 Dec (WEEK_START) ends Fri 11 Dec
# 21:00 UTC (DIGEST_AT).
from tests.unit.test_digest import DIGEST_AT, START, WEEK_START, C, P, _round


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=START)


def _both(world: IssueWorld):  # type: ignore[no-untyped-def]
    """The digest of the week, built alone and in a batch (the two must agree)."""
    alone = digest.build_digest(
        world.uow_factory(), partnership_id=world.partnership_id, week_start=WEEK_START, now=DIGEST_AT
    )
    (batched,) = digest.build_digests(world.uow_factory(), partnership_ids=[world.partnership_id], now=DIGEST_AT)
    return alone, batched


def test_a_trend_skips_the_week_a_side_was_too_thin_and_compares_its_last_shown_week(world: IssueWorld) -> None:
    # Three weeks of the provider's trust (threshold 3):
    #   2 weeks back (Wed 25 Nov): client 4, 4, 4 = 4.0; provider 5, 5, 5 = 5.0 (shown)
    #   1 week back (Wed 2 Dec):   client 3, 3, 3 = 3.0; provider 1, 1 (two people: too thin, never compared)
    #   this week (Wed 9 Dec):     client 2, 2, 2 = 2.0; provider 4, 4, 4 = 4.0
    _round(
        world,
        datetime(2026, 11, 25, 15, tzinfo=UTC),
        answers_for(C, {"trust": [4, 4, 4]}) + answers_for(P, {"trust": [5, 5, 5]}),
    )
    _round(
        world,
        datetime(2026, 12, 2, 15, tzinfo=UTC),
        answers_for(C, {"trust": [3, 3, 3]}) + answers_for(P, {"trust": [1, 1]}),
    )
    _round(
        world,
        datetime(2026, 12, 9, 15, tzinfo=UTC),
        answers_for(C, {"trust": [2, 2, 2]}) + answers_for(P, {"trust": [4, 4, 4]}),
    )
    for view in _both(world):
        (trust,) = view.items
        # The client against last week (3.0): 2.0 − 3.0 = −1.0, down.
        assert (trust.client.average, trust.client.previous, trust.client.trend) == (
            Decimal("2.0"),
            Decimal("3.0"),
            Trend.DOWN,
        )
        # The provider against its last shown week (5.0, two weeks back), not the thin 1.0 nor "no data":
        # 4.0 − 5.0 = −1.0, down.
        assert (trust.provider.average, trust.provider.previous, trust.provider.change) == (
            Decimal("4.0"),
            Decimal("5.0"),
            Decimal("-1.0"),
        )


def test_the_digest_reports_each_sides_nps_under_the_threshold(world: IssueWorld) -> None:
    # Client: 10, 9 promoters; 7, 8 passives; 3 a detractor: (2 − 1) / 5 = +20 with 5 answers.
    # Provider: two people answered, under the threshold of 3: withheld.
    client = answers_for(C, {"trust": [4, 4, 4, 4, 4], "nps": [10, 9, 7, 8, 3]})
    provider = answers_for(P, {"trust": [4, 4], "nps": [10, 10]})
    _round(world, datetime(2026, 12, 9, 15, tzinfo=UTC), client + provider)
    for view in _both(world):
        assert view.nps == (NpsFigure(C, 20, 5, 2, 2, 1), NpsFigure(P, None, 0, withheld=True))


def test_a_week_without_nps_answers_has_no_nps(world: IssueWorld) -> None:
    _round(
        world,
        datetime(2026, 12, 9, 15, tzinfo=UTC),
        answers_for(C, {"trust": [4, 4, 4]}) + answers_for(P, {"trust": [4, 4, 4]}),
    )
    for view in _both(world):
        assert view.nps is None
