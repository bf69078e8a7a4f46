"""The weekly digest: its per-week record, the due-digest claim, and the aggregate queries it is built from.

Every query here is set-based and scoped to one partnership (or, for the claim, to due partnerships): a digest
costs the same handful of queries whether the partnership has ten answers or ten thousand.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import NamedTuple, TypeVarTuple

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from storage.models import (
    Answer,
    Digest,
    Partnership,
    PulseRound,
    Question,
    Response,
)
from storage.repositories.base import Repository, TableRepository
from storage.repositories.partnerships import claim_due_partnerships, due_partnerships

# The rows below are named tuples rather than frozen dataclasses: a batch of digests makes tens of thousands of
# them, and a tuple is made several times faster.

_Columns = TypeVarTuple("_Columns")


def _rows(session: Session, stmt: Select[*_Columns]) -> Sequence[Row[*_Columns]]:
    """The rows of a select of plain columns, run on the session's connection (its transaction): the same rows
    as ``session.execute``, without the ORM's per-row result handling, which costs more than the database does
    when a batch of digests reads tens of thousands of aggregate rows.
    """
    return session.connection().execute(stmt).all()


#: What the score queries select and group by: one row per (round, side, item).
_SCORE_GROUP = (Response.round_id, Response.side, Question.id, Question.subject, Question.dimension)
_SCORE_COLUMNS = (*_SCORE_GROUP, func.sum(Answer.score), func.count(Answer.id))


def _scale_scores(*rounds: ColumnElement[bool]) -> Select[int, str, int, str | None, str, int, int]:
    """Sum and count of the 1-5 scores per (round, side, item) of the rounds ``rounds`` select (NPS left out)."""
    return (
        select(*_SCORE_COLUMNS)
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .join(PulseRound, PulseRound.id == Response.round_id)
        .join(Question, Question.id == Answer.question_id)
        .where(*rounds, Question.kind == "scale")
        .group_by(*_SCORE_GROUP)
    )


class RoundRow(NamedTuple):
    id: int
    closed_at: datetime
    asked_client: int
    asked_provider: int


class ScoreRow(NamedTuple):
    """The sum (``total``) and number (``answers``) of one side's 1–5 scores on one item (question) in one round,
    with the item's subject (None: not comparable) and dimension."""

    round_id: int
    side: str
    question_id: int
    subject: str | None
    dimension: str
    total: int
    answers: int


class CommentRow(NamedTuple):
    """One comment of a round, with the sentiment score stored when it was saved (None: saved before scores
    were stored, so the digest scores it itself)."""

    round_id: int
    side: str
    comment: str
    sentiment: float | None = None


class NpsRow(NamedTuple):
    """One 0–10 answer to an NPS item in a round, by side."""

    round_id: int
    side: str
    score: int


class DigestRepository(TableRepository[Digest]):
    """The ``digests`` rows (one per partnership and week) and the claim of partnerships whose digest is due."""

    model = Digest

    def get_for_week(self, partnership_id: int, week_start: date) -> Digest | None:
        return self.find_one(Digest.partnership_id == partnership_id, Digest.week_start == week_start)

    def get_many(self, digest_ids: Collection[int]) -> dict[int, Digest]:
        """``digests`` rows by id, in one query (ids that do not exist are absent)."""
        if not digest_ids:
            return {}
        rows = self.session.scalars(select(Digest).where(Digest.id.in_(sorted(set(digest_ids))))).all()
        return {d.id: d for d in rows}

    def partnerships(self, partnership_ids: Collection[int]) -> dict[int, Partnership]:
        """Partnerships by id, in one query (ids that do not exist are absent)."""
        if not partnership_ids:
            return {}
        rows = self.session.scalars(select(Partnership).where(Partnership.id.in_(sorted(set(partnership_ids))))).all()
        return {p.id: p for p in rows}

    def claim_due(self, now: datetime, limit: int) -> Sequence[Partnership]:
        """Active partnerships whose digest is due, or whose digest time is not computed yet (NULL), row-locked;
        rows another process holds are skipped.
        """
        due = or_(Partnership.next_digest_at.is_(None), Partnership.next_digest_at <= now)
        return claim_due_partnerships(self.session, due, Partnership.next_digest_at, limit)

    def due_ids(self, now: datetime) -> list[int]:
        """Ids of active partnerships whose digest time has come (without claiming them)."""
        due = and_(Partnership.next_digest_at.is_not(None), Partnership.next_digest_at <= now)
        stmt = due_partnerships(Partnership.id, due, Partnership.next_digest_at)
        return [int(i) for i in self.session.scalars(stmt).all()]


