"""The real bot wired to the Slack sandbox on 127.0.0.1: used by ``partnerpulse demo``, the tests and benchmarks.

Everything is the production code path (settings, services, Bolt app, signature checks, HTTP server,
outbox, heartbeat's ``tick``); the only thing replaced is Slack itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt import App

from bot.app import AfterAckExecutor, create_app
from bot.clock import SettableClock
from bot.container import Services, build_services
from bot.delivery.pacer import Pacer
from bot.http import make_server
from bot.jobs import TickReport, tick
from bot.kpi_api import api_routes
from bot.sandbox import DemoWorld, SandboxActor, SlackSandbox, build_demo_world
from bot.settings import Settings
from bot.slack_client import make_web_client

SANDBOX_SIGNING_SECRET = "sandbox-signing-secret-0123456789abcdef"
SANDBOX_BOT_TOKEN = "xox" + "b-sandbox_fake_bot_token"
SANDBOX_SECRET_KEY = "sandbox-secret-key-for-the-anonymity-hash-0123456789"


@dataclass
class LocalStack:
    sandbox: SlackSandbox
    world: DemoWorld
    settings: Settings
    services: Services
    app: App
    clock: SettableClock
    server: Any
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def bot_url(self) -> str:
        return f"http://127.0.0.1:{self.server.effective_port}/slack/events"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.effective_port}"

    def actor(self, user_id: str) -> SandboxActor:
        return self.sandbox.actor(user_id)

    def tick(self, at: datetime) -> TickReport:
        """What the heartbeat (or ``partnerpulse tick --at``) does at ``at``."""
        self.clock.set(at)
        return tick(self.services, at)

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every request's post-ack work has finished (a test's "and then nothing else happened")."""
        executor = self.app.listener_runner.listener_executor
        if isinstance(executor, AfterAckExecutor) and not executor.wait_idle(timeout):
            raise TimeoutError(f"post-ack work still running after {timeout} s")

    def close(self) -> None:
        self.server.close()
        self.app.listener_runner.listener_executor.shutdown(wait=True)  # finish post-ack work
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sandbox.stop()
        self.services.engine.dispose()


def start_local_stack(
    *,
    database_url: str,
    start: datetime,
    pacer: Pacer | None = None,
    rate_limit_retries: int = 3,
    sandbox: SlackSandbox | None = None,
    settings_overrides: dict[str, Any] | None = None,
) -> LocalStack:
    """Start the sandbox (with the demo world), build the real bot against it and serve it over HTTP."""
    sb = sandbox or SlackSandbox(signing_secret=SANDBOX_SIGNING_SECRET, bot_token=SANDBOX_BOT_TOKEN)
    sb.start()
    world = build_demo_world(sb)
    settings = Settings.load(
        {
            "slack_bot_token": sb.bot_token,
            "slack_signing_secret": sb.signing_secret,
            "secret_key": SANDBOX_SECRET_KEY,
            "database_url": database_url,
            "slack_api_url": sb.api_url,
            "heartbeat_seconds": 5,
            **(settings_overrides or {}),
        },
        env_file=None,
    )
    clock = SettableClock(start)
    client = make_web_client(sb.bot_token, sb.api_url, rate_limit_retries=rate_limit_retries)
    services = build_services(settings, client=client, clock=clock, pacer=pacer)
    app = create_app(settings, services)
    server = make_server(
        app,
        services.engine,
        signing_secret=sb.signing_secret,
        host="127.0.0.1",
        port=0,
        threads=settings.http_threads,
        routes=api_routes(services.uow_factory, services.clock),
    )
    thread = threading.Thread(target=server.run, name="bot-http", daemon=True)
    thread.start()
    stack = LocalStack(
        sandbox=sb, world=world, settings=settings, services=services, app=app, clock=clock, server=server, _thread=thread
    )
    sb.bot_endpoint = stack.bot_url
    return stack
