"""A workspace's bot token for the work that runs outside Slack's requests (issue 15): the newest stored token,
refreshed first when it expires soon.

With token rotation on, a bot token expires every 12 hours and its refresh token works once. Bolt refreshes only
while handling a request; the heartbeat's sends never pass through it, so ``BotTokens.token_for`` refreshes a token
that expires within ``refresh_before`` before handing it out. The refresh runs under the workspace's lock
(``storage.bot_refresh``) and re-reads the newest bot inside it, so of two threads or processes refreshing at once
exactly one calls ``oauth.v2.access``; the other then finds the new token. A refused refresh
(``invalid_refresh_token``) can only be mended by installing the app again: in the same transaction the workspace is
marked as needing it and its sending held with no token re-check (as ``bot.services.outbox_hold`` holds it), one
line is logged, and ``NeedsReinstall`` is raised; until a reinstall, Slack is not asked again.

A token is kept in memory until it comes within the refresh window (and at most ``cache_seconds``, so a reinstall
made through another process is seen): the request path's lookup costs a dictionary read.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.models.bot import Bot

from bot.slack_client import error_code, make_secret_calls_client
from storage.bot_refresh import mark_needs_reinstall, workspace_locked
from storage.installation_store import EncryptedInstallationStore

logger = logging.getLogger(__name__)

#: Slack's answers to a refresh token that no longer works (spent, revoked): only a new install mends them.
REFUSED_REFRESH = frozenset({"invalid_refresh_token", "invalid_grant"})
#: How long a token read from the database is used before it is read again (a reinstall elsewhere is then seen).
CACHE_SECONDS = 60


class BotTokenUnavailable(Exception):
    """No usable bot token for the workspace; ``code`` says why, as Slack's token errors do (the sender can hold the
    workspace's sending the same way). The message names the team, never a token."""

    code = "token_unavailable"

    def __init__(self, team_id: str, message: str) -> None:
        super().__init__(message)
        self.team_id = team_id


class NotInstalled(BotTokenUnavailable, LookupError):
    """The app has no installation (no bot token) in this workspace."""

    code = "not_installed"


class NeedsReinstall(BotTokenUnavailable, LookupError):
    """Slack refused to refresh the workspace's token: someone must install the app again."""

    code = "needs_reinstall"


class TokenRefreshFailed(BotTokenUnavailable):
    """The token has expired and Slack could not be asked to refresh it now (unreachable, or another error); the
    next lookup tries again."""

    code = "token_refresh_failed"


@dataclass(frozen=True)
class _Cached:
    token: str
    expires_at: datetime | None  # None: the token does not expire
    read_at: datetime


def _expiry(bot: Bot) -> datetime | None:
    seconds = bot.bot_token_expires_at
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


