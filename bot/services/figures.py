"""Every figure PartnerPulse shows, computed once (issue 12 items 1–5; README "How PartnerPulse computes its figures").

Pure functions and frozen values, no I/O: round results, the digest and its chart, the portfolio, the scorecard
report and the export all take their averages, gaps, flags, participation, trends, health index and NPS from
here, and print them with ``bot.services.figures_format``.

The rules, stated once:

- An *item* is a question about one *subject* (the provider, the client or the relationship) with a wording for
  each rater side about that subject. A *comparison* pools one side's answers to the items of one subject within
  one dimension. Items with no subject (retired, not comparable) are shown per side but never compared.
- An average is the exact mean of the 1–5 scores, rounded once to one decimal, halves up (2.25 → 2.3).
- ``GAP_SIGN``: a gap is the provider's average minus the client's, both as rounded, so a reader's arithmetic
  checks (3.8 − 2.2 = +1.6). A positive gap means the provider sees the subject more favourably.
- A gap is flagged *watch* from 1.0 and *act* from 1.5 (by size, either sign).
- A side's figures are shown only when at least ``min_respondents(threshold)`` of its people answered.
- A trend compares the same items (this time against the last time those items were asked), never different ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from fractions import Fraction

from bot.services.anonymity import effective_threshold, meets_threshold
from bot.services.partnership_models import Side
from bot.services.pulse_models import DIMENSIONS, SUBJECTS, Participation, Trend

#: How a gap is signed, for every surface's legend.
GAP_SIGN = "provider − client"
#: Flag levels by the size of a gap (1–5 scale).
FLAG_WATCH = Decimal("1.0")
FLAG_ACT = Decimal("1.5")
#: A change of at least this much between the same items shows as an arrow; less is steady.
TREND_STEP = Decimal("0.1")
#: The health index pools every answer of this many weeks: with the default rotation every dimension is asked in it.
HEALTH_WEEKS = 4
_TENTH = Decimal("0.1")


class Flag(IntEnum):
    """How much attention a gap asks for: none, watch (≥ ``FLAG_WATCH``) or act (≥ ``FLAG_ACT``)."""

    NONE = 0
    WATCH = 1
    ACT = 2


def min_respondents(threshold: int) -> int:
    """The fewest respondents a side needs for its figures to show: the partnership's threshold, never below
    ``anonymity.MIN_THRESHOLD`` (``anonymity.effective_threshold``, the one rule)."""
    return effective_threshold(threshold)


def side_shown(respondents: int, threshold: int) -> bool:
    """Whether a side with ``respondents`` people answering may be shown (``anonymity.meets_threshold``)."""
    return meets_threshold(respondents, threshold)


def round_half_up(value: Fraction, places: Decimal = _TENTH) -> Decimal:
    """``value`` rounded half up (away from zero) to ``places``, exactly: no binary float on the way."""
    steps = abs(value) / Fraction(places)
    whole = int(steps + Fraction(1, 2))
    result = Decimal(whole) * places
    return -result if value < 0 else result


def average(total: int, count: int) -> Decimal | None:
    """The mean of ``count`` scores summing to ``total``, to one decimal, halves up; None without scores."""
    return round_half_up(Fraction(total, count)) if count else None


def gap(client: Decimal | None, provider: Decimal | None) -> Decimal | None:
    """``GAP_SIGN``: the provider's rounded average minus the client's; None unless both are known."""
    return None if client is None or provider is None else provider - client


def flag(value: Decimal | None) -> Flag:
    """The flag of a gap (or of any difference on the 1–5 scale) by its size."""
    if value is None:
        return Flag.NONE
    size = abs(value)
    return Flag.ACT if size >= FLAG_ACT else Flag.WATCH if size >= FLAG_WATCH else Flag.NONE


def change(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Current minus previous (both rounded); None when either is unknown."""
    return None if current is None or previous is None else current - previous


def trend(current: Decimal | None, previous: Decimal | None) -> Trend:
    """Up, down or steady by ``TREND_STEP``; ``NONE`` (not enough data yet) when either is unknown."""
    delta = change(current, previous)
    if delta is None:
        return Trend.NONE
    return Trend.UP if delta >= TREND_STEP else Trend.DOWN if delta <= -TREND_STEP else Trend.STEADY


def participation(responded: int, asked: int) -> Participation:
    """Respondents against the people asked."""
    return Participation(responded, asked)


@dataclass
class Tally:
    """A running sum and count of scores (mutable while a surface reads its rows)."""

    total: int = 0
    count: int = 0

    def add(self, total: int, count: int) -> None:
        self.total += total
        self.count += count

    @property
    def average(self) -> Decimal | None:
        return average(self.total, self.count)


@dataclass(frozen=True)
class SideFigure:
    """One side's average for a comparison. ``previous`` is the same items' average the last time they were
    asked (None: not enough data yet); ``withheld``: the side had too few respondents, so nothing shows."""

    average: Decimal | None
    answers: int = 0
    previous: Decimal | None = None
    withheld: bool = False

    @property
    def change(self) -> Decimal | None:
        return change(self.average, self.previous)

    @property
    def trend(self) -> Trend:
        return trend(self.average, self.previous)


WITHHELD = SideFigure(None, 0, None, True)


def side_figure(tally: Tally | None, *, shown: bool, previous: Tally | None = None) -> SideFigure:
    """A side's figure from its tally, or ``WITHHELD`` when the side is not shown."""
    if not shown:
        return WITHHELD
    current = tally or Tally()
    return SideFigure(current.average, current.count, previous.average if previous is not None else None)


