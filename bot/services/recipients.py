"""Who a personal message reaches, and how (DESIGN 3.2, 3.3, 4.3).

Pulse reminders, early-warning signals, overdue-action nags and the owner's level-1 escalation nudge are for one
person. The app can message a person of its own organisation (the installing workspace) directly: a message from the
app, which notifies and stays. It cannot message someone of the other organisation in a Slack Connect channel, so
they get an ephemeral in the shared channel instead. Times in these messages are in the recipient's own zone, or the
partnership's when Slack did not tell us theirs (external profiles often have no ``tz``).

The sender asks ``recipient`` at send time, so a profile refreshed since the message was queued counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.models import Member, Partnership
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Recipient:
    """One person a personal message is for: whether the app can message them directly, and their time zone."""

    user_id: str
    direct: bool
    timezone: str


def can_message_directly(p: Partnership, member: Member | None) -> bool:
    """Whether the app can post to the person's direct messages: they are of the installing workspace.

    A known home team decides. Without one, only a channel that is not shared with another organisation tells us
    the person is ours; in a Slack Connect channel an unknown person gets the ephemeral, which always reaches them.
    """
    if member is not None and (member.deleted or member.is_bot):
        return False
    if member is not None and member.team_id:
        return member.team_id == p.workspace.team_id
    return not p.is_connect


def _valid_zone(tz: str | None) -> str | None:
    if not tz:
        return None
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return tz


def recipient_for(p: Partnership, member: Member | None, user_id: str) -> Recipient:
    """The ``Recipient`` for a person of the partnership (``member``: their stored row, if any)."""
    zone = _valid_zone(member.tz if member is not None else None) or p.timezone
    return Recipient(user_id=user_id, direct=can_message_directly(p, member), timezone=zone)


def recipient(uow: UnitOfWork, *, partnership_id: int, user_id: str) -> Recipient | None:
    """How a personal message reaches ``user_id`` of the partnership now; None when the partnership is gone."""
    with uow.read_only():
        p = uow.partnerships.get(partnership_id)
        if p is None:
            return None
        return recipient_for(p, uow.members.get(partnership_id, user_id), user_id)
