"""The pulse figures of a digest's weeks, from its aggregate rows (``storage.repositories.digests``): the shown scores
by week, side and item (this week's comparisons and each side's previous value, the health index windows), each
side's week (participation, withheld, comment tone and themes) and NPS. Pure: ``bot.services.digest`` reads the
rows and builds the view with these.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from statistics import fmean

from bot.services import figures
from bot.services.digest_models import SentimentSummary, SideDigest, ThemeView
from bot.services.partnership_models import Side
from bot.services.pulse_models import Participation
from bot.services.sentiment import NEGATIVE, POSITIVE, analyse, label_for
from bot.services.themes import recurring_phrases
from storage.models import Partnership
from storage.repositories.digests import CommentRow, NpsRow, RoundRow, ScoreRow

#: Recurring themes shown per side.
THEMES_PER_SIDE = 5

_Tallies = dict[tuple[str | None, str, str], figures.Tally]


class Scores:
    """Sums of the shown scores by (weeks back, side value, item): plain ``[total, count]`` lists, since a batch of
    a thousand digests adds them over a hundred thousand times. ``items`` knows each item's subject and dimension.
    """

    def __init__(self) -> None:
        self.sums: dict[tuple[int, str, int], list[int]] = {}
        self.items: dict[int, tuple[str | None, str]] = {}
        self._by_week: dict[tuple[str, int], dict[str, list[int]]] | None = None

    def add(self, week: int, row: ScoreRow) -> None:
        self._by_week = None
        self.items[row.question_id] = (row.subject, row.dimension)
        key = (week, row.side, row.question_id)
        found = self.sums.get(key)
        if found is None:
            self.sums[key] = [row.total, row.answers]
        else:
            found[0] += row.total
            found[1] += row.answers

    def this_week(self) -> tuple[_Tallies, _Tallies]:
        """This week's tallies per (subject, dimension, side) and, for the same items, each side's tallies of the
        last week before this one in which the item was asked *and that side's answers could be shown* (a week
        the side was too thin is skipped, never compared as nothing); a comparison gets a previous value only
        when every one of its items has one (like with like)."""
        current: dict[tuple[str | None, str, str], figures.Tally] = {}
        previous: dict[tuple[str | None, str, str], figures.Tally] = {}
        missing: set[tuple[str | None, str, str]] = set()
        # Only shown answers are summed, so these are the weeks each side met the threshold on each item.
        asked_weeks: dict[tuple[str, int], list[int]] = {}
        for week, side, item in self.sums:
            asked_weeks.setdefault((side, item), []).append(week)
        for (week, side, item), (total, count) in self.sums.items():
            if week != 0:
                continue
            subject, dimension = self.items[item]
            key = (subject, dimension, side)
            current.setdefault(key, figures.Tally()).add(total, count)
            earlier = [w for w in asked_weeks[(side, item)] if w > 0]
            before = self.sums.get((min(earlier), side, item)) if earlier and subject is not None else None
            if before is None:
                missing.add(key)
            else:
                previous.setdefault(key, figures.Tally()).add(before[0], before[1])
        return current, {k: v for k, v in previous.items() if k not in missing}

    def _weekly(self) -> dict[tuple[str, int], dict[str, list[int]]]:
        """Comparable sums per (side value, weeks back) and dimension, summed once: the chart asks for a dozen
        windows per side, each the sum of ``HEALTH_WEEKS`` of these."""
        if self._by_week is None:
            self._by_week = {}
            for (week, side_value, item), (total, count) in self.sums.items():
                subject, dimension = self.items[item]
                if subject is None:
                    continue
                found = self._by_week.setdefault((side_value, week), {}).setdefault(dimension, [0, 0])
                found[0] += total
                found[1] += count
        return self._by_week

    def window(self, side: Side, first_week: int) -> dict[str, figures.Tally]:
        """A side's comparable answers per dimension in the ``HEALTH_WEEKS`` weeks from ``first_week`` back."""
        weekly = self._weekly()
        by_dimension: dict[str, figures.Tally] = {}
        value = side.value
        for week in range(first_week, first_week + figures.HEALTH_WEEKS):
            for dimension, (total, count) in weekly.get((value, week), {}).items():
                by_dimension.setdefault(dimension, figures.Tally()).add(total, count)
        return by_dimension

    def health(self, side: Side, *, withheld: bool) -> figures.HealthIndex:
        """A side's health index this week, against the ``HEALTH_WEEKS`` weeks before."""
        return figures.health_index(
            side, self.window(side, 0), previous=self.window(side, figures.HEALTH_WEEKS), withheld=withheld
        )


def dimension_scores(scores: Scores, sides: Sequence[SideDigest]) -> dict[tuple[Side, str], Decimal | None]:
    """Each side's score per dimension, as the health index pools it: the mean of the side's comparable answers on
    the dimension over the ``figures.HEALTH_WEEKS`` weeks up to this one (shown answers only); none for a side
    withheld this week (the watermelon check sets these beside the KPIs)."""
    return {
        (s.side, dimension): tally.average
        for s in sides
        if not s.withheld
        for dimension, tally in scores.window(s.side, 0).items()
    }


def nps_figures(rows: Sequence[NpsRow], shown: set[tuple[int, str]]) -> tuple[figures.NpsFigure, figures.NpsFigure] | None:
    """Each side's NPS of the week: the answers of the rounds in which that side met the threshold (as round
    results show them); a side too thin in every round that asked it is withheld. None: no NPS answers."""
    if not rows:
        return None
    asked = {r.round_id for r in rows}
    client, provider = (
        figures.nps(
            side,
            [r.score for r in rows if r.side == side.value and (r.round_id, r.side) in shown],
            shown=any((rid, side.value) in shown for rid in asked),
        )
        for side in Side
    )
    return client, provider


def side_digest(
    p: Partnership,
    side: Side,
    this_week: list[RoundRow],
    respondents: dict[tuple[int, str], int],
    shown: set[tuple[int, str]],
    comments: list[CommentRow],
) -> SideDigest:
    responded = sum(respondents.get((r.id, side.value), 0) for r in this_week)
    asked = sum(r.asked_client if side is Side.CLIENT else r.asked_provider for r in this_week)
    org = p.client_org if side is Side.CLIENT else p.provider_org
    withheld = bool(this_week) and not any((r.id, side.value) in shown for r in this_week)
    said = [c for c in comments if c.side == side.value and (c.round_id, c.side) in shown]
    texts = tuple(c.comment for c in said)
    return SideDigest(
        side=side,
        org=org,
        participation=Participation(responded, asked),
        withheld=withheld,
        sentiment=sentiment_summary(said),
        themes=tuple(ThemeView(t.phrase, t.comments) for t in recurring_phrases(texts, limit=THEMES_PER_SIDE)),
        comments=texts,
    )


def sentiment_summary(comments: Sequence[CommentRow]) -> SentimentSummary | None:
    """The tone of the comments: the score stored when each was saved; one saved before scores were stored
    (NULL) is scored now, as every comment used to be.
    """
    if not comments:
        return None
    scores = [c.sentiment if c.sentiment is not None else analyse(c.comment).score for c in comments]
    mean = round(fmean(scores), 3)
    labels = [label_for(score) for score in scores]
    positive = labels.count(POSITIVE)
    negative = labels.count(NEGATIVE)
    return SentimentSummary(
        comments=len(scores),
        mean=mean,
        label=label_for(mean),
        positive=positive,
        neutral=len(scores) - positive - negative,
        negative=negative,
    )
