"""The app's life in the sandbox's teams: installed by OAuth, its tokens revoked, uninstalled; whose context events carry.

The person's side of OAuth is :meth:`AppLifecycle.approve_install` (clicking Allow) and
:meth:`AppLifecycle.deny_install` (Cancel), also served over HTTP as ``GET /oauth/v2/authorize``
(:meth:`AppLifecycle.handle_authorize`). An admin's side is :meth:`AppLifecycle.uninstall` and
:meth:`AppLifecycle.revoke_tokens`, each delivering Slack's lifecycle events. Which installation an event or an
actor's request speaks for is decided here too (:meth:`AppLifecycle.event_context`, :meth:`AppLifecycle.context_team`).
"""

from __future__ import annotations

import copy
import html
from typing import Any

from .events import EventDelivery
from .installations import Installation
from .models import ActorResponse, SandboxError
from .oauth import AuthorizeRefused

Json = dict[str, Any]

#: The query parameters of ``/oauth/v2/authorize`` the sandbox adds to Slack's: who installs, and Cancel.
SANDBOX_AUTHORIZE_PARAMETERS = ("team", "user", "cancel")


class AppLifecycle(EventDelivery):
    """Installing by OAuth, uninstalling, revoking tokens, and the installation each delivery speaks for."""

    # ------------------------------------------------------------------ installations

    def installation_of(self, team_id: str) -> Installation:
        """A copy of the app's installation in ``team_id`` (SandboxError if it has none)."""
        with self._lock:
            installation = self.workspace.installations.by_team.get(team_id)
            if installation is None:
                raise SandboxError(f"the app is not installed in {team_id}")
            return copy.copy(installation)

    def installed_teams(self) -> list[str]:
        """The teams the app is installed in, the default one first."""
        with self._lock:
            return list(self.workspace.installations.by_team)

    @property
    def refreshes(self) -> int:
        """How many refresh tokens were exchanged (``oauth.v2.access`` with ``grant_type=refresh_token``)."""
        with self._lock:
            return self.oauth.refreshes

    def context_team(self, team_id: str | None) -> str:
        """``team_id`` when the app is installed there, else the default installation's team."""
        with self._lock:
            if team_id is not None and team_id in self.workspace.installations.by_team:
                return team_id
        return self.installation()[0]

    def home_team(self, user_id: str) -> str:
        """The installation a person's own requests go to: their team's, else the default one."""
        return self.context_team(self.snapshot_user(user_id).team_id)

    def event_context(self, event: Json) -> tuple[str, str]:
        """(team id, bot user id) an event is delivered for: its channel's host team if installed there, else the
        other team of a shared channel; for a DM or a person, their team; for a group, its team; else the default."""
        with self._lock:
            ws = self.workspace
            candidates: list[str] = []
            channel = ws.channels.get(str(event.get("channel") or ""))
            if channel is not None and channel.is_im and channel.im_user in ws.users:
                candidates.append(ws.users[channel.im_user].team_id)
            elif channel is not None:
                candidates += [channel.host_team_id, *channel.shared_team_ids]
            user = ws.users.get(str(event.get("user") or ""))
            if user is not None:
                candidates.append(user.team_id)
            if isinstance(event.get("team_id"), str):
                candidates.append(event["team_id"])
            for team_id in candidates:
                installation = ws.installations.by_team.get(team_id)
                if installation is not None:
                    return installation.team_id, installation.bot_user_id
        team_id, bot_user, _ = self.installation()
        return team_id, bot_user

    # ------------------------------------------------------------------ OAuth: the person at the authorize page

    def approve_install(
        self,
        team_id: str | None = None,
        *,
        redirect_uri: str | None = None,
        state: str | None = None,
        scope: str | None = None,
        user_id: str | None = None,
        client_id: str | None = None,
    ) -> str:
        """A person of ``team_id`` (default: the default team; ``user_id`` default: its first person) clicks Allow.

        Returns the URL Slack redirects the browser to: ``redirect_uri?code=...&state=...`` (``redirect_uri``
        default: the sandbox's ``oauth_redirect_url``). ``scope``: the bot
        scopes asked for, comma-separated (default: the manifest's). SandboxError for what Slack shows as an error
        page (an unknown client id, team or person, a scope the app does not request).
        """
        with self._lock:
            try:
                return self.oauth.approve(
                    client_id=client_id or self.oauth.settings.client_id,
                    team_id=team_id,
                    user_id=user_id,
                    scope=scope,
                    redirect_uri=redirect_uri,
                    state=state,
                )
            except AuthorizeRefused as exc:
                raise SandboxError(str(exc)) from exc

    def deny_install(
        self, *, redirect_uri: str | None = None, state: str | None = None, client_id: str | None = None
    ) -> str:
        """The person clicks Cancel: the redirect URL with ``error=access_denied&state=...``."""
        with self._lock:
            try:
                return self.oauth.deny(
                    client_id=client_id or self.oauth.settings.client_id, redirect_uri=redirect_uri, state=state
                )
            except AuthorizeRefused as exc:
                raise SandboxError(str(exc)) from exc

    def handle_authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """``GET /oauth/v2/authorize``: 302 to the redirect URL (Allow, or Cancel with ``cancel=1``), or a 400 page.

        Slack's parameters (``client_id``, ``scope``, ``redirect_uri``, ``state``) plus the sandbox's own: ``team``
        (who installs; default: the default team), ``user`` (who clicks) and ``cancel``.
        """
        with self._lock:
            try:
                if query.get("cancel", "") not in ("", "0", "false"):
                    location = self.oauth.deny(
                        client_id=query.get("client_id", ""),
                        redirect_uri=query.get("redirect_uri"),
                        state=query.get("state"),
                    )
                else:
                    location = self.oauth.approve(
                        client_id=query.get("client_id", ""),
                        team_id=query.get("team"),
                        user_id=query.get("user"),
                        scope=query.get("scope"),
                        redirect_uri=query.get("redirect_uri"),
                        state=query.get("state"),
                    )
            except AuthorizeRefused as exc:
                page = f"<html><body><h1>Something went wrong when authorizing this app.</h1><p>{html.escape(str(exc))}</p>"
                return 400, {"Content-Type": "text/html; charset=utf-8"}, page + "</body></html>"
        return 302, {"Location": location}, ""

    # ------------------------------------------------------------------ an admin removes the app

    def uninstall(self, team_id: str) -> ActorResponse:
        """The app is uninstalled from ``team_id``: its tokens answer ``token_revoked``, its bot leaves the channels.

        Delivers ``tokens_revoked`` then ``app_uninstalled`` (Slack sends both, in no guaranteed order); returns the
        bot's answer to ``app_uninstalled``. Delivered whether or not the manifest subscribes to them.
        """
        with self._lock:
            ws = self.workspace
            if team_id not in ws.installations.by_team:
                raise SandboxError(f"the app is not installed in {team_id}")
            installation = ws.installations.remove(team_id)
            for channel in ws.channels.values():
                if installation.bot_user_id in channel.members:
                    channel.members.remove(installation.bot_user_id)
        context = (team_id, installation.bot_user_id)
        self.event(self._tokens_revoked(installation), context=context, force=True)
        return self.event({"type": "app_uninstalled"}, context=context, force=True)

    def revoke_tokens(self, team_id: str) -> ActorResponse:
        """Every token of ``team_id``'s installation is revoked (they answer ``token_revoked``); delivers
        ``tokens_revoked`` with the bot user's id, as Slack does."""
        with self._lock:
            installation = self.workspace.installations.by_team.get(team_id)
            if installation is None:
                raise SandboxError(f"the app is not installed in {team_id}")
            self.workspace.installations.revoke_team(team_id)
        context = (team_id, installation.bot_user_id)
        return self.event(self._tokens_revoked(installation), context=context, force=True)

    @staticmethod
    def _tokens_revoked(installation: Installation) -> Json:
        return {"type": "tokens_revoked", "tokens": {"bot": [installation.bot_user_id]}}
