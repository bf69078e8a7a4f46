"""The bilateral scorecard (DESIGN 3.5): each side rates itself and the other side on the same dimensions.

Leads choose the cadence (monthly, quarterly or off); when one opens, reminds and closes is
``bot.services.scorecard_rounds``. Each person fills it in once (a resubmission replaces their answers), stored
against the same keyed hash as pulse responses. When it closes a perception-gap report goes to the channel: per
dimension, how each side rates itself next to how the other side rates it, with the ledger's summary. A side
below the anonymity threshold contributes no averages and no comments.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from bot.services import figures, scorecard_rounds
from bot.services.anonymity import respondent_hash
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.expectations import ledger_summary
from bot.services.goals import require_side_member
from bot.services.partnership_guards import (
    check_text,
    org_of,
    require_lead,
    require_partnership,
    row_and_partnership,
    shown_at_send_time,
)
from bot.services.partnership_models import Side
from bot.services.pulse_models import DIMENSIONS
from bot.services.read_models_from_rows import partnership_view, view_from_row
from bot.services.review_models import (
    MAX_REVIEW_TEXT,
    RatingGap,
    ScorecardCadence,
    ScorecardForm,
    ScorecardInput,
    ScorecardInvite,
    ScorecardReport,
    ScorecardSide,
    ScorecardStatus,
    ScorecardView,
)
from storage.models import Partnership, Scorecard, ScorecardResponse, ScorecardScore
from storage.repositories.scorecards import ScoreSum
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

TARGETS = ("self", "other")


# --- views --------------------------------------------------------------------------------------------------


def scorecard_view(s: Scorecard, respondents: dict[str, int]) -> ScorecardView:
    return view_from_row(ScorecardView, s, responses={side: respondents.get(side.value, 0) for side in Side})


def _view(uow: UnitOfWork, s: Scorecard) -> ScorecardView:
    return scorecard_view(s, uow.scorecards.respondents(s.id))


def _status(uow: UnitOfWork, p: Partnership) -> ScorecardStatus:
    latest = uow.scorecards.latest(p.id)
    return ScorecardStatus(
        partnership=partnership_view(p),
        cadence=ScorecardCadence(p.scorecard_cadence),
        next_at=p.next_scorecard_at if p.scorecard_cadence != ScorecardCadence.OFF.value else None,
        current=_view(uow, latest) if latest is not None else None,
    )


def status(uow: UnitOfWork, *, team_id: str, channel_id: str) -> ScorecardStatus:
    """``/partner scorecard``: the cadence, the next scheduled one and the current (or last) scorecard."""
    with uow.read_only():
        return _status(uow, require_partnership(uow, team_id, channel_id))


def set_cadence(
    uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, cadence: ScorecardCadence, now: datetime
) -> ScorecardStatus:
    """Leads choose monthly, quarterly or off; the next scheduled scorecard is computed from now.

    Raises:
        NotFound, NotAllowed (not a lead).
    """
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        require_lead(uow, p, actor, "change how often the scorecard runs")
        p.scorecard_cadence, p.updated_at = cadence.value, now
        p.next_scorecard_at = scorecard_rounds.next_scorecard_time(p, now, last_opened=uow.scorecards.last_opened_at(p.id))
        uow.commit()
        return _status(uow, p)


# --- a lead starts one --------------------------------------------------------------------------------------------


def start_now(uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, now: datetime) -> ScorecardView:
    """A lead opens this period's scorecard now (``/partner scorecard start``).

    Raises:
        NotFound, NotAllowed (not a lead), Conflict (this period has its scorecard already).
    """
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        require_lead(uow, p, actor, "start a scorecard")
        period = scorecard_rounds.period_of(now, p.timezone, ScorecardCadence(p.scorecard_cadence))
        existing = uow.scorecards.get_by_period(p.id, period)
        if existing is None:
            s = scorecard_rounds.open_scorecard(uow, p, period=period, actor=actor, now=now)
            # a second "start" at the same moment opened it
            existing = uow.commit_or_read_back(lambda: uow.scorecards.get_by_period(p.id, period))
            if existing is None:
                logger.info("partnership %s: scorecard %s opened by a lead", p.id, period)
                return _view(uow, s)
        state = "is open" if existing.status == "open" else "has closed"
        raise Conflict(f"The scorecard for {period} {state} already (one per period). `/partner scorecard` shows it.")


# --- filling it in ------------------------------------------------------------------------------------------


def _open_scorecard(
    uow: UnitOfWork, scorecard_id: int, now: datetime, *, to_answer: bool = False
) -> tuple[Scorecard, Partnership]:
    """The scorecard, if it is open; ``to_answer``: under a shared lock, as ``pulses._open_round_for``'s."""
    found = row_and_partnership(uow, uow.scorecards, scorecard_id, for_share=to_answer)
    if found is None:
        raise NotFound("This scorecard no longer exists.")
    s, p = found
    if s.status != "open" or s.closes_at <= now:
        raise Conflict(f"The {s.period} scorecard has closed; its report is in the channel.")
    return s, p