class DigestQueries(Repository):
    """The aggregate reads of a digest's pulse figures: four queries per partnership, none per answer or per round."""

    def batch(self, partnership_ids: Collection[int], *, start: datetime, end: datetime) -> DigestBatchQueries:
        """The same reads for many partnerships at once, over the union of their windows (``DigestBatchQueries``)."""
        return DigestBatchQueries(self.session, partnership_ids, start=start, end=end)

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
        return [RoundRow(int(i), c, int(a), int(b)) for i, c, a, b in _rows(self.session, stmt) if c is not None]

    def respondents(self, partnership_id: int, start: datetime, end: datetime) -> dict[tuple[int, str], int]:
        """Respondents per (round, side) of the rounds closed in ``[start, end)``."""
        stmt = (
            select(Response.round_id, Response.side, func.count())
            .join(PulseRound, PulseRound.id == Response.round_id)
            .where(*self._closed_rounds(partnership_id, start, end))
            .group_by(Response.round_id, Response.side)
        )
        return {(int(r), str(s)): int(n) for r, s, n in _rows(self.session, stmt)}

    def scores(self, partnership_id: int, start: datetime, end: datetime) -> list[ScoreRow]:
        """Sum and count of 1–5 scores per (round, side, item) of the rounds closed in ``[start, end)``.

        NPS answers (0–10) are left out: they are on another scale.
        """
        stmt = _scale_scores(*self._closed_rounds(partnership_id, start, end))
        return [
            ScoreRow(int(r), str(s), int(q), subject, str(d), int(t or 0), int(n))
            for r, s, q, subject, d, t, n in _rows(self.session, stmt)
        ]

    def comments(self, round_ids: Collection[int]) -> list[CommentRow]:
        """Every comment of the given rounds, in submission order, with its stored sentiment score."""
        if not round_ids:
            return []
        stmt = (
            select(Response.round_id, Response.side, Answer.comment, Answer.sentiment)
            .join(Answer, Answer.response_id == Response.id)
            .where(Response.round_id.in_(sorted(round_ids)), Answer.comment.is_not(None), Answer.comment != "")
            .order_by(Response.id, Answer.id)
        )
        return [
            CommentRow(int(r), str(s), str(c), None if v is None else float(v)) for r, s, c, v in _rows(self.session, stmt)
        ]

    def nps(self, round_ids: Collection[int]) -> list[NpsRow]:
        """Every 0–10 answer to an NPS item in the given rounds."""
        if not round_ids:
            return []
        stmt = (
            select(Response.round_id, Response.side, Answer.score)
            .join(Answer, Answer.response_id == Response.id)
            .join(Question, Question.id == Answer.question_id)
            .where(Response.round_id.in_(sorted(round_ids)), Question.kind == "nps")
        )
        return [NpsRow(int(r), str(s), int(v)) for r, s, v in _rows(self.session, stmt)]


