"""Re-checking a rejected token with ``auth.test`` for each workspace whose sending is held and whose re-check is
due (``bot.services.outbox_hold`` keeps the backoff): a check that passes resumes the workspace's sending."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.services import outbox_hold
from bot.slack_client import ErrorKind, classify, error_code
from bot.token_rotation import BotTokenUnavailable
from bot.workspace_clients import WorkspaceClients
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


def recheck_held_tokens(
    uow_factory: Callable[[], UnitOfWork], clients: WorkspaceClients, clock: Callable[[], datetime]
) -> int:
    """Check the token of every held workspace that is due; returns how many workspaces resumed sending."""
    resumed = 0
    for check in outbox_hold.claim_rechecks(uow_factory(), now=clock()):
        error: str | None
        try:
            answer = clients.client_for(check.team_id).auth_test()
        except BotTokenUnavailable as exc:  # no installation to check (OAuth mode): only a reinstall resumes it
            error = exc.code
        except SlackApiError as exc:
            code = error_code(exc)
            # Any other answer (a 500, a rate limit) says nothing about the token: back off, keep the old reason.
            error = code if classify(code) is ErrorKind.AUTH else None
        except Exception as exc:  # Slack unreachable: try again later
            logger.warning("workspace %s: token re-check could not reach Slack: %s", check.team_id, exc)
            error = None
        else:
            if str(answer.get("team_id")) == check.team_id:
                outbox_hold.token_accepted(uow_factory(), workspace_id=check.workspace_id)
                resumed += 1
                continue
            error = "token of another workspace"
        outbox_hold.token_still_rejected(uow_factory(), workspace_id=check.workspace_id, error=error, now=clock())
    return resumed
