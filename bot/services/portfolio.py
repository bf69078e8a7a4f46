"""The portfolio digest (DESIGN 3.4, issue 4 item 4): every partnership of a workspace, ranked by risk.

Each partnership's standing is read from its weekly digest (``bot.services.digest.build_digest``) and scored by
``bot.services.portfolio_risk`` (how the score is made up); this module reads them, keeps the settings (the
channel, lead checks) and queues the weekly post.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.services import digest, outbox
from bot.services import portfolio_age_risk as age_risk
from bot.services.batches import claimed_batches
from bot.services.errors import NotAllowed, NotFound
from bot.services.partnership_models import Role
from bot.services.portfolio_models import PortfolioEntry, PortfolioView
from bot.services.portfolio_risk import assess, rank
from bot.services.schedule import due_and_next, next_weekly_time, zone
from storage.errors import DuplicateKey
from storage.models import OutboxMessage, Workspace
from storage.uow import UnitOfWork, UowFactory

logger = logging.getLogger(__name__)


# --- the schedule ---------------------------------------------------------------------------------------------

#: Posted Mondays at 09:00 in the workspace's portfolio time zone: leadership starts the week with it.
POST_WEEKDAY = 0
POST_HOUR = 9
POST_MINUTE = 0
BATCH = 100
RETRY_AFTER = timedelta(hours=6)
KEY_PREFIX = outbox.Purpose.PORTFOLIO.value


@dataclass(frozen=True)
class PortfolioSettings:
    channel_id: str
    timezone: str
    next_at: datetime


# --- reading ---------------------------------------------------------------------------------------------------


def _entries(uow_factory: UowFactory, partnership_ids: list[int], now: datetime) -> tuple[PortfolioEntry, ...]:
    """Every partnership's latest weekly digest, assessed and ranked.

    The digests are read in batches (``build_digests``), so a thousand partnerships cost a few dozen queries. If a
    batch fails (one partnership that cannot be read, say a broken time zone), each is built on its own so that one
    is left out, logged, and never hides all the others.
    """
    with uow_factory().read_only() as uow:
        custom = uow.portfolio.resolve_minutes(partnership_ids)
    try:
        views = digest.build_digests(uow_factory(), partnership_ids=partnership_ids, now=now)
    except Exception:
        logger.exception("portfolio: the batch read failed; reading partnerships one by one")
        views = []
        for pid in partnership_ids:
            try:
                views.append(digest.build_digest(uow_factory(), partnership_id=pid, week_start=None, now=now))
            except NotFound:
                continue  # deleted since the list was read
            except Exception:
                logger.exception("portfolio: partnership %s could not be assessed; left out", pid)
    return rank([assess(view, _resolve_times(custom.get(view.partnership.id, {}))) for view in views])


def _resolve_times(custom_minutes: Mapping[str, int]) -> Mapping[str, timedelta]:
    """The partnership's resolve time per severity: the DESIGN 3.3 default unless a lead changed it."""
    if not custom_minutes:
        return age_risk.DEFAULT_RESOLVE
    return {**age_risk.DEFAULT_RESOLVE, **{s: timedelta(minutes=m) for s, m in custom_minutes.items()}}


def _problem(uow: UnitOfWork, ws: Workspace) -> str | None:
    row = uow.portfolio.last_post(ws.id, outbox.Purpose.PORTFOLIO.value)
    if row is None or row.status != "failed" or row.channel_id != ws.portfolio_channel_id:
        return None
    if row.error in ("not_in_channel", "channel_not_found", "is_archived"):
        return (
            f"The last weekly post to <#{row.channel_id}> failed ({row.error}): I am not in that channel, or it is "
            "gone. Invite me with `/invite @PartnerPulse`, or choose another channel with `/partner portfolio here`."
        )
    return f"The last weekly post to <#{row.channel_id}> failed ({row.error})."


