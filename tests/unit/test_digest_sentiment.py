"""Each comment's sentiment is scored once, when it is saved (``answers.sentiment``), and the digest reads it.

The digest's numbers must be what they were when it scored every comment itself: a stored score is
``analyse(comment).score``; a comment saved before the column existed (NULL) is scored on the fly. The goals
section of a batch of digests is read in one query for the whole batch, and gives what the one-by-one build gives.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, date, datetime
from statistics import fmean

import pytest
from sqlalchemy import event, select, update

from benchmarks.sentiment import load_labelled
from bot.services import digest, pulse_rounds, sentiment, themes, work_history
from bot.services.errors import InvalidInput
from bot.services.pulse_models import MAX_COMMENT, AnswerInput, RoundView
from bot.services.sentiment import NEGATIVE, POSITIVE, analyse, comment_sentiment, label_for
from storage.models import Answer, Goal, PulseRound, Response
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world
from tests.unit.test_digest import DIGEST_AT, START, WEEK_START, _seed_history
from tests.unit.test_services_db import CHANNEL, CLIENT_LEAD, CLIENT_TEAM, NOW, _installed
from tests.unit.test_services_db import _submit as _submit_answers

#: When the one round of the digest's week closed (``_seed_history``).
THIS_WEEKS_ROUND = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
LATE = "Another SLA miss this week <!channel>, and nobody told us <@U123>"
GREAT = "Great proactive support, the release went live on time"


@pytest.fixture
def pulse_world(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    return _installed(uow_factory)


def _start(uow_factory: UnitOfWorkFactory) -> RoundView:
    return pulse_rounds.start_round_now(uow_factory(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor=CLIENT_LEAD, now=NOW)


def _submit(uow_factory: UnitOfWorkFactory, r: RoundView, user: str, comments: list[str | None]) -> None:
    answers = [
        AnswerInput(q.id, 7 if q.kind == "nps" else 3, comments[i] if i < len(comments) else None)
        for i, q in enumerate(r.questions)
    ]
    _submit_answers(uow_factory, r, user, 3, answers=answers)


def _stored(uow_factory: UnitOfWorkFactory, r: RoundView) -> list[tuple[str | None, float | None]]:
    """(comment, sentiment) of every answer of the round, in question order."""
    with uow_factory() as uow:
        rows = uow.session.execute(
            select(Answer.comment, Answer.sentiment)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.round_id == r.id)
            .order_by(Response.id, Answer.question_id)
        ).all()
        return [(c, s) for c, s in rows]


# --- stored when the answer is saved -----------------------------------------------------------------------


def test_submitting_stores_each_comments_score_and_none_without_a_comment(pulse_world: UnitOfWorkFactory) -> None:
    r = _start(pulse_world)
    assert len(r.questions) >= 3
    _submit(pulse_world, r, "UC1", [f"  {LATE}  ", None, "   "])
    stored = _stored(pulse_world, r)
    # The comment is stored stripped and scored as stored; blank and missing comments have no score.
    assert stored[0] == (LATE, analyse(LATE).score)
    assert stored[0][1] is not None and stored[0][1] < 0
    assert all(pair == (None, None) for pair in stored[1:])


def test_resubmitting_rescores_a_changed_comment_and_clears_a_removed_one(pulse_world: UnitOfWorkFactory) -> None:
    r = _start(pulse_world)
    _submit(pulse_world, r, "UC1", [LATE, GREAT])
    _submit(pulse_world, r, "UC1", [LATE, GREAT])  # the same submission twice: nothing changes
    assert _stored(pulse_world, r)[:2] == [(LATE, analyse(LATE).score), (GREAT, analyse(GREAT).score)]
    _submit(pulse_world, r, "UC1", [GREAT, None])
    stored = _stored(pulse_world, r)
    assert stored[:2] == [(GREAT, analyse(GREAT).score), (None, None)]
    assert len(stored) == len(r.questions)  # one response, updated in place


def test_a_refused_submission_stores_no_score(pulse_world: UnitOfWorkFactory) -> None:
    r = _start(pulse_world)
    with pytest.raises(InvalidInput):
        _submit(pulse_world, r, "UC1", ["x" * (MAX_COMMENT + 1)])
    assert _stored(pulse_world, r) == []


def test_comment_sentiment_is_the_analysers_score() -> None:
    assert comment_sentiment(None) is None and comment_sentiment("") is None
    assert comment_sentiment(GREAT) == analyse(GREAT).score > 0


# --- read by the digest ------------------------------------------------------------------------------------


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=START)


def _client_comment_ids(world: IssueWorld) -> list[tuple[int, str]]:
    """(answer id, comment) of the client's comments in the digest's week (the seeded rows have no score)."""
    with world.uow_factory() as uow:
        rows = uow.session.execute(
            select(Answer.id, Answer.comment, Answer.sentiment)
            .join(Response, Response.id == Answer.response_id)
            .join(PulseRound, PulseRound.id == Response.round_id)
            .where(Response.side == "client", Answer.comment.is_not(None), PulseRound.closed_at == THIS_WEEKS_ROUND)
            .order_by(Response.id, Answer.id)
        ).all()
    assert rows and all(s is None for _, _, s in rows)  # seeded as before the column existed
    return [(int(i), str(c)) for i, c, _ in rows]


def _set_scores(world: IssueWorld, scores: dict[int, float | None]) -> None:
    with world.uow_factory() as uow:
        for answer_id, score in scores.items():
            uow.session.execute(update(Answer).where(Answer.id == answer_id).values(sentiment=score))
        uow.commit()


def _client_sentiment(world: IssueWorld, *, batched: bool) -> object:
    if batched:
        (view,) = digest.build_digests(world.uow_factory(), partnership_ids=[world.partnership_id], now=DIGEST_AT)
    else:
        view = digest.build_digest(
            world.uow_factory(), partnership_id=world.partnership_id, week_start=WEEK_START, now=DIGEST_AT
        )
    return view.sides[0].sentiment


@pytest.mark.parametrize("batched", [False, True])
def test_the_digest_uses_the_stored_score_and_scores_null_ones_itself(world: IssueWorld, batched: bool) -> None:
    _seed_history(world)
    said = _client_comment_ids(world)
    assert len(said) == 3
    # NULL everywhere (rows from before the migration): scored on the fly, as the digest always did.
    before = _client_sentiment(world, batched=batched)
    scores = [analyse(c).score for _, c in said]
    assert before is not None and before.mean == round(fmean(scores), 3)
    # A stored score is used as it is: a value the analyser would never give these comments shows through.
    _set_scores(world, {i: 0.9 for i, _ in said})
    stored = _client_sentiment(world, batched=batched)
    assert stored is not None
    assert (stored.comments, stored.mean, stored.label, stored.positive, stored.negative) == (3, 0.9, POSITIVE, 3, 0)
    # Mixed: the one left NULL is scored, the others are read.
    _set_scores(world, {said[0][0]: None})
    mixed = _client_sentiment(world, batched=batched)
    expected = [scores[0], 0.9, 0.9]
    assert mixed is not None and mixed.mean == round(fmean(expected), 3)
    assert mixed.negative == sum(label_for(s) == NEGATIVE for s in expected)
    assert mixed.positive == sum(label_for(s) == POSITIVE for s in expected)


def test_stored_scores_give_the_same_digest_as_scoring_every_comment(world: IssueWorld) -> None:
    _seed_history(world)
    scored_live = digest.build_digest(
        world.uow_factory(), partnership_id=world.partnership_id, week_start=None, now=DIGEST_AT
    )
    with world.uow_factory() as uow:
        rows = uow.session.execute(select(Answer.id, Answer.comment).where(Answer.comment.is_not(None))).all()
    _set_scores(world, {int(i): comment_sentiment(c) for i, c in rows})
    stored = digest.build_digest(world.uow_factory(), partnership_id=world.partnership_id, week_start=None, now=DIGEST_AT)
    assert stored == scored_live
    assert stored.sides[0].sentiment is not None


# --- the goals section of a batch --------------------------------------------------------------------------


def _add_goals(world: IssueWorld, specs: list[tuple[str, str, datetime]]) -> None:
    with world.uow_factory() as uow:
        for number, (title, status, updated) in enumerate(specs, start=1):
            uow.session.add(
                Goal(
                    partnership_id=world.partnership_id,
                    number=number,
                    title=title,
                    client_owner_id="UC1",
                    provider_owner_id="UP1",
                    status=status,
                    created_by="UC1",
                    created_at=START,
                    updated_at=updated,
                )
            )
        uow.commit()


def test_a_batch_reads_its_goals_in_one_query_and_shows_what_one_by_one_shows(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_issue_world(uow_factory, now=START)
    second = make_issue_world(uow_factory, now=START, channel_id="C200", name="Kolkata desk")
    in_week, earlier = datetime(2026, 12, 8, 15, tzinfo=UTC), datetime(2026, 11, 20, 15, tzinfo=UTC)
    # More goals than the digest reads (limit lowered to 3): the done ones are the ones left out, both ways.
    _add_goals(
        first,
        [
            ("Done long ago", "done", earlier),
            ("Cut ticket backlog", "at_risk", in_week),
            ("Done this week", "done", in_week),
            ("Launch pilot", "on_track", earlier),
            ("Fix invoicing", "off_track", in_week),
        ],
    )
    _add_goals(second, [("Done this week", "done", in_week), ("Only goal left", "on_track", earlier)])
    monkeypatch.setattr(work_history, "MAX_DIGEST_GOALS", 3)
    ids = [first.partnership_id, second.partnership_id, 9999]
    one_by_one = [digest.build_digest(uow_factory(), partnership_id=pid, week_start=None, now=DIGEST_AT) for pid in ids[:2]]
    with uow_factory() as uow:
        engine = uow.session.get_bind()
    goal_queries: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM goals" in statement:
            goal_queries.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        batched = digest.build_digests(uow_factory(), partnership_ids=ids, now=DIGEST_AT)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert batched == one_by_one
    assert len(goal_queries) == 1
    assert [g.title for g in batched[0].goals.goals] == ["Cut ticket backlog", "Launch pilot", "Fix invoicing"]
    assert [g.title for g in batched[1].goals.goals] == ["Done this week", "Only goal left"]
    assert batched[1].week_start == date(2026, 12, 4)


# --- the faster sentiment rewrite and themes say exactly what the plain versions said ----------------------


def _soup(words: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 9))).replace(" ,", ",") for _ in range(count)]


def test_the_one_pass_phrase_rewrite_equals_rewriting_phrase_by_phrase() -> None:
    one_by_one = [(re.compile(rf"\b(?:{p.pattern})\b", re.IGNORECASE), p.sentinel) for p in sentiment.PHRASES]

    def reference(text: str) -> str:
        for pattern, sentinel in one_by_one:
            text = pattern.sub(sentinel, text)
        return text

    # Every word the phrases are made of, shuffled together, so phrases overlap and abut in every order.
    words = sorted({w for p in sentiment.PHRASES for w in re.findall(r"[a-z]{2,}", p.pattern)} - {"pp"})
    texts = [x.text for x in load_labelled()] + _soup([*words, ",", "-", "but", "not", "the"], 20_000, seed=5)
    assert [sentiment.rewrite_phrases(t) for t in texts] == [reference(t) for t in texts]
    assert sentiment.rewrite_phrases("Not bad, but we fell behind schedule") == "pp_hedge, but we pp_behind schedule"


def test_themes_equal_counting_every_phrase_of_every_comment() -> None:
    def reference(comments: list[str], limit: int, min_comments: int) -> list[themes.Theme]:
        counts: Counter[tuple[str, ...]] = Counter()
        for comment in comments:
            runs = themes.clauses(comment)
            counts.update(
                {
                    tuple(words[i : i + size])
                    for words in runs
                    for size in range(1, themes.MAX_WORDS + 1)
                    for i in range(len(words) - size + 1)
                    if themes._is_phrase(tuple(words[i : i + size]))
                }
            )
        kept = {g: n for g, n in counts.items() if n >= max(min_comments, 1)}
        subsumed = {part for g, n in kept.items() for part in themes._shorter_parts(g) if kept.get(part) == n}
        ranked = sorted((g for g in kept if g not in subsumed), key=lambda g: (-kept[g], -len(g), g))
        return [themes.Theme(" ".join(g), kept[g]) for g in ranked[:limit]]

    vocabulary = [*sorted(themes.STOPWORDS)[:40], *themes.NEGATIONS, "1", "22", "handover", "late", "test", "go-live"]
    pool = [x.text for x in load_labelled()] + _soup([*vocabulary, ",", ".", "<@U1>"], 2_000, seed=6)
    rng = random.Random(7)
    for _ in range(400):
        group = [rng.choice(pool) for _ in range(rng.randint(0, 20))]
        for min_comments in (0, 1, 2, 3):
            assert themes.recurring_phrases(group, limit=50, min_comments=min_comments) == reference(group, 50, min_comments)
