"""The composition root: builds the engine, the unit-of-work factory, the Slack client and the sender once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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
from storage import migrate
from storage.db import make_engine, make_session_factory
from storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class InstallationHooks(Protocol):
    """The stored installations of an app installed by OAuth (its tokens per workspace)."""

    def forget(self, team_id: str, *, bot: bool, user: bool) -> None:
        """Delete the team's stored bot and/or user tokens (Slack revoked them, or the app was uninstalled)."""


@dataclass(frozen=True)
class Services:
    """What handlers and jobs need, injected into Bolt's context as ``services``."""

    settings: Settings
    engine: Engine
    uow_factory: UnitOfWorkFactory
    secret_key: str
    clock: Callable[[], datetime]
    client: WebClient
    directory: SlackDirectory
    sender: OutboxSender
    team_id: str
    bot_user_id: str
    #: The stored installations to forget on an uninstall; None with one workspace's token from the settings.
    installations: InstallationHooks | None = None

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
) -> Services:
    """Build everything once at start.

    Checks the bot token with ``auth.test`` (a bad token stops the program here, not at the first message),
    and, with ``prepare`` (the serving process; worker processes skip it), upgrades the schema, loads the
    question bank and records the workspace as installed: a token that works lifts a hold on its sending, even one
    waiting for a reinstall (the operator fixed SLACK_BOT_TOKEN and restarted), and resumes what an uninstall paused.

    Raises:
        SettingsError: a required setting is missing, or Slack rejected the token.
    """
    settings.require("slack_bot_token", "secret_key")
    engine = make_engine(settings.database_url, pool_size=pool_size(settings, serving=prepare))
    if prepare:
        prepare_database(settings, engine)
    uow_factory = UnitOfWorkFactory(make_session_factory(engine))
    client = client or make_web_client(settings.secret("slack_bot_token"), settings.slack_api_url)
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        code = exc.response.get("error") if isinstance(exc.response.data, dict) else exc.response.status_code
        raise SettingsError(
            f"Slack rejected SLACK_BOT_TOKEN at {settings.slack_api_url} ({code}). Check the token."
        ) from None
    except Exception as exc:  # a network failure after the start-up check passed: not the token's fault
        raise SettingsError(f"cannot reach Slack at {settings.slack_api_url} ({exc})") from None
    now = clock()
    team_id, bot_user_id = str(auth["team_id"]), str(auth["user_id"])
    if prepare:
        sync_bank(uow_factory(), now=now)
        installs.workspace_installed(
            uow_factory(), team_id=team_id, name=str(auth.get("team") or ""), bot_user_id=bot_user_id, now=now
        )
    secret_key = settings.secret("secret_key")
    sender = OutboxSender(
        uow_factory=uow_factory,
        client=client,
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
        directory=SlackDirectory(client, pacer=sender.pacer, workspace=team_id),
        sender=sender,
        team_id=team_id,
        bot_user_id=bot_user_id,
    )