class BotTokens:
    """Each workspace's bot token, refreshed under the workspace's lock before it expires."""

    def __init__(
        self,
        store: EncryptedInstallationStore,
        *,
        client_id: str,
        client_secret: str,
        api_url: str,
        refresh_before: timedelta = timedelta(minutes=120),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self._store = store
        self._client_id = client_id
        self._client_secret = client_secret
        # Quiet at DEBUG (a refresh's fields and answer are secrets) and without retries: a refresh Slack carried out
        # but whose answer was lost would be retried with a spent token.
        self._client = make_secret_calls_client(api_url)
        self._refresh_before = refresh_before
        self._clock = clock
        self._cache_for = timedelta(seconds=cache_seconds)
        self._cache: dict[str, _Cached] = {}
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BotTokens(client_id={self._client_id!r}, teams cached={len(self._cache)})"

    def token_for(self, team_id: str) -> str:
        """The workspace's bot token, refreshed first if it expires within ``refresh_before``.

        Raises:
            NotInstalled: the workspace has no bot token stored.
            NeedsReinstall: Slack refused to refresh it (the workspace is marked and its sending held).
            TokenRefreshFailed: it has expired and Slack could not refresh it now (the next call tries again).
        """
        now = self._clock()
        cached = self._cache.get(team_id)
        if cached is not None and self._fresh(cached, now) and now - cached.read_at < self._cache_for:
            return cached.token
        bot = self._store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            self.forget(team_id)
            raise NotInstalled(team_id, f"PartnerPulse is not installed in workspace {team_id}")
        found = _Cached(bot.bot_token, _expiry(bot), now)
        if not self._fresh(found, now):
            found = self._refresh(team_id, bot.team_name, now)
        with self._cache_lock:
            self._cache[team_id] = found
        return found.token

    def forget(self, team_id: str) -> None:
        """Drop the workspace's token from memory (Slack rejected it, or the app was reinstalled or removed)."""
        with self._cache_lock:
            self._cache.pop(team_id, None)

    def _fresh(self, cached: _Cached, now: datetime) -> bool:
        return cached.expires_at is None or cached.expires_at - now > self._refresh_before

    def _refresh(self, team_id: str, team_name: str | None, now: datetime) -> _Cached:
        """Refresh the token under the workspace's lock, unless whoever held the lock before already did."""
        refused = ""
        with workspace_locked(self._store.engine, team_id=team_id, team_name=team_name, now=now) as locked:
            bot = self._store.find_bot_in(locked.conn, enterprise_id=None, team_id=team_id)
            if bot is None or not bot.bot_token:
                raise NotInstalled(team_id, f"PartnerPulse is not installed in workspace {team_id}")
            current = _Cached(bot.bot_token, _expiry(bot), now)
            if self._fresh(current, now):
                return current  # refreshed while this one waited for the lock
            waiting = locked.needs_reinstall_at
            if waiting is not None and bot.installed_at <= waiting.timestamp():
                # Refused before, and not installed since: Slack is not asked again until a reinstall.
                raise NeedsReinstall(team_id, f"workspace {team_id} waits for the app to be installed again")
            try:
                answer = self._client.oauth_v2_access(
                    client_id=self._client_id,
                    client_secret=self._client_secret,
                    grant_type="refresh_token",
                    refresh_token=bot.bot_refresh_token,
                )
            except SlackApiError as exc:
                code = error_code(exc)
                if code not in REFUSED_REFRESH:
                    return self._refresh_failed(team_id, current, now, code)
                refused = code
                mark_needs_reinstall(
                    locked.conn, team_id=team_id, reason=f"Slack answered {code} to a token refresh", now=now
                )
            except Exception as exc:  # Slack unreachable
                return self._refresh_failed(team_id, current, now, type(exc).__name__)
            else:
                refreshed = Bot(**bot.to_dict_for_copying())
                refreshed.bot_token = str(answer["access_token"])
                refreshed.bot_refresh_token = str(answer.get("refresh_token") or bot.bot_refresh_token)
                refreshed.bot_token_expires_at = int(now.timestamp()) + int(answer["expires_in"])
                self._store.save_bot_in(locked.conn, refreshed)
                logger.info("workspace %s: bot token refreshed", team_id)
                return _Cached(refreshed.bot_token, _expiry(refreshed), now)
        # Committed: the workspace waits for a reinstall, its sending held (the outbox keeps its messages).
        self.forget(team_id)
        logger.error(
            "workspace %s needs reinstalling: Slack answered %s to a token refresh; its messages wait in the outbox",
            team_id,
            refused,
        )
        raise NeedsReinstall(team_id, f"workspace {team_id}: Slack refused to refresh the bot token; install the app again")

    def _refresh_failed(self, team_id: str, current: _Cached, now: datetime, why: str) -> _Cached:
        """Slack could not refresh now: a token not yet expired is used meanwhile (the next call tries again)."""
        if current.expires_at is not None and current.expires_at <= now:
            logger.error("workspace %s: the bot token has expired and could not be refreshed (%s)", team_id, why)
            raise TokenRefreshFailed(
                team_id, f"workspace {team_id}: the bot token has expired and could not be refreshed ({why})"
            )
        logger.warning(
            "workspace %s: the bot token could not be refreshed (%s); the current one is used meanwhile", team_id, why
        )
        return current
