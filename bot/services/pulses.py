"""Pulse rounds as people meet them: answering, the results per side, the question bank's edits.

Opening, reminding and closing rounds live in ``bot.services.pulse_rounds``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.services import figures
from bot.services.anonymity import respondent_hash
from bot.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.partnership_guards import require_lead, require_partnership, require_present
from bot.services.partnership_models import PartnershipView, Side, SlackProfile
from bot.services.pulse_models import (
    DIMENSIONS,
    MAX_COMMENT,
    SUBJECTS,
    AnswerForm,
    AnswerInput,
    PreviousAnswer,
    QuestionView,
    RoundResults,
    RoundView,
    SubmitResult,
)
from bot.services.read_models_from_rows import participation, partnership_view, question_view, round_view
from bot.services.sentiment import comment_sentiment
from storage.models import Answer, Partnership, PulseRound, Question, Response
from storage.uow import UnitOfWork

# --- answering ------------------------------------------------------------------------------------------


def _open_round_for(
    uow: UnitOfWork, round_id: int, now: datetime, *, to_answer: bool = False
) -> tuple[PulseRound, Partnership]:
    """The round, if it is open. ``to_answer``: read under a shared lock held until the answer is committed, so
    the round cannot close meanwhile: a close that claimed it first is waited for (and the answer refused, as
    closed), and a close coming after skips the round until the answer is in (``AnsweringWindowRepository``).
    Without it, an answer read "open" just before the close committed would be stored in a closed round, counted
    in no result."""
    r = uow.rounds.get(round_id, for_share=to_answer)
    if r is None:
        raise NotFound("This pulse no longer exists.")
    if r.status != "open" or r.closes_at <= now:
        raise Conflict("This pulse has closed, so answers can no longer be changed. Thank you for taking part!")
    p = uow.partnerships.get(r.partnership_id)
    assert p is not None
    return r, p


def _answering_side(uow: UnitOfWork, p: Partnership, profile: SlackProfile) -> Side:
    """The side the person answers for: only a present member of the round's channel (``require_present``)."""
    member = require_present(uow.members.get(p.id, profile.user_id), "answer its pulse")
    if member.side is None:
        raise NotAllowed(
            "You're not on a side of this partnership yet, so your answers could not be counted. "
            "Ask a lead to add you with `/partner side @you client|provider`."
        )
    return Side(member.side)


def answer_form(uow: UnitOfWork, *, round_id: int, profile: SlackProfile, secret_key: str, now: datetime) -> AnswerForm:
    """What the answer modal shows, prefilled with the user's earlier answers to this round.

    Raises:
        NotFound, Conflict (closed), NotAllowed (not a member of the round's channel, or on no side).
    """
    with uow.read_only():
        r, p = _open_round_for(uow, round_id, now)
        return _answer_form(uow, r, p, _answering_side(uow, p, profile), profile, secret_key)


def _answer_form(
    uow: UnitOfWork, r: PulseRound, p: Partnership, side: Side, profile: SlackProfile, secret_key: str
) -> AnswerForm:
    previous: dict[int, PreviousAnswer] = {}
    response = uow.responses.get(r.id, respondent_hash(secret_key, p.id, profile.user_id))
    if response is not None:
        previous = {a.question_id: PreviousAnswer(a.score, a.comment) for a in response.answers}
    return AnswerForm(
        round=round_view(r),
        partnership_name=p.name,
        side=side,
        other_org=p.provider_org if side is Side.CLIENT else p.client_org,
        previous=previous,
    )


def check_comments(answers: Sequence[AnswerInput]) -> None:
    """Comments fit Slack's section limit. Raises InvalidInput naming the ``comment-<question id>`` field."""
    for a in answers:
        if a.comment is not None and len(a.comment) > MAX_COMMENT:
            raise InvalidInput(
                f"Comments can be at most {MAX_COMMENT:,} characters (this one has {len(a.comment):,}).",
                f"comment-{a.question_id}",
            )


