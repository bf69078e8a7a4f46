"""The bilateral scorecard (DESIGN 3.5): each side rates itself and the other side on the same dimensions.

Leads choose the cadence (monthly, quarterly or off). A scorecard opens on the first digest weekday of each
month or quarter at the digest time (``open_due``, from the heartbeat) or when a lead starts one; there is at
most one per period (unique (partnership, period)), so a repeated tick or a second "start" opens nothing new.
Each person fills it in once (a resubmission replaces their answers), stored against the same keyed hash as
pulse responses. After seven days it closes (``close_due``) and a perception-gap report goes to the channel:
per dimension, how each side rates itself next to how the other side rates it, with the ledger's summary. A side
below the anonymity threshold contributes no averages and no comments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from apscheduler.triggers.cron import CronTrigger

from bot.services import figures, outbox
from bot.services.anonymity import respondent_hash
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.expectations import ledger_summary
from bot.services.goals import require_side_member
from bot.services.models import (
    DIMENSIONS,
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
    Side,
)
from bot.services.partnership_guards import check_text, org_of, require_lead, require_partnership
from bot.services.schedule import zone
from bot.services.views import partnership_view
from storage.errors import DuplicateKey
from storage.models import Partnership, Scorecard, ScorecardResponse, ScorecardScore
from storage.repositories.scorecards import ScoreSum
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]
OPEN_FOR = timedelta(days=7)
TARGETS = ("self", "other")
BATCH = 200
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ONE_MICROSECOND = timedelta(microseconds=1)
#: A scheduled scorecard never opens sooner than this after the last one opened, so a lead's ``start`` late in a
#: period is not followed by another scorecard a couple of weeks later (issue 12). Scheduled openings are at least
#: four weeks (monthly) or twelve weeks (quarterly) apart, so the rule only ever moves one that follows a ``start``.
MIN_GAP = {ScorecardCadence.MONTHLY: timedelta(days=21), ScorecardCadence.QUARTERLY: timedelta(days=60)}


# --- the schedule -------------------------------------------------------------------------------------------


def period_of(at: datetime, tz: str, cadence: ScorecardCadence) -> str:
    """The period a scorecard opened at ``at`` belongs to, in the partnership's zone: "2026-11" or "2026-Q4".

    With the cadence off, a scorecard a lead starts counts for its quarter (the business-review rhythm).
    """
    local = at.astimezone(zone(tz))
    if cadence is ScorecardCadence.MONTHLY:
        return f"{local.year}-{local.month:02d}"
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def next_scorecard_time(p: Partnership, after: datetime, *, last_opened: datetime | None = None) -> datetime | None:
    """When the next scheduled scorecard opens: the first digest weekday of the next month (monthly) or quarter
    (quarterly) at the digest time, strictly after ``after`` and at least ``MIN_GAP`` after ``last_opened`` (the
    last scorecard's opening, a lead's ``start`` included); None with the cadence off.

    CronTrigger does the calendar and the time zone (daylight saving included).
    """
    cadence = ScorecardCadence(p.scorecard_cadence)
    if cadence is ScorecardCadence.OFF:
        return None
    if last_opened is not None:
        after = max(after, last_opened + MIN_GAP[cadence] - _ONE_MICROSECOND)
    trigger = CronTrigger(
        month="*" if cadence is ScorecardCadence.MONTHLY else "1,4,7,10",
        day=f"1st {_WEEKDAYS[p.digest_weekday]}",
        hour=p.digest_hour,
        minute=p.digest_minute,
        timezone=zone(p.timezone),
    )
    fire = trigger.get_next_fire_time(None, after + _ONE_MICROSECOND)
    return fire.astimezone(UTC) if fire is not None else None


# --- views --------------------------------------------------------------------------------------------------


def scorecard_view(s: Scorecard, respondents: dict[str, int]) -> ScorecardView:
    return ScorecardView(
        id=s.id,
        period=s.period,
        status=s.status,
        opened_by=s.opened_by,
        opened_at=s.opened_at,
        closes_at=s.closes_at,
        closed_at=s.closed_at,
        responses={side: respondents.get(side.value, 0) for side in Side},
    )


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
        p.next_scorecard_at = next_scorecard_time(p, now, last_opened=_last_opened(uow, p))
        uow.commit()
        return _status(uow, p)


# --- opening ------------------------------------------------------------------------------------------------


def _last_opened(uow: UnitOfWork, p: Partnership) -> datetime | None:
    return uow.scorecards.last_opened_at(p.id)


def _open(uow: UnitOfWork, p: Partnership, *, period: str, actor: str | None, now: datetime) -> Scorecard:
    """Open a scorecard now; the next scheduled one comes at least ``MIN_GAP`` later."""
    p.next_scorecard_at = next_scorecard_time(p, now, last_opened=now)
    closes_at = now + OPEN_FOR
    remind_at = closes_at - timedelta(hours=p.reminder_before_close_hours)
    s = uow.scorecards.add(
        Scorecard(
            partnership_id=p.id,
            period=period,
            status="open",
            opened_by=actor,
            opened_at=now,
            closes_at=closes_at,
            remind_at=remind_at if remind_at > now else None,
        )
    )
    outbox.add_new(uow, p, purpose=outbox.Purpose.SCORECARD_OPEN, ref_id=s.id, key=f"scorecard-open:{s.id}", now=now)
    return s


def start_now(uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, now: datetime) -> ScorecardView:
    """A lead opens this period's scorecard now (``/partner scorecard start``).

    Raises:
        NotFound, NotAllowed (not a lead), Conflict (this period has its scorecard already).
    """
    with uow:
        p = require_partnership(uow, team_id, channel_id)
        require_lead(uow, p, actor, "start a scorecard")
        period = period_of(now, p.timezone, ScorecardCadence(p.scorecard_cadence))
        existing = uow.scorecards.get_by_period(p.id, period)
        if existing is None:
            s = _open(uow, p, period=period, actor=actor, now=now)
            try:
                uow.commit_or_duplicate()
            except DuplicateKey:  # a second "start" at the same moment opened it
                existing = uow.scorecards.get_by_period(p.id, period)
                if existing is None:
                    raise
            else:
                logger.info("partnership %s: scorecard %s opened by a lead", p.id, period)
                return _view(uow, s)
        state = "is open" if existing.status == "open" else "has closed"
        raise Conflict(f"The scorecard for {period} {state} already (one per period). `/partner scorecard` shows it.")


def open_due(uow_factory: UowFactory, *, now: datetime) -> int:
    """Open the scorecards the schedule says are due. Returns how many opened.

    A partnership seen for the first time (``next_scorecard_at`` NULL) only gets its next time computed. One due
    so long ago that it would have closed already (downtime) is skipped and logged, never opened late; a period
    that has its scorecard (a lead started it) is not opened twice.
    """
    opened = 0
    with uow_factory() as uow:
        for p in uow.scorecards.due_partnerships(now, BATCH):
            due, last_opened = p.next_scorecard_at, _last_opened(uow, p)
            p.next_scorecard_at = next_scorecard_time(p, now, last_opened=last_opened)
            if due is None:
                continue
            if now - due >= OPEN_FOR:
                logger.warning("partnership %s: the scorecard due at %s was missed (downtime); skipped", p.id, due)
                continue
            if last_opened is not None and due - last_opened < MIN_GAP[ScorecardCadence(p.scorecard_cadence)]:
                # A time computed before the last scorecard was started by hand: that one stands for this one.
                logger.info(
                    "partnership %s: the scorecard due at %s follows the last too closely; next at %s",
                    p.id,
                    due,
                    p.next_scorecard_at,
                )
                continue
            period = period_of(due, p.timezone, ScorecardCadence(p.scorecard_cadence))
            if uow.scorecards.get_by_period(p.id, period) is not None:
                continue
            try:
                with uow.savepoint():
                    _open(uow, p, period=period, actor=None, now=now)
            except DuplicateKey:  # another process opened it at the same moment
                continue
            opened += 1
            logger.info("partnership %s: scorecard %s opened on schedule", p.id, period)
        uow.commit()
    return opened


def queue_due_reminders(uow_factory: UowFactory, *, secret_key: str, now: datetime) -> int:
    """Once per scorecard, as for pulse rounds (DESIGN 3.2): before it closes, queue a nudge for each member who
    has not filled it in. Returns how many were queued."""
    queued = 0
    while True:
        with uow_factory() as uow:
            due = uow.scorecards.claim_due_reminders(now, BATCH)
            if not due:
                return queued
            partnerships = uow.partnerships.get_many({s.partnership_id for s in due})
            members = uow.members.list_answerable_for(partnerships)
            answered = uow.scorecards.respondent_hashes([s.id for s in due])
            for s in due:
                p = partnerships[s.partnership_id]
                for m in members[p.id]:
                    if respondent_hash(secret_key, p.id, m.user_id) in answered[s.id]:
                        continue
                    # New by construction: the scorecard is claimed and marked reminded in this transaction.
                    outbox.add_new(
                        uow,
                        p,
                        purpose=outbox.Purpose.SCORECARD_REMINDER,
                        ref_id=s.id,
                        user_id=m.user_id,
                        key=outbox.default_key(outbox.Purpose.SCORECARD_REMINDER, s.id, m.user_id),
                        now=now,
                    )
                    queued += 1
                s.reminded_at = now
            uow.commit()


def has_filled_in(uow: UnitOfWork, *, scorecard_id: int, user_id: str, secret_key: str) -> bool:
    """Whether the person has filled in the scorecard (checked again just before their reminder goes out)."""
    with uow.read_only():
        s = uow.scorecards.get(scorecard_id)
        if s is None:
            return True
        return uow.scorecard_responses.get(s.id, respondent_hash(secret_key, s.partnership_id, user_id)) is not None


def close_due(uow_factory: UowFactory, *, now: datetime) -> list[int]:
    """Close the scorecards whose seven days are over and queue their report. Returns their ids."""
    closed: list[int] = []
    with uow_factory() as uow:
        for s in uow.scorecards.due_to_close(now, BATCH):
            p = uow.partnerships.get(s.partnership_id)
            s.status, s.closed_at = "closed", now
            closed.append(s.id)
            if p is None:
                continue
            for purpose in (outbox.Purpose.SCORECARD_CLOSED, outbox.Purpose.SCORECARD_REPORT):
                outbox.add_new(uow, p, purpose=purpose, ref_id=s.id, key=f"{purpose.value}:{s.id}", now=now)
        uow.commit()
    return closed


# --- filling it in ------------------------------------------------------------------------------------------


def _open_scorecard(uow: UnitOfWork, scorecard_id: int, now: datetime) -> tuple[Scorecard, Partnership]:
    s = uow.scorecards.get(scorecard_id)
    p = uow.partnerships.get(s.partnership_id) if s is not None else None
    if s is None or p is None:
        raise NotFound("This scorecard no longer exists.")
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
        s, p = _open_scorecard(uow, scorecard_id, now)
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
        try:
            uow.commit_or_duplicate()
        except DuplicateKey:  # two deliveries of the same submission raced; the other one was recorded
            if uow.scorecard_responses.get(scorecard_id, key) is None:
                raise
            return False
        return created


# --- the messages -------------------------------------------------------------------------------------------


def invite(uow: UnitOfWork, *, scorecard_id: int) -> ScorecardInvite | None:
    """The channel message inviting everyone to fill it in (None when the scorecard is gone)."""
    with uow.read_only():
        s = uow.scorecards.get(scorecard_id)
        p = uow.partnerships.get(s.partnership_id) if s is not None else None
        if s is None or p is None:
            return None
        return ScorecardInvite(partnership=partnership_view(p), scorecard=_view(uow, s))


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
    with uow.read_only():
        s = uow.scorecards.get(scorecard_id)
        p = uow.partnerships.get(s.partnership_id) if s is not None else None
        if s is None or p is None or s.status != "closed":
            return None
        return _report(uow, s, p)


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