class DigestBatchQueries:
    """The same reads as ``DigestQueries`` for many partnerships at once: one query per kind for the whole batch.

    Built for one batch (``DigestBatchQueries(session, ids, start=..., end=...)``) over the union of the
    partnerships' windows (``start``: the earliest first chart instant, ``end``: the latest digest time). Each
    per-partnership method then answers exactly what ``DigestQueries`` would (same rows, same order) by
    filtering what was read, so a digest built from it is the same digest. Building N digests one by one costs
    N times a dozen statements, most of whose time is statement overhead rather than reading rows; this costs a
    dozen in all. Only what the digest asks is supported: closed rounds and their scores, and comments of rounds
    closed inside the window (issues, actions and goals: ``storage.repositories.work_history``).
    """

    def __init__(self, session: Session, partnership_ids: Collection[int], *, start: datetime, end: datetime) -> None:
        ids = sorted(set(partnership_ids))
        self.start, self.end = start, end
        window = (
            PulseRound.partnership_id.in_(ids),
            PulseRound.status == "closed",
            PulseRound.closed_at >= start,
            PulseRound.closed_at < end,
        )
        self._rounds: dict[int, list[RoundRow]] = {}
        self._round_pid: dict[int, int] = {}
        self._closed_at: dict[int, datetime] = {}
        rounds_stmt = (
            select(
                PulseRound.partnership_id,
                PulseRound.id,
                PulseRound.closed_at,
                PulseRound.asked_client,
                PulseRound.asked_provider,
            )
            .where(*window)
            .order_by(PulseRound.closed_at, PulseRound.id)
        )
        for pid, rid, closed, a, b in _rows(session, rounds_stmt):
            if closed is None:  # pragma: no cover - the filter requires a value
                continue
            self._rounds.setdefault(int(pid), []).append(RoundRow(int(rid), closed, int(a), int(b)))
            self._round_pid[int(rid)] = int(pid)
            self._closed_at[int(rid)] = closed
        self._respondents: dict[int, dict[tuple[int, str], int]] = {}
        if self._round_pid:
            respondents_stmt = (
                select(Response.round_id, Response.side, func.count())
                .join(PulseRound, PulseRound.id == Response.round_id)
                .where(*window)
                .group_by(Response.round_id, Response.side)
            )
            for r, s, n in _rows(session, respondents_stmt):
                self._respondents.setdefault(self._round_pid[r], {})[(r, s)] = n
        self._scores: dict[int, list[ScoreRow]] = {}
        if self._round_pid:
            scores_stmt = _scale_scores(*window)
            # The driver's ints and strings as they are: tens of thousands of rows, converted to what they are.
            for r, s, q, subject, d, t, n in _rows(session, scores_stmt):
                self._scores.setdefault(self._round_pid[r], []).append(ScoreRow(r, s, q, subject, d, t or 0, n))
        self._session = session
        self._comments: dict[int, list[tuple[int, CommentRow]]] | None = None
        self._comment_rounds: frozenset[int] = frozenset()
        self._nps: dict[int, list[NpsRow]] | None = None

    def _check(self, start: datetime, end: datetime) -> None:
        if start < self.start or end > self.end:
            raise ValueError(f"[{start}, {end}) is outside this batch's window [{self.start}, {self.end})")

    def _whole(self, start: datetime, end: datetime) -> bool:
        """Whether ``[start, end)`` is the batch's whole window (everything read for it is inside: no filtering),
        as it is for every partnership of a batch on the same digest schedule."""
        self._check(start, end)
        return start == self.start and end == self.end

    def rounds(self, partnership_id: int, start: datetime, end: datetime) -> list[RoundRow]:
        if self._whole(start, end):
            return list(self._rounds.get(partnership_id, ()))
        return [r for r in self._rounds.get(partnership_id, ()) if start <= r.closed_at < end]

    def respondents(self, partnership_id: int, start: datetime, end: datetime) -> dict[tuple[int, str], int]:
        if self._whole(start, end):
            return dict(self._respondents.get(partnership_id, {}))
        inside = {r.id for r in self.rounds(partnership_id, start, end)}
        return {key: n for key, n in self._respondents.get(partnership_id, {}).items() if key[0] in inside}

    def scores(self, partnership_id: int, start: datetime, end: datetime) -> list[ScoreRow]:
        if self._whole(start, end):
            return list(self._scores.get(partnership_id, ()))
        return [s for s in self._scores.get(partnership_id, ()) if start <= self._closed_at[s.round_id] < end]

    def prefetch_comments(self, round_ids: Collection[int]) -> None:
        """Read the comments and NPS answers of these rounds (one query each); ``comments`` and ``nps`` then answer
        from them for these rounds."""
        self._comment_rounds = frozenset(round_ids)
        self._comments = {}
        single = DigestQueries(self._session)
        for position, row in enumerate(single.comments(self._comment_rounds)):
            self._comments.setdefault(row.round_id, []).append((position, row))
        self._nps = {}
        for answer in single.nps(self._comment_rounds):
            self._nps.setdefault(answer.round_id, []).append(answer)

    def nps(self, round_ids: Collection[int]) -> list[NpsRow]:
        """Every NPS answer of the given rounds (as ``DigestQueries.nps``)."""
        wanted = set(round_ids)
        if self._nps is None or not wanted <= self._comment_rounds:
            return DigestQueries(self._session).nps(wanted)
        return [row for rid in sorted(wanted) for row in self._nps.get(rid, ())]

    def comments(self, round_ids: Collection[int]) -> list[CommentRow]:
        """Every comment of the given rounds, in submission order (as ``DigestQueries.comments``)."""
        wanted = set(round_ids)
        if self._comments is None or not wanted <= self._comment_rounds:
            return DigestQueries(self._session).comments(wanted)
        found = sorted(pair for rid in wanted for pair in self._comments.get(rid, ()))
        return [row for _, row in found]