def validate_answers(questions: Sequence[QuestionView], answers: Sequence[AnswerInput]) -> None:
    """Every question answered with a score in range; comments within Slack's limit.

    Raises:
        InvalidInput: ``field`` is ``score-<question id>`` or ``comment-<question id>``.
    """
    given = {a.question_id: a for a in answers}
    for q in questions:
        a = given.get(q.id)
        low, high = (0, 10) if q.kind == "nps" else (1, 5)
        if a is None:
            raise InvalidInput("Please choose a score.", f"score-{q.id}")
        if not low <= a.score <= high:
            raise InvalidInput(f"Choose a score from {low} to {high}.", f"score-{q.id}")
    check_comments(answers)
    unknown = set(given) - {q.id for q in questions}
    if unknown:
        raise InvalidInput("The form did not match this pulse's questions; please open it again.")


def submit_answers(
    uow: UnitOfWork,
    *,
    round_id: int,
    profile: SlackProfile,
    answers: Sequence[AnswerInput],
    secret_key: str,
    now: datetime,
) -> SubmitResult:
    """Record or replace the user's answers. A repeated submission updates the one response.

    Raises:
        NotFound, Conflict (closed), NotAllowed (not a member of the round's channel, or on no side), InvalidInput.
    """
    with uow:
        r, p = _open_round_for(uow, round_id, now, to_answer=True)
        side = _answering_side(uow, p, profile)
        validate_answers(round_view(r).questions, answers)
        # Each comment's sentiment is scored once, here (before the response's row lock), and stored with it:
        # the weekly digest reads the stored score instead of scoring every comment of the week again.
        comments = [(given, (given.comment or "").strip() or None) for given in answers]
        scored = [(given, comment, comment_sentiment(comment)) for given, comment in comments]
        key = respondent_hash(secret_key, p.id, profile.user_id)
        response = uow.responses.get(r.id, key, for_update=True)
        created = response is None
        try:
            if response is None:
                # Flushed at once: a second delivery of the same submission racing past the lookup fails here
                # (on PostgreSQL, once the first one commits), not later.
                response = uow.responses.add(
                    Response(
                        round_id=r.id,
                        respondent_hash=key,
                        user_id=None if p.anonymous else profile.user_id,
                        side=side.value,
                        submitted_at=now,
                        updated_at=now,
                    )
                )
            response.side, response.updated_at = side.value, now
            existing = {a.question_id: a for a in response.answers}
            for given, comment, sentiment in scored:
                row = existing.get(given.question_id)
                if row is None:
                    response.answers.append(
                        Answer(question_id=given.question_id, score=given.score, comment=comment, sentiment=sentiment)
                    )
                else:
                    row.score, row.comment, row.sentiment = given.score, comment, sentiment
            uow.commit()
        except Exception:
            # Two deliveries of the same submission raced past the lookup; the other one was recorded.
            uow.rollback()
            if uow.responses.get(r.id, key) is None:
                raise
            return SubmitResult(round_id=r.id, created=False)
        return SubmitResult(round_id=r.id, created=created)


# --- reading --------------------------------------------------------------------------------------------


def round_context(uow: UnitOfWork, *, round_id: int) -> tuple[RoundView, PartnershipView] | None:
    """The round and its partnership, or None when the round is gone."""
    with uow.read_only():
        r = uow.rounds.get(round_id)
        if r is None:
            return None
        p = uow.partnerships.get(r.partnership_id)
        assert p is not None
        return round_view(r), partnership_view(p)