def scorecard_form(uow: UnitOfWork, *, scorecard_id: int, user_id: str, secret_key: str, now: datetime) -> ScorecardForm:
    """What the scorecard modal shows the person: their side, their earlier answers, the ledger to review.

    Raises:
        NotFound, Conflict (closed), NotAllowed (the person is on no side).
    """
    with uow.read_only():
        s, p = _open_scorecard(uow, scorecard_id, now)
        side = require_side_member(uow, p, user_id, "fill in the scorecard")
        response = uow.scorecard_responses.get(s.id, respondent_hash(secret_key, p.id, user_id))
        previous = {(x.target, x.dimension): x.score for x in response.scores} if response is not None else {}
        return ScorecardForm(
            partnership=partnership_view(p),
            scorecard=_view(uow, s),
            side=side,
            dimensions=DIMENSIONS,
            previous=previous,
            previous_comment=response.comment if response is not None else None,
            ledger=ledger_summary(uow, p.id),
        )


def validate_scorecard(data: ScorecardInput) -> str | None:
    """Every dimension rated 1-5 for both sides; the comment within Slack's limit. Returns the comment.

    Raises:
        InvalidInput: ``field`` is ``<target>-<dimension>`` or ``comment``.
    """
    for target in TARGETS:
        for d in DIMENSIONS:
            score = data.scores.get((target, d))
            if score is None:
                raise InvalidInput("Please choose a rating.", f"{target}-{d}")
            if not 1 <= score <= 5:
                raise InvalidInput("Choose a rating from 1 to 5.", f"{target}-{d}")
    if set(data.scores) - {(t, d) for t in TARGETS for d in DIMENSIONS}:
        raise InvalidInput("The form did not match this scorecard; please open it again.")
    return check_text(data.comment or "", field="comment", label="comment", limit=MAX_REVIEW_TEXT, required=False) or None


def submit(
    uow: UnitOfWork, *, scorecard_id: int, user_id: str, data: ScorecardInput, secret_key: str, now: datetime
) -> bool:
    """Record or replace the person's scorecard (one per person, by keyed hash). Returns True when new.

    Raises:
        NotFound, Conflict (closed), NotAllowed (no side), InvalidInput.
    """
    comment = validate_scorecard(data)
    with uow:
        s, p = _open_scorecard(uow, scorecard_id, now, to_answer=True)
        side = require_side_member(uow, p, user_id, "fill in the scorecard")
        key = respondent_hash(secret_key, p.id, user_id)
        response = uow.scorecard_responses.get(s.id, key, for_update=True)
        created = response is None
        if response is None:
            response = uow.scorecard_responses.add(
                ScorecardResponse(scorecard_id=s.id, respondent_hash=key, side=side.value, submitted_at=now, updated_at=now)
            )
        response.side, response.comment, response.updated_at = side.value, comment, now
        existing = {(x.target, x.dimension): x for x in response.scores}
        for (target, d), score in data.scores.items():
            row = existing.get((target, d))
            if row is None:
                response.scores.append(ScorecardScore(target=target, dimension=d, score=score))
            else:
                row.score = score
        # two deliveries of the same submission raced; the other one was recorded
        if uow.commit_or_read_back(lambda: uow.scorecard_responses.get(scorecard_id, key)) is not None:
            return False
        return created