def portfolio_for(uow_factory: UowFactory, *, team_id: str, user_id: str, now: datetime) -> PortfolioView:
    """The portfolio as of ``now``, for a lead or executive sponsor of any partnership in the workspace.

    Raises:
        NotAllowed: the person leads or sponsors no partnership here.
    """
    with uow_factory().read_only() as uow:
        repo = uow.portfolio
        roles = repo.roles(team_id, user_id)
        if not any(r.role in (Role.LEAD.value, Role.SPONSOR.value) for r in roles):
            raise NotAllowed(
                "The portfolio shows every partnership in this workspace, so only their leads and executive sponsors "
                "can see it."
            )
        ws = uow.workspaces.get_by_team(team_id)
        if ws is None:  # pragma: no cover - roles imply the workspace
            raise NotFound("PartnerPulse is not set up in this workspace yet.")
        ids, ws_name, channel, tz, problem = (
            repo.partnership_ids(ws.id),
            ws.name,
            ws.portfolio_channel_id,
            ws.portfolio_timezone,
            _problem(uow, ws),
        )
    return PortfolioView(team_id, ws_name, now, _entries(uow_factory, ids, now), channel, tz, problem)


# --- settings ----------------------------------------------------------------------------------------------------


def next_post_time(tz: str, after: datetime) -> datetime:
    """The first Monday 09:00 in ``tz`` strictly after ``after`` (APScheduler's CronTrigger does the calendar)."""
    return next_weekly_time(weekday=POST_WEEKDAY, hour=POST_HOUR, minute=POST_MINUTE, tz=tz, every_weeks=1, after=after)


def _require_lead(uow: UnitOfWork, team_id: str, user_id: str) -> list[str]:
    """Time zones of the partnerships the person leads (oldest first); NotAllowed when none."""
    leads = [r.timezone for r in uow.portfolio.roles(team_id, user_id) if r.role == Role.LEAD.value]
    if not leads:
        raise NotAllowed("Only a lead of a partnership in this workspace can choose where the portfolio is posted.")
    return leads


def require_lead(uow: UnitOfWork, *, team_id: str, user_id: str) -> None:
    """Raises NotAllowed unless the person leads some partnership of the workspace (checked before posting)."""
    with uow.read_only():
        _require_lead(uow, team_id, user_id)


def check_channel_is_internal(*, shared: bool) -> None:
    """The portfolio shows every partnership of the workspace: never in a channel another organisation reads.

    Raises:
        NotAllowed: the channel is shared with another organisation (Slack Connect).
    """
    if shared:
        raise NotAllowed(
            "The portfolio shows every partnership of this workspace, so it can't be posted in a channel shared with "
            "another organisation. Run `/partner portfolio here` in an internal channel, such as your leadership's."
        )


def set_channel(uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str, now: datetime) -> PortfolioSettings:
    """Post the portfolio in ``channel_id`` every Monday 09:00, in the time zone of that channel's partnership, or
    else of the first partnership the person leads. Leads only."""
    with uow:
        zones = _require_lead(uow, team_id, user_id)
        here = uow.partnerships.get_by_channel(team_id, channel_id)
        tz = here.timezone if here is not None else zones[0]
        ws = uow.workspaces.get_by_team(team_id)
        if ws is None:  # pragma: no cover - a lead implies the workspace
            raise NotFound("PartnerPulse is not set up in this workspace yet.")
        next_at = next_post_time(tz, now)
        ws.portfolio_channel_id, ws.portfolio_timezone, ws.portfolio_set_by = channel_id, tz, user_id
        ws.next_portfolio_at = next_at
        uow.commit()
        return PortfolioSettings(channel_id, tz, next_at)


def turn_off(uow: UnitOfWork, *, team_id: str, user_id: str) -> str | None:
    """Stop the weekly portfolio post (leads only). Returns the channel it went to, or None if it was off.

    A post already queued is cancelled at send time (its channel is no longer the portfolio channel)."""
    with uow:
        _require_lead(uow, team_id, user_id)
        ws = uow.workspaces.get_by_team(team_id)
        previous = ws.portfolio_channel_id if ws is not None else None
        if ws is not None:
            ws.portfolio_channel_id = ws.portfolio_timezone = ws.portfolio_set_by = None
            ws.next_portfolio_at = None
            uow.commit()
        return previous


