"""OAuth mode: every workspace installs PartnerPulse through Bolt's OAuth flow (``/slack/install``,
``/slack/oauth_redirect``), its tokens kept encrypted by slack_sdk's SQLAlchemy installation store
(``storage.installation_store``), the OAuth states by a single-use state store, and each request authorized with its
workspace's installation (rotated first when it is about to expire, ``bot.token_rotation``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import Engine

from bot.clock import utcnow
from bot.delivery.pacer import Pacer
from bot.install_pages import install_failed_page, install_page, installed_page
from bot.services import installs
from bot.settings import Settings
from bot.slack_client import make_secret_calls_client
from bot.token_rotation import BotTokens, BotTokenUnavailable
from bot.workspace_clients import InstalledWorkspaces
from storage.installation_store import EncryptedInstallationStore
from storage.oauth_state_store import STATE_SECONDS, OnceOAuthStateStore
from storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)

#: The bot scopes an install asks for: app_manifest.yml's (tests/test_manifest.py keeps the two the same).
BOT_SCOPES: tuple[str, ...] = (
    "commands",
    "chat:write",
    "channels:read",
    "groups:read",
    "users:read",
    "pins:write",
    "files:write",
    "usergroups:read",
)


def authorize_url(api_url: str) -> str:
    """Slack's authorize page beside its Web API: ``https://slack.com/api/`` -> ``https://slack.com/oauth/v2/authorize``
    (so the sandbox's own page is used when ``SLACK_API_URL`` points at the sandbox)."""
    base = api_url.removesuffix("/").removesuffix("/api")
    return f"{base}/oauth/v2/authorize"


@dataclass(frozen=True)
class BotIdentity:
    bot_id: str
    bot_user_id: str


class InstallationAuthorize(Authorize):
    """Bolt's authorize for a request: the team's installation, its token fresh (``BotTokens``); None (Bolt then
    tells the person to install the app) when the team has no usable installation.

    The bot's ids never change for an installation, so they are read once per team; the token lookup is in memory
    while the token is fresh, which keeps the acknowledgement path to one dictionary lookup.
    """

    def __init__(self, store: EncryptedInstallationStore, tokens: BotTokens) -> None:
        super().__init__()
        self._store, self._tokens = store, tokens
        self._identities: dict[str, BotIdentity] = {}
        self._lock = threading.Lock()

    def __call__(
        self,
        *,
        context: BoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        if not team_id:
            return None
        try:
            token = self._tokens.token_for(team_id)
        except BotTokenUnavailable:
            logger.info("request from workspace %s, which has no usable installation", team_id)
            return None
        identity = self._identity(team_id)
        if identity is None:
            return None
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=token,
            bot_id=identity.bot_id,
            bot_user_id=identity.bot_user_id,
        )

    def forget(self, team_id: str) -> None:
        """A reinstall or an uninstall: read the bot's ids again next time."""
        with self._lock:
            self._identities.pop(team_id, None)

    def _identity(self, team_id: str) -> BotIdentity | None:
        with self._lock:
            known = self._identities.get(team_id)
        if known is not None:
            return known
        bot = self._store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_id or not bot.bot_user_id:
            return None
        identity = BotIdentity(bot_id=bot.bot_id, bot_user_id=bot.bot_user_id)
        with self._lock:
            self._identities[team_id] = identity
        return identity


@dataclass(frozen=True)
class OAuthParts:
    """What OAuth mode adds to the services: the stores, the tokens, each workspace's client, Bolt's authorize."""

    installation_store: EncryptedInstallationStore
    state_store: OnceOAuthStateStore
    tokens: BotTokens
    workspaces: InstalledWorkspaces
    authorize: InstallationAuthorize

    def forget(self, team_id: str, *, bot: bool = True, user: bool = True) -> None:
        """The workspace's tokens were revoked or the app uninstalled: delete its stored installations and every
        copy held. (PartnerPulse asks for no user scopes, so people's tokens alone leave nothing stored.)"""
        if bot:
            self.installation_store.delete_bot(enterprise_id=None, team_id=team_id)
            self.installation_store.delete_installation(enterprise_id=None, team_id=team_id)
        self.forget_cached(team_id)

    def forget_cached(self, team_id: str) -> None:
        """Drop this process's copies of the workspace's token, client and bot ids (a reinstall brings new ones)."""
        self.workspaces.forget(team_id)
        self.authorize.forget(team_id)
        self.tokens.forget(team_id)


def build_oauth_parts(
    settings: Settings,
    engine: Engine,
    *,
    pacer: Pacer,
    token_clock: Callable[[], datetime] = utcnow,
) -> OAuthParts:
    """The stores, tokens and per-workspace clients of OAuth mode. ``token_clock``: the real time, against which
    Slack's token expiries and the install links' states are reckoned (a test moves it with the sandbox's)."""
    client_id = str(settings.slack_client_id)
    store = EncryptedInstallationStore(client_id=client_id, engine=engine, cipher=settings.token_cipher())
    tokens = BotTokens(
        store,
        client_id=client_id,
        client_secret=settings.secret("slack_client_secret"),
        api_url=settings.slack_api_url,
        refresh_before=timedelta(minutes=settings.token_refresh_minutes),
        clock=token_clock,
    )
    return OAuthParts(
        installation_store=store,
        state_store=OnceOAuthStateStore(engine, expiration_seconds=STATE_SECONDS, clock=token_clock),
        tokens=tokens,
        workspaces=InstalledWorkspaces(tokens, api_url=settings.slack_api_url, pacer=pacer),
        authorize=InstallationAuthorize(store, tokens),
    )


class PartnerPulseOAuthFlow(OAuthFlow):
    """Bolt's OAuth flow with PartnerPulse's install page, and each installation recorded as a workspace."""

    def __init__(self, *, on_installed: Callable[[Installation], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_installed = on_installed

    def build_install_page_html(self, url: str, request: BoltRequest) -> str:
        return install_page(url, BOT_SCOPES)

    def store_installation(self, request: BoltRequest, installation: Installation) -> None:
        super().store_installation(request, installation)
        self._on_installed(installation)


def _installed(args: SuccessArgs) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=installed_page(args.installation.team_name or ""),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )


def _not_installed(args: FailureArgs) -> BoltResponse:
    logger.warning("an install did not complete: %s", args.reason)
    return BoltResponse(
        status=args.suggested_status_code,
        body=install_failed_page(args.reason),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )


def oauth_flow(
    settings: Settings,
    parts: OAuthParts,
    uow_factory: UnitOfWorkFactory,
    clock: Callable[[], datetime],
) -> PartnerPulseOAuthFlow:
    """Bolt's OAuth flow over PartnerPulse's stores: state checked once (missing, expired, reused or from another
    browser refused), the installation saved encrypted and its workspace recorded (a reinstall resumes what an
    uninstall paused)."""

    def on_installed(installation: Installation) -> None:
        team_id = str(installation.team_id or "")
        parts.forget_cached(team_id)
        installs.workspace_installed(
            uow_factory(),
            team_id=team_id,
            name=str(installation.team_name or ""),
            bot_user_id=installation.bot_user_id,
            now=clock(),
        )
        logger.info("workspace %s: installation saved (scopes %s)", team_id, installation.bot_scopes)

    settings_ = OAuthSettings(
        client_id=str(settings.slack_client_id),
        client_secret=settings.secret("slack_client_secret"),
        scopes=list(BOT_SCOPES),
        redirect_uri=settings.oauth_redirect_url,
        authorization_url=authorize_url(settings.slack_api_url),
        installation_store=parts.installation_store,
        state_store=parts.state_store,
        state_expiration_seconds=STATE_SECONDS,
        callback_options=CallbackOptions(success=_installed, failure=_not_installed),
    )
    client = make_secret_calls_client(settings.slack_api_url)
    return PartnerPulseOAuthFlow(on_installed=on_installed, client=client, settings=settings_)
