"""The composition root: builds the engine, the unit-of-work factory, the Slack clients and the sender once.

Two modes: single-workspace (``SLACK_BOT_TOKEN``: one static token, checked with ``auth.test`` at start) and OAuth
(``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET``: every workspace installs through ``/slack/install``; each one's token
comes from its encrypted installation, ``bot.oauth_app``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from bot.after_ack import MODAL_THREADS
from bot.clock import utcnow
from bot.delivery.pacer import Pacer
from bot.delivery.renderer import Renderer
from bot.delivery.sender import OutboxSender
from bot.directory import SlackDirectory
from bot.services import installs
from bot.services.question_bank import sync_bank
from bot.settings import Settings, SettingsError
from bot.slack_client import make_web_client
from bot.workspace_clients import OneWorkspace, WorkspaceClients
from storage import migrate
from storage.db import make_engine, make_session_factory
from storage.uow import UnitOfWorkFactory

if TYPE_CHECKING:  # OAuth mode's machinery is imported only when it is used
    from bot.oauth_app import OAuthParts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """What handlers and jobs need, injected into Bolt's context as ``services``."""

    settings: Settings
    engine: Engine
    uow_factory: UnitOfWorkFactory
    secret_key: str
    clock: Callable[[], datetime]
    #: The Bolt app's client: the static token's in single-workspace mode; in OAuth mode a client without a token
    #: (Bolt gives each request its installation's).
    client: WebClient
    #: Each workspace's client and directory, for work outside a request's listener.
    clients: WorkspaceClients
    sender: OutboxSender
    #: The static token's workspace and bot user (single-workspace mode); empty in OAuth mode.
    team_id: str
    bot_user_id: str
    #: OAuth mode's stores, tokens and install flow; None in single-workspace mode.
    oauth: OAuthParts | None = None

    def directory_for(self, team_id: str) -> SlackDirectory:
        """The people and channels of a workspace, as its own installation sees them."""
        return self.clients.directory_for(team_id)

    @property
    def directory(self) -> SlackDirectory:
        """The single workspace's directory (single-workspace mode)."""
        return self.clients.directory_for(self.team_id)

    def __deepcopy__(self, memo: dict[int, object]) -> Services:
        # Bolt deep-copies a request's context for each lazy listener; the services are shared, never copied.
        return self


def prepare_database(settings: Settings, engine: Engine) -> None:
    """Bring the schema up to date (migrations are idempotent and serialised on PostgreSQL)."""
    migrate.upgrade(settings.database_url)
    logger.info("database schema at revision %s", migrate.current_revision(engine))


def pool_size(settings: Settings, *, serving: bool) -> int:
    """Database connections a process keeps: one for each thread that can hold one at a time (the serving
    process: HTTP threads, the sender's parallel sends, the heartbeat and its send step; a worker process: its
    threads, its modal lane's and one spare). ``serve`` as a whole keeps at most the serving process's pool plus each worker's, each
    with a few more for a burst (``storage.db.MAX_OVERFLOW``); README's deployment section gives the sum to
    check against PostgreSQL's ``max_connections``."""
    if serving:
        return settings.http_threads + settings.send_concurrency + 2
    return settings.worker_threads + MODAL_THREADS + 1


def build_services(
    settings: Settings,
    *,
    client: WebClient | None = None,
    clock: Callable[[], datetime] = utcnow,
    pacer: Pacer | None = None,
    prepare: bool = True,
    token_clock: Callable[[], datetime] = utcnow,
) -> Services:
    """Build everything once at start.

    Single-workspace mode checks the bot token with ``auth.test`` (a bad token stops the program here, not at the
    first message). With ``prepare`` (the serving process; worker processes skip it) it upgrades the schema, loads
    the question bank and, in single-workspace mode, records the workspace as installed: a token that works lifts a
    hold on its sending, even one waiting for a reinstall (the operator fixed SLACK_BOT_TOKEN and restarted), and
    resumes what an uninstall paused. ``token_clock`` is the real time OAuth tokens expire by (``clock`` may be a
    test's or a replay's).

    Raises:
        SettingsError: a required setting is missing, or Slack rejected the token.
    """
    settings.require(*settings.needed(("slack_bot_token", "secret_key")))
    engine = make_engine(settings.database_url, pool_size=pool_size(settings, serving=prepare))
    if prepare:
        prepare_database(settings, engine)
    uow_factory = UnitOfWorkFactory(make_session_factory(engine))
    pacer = pacer or Pacer()
    now = clock()
    if prepare:
        sync_bank(uow_factory(), now=now)
    oauth: OAuthParts | None = None
    clients: WorkspaceClients
    if settings.oauth_enabled:
        from bot.oauth_app import build_oauth_parts

        oauth = build_oauth_parts(settings, engine, pacer=pacer, token_clock=token_clock)
        client = client or make_web_client(None, settings.slack_api_url)
        clients, team_id, bot_user_id = oauth.workspaces, "", ""
    else:
        client = client or make_web_client(settings.secret("slack_bot_token"), settings.slack_api_url)
        team_id, bot_user_id, team_name = _check_bot_token(client, settings)
        if prepare:
            installs.workspace_installed(uow_factory(), team_id=team_id, name=team_name, bot_user_id=bot_user_id, now=now)
        clients = OneWorkspace(client, team_id=team_id, pacer=pacer)
    secret_key = settings.secret("secret_key")
    sender = OutboxSender(
        uow_factory=uow_factory,
        clients=clients,
        renderer=Renderer(uow_factory, secret_key, clock=clock),
        pacer=pacer,
        concurrency=settings.send_concurrency,
        clock=clock,
    )
    return Services(
        settings=settings,
        engine=engine,
        uow_factory=uow_factory,
        secret_key=secret_key,
        clock=clock,
        client=client,
        clients=clients,
        sender=sender,
        team_id=team_id,
        bot_user_id=bot_user_id,
        oauth=oauth,
    )


def _check_bot_token(client: WebClient, settings: Settings) -> tuple[str, str, str]:
    """(team id, bot user id, team name) of the static bot token, asked of ``auth.test``."""
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        code = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
        raise SettingsError(
            f"Slack rejected SLACK_BOT_TOKEN at {settings.slack_api_url} ({code}). Check the token."
        ) from None
    except Exception as exc:  # a network failure after the start-up check passed: not the token's fault
        raise SettingsError(f"cannot reach Slack at {settings.slack_api_url} ({exc})") from None
    return str(auth["team_id"]), str(auth["user_id"]), str(auth.get("team") or "")