# --- the weekly post ------------------------------------------------------------------------------------------------


def _schedule(ws: Workspace, now: datetime) -> tuple[datetime | None, datetime]:
    """(the post time to send now, or None; the next post time). As for the digest: NULL computes the first time
    without sending; after downtime only the latest missed post goes; a time that no longer fits (the time zone
    changed) is recomputed, not sent."""
    tz = ws.portfolio_timezone or "UTC"
    return due_and_next(ws.next_portfolio_at, now, lambda after: next_post_time(tz, after), f"workspace {ws.id}: portfolio")


def _advance(ws: Workspace, now: datetime) -> datetime | None:
    """Move the workspace's next post time on. Returns when the post due now stands (None: none is due, or its time
    could not be computed, which is tried again after ``RETRY_AFTER``)."""
    try:
        at, ws.next_portfolio_at = _schedule(ws, now)
    except Exception:
        logger.exception("workspace %s: could not compute its portfolio time; trying again later", ws.id)
        ws.next_portfolio_at = now + RETRY_AFTER
        return None
    return at


def post_key(workspace_id: int, day: date) -> str:
    """The outbox key of the workspace's portfolio post of the week beginning on local date ``day``."""
    return f"{KEY_PREFIX}:{workspace_id}:{day.isoformat()}"


def _day_of(key: str) -> date | None:
    try:
        return date.fromisoformat(key.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return None


def queue_due_portfolios(uow_factory: UowFactory, *, now: datetime) -> int:
    """Queue the weekly portfolio post of every workspace whose time has come, once per week. Returns how many.

    Workspaces are claimed with a row lock (``SKIP LOCKED`` on PostgreSQL); the outbox key (workspace and local
    date) makes a repeat a no-op. The message is rendered at send time (``Renderer._render_portfolio``).
    """
    queued = 0
    for uow, due in claimed_batches(uow_factory, lambda uow: uow.portfolio.claim_due(now, BATCH)):
        for ws in due:
            at = _advance(ws, now)
            if at is None or ws.portfolio_channel_id is None:
                continue
            day = at.astimezone(zone(ws.portfolio_timezone or "UTC")).date()
            message = OutboxMessage(
                dedupe_key=post_key(ws.id, day),
                workspace_id=ws.id,
                partnership_id=None,
                purpose=outbox.Purpose.PORTFOLIO.value,
                ref_id=ws.id,
                method=outbox.SPECS[outbox.Purpose.PORTFOLIO].method,
                channel_id=ws.portfolio_channel_id,
                user_id=None,
                status="pending",
                attempts=0,
                available_at=now,
                created_at=now,
            )
            try:
                with uow.savepoint():
                    queued += int(uow.outbox.add_once(message))
            except DuplicateKey:  # queued by another process at the same moment
                logger.info("workspace %s: portfolio of %s already queued", ws.id, day.isoformat())
    return queued


def scheduled_portfolio(uow_factory: UowFactory, *, workspace_id: int, channel_id: str, key: str) -> PortfolioView | None:
    """The portfolio a queued weekly post stands for, as of its Monday 09:00; None when no longer wanted (turned
    off, moved to another channel, the workspace gone)."""
    with uow_factory().read_only() as uow:
        ws = uow.workspaces.get(workspace_id)
        day = _day_of(key)
        if ws is None or ws.portfolio_channel_id != channel_id or day is None:
            return None
        tz = ws.portfolio_timezone or "UTC"
        as_of = datetime.combine(day, time(POST_HOUR, POST_MINUTE)).replace(tzinfo=zone(tz)).astimezone(UTC)
        ids, team_id, name = uow.portfolio.partnership_ids(ws.id), ws.team_id, ws.name
    return PortfolioView(team_id, name, as_of, _entries(uow_factory, ids, as_of), channel_id, tz)
