"""The OAuth states of installs under way: removing those that expired (the heartbeat's purge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete

from storage.models import SlackOAuthState
from storage.repositories.base import Repository

_states = cast(Table, SlackOAuthState.__table__)


def delete_expired_states(executor: Any, now: datetime) -> int:
    """Delete the states that expired by ``now`` on ``executor`` (a connection or a session); how many went."""
    result: CursorResult[Any] = executor.execute(delete(_states).where(_states.c.expire_at <= now))
    return int(result.rowcount)


class OAuthStateRepository(Repository):
    """``slack_oauth_states``: issued and consumed by ``storage.oauth_state_store``; purged here."""

    def purge_expired(self, now: datetime) -> int:
        """Delete the states that expired by ``now``; how many there were."""
        return delete_expired_states(self.session, now)