@dataclass(frozen=True)
class Comparison:
    """Both sides' ratings of one subject within one dimension (``subject`` None: an item that is not comparable,
    shown per side without a gap)."""

    subject: str | None
    dimension: str
    client: SideFigure
    provider: SideFigure

    def side(self, side: Side) -> SideFigure:
        return self.client if side is Side.CLIENT else self.provider

    @property
    def gap(self) -> Decimal | None:
        return None if self.subject is None else gap(self.client.average, self.provider.average)

    @property
    def flag(self) -> Flag:
        return flag(self.gap)

    @property
    def previous_gap(self) -> Decimal | None:
        return None if self.subject is None else gap(self.client.previous, self.provider.previous)


def order_key(subject: str | None, dimension: str) -> tuple[int, int, str]:
    """Dimensions in the bank's order, then provider, client, relationship, then items that are not comparable."""
    d = DIMENSIONS.index(dimension) if dimension in DIMENSIONS else len(DIMENSIONS)
    s = SUBJECTS.index(subject) if subject in SUBJECTS else len(SUBJECTS)
    return (d, s, dimension)


#: Tallies by (subject, dimension, side value).
Tallies = Mapping[tuple[str | None, str, str], Tally]


def compare_all(current: Tallies, shown: Iterable[Side], previous: Tallies | None = None) -> tuple[Comparison, ...]:
    """One comparison per (subject, dimension) in ``current``, in ``order_key`` order. ``previous`` holds the same
    items' tallies from the last time they were asked (for the trend)."""
    visible = set(shown)
    before = previous or {}
    keys = sorted({(s, d) for s, d, _ in current}, key=lambda k: order_key(*k))
    return tuple(
        Comparison(
            subject,
            dimension,
            *(
                side_figure(
                    current.get((subject, dimension, side.value)),
                    shown=side in visible,
                    previous=before.get((subject, dimension, side.value)) if subject is not None else None,
                )
                for side in Side
            ),
        )
        for subject, dimension in keys
    )


def widest_first(comparisons: Iterable[Comparison]) -> tuple[Comparison, ...]:
    """The comparisons that have a gap, widest first (then in ``order_key`` order)."""
    with_gap = [c for c in comparisons if c.gap is not None]
    return tuple(sorted(with_gap, key=lambda c: (-abs(c.gap or Decimal(0)), order_key(c.subject, c.dimension))))


@dataclass(frozen=True)
class HealthIndex:
    """One side's health: the mean of every comparable answer of ``HEALTH_WEEKS`` weeks, shown only when those
    answers cover every dimension (so it measures the relationship, not the rotation). ``previous`` is the index
    of the ``HEALTH_WEEKS`` weeks before, by the same rule."""

    side: Side
    value: Decimal | None
    answers: int
    covered: int
    dimensions: int
    previous: Decimal | None = None
    withheld: bool = False

    @property
    def complete(self) -> bool:
        return self.covered >= self.dimensions

    @property
    def change(self) -> Decimal | None:
        return change(self.value, self.previous)

    @property
    def trend(self) -> Trend:
        return trend(self.value, self.previous)


def index_value(by_dimension: Mapping[str, Tally], dimensions: Iterable[str] = DIMENSIONS) -> Decimal | None:
    """The pooled mean of a window's answers when every dimension has answers in it, else None."""
    wanted = tuple(dimensions)
    if any(by_dimension.get(d) is None or by_dimension[d].count == 0 for d in wanted):
        return None
    pooled = Tally()
    for d in wanted:
        pooled.add(by_dimension[d].total, by_dimension[d].count)
    return pooled.average


def health_index(
    side: Side,
    window: Mapping[str, Tally],
    *,
    previous: Mapping[str, Tally] | None = None,
    withheld: bool = False,
    dimensions: Iterable[str] = DIMENSIONS,
) -> HealthIndex:
    """A side's ``HealthIndex`` from its answers per dimension in the window (and in the window before)."""
    wanted = tuple(dimensions)
    if withheld:
        return HealthIndex(side, None, 0, 0, len(wanted), None, True)
    covered = sum(1 for d in wanted if window.get(d) is not None and window[d].count)
    return HealthIndex(
        side=side,
        value=index_value(window, wanted),
        answers=sum(t.count for t in window.values()),
        covered=covered,
        dimensions=len(wanted),
        previous=index_value(previous, wanted) if previous is not None else None,
    )


# --- NPS -------------------------------------------------------------------------------------------------------

#: Scores 9–10 are promoters, 0–6 detractors (7–8 passives).
PROMOTER_FROM = 9
DETRACTOR_UP_TO = 6


@dataclass(frozen=True)
class NpsFigure:
    """One side's Net Promoter Score: promoters minus detractors as a whole percentage (−100 to +100); None
    when the side is withheld or nobody answered."""

    side: Side
    score: int | None
    respondents: int
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    withheld: bool = False


def nps(side: Side, scores: Iterable[int], *, shown: bool) -> NpsFigure:
    """The NPS of one side's 0–10 answers (rounded half up to a whole number)."""
    values = list(scores)
    if not shown:
        return NpsFigure(side, None, 0, withheld=True)
    if not values:
        return NpsFigure(side, None, 0)
    promoters = sum(1 for v in values if v >= PROMOTER_FROM)
    detractors = sum(1 for v in values if v <= DETRACTOR_UP_TO)
    score = round_half_up(Fraction(100 * (promoters - detractors), len(values)), Decimal(1))
    return NpsFigure(side, int(score), len(values), promoters, len(values) - promoters - detractors, detractors)
