"""A workspace's install lifecycle: uninstalled (or its bot token revoked), installed again, or in need of a reinstall.

An uninstall holds the workspace's sending with no token re-checks (its queued messages wait in the outbox, nothing
is lost) and pauses its active partnerships for ``UNINSTALLED``, so that a reinstall resumes those and no other (a
lead's pause, or a channel Slack closed to the bot, stays). A workspace whose token Slack keeps refusing
(``outbox_hold.RECHECK_LIMIT``) or that cannot be refreshed needs reinstalling: held the same way, until an install.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.services import outbox, outbox_hold, partnerships
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

#: The pause reason of the partnerships an uninstall paused: a reinstall resumes exactly these.
UNINSTALLED = "paused: PartnerPulse was uninstalled from the workspace"

#: The Slack events that uninstall: the app removed, or the workspace's bot token revoked.
UninstallEvent = Literal["app_uninstalled", "tokens_revoked"]


@dataclass(frozen=True)
class UninstallResult:
    """What an uninstall event changed: nothing when it repeats an earlier one or names an unknown team."""

    team_id: str
    changed: bool
    paused: int


@dataclass(frozen=True)
class InstallResult:
    """The workspace installed (created or found) and how many partnerships its uninstall had paused were resumed."""

    workspace_id: int
    resumed: int


def workspace_uninstalled(uow: UnitOfWork, *, team_id: str, why: UninstallEvent, now: datetime) -> UninstallResult:
    """Slack says the app left the workspace (``why``: the event): hold its sending with no re-checks and pause its
    active partnerships. A repeated event (or ``tokens_revoked`` then ``app_uninstalled``, as Slack sends an
    uninstall) changes nothing."""
    with uow:
        ws = uow.workspaces.get_by_team(team_id, for_update=True)
        if ws is None or ws.uninstalled_at is not None:
            logger.info("workspace %s: %s again or for an unknown workspace; nothing to change", team_id, why)
            return UninstallResult(team_id=team_id, changed=False, paused=0)
        ws.uninstalled_at = now
        outbox_hold.hold_without_rechecks(ws, reason=f"PartnerPulse was uninstalled ({why})")
        active = uow.partnerships.of_workspace(ws.id, status="active")
        for p in active:
            p.status, p.pause_reason, p.paused_by, p.updated_at = "paused", UNINSTALLED, None, now
        uow.commit()
    logger.warning(
        "workspace %s: Slack sent %s; sending held and %s partnership(s) paused until PartnerPulse is reinstalled",
        team_id,
        why,
        len(active),
    )
    return UninstallResult(team_id=team_id, changed=True, paused=len(active))


def workspace_installed(
    uow: UnitOfWork, *, team_id: str, name: str, bot_user_id: str | None, now: datetime
) -> InstallResult:
    """The app is installed in the workspace with a token that works (an OAuth install, or a start whose ``auth.test``
    passed): record it, lift any hold, and resume the partnerships its uninstall paused (their next pulse from now)."""
    with uow:
        ws = partnerships.upsert_workspace(uow, team_id=team_id, name=name, bot_user_id=bot_user_id, now=now)
        was = ws.disabled_reason if not ws.sending_enabled else None
        ws.uninstalled_at = ws.needs_reinstall_at = None
        outbox_hold.release(ws)
        paused = uow.partnerships.of_workspace(ws.id, status="paused", pause_reason=UNINSTALLED)
        for p in paused:
            partnerships.resume(p, now=now)
        uow.commit()
        result = InstallResult(workspace_id=ws.id, resumed=len(paused))
    held = f"; sending resumed (it was held: {was})" if was else ""
    logger.info("workspace %s installed: %s partnership(s) resumed%s", team_id, result.resumed, held)
    return result


def needs_reinstall(uow: UnitOfWork, *, team_id: str, reason: str, now: datetime) -> bool:
    """The workspace's token will not work again by itself (``reason``: why): hold its sending with no re-checks until
    it is reinstalled, and tell the operator. False when it was already waiting (or uninstalled, or unknown)."""
    with uow:
        ws = uow.workspaces.get_by_team(team_id, for_update=True)
        if ws is None or ws.needs_reinstall_at is not None or ws.uninstalled_at is not None:
            return False
        outbox_hold.mark_needs_reinstall(ws, reason=reason, now=now)
        uow.commit()
    outbox_hold.log_needs_reinstall(team_id, reason)
    return True


def queue_reinstall_notices(uow: UnitOfWork, *, now: datetime) -> int:
    """Tell the leads of each organisation whose installation needs installing again, in every partnership another
    installation still reaches, what happened and what to do: once per lead, partnership and refusal (the heartbeat
    asks every beat; the outbox key keeps it to one). Returns how many notices were queued."""
    with uow:
        queued = 0
        for ws, p, lead in uow.workspaces.leads_to_reinstall():
            assert ws.needs_reinstall_at is not None
            key = f"{outbox.Purpose.REINSTALL_NEEDED.value}:{p.id}:{lead}:{ws.needs_reinstall_at.isoformat()}"
            queued += outbox.enqueue(
                uow,
                p,
                purpose=outbox.Purpose.REINSTALL_NEEDED,
                ref_id=p.id,
                now=now,
                user_id=lead,
                key=key[:200],
                extra={"workspace": ws.name},
            )
        uow.commit()
    if queued:
        logger.info("told %s lead(s) to reinstall PartnerPulse in their workspace", queued)
    return queued
