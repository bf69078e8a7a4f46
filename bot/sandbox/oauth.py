"""Slack's OAuth v2 as the sandbox plays it: the person who clicks Allow, ``oauth.v2.access`` and ``auth.revoke``.

:class:`OAuthProvider` issues a code when a person approves the install (:meth:`~OAuthProvider.approve`, behind
``GET /oauth/v2/authorize``), exchanges it once for a bot token (``grant_type=authorization_code``), and with
token rotation on exchanges each refresh token once for new tokens (``grant_type=refresh_token``). The client
authenticates with its id and secret (form fields or HTTP Basic auth; :mod:`.http_server` turns the latter into
the former). Time is the sandbox's clock: a code lasts :data:`CODE_TTL` seconds, a rotating token
``token_lifetime_seconds``. Tokens are shaped as Slack's and unique per issue.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .installations import Installation
from .models import SlackError
from .spec import is_truthy
from .state import Workspace

Json = dict[str, Any]

#: Seconds an authorization code can be exchanged (Slack: 10 minutes).
CODE_TTL = 600.0


@dataclass(frozen=True)
class OAuthSettings:
    """The app's OAuth credentials and token rotation, as configured on its Slack app page."""

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    token_rotation: bool = False
    token_lifetime_seconds: float = 43200.0
    #: The app's configured redirect URL: used when the authorize URL names none (the exchange then needs none),
    #: and a ``redirect_uri`` that is given must start with it. None: every authorize URL must name one.
    redirect_url: str | None = None


class AuthorizeRefused(ValueError):
    """Slack shows an error page instead of the Allow button (an unknown client id, team, person or scope)."""


@dataclass(frozen=True)
class _Code:
    """An authorization code waiting to be exchanged."""

    team_id: str
    user_id: str
    scopes: tuple[str, ...]
    redirect_uri: str | None
    issued_at: float


def with_query(url: str, fields: dict[str, str]) -> str:
    """``url`` with ``fields`` appended to its query string."""
    return url + ("&" if "?" in url else "?") + urlencode(fields)


