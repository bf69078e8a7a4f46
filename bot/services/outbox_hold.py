"""Holding a workspace's sending while Slack rejects its token, and resuming it by itself.

A token error (``invalid_auth``, ``account_inactive``, ``token_revoked``...) holds the workspace's sending: its
messages wait in the outbox, nothing is lost. The token is checked again with ``auth.test`` after 30 s, then
backing off (1, 2, 5, 10 minutes, then every 10); the first check that passes resumes sending and the held
messages go out. ``sending_held`` tells a person who asked for a message that it waits, and why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

#: Waits before each re-check of a rejected token: the first after the hold, then after each failed check.
RECHECK_BACKOFF: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
)


def recheck_delay(failed_checks: int) -> timedelta:
    """The wait before the next re-check after ``failed_checks`` failed ones (capped at the last step)."""
    return RECHECK_BACKOFF[min(failed_checks, len(RECHECK_BACKOFF) - 1)]


@dataclass(frozen=True)
class SendingHold:
    """A workspace's sending is held: Slack rejected its token."""

    team_id: str
    reason: str
    next_check_at: datetime | None


@dataclass(frozen=True)
class TokenRecheck:
    """A held workspace whose token is due to be checked again (claimed by this process)."""

    workspace_id: int
    team_id: str


def hold_sending(uow: UnitOfWork, *, workspace_id: int, error: str, now: datetime) -> bool:
    """Slack answered ``error`` (a token error): hold the workspace's sending. True if it was not held yet."""
    with uow:
        ws = uow.workspaces.get(workspace_id)
        if ws is None or not ws.sending_enabled:
            return False
        ws.sending_enabled, ws.disabled_reason = False, f"Slack answered {error}"
        ws.auth_failures, ws.auth_recheck_at = 0, now + recheck_delay(0)
        team_id = ws.team_id
        uow.commit()
    logger.error("workspace %s: Slack answered %s; sending held, the token is checked again from now on", team_id, error)
    return True


def claim_rechecks(uow: UnitOfWork, *, now: datetime) -> list[TokenRecheck]:
    """Held workspaces whose re-check is due. Each is claimed by moving its next re-check to where a failure
    would put it, so concurrent senders check a token once."""
    with uow:
        due = uow.outbox.held_workspaces_due(now)
        checks = []
        for ws in due:
            ws.auth_recheck_at = now + recheck_delay(ws.auth_failures + 1)
            checks.append(TokenRecheck(workspace_id=ws.id, team_id=ws.team_id))
        uow.commit()
        return checks


def token_accepted(uow: UnitOfWork, *, workspace_id: int) -> None:
    """``auth.test`` passed: resume the workspace's sending (its held messages go out with the next send)."""
    with uow:
        ws = uow.workspaces.get(workspace_id)
        if ws is None:
            return
        ws.sending_enabled, ws.disabled_reason, ws.auth_failures, ws.auth_recheck_at = True, None, 0, None
        team_id = ws.team_id
        uow.commit()
    logger.warning("workspace %s: Slack accepts the token again; sending resumed", team_id)


def token_still_rejected(uow: UnitOfWork, *, workspace_id: int, error: str | None, now: datetime) -> None:
    """The re-check failed: back off. ``error`` is Slack's token error, None if Slack could not be asked."""
    with uow:
        ws = uow.workspaces.get(workspace_id)
        if ws is None or ws.sending_enabled:
            return
        ws.auth_failures += 1
        ws.auth_recheck_at = now + recheck_delay(ws.auth_failures)
        if error:
            ws.disabled_reason = f"Slack answered {error}"
        team_id, failures, next_at = ws.team_id, ws.auth_failures, ws.auth_recheck_at
        uow.commit()
    logger.error(
        "workspace %s: token re-check %s failed (%s); next at %s", team_id, failures, error or "Slack unreachable", next_at
    )


def sending_held(uow: UnitOfWork, *, team_id: str) -> SendingHold | None:
    """Whether the workspace's sending is held for a rejected token (None: messages go out as usual)."""
    with uow.read_only():
        ws = uow.workspaces.get_by_team(team_id)
        if ws is None or ws.sending_enabled:
            return None
        return SendingHold(team_id=ws.team_id, reason=ws.disabled_reason or "", next_check_at=ws.auth_recheck_at)
