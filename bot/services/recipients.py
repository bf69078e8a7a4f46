"""Who a personal message reaches, and how (DESIGN 3.2, 3.3, 4.3).

Pulse reminders, early-warning signals, overdue-action nags and the owner's level-1 escalation nudge are for one
person. The app can message a person of an organisation that installed it directly: a message from the app, which
notifies and stays, sent through that organisation's own installation (``Recipient.via_team``). When only one
organisation of a Slack Connect channel installed it, the other's people get an ephemeral in the shared channel
instead. Times in these messages are in the recipient's own zone, or the
partnership's when Slack did not tell us theirs (external profiles often have no ``tz``).

The sender asks ``recipient`` at send time, so a profile refreshed since the message was queued counts.
"""

from __future__ import annotations

from collections.abc import Collection
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
    #: The workspace whose installation reaches the person: their own organisation's when it installed PartnerPulse,
    #: else the partnership's ("" means the partnership's).
    via_team: str = ""


def can_message_directly(p: Partnership, member: Member | None, installed_teams: Collection[str] = ()) -> bool:
    """Whether the app can post to the person's direct messages: they are of the partnership's workspace, or of a
    workspace in ``installed_teams`` (their organisation installed PartnerPulse too).

    A known home team decides. Without one, only a channel that is not shared with another organisation tells us
    the person is ours; in a Slack Connect channel an unknown person gets the ephemeral, which always reaches them.
    """
    if member is not None and (member.deleted or member.is_bot):
        return False
    if member is not None and member.team_id:
        return member.team_id == p.workspace.team_id or member.team_id in installed_teams
    return not p.is_connect


def installed_home_teams(uow: UnitOfWork, p: Partnership, members: Collection[Member]) -> set[str]:
    """The home workspaces of ``members``, other than the partnership's, that installed PartnerPulse too."""
    others = {m.team_id for m in members if m.team_id and m.team_id != p.workspace.team_id}
    return uow.workspaces.installed_teams(others)


def _valid_zone(tz: str | None) -> str | None:
    if not tz:
        return None
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return tz


def recipient_for(p: Partnership, member: Member | None, user_id: str, installed_teams: Collection[str] = ()) -> Recipient:
    """The ``Recipient`` for a person of the partnership (``member``: their stored row, if any; ``installed_teams``:
    :func:`installed_home_teams`)."""
    zone = _valid_zone(member.tz if member is not None else None) or p.timezone
    direct = can_message_directly(p, member, installed_teams)
    own = member.team_id if member is not None and member.team_id in installed_teams else None
    return Recipient(user_id=user_id, direct=direct, timezone=zone, via_team=own or p.workspace.team_id)


def recipient(uow: UnitOfWork, *, partnership_id: int, user_id: str) -> Recipient | None:
    """How a personal message reaches ``user_id`` of the partnership now; None when the partnership is gone."""
    with uow.read_only():
        p = uow.partnerships.get(partnership_id)
        if p is None:
            return None
        member = uow.members.get(partnership_id, user_id)
        installed = installed_home_teams(uow, p, [member] if member is not None else [])
        return recipient_for(p, member, user_id, installed)