class OAuthProvider:
    """The authorize step, ``oauth.v2.access`` and ``auth.revoke`` over the workspace's installations."""

    def __init__(self, workspace: Workspace, settings: OAuthSettings, app_scopes: tuple[str, ...]) -> None:
        self.workspace = workspace
        self.settings = settings
        #: The bot scopes the app asks for (the manifest's): an install may not ask for others.
        self.app_scopes = app_scopes
        #: How many refresh tokens were exchanged, and how many codes.
        self.refreshes = 0
        self.code_exchanges = 0
        self._codes: dict[str, _Code] = {}
        self._serial = itertools.count(1)

    # ------------------------------------------------------------------ the authorize page

    def approve(
        self,
        *,
        client_id: str,
        team_id: str | None,
        user_id: str | None,
        scope: str | None,
        redirect_uri: str | None,
        state: str | None,
    ) -> str:
        """A person of ``team_id`` (default: the default team) clicks Allow: the redirect URL with a fresh code."""
        self._check_client(client_id)
        ws = self.workspace
        team = team_id or ws.installations.default_team or next(iter(ws.teams), None)
        if team is None or team not in ws.teams:
            raise AuthorizeRefused(f"unknown team {team}")
        installer = user_id or self._first_human(team)
        person = ws.users.get(installer or "")
        if person is None or person.team_id != team or person.is_bot or person.deleted:
            raise AuthorizeRefused(f"{installer} is not a person of {team}")
        scopes = tuple(s for s in (scope or "").replace(" ", ",").split(",") if s) or self.app_scopes
        unknown = sorted(set(scopes) - set(self.app_scopes))
        if unknown:
            raise AuthorizeRefused(f"invalid_scope: the app does not request {unknown}")
        target = self._redirect_target(redirect_uri)
        code = self._new_code(team)
        self._codes[code] = _Code(team, person.id, scopes, redirect_uri or None, ws.clock())
        return with_query(target, {"code": code, **({"state": state} if state is not None else {})})

    def deny(self, *, client_id: str, redirect_uri: str | None, state: str | None) -> str:
        """A person clicks Cancel: the redirect URL with ``error=access_denied``."""
        self._check_client(client_id)
        return with_query(
            self._redirect_target(redirect_uri),
            {"error": "access_denied", **({"state": state} if state is not None else {})},
        )

    def _redirect_target(self, redirect_uri: str | None) -> str:
        """Where the browser goes back to: the given ``redirect_uri`` (within the configured URL), else that URL."""
        configured = self.settings.redirect_url
        if not redirect_uri:
            if configured is None:
                raise AuthorizeRefused("no redirect_uri, and the sandbox's app has no configured redirect URL")
            return configured
        if configured is not None and not redirect_uri.startswith(configured):
            raise AuthorizeRefused(f"bad_redirect_uri: {redirect_uri} is not within {configured}")
        return redirect_uri

    def _check_client(self, client_id: str) -> None:
        if client_id != self.settings.client_id:
            raise AuthorizeRefused(f"invalid_client_id {client_id!r}")

    def _first_human(self, team_id: str) -> str | None:
        for user in self.workspace.users.values():
            if user.team_id == team_id and not user.is_bot and not user.deleted:
                return user.id
        return None

    # ------------------------------------------------------------------ oauth.v2.access

    def access(self, args: Json) -> Json:
        """``oauth.v2.access``: a code or a refresh token exchanged for a bot token."""
        if str(args.get("client_id") or "") != self.settings.client_id:
            raise SlackError("invalid_client_id")
        if str(args.get("client_secret") or "") != self.settings.client_secret:
            raise SlackError("bad_client_secret")
        grant_type = str(args.get("grant_type") or "authorization_code")
        if grant_type == "authorization_code":
            return self._exchange_code(args)
        if grant_type == "refresh_token":
            return self._refresh(args)
        raise SlackError("invalid_grant_type")

    def _exchange_code(self, args: Json) -> Json:
        ws = self.workspace
        pending = self._codes.pop(str(args.get("code") or ""), None)  # single use, whatever happens next
        if pending is None or ws.clock() - pending.issued_at > CODE_TTL:
            raise SlackError("invalid_code")
        if pending.redirect_uri is not None and str(args.get("redirect_uri") or "") != pending.redirect_uri:
            raise SlackError("bad_redirect_uri")
        previous = ws.installations.by_team.get(pending.team_id)
        if previous is not None:
            bot_user_id, bot_id = previous.bot_user_id, previous.bot_id
            scopes = tuple(dict.fromkeys((*previous.scopes, *pending.scopes)))
        else:
            bot_user_id, bot_id = self.new_bot_ids(pending.team_id)
            scopes = pending.scopes
        installation = Installation(
            team_id=pending.team_id,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            scopes=scopes,
            bot_token=self.new_bot_token(pending.team_id),
            installer_user_id=pending.user_id,
        )
        if self.settings.token_rotation:
            installation.refresh_token = self._new_refresh_token()
            installation.expires_at = ws.clock() + self.settings.token_lifetime_seconds
        ws.install_app(installation)
        self.code_exchanges += 1
        return {**self._token_answer(installation), "authed_user": {"id": pending.user_id}}

    def _refresh(self, args: Json) -> Json:
        ws = self.workspace
        installation = ws.installations.take_refresh_token(str(args.get("refresh_token") or ""))
        ws.installations.renew(
            installation,
            bot_token=self.new_bot_token(installation.team_id),
            refresh_token=self._new_refresh_token(),
            expires_at=ws.clock() + self.settings.token_lifetime_seconds,
        )
        self.refreshes += 1
        return self._token_answer(installation)

    def _token_answer(self, installation: Installation) -> Json:
        team = self.workspace.teams[installation.team_id]
        answer: Json = {
            "ok": True,
            "app_id": self.workspace.app_id,
            "access_token": installation.bot_token,
            "token_type": "bot",
            "scope": ",".join(installation.scopes),
            "bot_user_id": installation.bot_user_id,
            "team": {"id": team.id, "name": team.name},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        if installation.refresh_token is not None and installation.expires_at is not None:
            answer["refresh_token"] = installation.refresh_token
            answer["expires_in"] = int(round(installation.expires_at - self.workspace.clock()))
        return answer

    # ------------------------------------------------------------------ auth.revoke

    def revoke(self, args: Json) -> Json:
        """``auth.revoke``: the calling token stops working (``test``: only say it would)."""
        if is_truthy(args.get("test")):
            return {"ok": True, "revoked": False}
        token = self.workspace.acting_token
        if token is not None:
            self.workspace.installations.revoke(token)
        return {"ok": True, "revoked": True}

    # ------------------------------------------------------------------ ids and tokens

    def new_bot_ids(self, team_id: str) -> tuple[str, str]:
        """(bot user id, bot id) for the app's first installation in a team: U0BOT/B0BOT for the first team."""
        if not self.workspace.installations.by_team:
            return "U0BOT", "B0BOT"
        return f"U{team_id[1:]}BOT", f"B{team_id[1:]}BOT"

    def new_bot_token(self, team_id: str) -> str:
        """A bot token shaped as Slack's (a rotating one when token rotation is on), never issued before."""
        number = next(self._serial)
        secret = hashlib.sha1(f"bot/{team_id}/{number}".encode()).hexdigest()[:24]
        if self.settings.token_rotation:
            return "xoxe.xox" + f"b-1-{team_id}{number:04d}-{secret}"
        return "xox" + f"b-{team_id}-{number:04d}-{secret}"

    def _new_refresh_token(self) -> str:
        number = next(self._serial)
        return "xox" + f"e-1-{number:04d}-" + hashlib.sha1(f"refresh/{number}".encode()).hexdigest()

    def _new_code(self, team_id: str) -> str:
        number = next(self._serial)
        digest = hashlib.sha1(f"code/{team_id}/{number}".encode()).hexdigest()[:32]
        return f"{number}.{int(self.workspace.wall_clock())}.{digest}"
