"""Which token reaches a workspace: the one static bot token (single-workspace mode) or each OAuth installation's
(rotated by ``bot.token_rotation`` before it expires).

Everything that calls Slack outside a request (the sender, the token re-check, the heartbeat's member reconcile) and
the directory that caches profiles per workspace ask here for the workspace's client; a request's own listeners get
theirs from Bolt, which authorizes the request with ``bot.oauth_app.InstallationAuthorize`` in OAuth mode.
"""

from __future__ import annotations

import threading
from typing import Protocol

from slack_sdk import WebClient

from bot.delivery.pacer import Pacer
from bot.directory import SlackDirectory
from bot.slack_client import make_web_client


class WorkspaceClients(Protocol):
    """A Web API client and a directory for each workspace PartnerPulse reaches."""

    def client_for(self, team_id: str) -> WebClient:
        """The workspace's client, with a token valid for the next minutes (``BotTokenUnavailable`` if there is
        none: its ``code`` says why, as a Slack token error would, so the sender holds the workspace's sending)."""
        ...

    def directory_for(self, team_id: str) -> SlackDirectory:
        """The workspace's people and channels, cached per workspace."""
        ...


class OneWorkspace:
    """Single-workspace mode: one static bot token (``SLACK_BOT_TOKEN``) reaches the one workspace it belongs to."""

    def __init__(self, client: WebClient, *, team_id: str, pacer: Pacer) -> None:
        self.client, self.team_id = client, team_id
        self.directory = SlackDirectory(client, pacer=pacer, workspace=team_id)

    def client_for(self, team_id: str) -> WebClient:
        return self.client

    def directory_for(self, team_id: str) -> SlackDirectory:
        return self.directory


class BotTokenSource(Protocol):
    """The installations' bot tokens (``bot.token_rotation.BotTokens``)."""

    def token_for(self, team_id: str) -> str: ...


class InstalledWorkspaces:
    """OAuth mode: each workspace's client carries its installation's current bot token.

    A client is kept per workspace and rebuilt only when the token changed (a rotation or a reinstall), so a request
    or a send costs one in-memory lookup while the token is fresh.
    """

    def __init__(
        self,
        tokens: BotTokenSource,
        *,
        api_url: str,
        pacer: Pacer,
    ) -> None:
        self._tokens, self._api_url, self._pacer = tokens, api_url, pacer
        self._clients: dict[str, tuple[str, WebClient]] = {}
        self._directories: dict[str, SlackDirectory] = {}
        self._lock = threading.Lock()

    def client_for(self, team_id: str) -> WebClient:
        token = self._tokens.token_for(team_id)
        with self._lock:
            held = self._clients.get(team_id)
            if held is not None and held[0] == token:
                return held[1]
            client = make_web_client(token, self._api_url)
            self._clients[team_id] = (token, client)
            directory = self._directories.get(team_id)
            if directory is not None:
                directory.client = client  # the cache of profiles stays; the calls carry the new token
            return client

    def directory_for(self, team_id: str) -> SlackDirectory:
        client = self.client_for(team_id)
        with self._lock:
            directory = self._directories.get(team_id)
            if directory is None:
                directory = self._directories[team_id] = SlackDirectory(client, pacer=self._pacer, workspace=team_id)
            return directory

    def forget(self, team_id: str) -> None:
        """Drop the workspace's client (its tokens were revoked or the app uninstalled)."""
        with self._lock:
            self._clients.pop(team_id, None)
            self._directories.pop(team_id, None)
