"""The weekly digest: its per-week record, the due-digest claim, and the aggregate queries it is built from.

Every query here is set-based and scoped to one partnership (or, for the claim, to due partnerships): a digest
costs the same handful of queries whether the partnership has ten answers or ten thousand.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from storage.models import (
    Action,
    Answer,
    Digest,
    Issue,
    IssueEvent,
    Partnership,
    PulseRound,
    Question,
    Response,
    Workspace,
)

#: Statuses of an issue that is not resolved (as in ``storage.repositories.issues``).
UNRESOLVED = ("open", "acknowledged")


@dataclass(frozen=True)
class RoundRow:
    id: int
    closed_at: datetime
    asked_client: int
    asked_provider: int


@dataclass(frozen=True)
class ScoreRow:
    """The sum and count of one side's 1–5 scores on one dimension in one round."""

    round_id: int
    side: str
    dimension: str
    total: int
    count: int


@dataclass(frozen=True)
class CommentRow:
    round_id: int
    side: str
    comment: str


@dataclass(frozen=True)
class IssueEventRow:
    issue_id: int
    kind: str
    level: int | None
    at: datetime


class DigestRepository:
    """The ``digests`` rows (one per partnership and week) and the claim of partnerships whose digest is due."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, digest_id: int) -> Digest | None:
        return self.session.get(Digest, digest_id)

    def get_for_week(self, partnership_id: int, week_start: date) -> Digest | None:
        stmt = select(Digest).where(Digest.partnership_id == partnership_id, Digest.week_start == week_start)
        return self.session.scalars(stmt).one_or_none()

    def add(self, digest: Digest) -> Digest:
        self.session.add(digest)
        self.session.flush()
        return digest

    def claim_due(self, now: datetime, limit: int) -> Sequence[Partnership]:
        """Active partnerships whose digest is due, or whose digest time is not computed yet (NULL), row-locked;
        rows another process holds are skipped.
        """
        stmt = (
            select(Partnership)
            .join(Workspace, Workspace.id == Partnership.workspace_id)
            .where(
                Partnership.status == "active",
                Workspace.sending_enabled.is_(True),
                or_(Partnership.next_digest_at.is_(None), Partnership.next_digest_at <= now),
            )
            .order_by(Partnership.next_digest_at, Partnership.id)
            .limit(limit)
            .with_for_update(of=Partnership, skip_locked=True)
        )
        return self.session.scalars(stmt).all()

    def due_ids(self, now: datetime) -> list[int]:
        """Ids of active partnerships whose digest time has come (without claiming them)."""
        stmt = (
            select(Partnership.id)
            .join(Workspace, Workspace.id == Partnership.workspace_id)
            .where(
                Partnership.status == "active",
                Workspace.sending_enabled.is_(True),
                Partnership.next_digest_at.is_not(None),
                Partnership.next_digest_at <= now,
            )
            .order_by(Partnership.next_digest_at, Partnership.id)
        )
        return [int(i) for i in self.session.scalars(stmt).all()]


class DigestQueries:
    """The aggregate reads a digest is built from: seven queries per partnership, none per answer or per round."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _closed_rounds(self, partnership_id: int, start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
        return (
            PulseRound.partnership_id == partnership_id,
            PulseRound.status == "closed",
            PulseRound.closed_at >= start,
            PulseRound.closed_at < end,
        )

    def rounds(self, partnership_id: int, start: datetime, end: datetime) -> list[RoundRow]:
        """Rounds closed in ``[start, end)``, with how many people each side was asked."""
        stmt = (
            select(PulseRound.id, PulseRound.closed_at, PulseRound.asked_client, PulseRound.asked_provider)
            .where(*self._closed_rounds(partnership_id, start, end))
            .order_by(PulseRound.closed_at, PulseRound.id)
        )
        # closed_at is never NULL here: the filter requires a value in [start, end).
        return [RoundRow(int(i), c, int(a), int(b)) for i, c, a, b in self.session.execute(stmt).all() if c is not None]

    def respondents(self, partnership_id: int, start: datetime, end: datetime) -> dict[tuple[int, str], int]:
        """Respondents per (round, side) of the rounds closed in ``[start, end)``."""
        stmt = (
            select(Response.round_id, Response.side, func.count())
            .join(PulseRound, PulseRound.id == Response.round_id)
            .where(*self._closed_rounds(partnership_id, start, end))
            .group_by(Response.round_id, Response.side)
        )
        return {(int(r), str(s)): int(n) for r, s, n in self.session.execute(stmt).all()}

    def scores(self, partnership_id: int, start: datetime, end: datetime) -> list[ScoreRow]:
        """Sum and count of 1–5 scores per (round, side, dimension) of the rounds closed in ``[start, end)``.

        NPS answers (0–10) are left out: they are on another scale.
        """
        stmt = (
            select(Response.round_id, Response.side, Question.dimension, func.sum(Answer.score), func.count(Answer.id))
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id)
            .join(PulseRound, PulseRound.id == Response.round_id)
            .join(Question, Question.id == Answer.question_id)
            .where(*self._closed_rounds(partnership_id, start, end), Question.kind == "scale")
            .group_by(Response.round_id, Response.side, Question.dimension)
        )
        return [ScoreRow(int(r), str(s), str(d), int(t or 0), int(n)) for r, s, d, t, n in self.session.execute(stmt).all()]

    def comments(self, round_ids: Collection[int]) -> list[CommentRow]:
        """Every comment of the given rounds, in submission order."""
        if not round_ids:
            return []
        stmt = (
            select(Response.round_id, Response.side, Answer.comment)
            .join(Answer, Answer.response_id == Response.id)
            .where(Response.round_id.in_(sorted(round_ids)), Answer.comment.is_not(None), Answer.comment != "")
            .order_by(Response.id, Answer.id)
        )
        return [CommentRow(int(r), str(s), str(c)) for r, s, c in self.session.execute(stmt).all()]

    def issue_events(self, partnership_id: int, start: datetime, end: datetime, kinds: Sequence[str]) -> list[IssueEventRow]:
        """History entries of the given kinds in ``[start, end)``, of the partnership's issues."""
        stmt = (
            select(IssueEvent.issue_id, IssueEvent.kind, IssueEvent.level, IssueEvent.at)
            .join(Issue, Issue.id == IssueEvent.issue_id)
            .where(
                Issue.partnership_id == partnership_id,
                IssueEvent.kind.in_(list(kinds)),
                IssueEvent.at >= start,
                IssueEvent.at < end,
            )
            .order_by(IssueEvent.at, IssueEvent.id)
        )
        return [IssueEventRow(int(i), str(k), lv, at) for i, k, lv, at in self.session.execute(stmt).all()]

    def issues(self, partnership_id: int, *, since: datetime, also: Collection[int]) -> Sequence[Issue]:
        """The partnership's unresolved issues, those logged at or after ``since``, and the issues ``also`` named."""
        conditions = [Issue.status.in_(UNRESOLVED), Issue.created_at >= since]
        if also:
            conditions.append(Issue.id.in_(sorted(also)))
        stmt = select(Issue).where(Issue.partnership_id == partnership_id, or_(*conditions)).order_by(Issue.number)
        return self.session.scalars(stmt).all()

    def actions(
        self, partnership_id: int, *, done_since: datetime, done_before: datetime
    ) -> list[tuple[Action, int | None]]:
        """Open actions, and actions marked done in ``[done_since, done_before)``, each with its issue's number."""
        stmt = (
            select(Action, Issue.number)
            .outerjoin(Issue, Issue.id == Action.issue_id)
            .where(
                Action.partnership_id == partnership_id,
                or_(
                    Action.status == "open",
                    (Action.status == "done") & (Action.closed_at >= done_since) & (Action.closed_at < done_before),
                ),
            )
            .order_by(Action.due_on, Action.id)
        )
        return [(action, None if number is None else int(number)) for action, number in self.session.execute(stmt).all()]