def round_results(uow: UnitOfWork, *, round_id: int) -> RoundResults:
    """Both sides' averages per subject and dimension, their gaps and the NPS (``bot.services.figures``); sides
    below the anonymity threshold are withheld."""
    with uow.read_only():
        r = uow.rounds.get(round_id)
        if r is None:
            raise NotFound("This pulse no longer exists.")
        p = uow.partnerships.get(r.partnership_id)
        assert p is not None
        rv = round_view(r)
        part = participation(uow, r)
        withheld = tuple(s for s in Side if not figures.side_shown(part[s].responded, p.anonymity_threshold))
        by_question = {q.id: q for q in rv.questions}
        tallies: dict[tuple[str | None, str, str], figures.Tally] = {
            (q.subject, q.dimension, side.value): figures.Tally() for q in rv.questions if q.kind == "scale" for side in Side
        }
        nps_scores: dict[Side, list[int]] = {Side.CLIENT: [], Side.PROVIDER: []}
        comments: dict[Side, list[str]] = {Side.CLIENT: [], Side.PROVIDER: []}
        for side_value, answer in uow.responses.answers_for_round(r.id):
            side = Side(side_value)
            q = by_question.get(answer.question_id)
            if q is None:
                continue
            if q.kind == "nps":
                nps_scores[side].append(answer.score)
            else:
                tallies[(q.subject, q.dimension, side.value)].add(answer.score, 1)
            if answer.comment and side not in withheld:
                comments[side].append(answer.comment)
        shown = [s for s in Side if s not in withheld]
        nps = None
        if any(q.kind == "nps" for q in rv.questions):
            nps = (
                figures.nps(Side.CLIENT, nps_scores[Side.CLIENT], shown=Side.CLIENT in shown),
                figures.nps(Side.PROVIDER, nps_scores[Side.PROVIDER], shown=Side.PROVIDER in shown),
            )
        return RoundResults(
            round=rv,
            partnership=partnership_view(p),
            items=figures.compare_all(tallies, shown),
            participation=part,
            withheld=withheld,
            comments={s: tuple(c) for s, c in comments.items()},
            nps=nps,
        )


def list_questions(uow: UnitOfWork, *, team_id: str, channel_id: str) -> tuple[QuestionView, ...]:
    """The partnership's own questions."""
    with uow.read_only():
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        if p is None:
            raise NotFound("This channel has no partnership yet. A lead can create one with `/partner setup`.")
        return tuple(question_view(q) for q in uow.questions.custom_for(p.id))


def validate_question(dimension: str, text_client: str, text_provider: str, subject: str = SUBJECTS[-1]) -> None:
    """A custom question names a dimension and what is rated, and has wording for both sides about that same
    subject. Raises InvalidInput."""
    if dimension not in DIMENSIONS:
        raise InvalidInput("Choose one of the eight dimensions.", "dimension")
    if subject not in SUBJECTS:
        raise InvalidInput("Choose what the question rates: the provider, the client or the relationship.", "subject")
    for field, text in (("text_client", text_client), ("text_provider", text_provider)):
        if not text.strip():
            raise InvalidInput("Please write the question for this side.", field)
        if len(text) > 300:
            raise InvalidInput("Keep questions under 300 characters.", field)


def open_round_id(uow: UnitOfWork, *, team_id: str, channel_id: str) -> int:
    """The id of the channel's open round. Raises NotFound when no round is open."""
    with uow.read_only():
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        if p is None:
            raise NotFound("This channel has no partnership yet. A lead can create one with `/partner setup`.")
        r = uow.rounds.latest(p.id, status="open")
        if r is None:
            raise NotFound("No pulse is open right now. The next one is announced in this channel.")
        return r.id


def add_question(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    dimension: str,
    text_client: str,
    text_provider: str,
    now: datetime,
    subject: str = SUBJECTS[-1],
) -> QuestionView:
    """A lead adds a question of their own about ``subject`` (provider, client or relationship), worded for each
    side.

    Raises:
        NotFound, NotAllowed, InvalidInput (``field`` is dimension, subject, text_client or text_provider).
    """
    validate_question(dimension, text_client, text_provider, subject)
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        require_lead(uow, p, actor, "add questions")
        count = len(uow.questions.custom_for(p.id))
        q = uow.questions.add(
            Question(
                partnership_id=p.id,
                key=f"custom-{count + 1}",
                dimension=dimension,
                text_client=text_client.strip(),
                text_provider=text_provider.strip(),
                kind="scale",
                perspective="other_side" if subject == "client" else "mirrored",
                subject=subject,
                created_by=actor,
                created_at=now,
            )
        )
        uow.commit()
        return question_view(q)
