"""Bilateral scorecards (DESIGN 3.5): one per partnership and period, anonymous responses, 1-5 scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from storage.models import Partnership, Scorecard, ScorecardResponse, ScorecardScore
from storage.repositories.base import AnsweringWindowRepository, RowRepository, claiming


@dataclass(frozen=True)
class ScoreSum:
    """Scores of one (rater side, target, dimension): their total and how many there are."""

    side: str
    target: str
    dimension: str
    total: int
    count: int


class ScorecardRepository(AnsweringWindowRepository[Scorecard]):
    """Scorecards, one per partnership and period."""

    model = Scorecard
    response_model = ScorecardResponse
    response_of = "scorecard_id"

    def get_by_period(self, partnership_id: int, period: str) -> Scorecard | None:
        return self.find_one(Scorecard.partnership_id == partnership_id, Scorecard.period == period)

    def latest(self, partnership_id: int) -> Scorecard | None:
        """The open scorecard if there is one, else the one opened last."""
        stmt = (
            select(Scorecard)
            .where(Scorecard.partnership_id == partnership_id)
            .order_by(Scorecard.status != "open", Scorecard.opened_at.desc(), Scorecard.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def last_opened_at(self, partnership_id: int) -> datetime | None:
        """When the partnership's most recent scorecard opened (scheduled or started by a lead)."""
        stmt = select(func.max(Scorecard.opened_at)).where(Scorecard.partnership_id == partnership_id)
        return self.session.scalar(stmt)

    def closed_between(self, partnership_id: int, start: datetime, end: datetime) -> Sequence[Scorecard]:
        """Scorecards of the partnership closed in [start, end), oldest first (for an export's period)."""
        stmt = (
            select(Scorecard)
            .where(
                Scorecard.partnership_id == partnership_id,
                Scorecard.status == "closed",
                Scorecard.closed_at >= start,
                Scorecard.closed_at < end,
            )
            .order_by(Scorecard.closed_at, Scorecard.id)
        )
        return self.session.scalars(stmt).all()

    def due_partnerships(self, now: datetime, limit: int) -> Sequence[Partnership]:
        """Active partnerships whose next scorecard is due (or not yet computed), row-locked, skip locked."""
        stmt = (
            select(Partnership)
            .where(
                Partnership.status == "active",
                Partnership.scorecard_cadence != "off",
                (Partnership.next_scorecard_at.is_(None)) | (Partnership.next_scorecard_at <= now),
            )
            .order_by(Partnership.id)
            .limit(limit)
        )
        return self.session.scalars(claiming(stmt, Partnership)).all()

    def respondents(self, scorecard_id: int) -> dict[str, int]:
        """Respondents per side."""
        return self.count_by(ScorecardResponse.side, ScorecardResponse.scorecard_id == scorecard_id)

    def score_sums(self, scorecard_id: int) -> list[ScoreSum]:
        """Totals and counts per rater side, target and dimension: the report is computed from these alone."""
        stmt = (
            select(
                ScorecardResponse.side,
                ScorecardScore.target,
                ScorecardScore.dimension,
                func.sum(ScorecardScore.score),
                func.count(),
            )
            .join(ScorecardScore, ScorecardScore.response_id == ScorecardResponse.id)
            .where(ScorecardResponse.scorecard_id == scorecard_id)
            .group_by(ScorecardResponse.side, ScorecardScore.target, ScorecardScore.dimension)
        )
        return [
            ScoreSum(str(side), str(target), str(dimension), int(total or 0), int(count))
            for side, target, dimension, total, count in self.session.execute(stmt).all()
        ]

    def comments(self, scorecard_id: int) -> list[tuple[str, str]]:
        """(side, comment) of the responses with a comment, in a fixed order that says nothing about who wrote them."""
        stmt = (
            select(ScorecardResponse.side, ScorecardResponse.comment)
            .where(ScorecardResponse.scorecard_id == scorecard_id, ScorecardResponse.comment.is_not(None))
            .order_by(ScorecardResponse.comment)
        )
        return [(str(side), str(comment)) for side, comment in self.session.execute(stmt).all()]


class ScorecardResponseRepository(RowRepository[ScorecardResponse]):
    """Anonymous responses, one per respondent (keyed hash) and scorecard."""

    model = ScorecardResponse

    def get(self, scorecard_id: int, respondent_hash: str, *, for_update: bool = False) -> ScorecardResponse | None:
        stmt = select(ScorecardResponse).where(
            ScorecardResponse.scorecard_id == scorecard_id, ScorecardResponse.respondent_hash == respondent_hash
        )
        if for_update:
            stmt = stmt.with_for_update(of=ScorecardResponse)
        return self.session.scalars(stmt).one_or_none()