# --- the messages -------------------------------------------------------------------------------------------


def invite(uow: UnitOfWork, *, scorecard_id: int) -> ScorecardInvite | None:
    """The channel message inviting everyone to fill it in (None when the scorecard is gone)."""
    return shown_at_send_time(
        uow,
        lambda u: u.scorecards,
        scorecard_id,
        lambda u, s, p: ScorecardInvite(partnership=partnership_view(p), scorecard=_view(u, s)),
    )


def _mean(sums: Iterable[ScoreSum]) -> Decimal | None:
    tally = figures.Tally()
    for x in sums:
        tally.add(x.total, x.count)
    return tally.average


def rating_gaps(sums: list[ScoreSum], about: Side, shown: set[Side]) -> tuple[RatingGap, ...]:
    """How ``about`` is seen per dimension: by its own raters (target self) and by the other side's (target
    other); both rate the same subject (``about``), so the gap is ``figures.gap`` (provider − client). A rater
    side not in ``shown`` (below the threshold) contributes no average."""
    rows = []
    for d in DIMENSIONS:
        own = _mean(x for x in sums if x.side == about.value and x.target == "self" and x.dimension == d)
        seen = _mean(x for x in sums if x.side == about.other.value and x.target == "other" and x.dimension == d)
        own = own if about in shown else None
        seen = seen if about.other in shown else None
        client, provider = (own, seen) if about is Side.CLIENT else (seen, own)
        gap = figures.gap(client, provider)
        rows.append(RatingGap(dimension=d, self_rating=own, other_rating=seen, gap=gap, level=figures.flag(gap)))
    return tuple(rows)


def report(uow: UnitOfWork, *, scorecard_id: int) -> ScorecardReport | None:
    """The perception-gap report of a closed scorecard, from aggregates only (None when it is gone or open)."""
    return shown_at_send_time(
        uow, lambda u: u.scorecards, scorecard_id, lambda u, s, p: _report(u, s, p) if s.status == "closed" else None
    )


def reports_between(uow: UnitOfWork, *, partnership_id: int, start: datetime, end: datetime) -> tuple[ScorecardReport, ...]:
    """The reports of the partnership's scorecards closed in [start, end), oldest first: what a quarterly business
    review export shows (anonymity applied exactly as in the channel's report)."""
    with uow.read_only():
        p = uow.partnerships.get(partnership_id)
        if p is None:
            return ()
        return tuple(_report(uow, s, p) for s in uow.scorecards.closed_between(partnership_id, start, end))


def _report(uow: UnitOfWork, s: Scorecard, p: Partnership) -> ScorecardReport:
    respondents = uow.scorecards.respondents(s.id)
    shown = {side for side in Side if figures.side_shown(respondents.get(side.value, 0), p.anonymity_threshold)}
    sums = uow.scorecards.score_sums(s.id)
    comments = uow.scorecards.comments(s.id)
    sides = tuple(
        ScorecardSide(
            side=side,
            org=org_of(p, side.value),
            respondents=respondents.get(side.value, 0),
            withheld=side not in shown,
            about=rating_gaps(sums, side, shown),
            comments=tuple(c for who, c in comments if who == side.value) if side in shown else (),
        )
        for side in Side
    )
    return ScorecardReport(
        partnership=partnership_view(p),
        scorecard=scorecard_view(s, respondents),
        sides=(sides[0], sides[1]),
        ledger=ledger_summary(uow, p.id),
    )
