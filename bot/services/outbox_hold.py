"""Holding a workspace's sending while Slack rejects its token, and resuming it by itself.

A token error (``invalid_auth``, ``account_inactive``, ``token_revoked``...) holds the workspace's sending: its
messages wait in the outbox, nothing is lost. The token is checked again with ``auth.test`` after 30 s, then
backing off (1, 2, 5, 10 minutes, then every 10); the first check that passes resumes sending and the held
messages go out. Not for ever: after ``RECHECK_LIMIT`` checks that Slack answered with a token error (about an hour
and a half) the workspace needs reinstalling, and nothing checks its token again until it is reinstalled (or, with
one workspace, until a start whose ``auth.test`` passes). A check that could not reach Slack says nothing about the
token: it waits the longest step and does not count. ``sending_held`` tells a person who asked for a message that it
waits, and why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.models import Workspace, disabled_reason, held_for_reinstall, held_without_rechecks
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


#: Token re-checks Slack may refuse before the workspace needs reinstalling: the 12th is 88.5 minutes after the hold
#: (30 s + 1 + 2 + 5 minutes, then 8 of 10), longer than a token swap or a short Slack incident takes, and short
#: enough that the operator hears of a revoked token the same morning. A workspace is then never checked again.
RECHECK_LIMIT = 12

#: What the operator does for a workspace that needs reinstalling (its one error line, and ``partnerpulse workspaces``).
REINSTALL_ADVICE = (
    "reinstall PartnerPulse in that workspace (with one workspace: fix SLACK_BOT_TOKEN and restart partnerpulse); "
    "its messages wait in the outbox until then"
)


def recheck_delay(failed_checks: int) -> timedelta:
    """The wait before the next re-check after ``failed_checks`` failed ones (capped at the last step)."""
    return RECHECK_BACKOFF[min(failed_checks, len(RECHECK_BACKOFF) - 1)]


def _set_columns(ws: Workspace, values: dict[str, Any]) -> None:
    for column, value in values.items():
        setattr(ws, column, value)


def hold_without_rechecks(ws: Workspace, *, reason: str) -> None:
    """Hold the workspace's sending with no token re-check planned (uninstalled, or waiting for a reinstall)."""
    _set_columns(ws, held_without_rechecks(reason))


def mark_needs_reinstall(ws: Workspace, *, reason: str, now: datetime) -> None:
    """The workspace's token will not work again by itself: hold its sending until it is reinstalled."""
    _set_columns(ws, held_for_reinstall(reason, now))


def log_needs_reinstall(team_id: str, reason: str) -> None:
    """The one line that tells the operator a workspace needs reinstalling, and what to do."""
    logger.error("workspace %s needs reinstalling (%s): %s", team_id, reason, REINSTALL_ADVICE)


def release(ws: Workspace) -> None:
    """Sending resumes: no hold, no re-check, no failure counted."""
    ws.sending_enabled, ws.disabled_reason, ws.auth_failures, ws.auth_recheck_at = True, None, 0, None


@dataclass(frozen=True)
class SendingHold:
    """A workspace's sending is held: Slack rejected its token."""

    team_id: str
    reason: str
    next_check_at: datetime | None
    #: Nothing checks the token again: the workspace waits for a reinstall (or was uninstalled).
    needs_reinstall: bool = False


@dataclass(frozen=True)
class TokenRecheck:
    """A held workspace whose token is due to be checked again (claimed by this process)."""

    workspace_id: int
    team_id: str


def hold_sending(
    uow: UnitOfWork, *, workspace_id: int | None = None, team_id: str | None = None, error: str, now: datetime
) -> bool:
    """Slack answered ``error`` (a token error) for the workspace (by id, or by team: another organisation's
    installation a person was messaged through): hold its sending. True if it was not held yet."""
    with uow:
        ws = uow.workspaces.get(workspace_id) if workspace_id is not None else uow.workspaces.get_by_team(team_id or "")
        if ws is None or not ws.sending_enabled:
            return False
        ws.sending_enabled, ws.disabled_reason = False, disabled_reason(f"Slack answered {error}")
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
        release(ws)
        team_id = ws.team_id
        uow.commit()
    logger.warning("workspace %s: Slack accepts the token again; sending resumed", team_id)


def token_still_rejected(uow: UnitOfWork, *, workspace_id: int, error: str | None, now: datetime) -> bool:
    """The re-check failed: back off. ``error`` is Slack's token error, None if Slack could not be asked (or answered
    something that says nothing about the token: that check waits the longest step and is not counted). The
    ``RECHECK_LIMIT``-th token error stops the re-checks: the workspace needs reinstalling. True if it does now."""
    with uow:
        ws = uow.workspaces.get(workspace_id)
        if ws is None or ws.sending_enabled or ws.needs_reinstall_at is not None or ws.uninstalled_at is not None:
            return False
        if error:
            ws.auth_failures += 1
            ws.disabled_reason = disabled_reason(f"Slack answered {error}")
        ws.auth_recheck_at = now + recheck_delay(ws.auth_failures if error else len(RECHECK_BACKOFF))
        team_id, failures, next_at = ws.team_id, ws.auth_failures, ws.auth_recheck_at
        gave_up = failures >= RECHECK_LIMIT
        if gave_up:
            mark_needs_reinstall(ws, reason=f"Slack answered {error} to {failures} token re-checks", now=now)
        uow.commit()
    if gave_up:
        log_needs_reinstall(team_id, f"Slack answered {error} to {failures} token re-checks; re-checks stopped")
    else:
        logger.error(
            "workspace %s: token re-check failed (%s; %s of %s); next at %s",
            team_id,
            error or "Slack unreachable",
            failures,
            RECHECK_LIMIT,
            next_at,
        )
    return gave_up


def sending_held(uow: UnitOfWork, *, team_id: str) -> SendingHold | None:
    """Whether the workspace's sending is held for a rejected token (None: messages go out as usual)."""
    with uow.read_only():
        ws = uow.workspaces.get_by_team(team_id)
        if ws is None or ws.sending_enabled:
            return None
        return SendingHold(
            team_id=ws.team_id,
            reason=ws.disabled_reason or "",
            next_check_at=ws.auth_recheck_at,
            needs_reinstall=ws.needs_reinstall_at is not None or ws.uninstalled_at is not None,
        )
