"""The OAuth ``state`` of an install under way (issue 15): issued when someone starts installing the app, consumed
once when Slack sends them back to the redirect URL.

slack_sdk's ``SQLAlchemyOAuthStateStore`` reads the row and then deletes it, so two callbacks carrying one state can
both pass; here consuming is one ``DELETE ... WHERE state = :s AND expire_at > :now``, and the row count it
reports is the answer: exactly one of two concurrent consumers sees 1. Nothing in slack_sdk ever removes expired
states; the heartbeat does (``uow.oauth_states.purge_expired``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from slack_sdk.oauth.state_store import OAuthStateStore
from sqlalchemy import Engine, Table, delete, insert
from sqlalchemy.exc import SQLAlchemyError

from storage.models import SlackOAuthState
from storage.repositories.installations import delete_expired_states

#: How long an install may take from "Add to Slack" to the callback (Bolt's default, and Slack's guidance).
STATE_SECONDS = 600

_states = cast(Table, SlackOAuthState.__table__)


class OnceOAuthStateStore(OAuthStateStore):
    """slack_sdk's ``OAuthStateStore`` on the ``slack_oauth_states`` table: a state is good once, until it expires."""

    def __init__(
        self,
        engine: Engine,
        *,
        expiration_seconds: int = STATE_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        logger: logging.Logger | None = None,
    ) -> None:
        self.engine = engine
        self.expiration_seconds = expiration_seconds
        self._clock = clock
        self._logger = logger or logging.getLogger(__name__)

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    def issue(self, *args: Any, **kwargs: Any) -> str:
        """A new random state, stored until it expires."""
        state = secrets.token_urlsafe(32)
        expire_at = self._clock() + timedelta(seconds=self.expiration_seconds)
        with self.engine.begin() as conn:
            conn.execute(insert(_states).values(state=state, expire_at=expire_at))
        return state

    def consume(self, state: str) -> bool:
        """True once for a state this store issued and that has not expired; False when it is missing (never issued,
        or from elsewhere), expired, or already consumed. The check and the removal are one statement."""
        if not state or len(state) > 200:
            return False
        try:
            with self.engine.begin() as conn:
                result = conn.execute(delete(_states).where(_states.c.state == state, _states.c.expire_at > self._clock()))
                return bool(result.rowcount == 1)
        except SQLAlchemyError as exc:
            # The state itself is not logged: it is what lets a callback through.
            self._logger.warning("an OAuth state could not be checked (%s); the install is refused", type(exc).__name__)
            return False

    def purge_expired(self, now: datetime) -> int:
        """Delete the states that expired by ``now``; how many there were."""
        with self.engine.begin() as conn:
            return delete_expired_states(conn, now)
