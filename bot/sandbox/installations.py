"""The app's installations in the sandbox's teams, and the tokens that act as them.

An :class:`Installation` is the app installed in one team: its bot user, its granted scopes and its bot token
(with a refresh token and an expiry on the sandbox's clock when token rotation is on). :class:`Installations`
holds them by team and answers which installation a token acts as, or the error Slack gives for it:
``invalid_auth`` for a token never issued or replaced by a reinstall, ``token_revoked`` for one revoked
(``auth.revoke``, :meth:`~bot.sandbox.lifecycle.Lifecycle.revoke_tokens`) or whose installation was removed,
``token_expired`` for a rotating token past its expiry. :class:`ActingInstallation` gives the
:class:`~bot.sandbox.state.Workspace` the installation the current call acts as.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .models import SlackError, User


@dataclass
class Installation:
    """The app installed in ``team_id``: its bot user, granted scopes and current tokens."""

    team_id: str
    bot_user_id: str
    bot_id: str
    scopes: tuple[str, ...]
    bot_token: str
    #: With token rotation: the single-use refresh token and the access token's expiry (sandbox clock).
    refresh_token: str | None = None
    expires_at: float | None = None
    #: The person who approved the install (OAuth), if known.
    installer_user_id: str | None = None


@dataclass(frozen=True)
class _Grant:
    """An access token still accepted: whose it is and until when."""

    team_id: str
    expires_at: float | None


class Installations:
    """Every installation by team, the first one being the default; tokens looked up to theirs."""

    def __init__(self) -> None:
        self.by_team: dict[str, Installation] = {}
        self.default_team: str | None = None
        self._grants: dict[str, _Grant] = {}
        self._revoked: set[str] = set()
        self._refresh_tokens: dict[str, str] = {}

    def default(self) -> Installation | None:
        """The first installation (what the single-install API means), or None."""
        return self.by_team.get(self.default_team or "")

    def put(self, installation: Installation) -> Installation:
        """Install or reinstall: a reinstall's new token replaces the team's old ones (they answer ``invalid_auth``)."""
        team_id = installation.team_id
        if team_id in self.by_team:
            self._forget_team_tokens(team_id)
        self.by_team[team_id] = installation
        if self.default_team is None:
            self.default_team = team_id
        self._grant(installation)
        return installation

    def renew(self, installation: Installation, *, bot_token: str, refresh_token: str, expires_at: float) -> None:
        """A refresh: new access and refresh tokens; the previous access token stays good until its own expiry."""
        installation.bot_token = bot_token
        installation.refresh_token = refresh_token
        installation.expires_at = expires_at
        self._grant(installation)

    def take_refresh_token(self, refresh_token: str) -> Installation:
        """The installation a refresh token belongs to; the token is used up (``invalid_refresh_token`` if not live)."""
        team_id = self._refresh_tokens.pop(refresh_token, None)
        installation = self.by_team.get(team_id or "")
        if installation is None:
            raise SlackError("invalid_refresh_token")
        return installation

    def authenticate(self, token: str, now: float) -> Installation:
        """The installation ``token`` acts as, or SlackError with Slack's code for a token that does not work."""
        if token in self._revoked:
            raise SlackError("token_revoked")
        grant = self._grants.get(token)
        installation = self.by_team.get(grant.team_id) if grant is not None else None
        if grant is None or installation is None:
            raise SlackError("invalid_auth")
        if grant.expires_at is not None and now >= grant.expires_at:
            raise SlackError("token_expired")
        return installation

    def team_of(self, token: str | None) -> str | None:
        """The team a token was issued for (also a revoked or expired one), or None."""
        grant = self._grants.get(token or "")
        return grant.team_id if grant is not None else None

    def is_issued(self, token: str) -> bool:
        """True when the sandbox issued ``token`` as a bot token (whatever its state now)."""
        return token in self._grants or token in self._revoked

    def revoke(self, token: str) -> None:
        """``auth.revoke``: the token answers ``token_revoked`` from now on."""
        self._grants.pop(token, None)
        self._revoked.add(token)

    def revoke_team(self, team_id: str) -> None:
        """Revoke every token of a team's installation (which stays recorded, without a working token)."""
        for token, grant in list(self._grants.items()):
            if grant.team_id == team_id:
                self.revoke(token)
        self._drop_refresh_tokens(team_id)

    def remove(self, team_id: str) -> Installation:
        """Uninstall: the installation is gone and its tokens answer ``token_revoked``."""
        installation = self.by_team.pop(team_id)
        self.revoke_team(team_id)
        return installation

    def _grant(self, installation: Installation) -> None:
        self._revoked.discard(installation.bot_token)  # install() gives the default team the same token again
        self._grants[installation.bot_token] = _Grant(installation.team_id, installation.expires_at)
        if installation.refresh_token is not None:
            self._refresh_tokens[installation.refresh_token] = installation.team_id

    def _forget_team_tokens(self, team_id: str) -> None:
        for token, grant in list(self._grants.items()):
            if grant.team_id == team_id:
                del self._grants[token]
        self._drop_refresh_tokens(team_id)

    def _drop_refresh_tokens(self, team_id: str) -> None:
        for token, owner in list(self._refresh_tokens.items()):
            if owner == team_id:
                del self._refresh_tokens[token]


def keep_installation(view: dict[str, Any], opened: dict[str, Any]) -> None:
    """A view pushed onto a stack, or updated, stays the view of the installation that opened ``opened``."""
    for key in ("team_id", "app_installed_team_id", "bot_id"):
        view[key] = opened[key]


class ActingInstallation:
    """The installation the current Web API call acts as (else the default one), as the workspace's methods see it.

    The dispatcher sets it for the duration of a call, under the sandbox's lock (:meth:`acting_as`); outside a
    call (actors, events, response URLs) the default installation acts.
    """

    installations: Installations
    users: dict[str, User]
    bot_display_name: str
    acting_team: str | None = None
    acting_token: str | None = None

    def install_app(self, installation: Installation) -> Installation:
        """Install (or reinstall) the app in a team: its bot user is created, its token starts working."""
        self.users[installation.bot_user_id] = User(
            id=installation.bot_user_id,
            team_id=installation.team_id,
            name=self.bot_display_name.lower().replace(" ", ""),
            real_name=self.bot_display_name,
            tz="America/Los_Angeles",
            is_bot=True,
            bot_id=installation.bot_id,
        )
        return self.installations.put(installation)

    @contextmanager
    def acting_as(self, team_id: str | None, token: str | None = None) -> Iterator[None]:
        """Act as ``team_id``'s installation (called with ``token``) until the block ends."""
        previous = (self.acting_team, self.acting_token)
        self.acting_team, self.acting_token = team_id, token
        try:
            yield
        finally:
            self.acting_team, self.acting_token = previous

    @property
    def installation(self) -> Installation | None:
        """The acting installation: the current call's, else the default one."""
        if self.acting_team is not None:
            return self.installations.by_team.get(self.acting_team)
        return self.installations.default()

    @property
    def installed_team(self) -> str | None:
        """The acting installation's team."""
        installation = self.installation
        return installation.team_id if installation is not None else None

    @property
    def bot_user_id(self) -> str | None:
        """The acting installation's bot user."""
        installation = self.installation
        return installation.bot_user_id if installation is not None else None

    @property
    def bot_id(self) -> str | None:
        """The acting installation's bot id."""
        installation = self.installation
        return installation.bot_id if installation is not None else None
