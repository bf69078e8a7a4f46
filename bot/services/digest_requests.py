"""The weekly digest on demand (``/partner digest preview | now | subscribe | unsubscribe``): a preview for one
person, a lead posting this week's digest early (once: the scheduled one then does not repeat it), and leads' and
sponsors' direct-message copies. The digest itself: ``bot.services.digest``; its schedule: ``bot.services.digest_schedule``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from bot.services import outbox, recipients
from bot.services.digest import build_in
from bot.services.digest_models import DigestView
from bot.services.digest_schedule import digest_key, next_digest_time, week_start_of
from bot.services.errors import NotAllowed, NotFound
from bot.services.partnership_models import Role
from storage.errors import DuplicateKey
from storage.models import Digest, Partnership
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DigestNow:
    """What ``/partner digest now`` did: ``queued`` False means this week's digest already existed."""

    queued: bool
    week_start: date
    status: str
    sent_at: datetime | None
    timezone: str
    #: The partnership is paused: the digest waits in the outbox until a lead resumes it.
    paused: bool = False


def _require(uow: UnitOfWork, team_id: str, channel_id: str) -> Partnership:
    p = uow.partnerships.get_by_channel(team_id, channel_id)
    if p is None:
        raise NotFound("This channel has no partnership yet. A lead can create one with `/partner setup`.")
    return p


def preview(uow: UnitOfWork, *, team_id: str, channel_id: str, now: datetime) -> DigestView:
    """The digest of the seven days up to ``now``, for one person's eyes (the same rules as the posted one,
    anonymity included: it shows nothing the channel could not see).

    Raises:
        NotFound: no partnership in this channel.
    """
    with uow.read_only():
        return build_in(uow, _require(uow, team_id, channel_id), ends_at=now, now=now)


def post_now(uow: UnitOfWork, *, team_id: str, channel_id: str, actor: str, now: datetime) -> DigestNow:
    """Queue this week's digest now (leads only): the seven days up to ``now``, posted as the digest of the
    week that ends at the next digest time, so the scheduled one for that week does not post again.

    The rounds that close between now and the digest time are not lost: they are last week's figures and part
    of the four-week average in the next digest. Asking twice, or after the scheduled one, queues nothing.

    Raises:
        NotFound: no partnership in this channel.
        NotAllowed: the person is not one of its leads.
    """
    with uow:
        p = _require(uow, team_id, channel_id)
        member = uow.members.get(p.id, actor)
        if member is None or member.role != Role.LEAD.value:
            raise NotAllowed("Only the partnership's leads can post the digest early. Ask a lead of either side.")
        store = uow.digests
        week_start = week_start_of(next_digest_time(p, now), p.timezone)
        existing = store.get_for_week(p.id, week_start)
        if existing is None:
            try:
                with uow.savepoint():
                    digest = store.add(
                        Digest(partnership_id=p.id, week_start=week_start, ends_at=now, status="queued", created_at=now)
                    )
                    outbox.enqueue(
                        uow, p, purpose=outbox.Purpose.DIGEST, ref_id=digest.id, key=digest_key(p.id, week_start), now=now
                    )
                uow.commit()
                logger.info("partnership %s: digest for the week of %s queued by %s", p.id, week_start, actor)
                return DigestNow(True, week_start, "queued", None, p.timezone, paused=p.status != "active")
            except DuplicateKey:  # the heartbeat or another click recorded it at the same moment
                existing = store.get_for_week(p.id, week_start)
        if existing is None:  # pragma: no cover - the unique key said it exists
            raise NotFound("This week's digest could not be found.")
        return DigestNow(False, week_start, existing.status, existing.sent_at, p.timezone, paused=p.status != "active")


def set_digest_copy(uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str, subscribe: bool, now: datetime) -> bool:
    """Turn a lead's or sponsor's direct-message copy of the digest on or off. Returns whether it changed.

    Raises:
        NotFound: no partnership in this channel.
        NotAllowed: not a lead or sponsor, or of another organisation (the app can only message its own
            workspace's people).
    """
    with uow:
        p = _require(uow, team_id, channel_id)
        member = uow.members.get(p.id, user_id)
        if member is None or member.deleted or member.role not in (Role.LEAD.value, Role.SPONSOR.value):
            raise NotAllowed(
                "Only the partnership's leads and executive sponsors can get a copy of the digest. Everyone can read it "
                "in this channel."
            )
        installed = recipients.installed_home_teams(uow, p, [member])
        if member.team_id is not None and not recipients.can_message_directly(p, member, installed):
            raise NotAllowed(
                "PartnerPulse can send direct messages only to people of a workspace that installed it: ask your "
                "organisation's Slack admin to install PartnerPulse too."
            )
        changed = member.digest_copy != subscribe
        member.digest_copy, member.updated_at = subscribe, now
        uow.commit()
        return changed
