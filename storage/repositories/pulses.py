"""Questions, pulse rounds, responses and answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select

from storage.models import Answer, PulseRound, Question, Response, RoundQuestion
from storage.repositories.base import AnsweringWindowRepository, RowRepository, TableRepository


class QuestionRepository(TableRepository[Question]):
    """The built-in question bank and each partnership's own questions."""

    model = Question

    def bank(self) -> Sequence[Question]:
        return self.session.scalars(select(Question).where(Question.partnership_id.is_(None)).order_by(Question.id)).all()

    def available_for(self, partnership_id: int) -> Sequence[Question]:
        """Active questions a partnership can be asked: the bank plus its own."""
        stmt = (
            select(Question)
            .where(
                Question.active.is_(True),
                or_(Question.partnership_id.is_(None), Question.partnership_id == partnership_id),
            )
            .order_by(Question.id)
        )
        return self.session.scalars(stmt).all()

    def custom_for(self, partnership_id: int) -> Sequence[Question]:
        stmt = select(Question).where(Question.partnership_id == partnership_id).order_by(Question.id)
        return self.session.scalars(stmt).all()


class RoundRepository(AnsweringWindowRepository[PulseRound]):
    """Pulse rounds."""

    model = PulseRound
    response_model = Response
    response_of = "round_id"

    def get_scheduled(self, partnership_id: int, scheduled_at: datetime) -> PulseRound | None:
        return self.find_one(PulseRound.partnership_id == partnership_id, PulseRound.scheduled_at == scheduled_at)

    def latest(self, partnership_id: int, *, status: str | None = None) -> PulseRound | None:
        stmt = select(PulseRound).where(PulseRound.partnership_id == partnership_id)
        if status is not None:
            stmt = stmt.where(PulseRound.status == status)
        stmt = stmt.order_by(PulseRound.opened_at.desc(), PulseRound.id.desc()).limit(1)
        return self.session.scalars(stmt).first()

    def count(self, partnership_id: int) -> int:
        stmt = select(func.count()).select_from(PulseRound).where(PulseRound.partnership_id == partnership_id)
        return int(self.session.scalar(stmt) or 0)

    def recent(self, partnership_id: int, limit: int) -> Sequence[PulseRound]:
        stmt = (
            select(PulseRound)
            .where(PulseRound.partnership_id == partnership_id)
            .order_by(PulseRound.opened_at.desc(), PulseRound.id.desc())
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def question_history(self, partnership_id: int, limit_rounds: int) -> Sequence[tuple[int, int]]:
        """(sequence, question_id) pairs of the partnership's most recent rounds."""
        recent = (
            select(PulseRound.id)
            .where(PulseRound.partnership_id == partnership_id)
            .order_by(PulseRound.sequence.desc())
            .limit(limit_rounds)
            .subquery()
        )
        stmt = (
            select(PulseRound.sequence, RoundQuestion.question_id)
            .join(RoundQuestion, RoundQuestion.round_id == PulseRound.id)
            .where(PulseRound.id.in_(select(recent.c.id)))
        )
        return [(int(s), int(q)) for s, q in self.session.execute(stmt).all()]


class ResponseRepository(RowRepository[Response]):
    """Responses and their answers."""

    model = Response

    def get(self, round_id: int, respondent_hash: str, *, for_update: bool = False) -> Response | None:
        stmt = select(Response).where(Response.round_id == round_id, Response.respondent_hash == respondent_hash)
        if for_update:
            stmt = stmt.with_for_update(of=Response)
        return self.session.scalars(stmt).one_or_none()

    def hashes_for_round(self, round_id: int) -> set[str]:
        return set(self.session.scalars(select(Response.respondent_hash).where(Response.round_id == round_id)).all())

    def list_for_round(self, round_id: int) -> Sequence[Response]:
        return self.session.scalars(select(Response).where(Response.round_id == round_id).order_by(Response.id)).all()

    def answers_for_round(self, round_id: int) -> Sequence[tuple[str, Answer]]:
        """(side, answer) for every answer of a round, in submission order."""
        stmt = (
            select(Response.side, Answer)
            .join(Answer, Answer.response_id == Response.id)
            .where(Response.round_id == round_id)
            .order_by(Response.id, Answer.id)
        )
        return [(side, answer) for side, answer in self.session.execute(stmt).all()]

    def respondents_by_side(self, round_id: int) -> dict[str, int]:
        return self.count_by(Response.side, Response.round_id == round_id)
