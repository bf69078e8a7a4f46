"""The real bot wired to the Slack sandbox on 127.0.0.1: used by ``partnerpulse demo``, the tests and benchmarks.

Everything is the production code path (settings, services, Bolt app, signature checks, HTTP server,
outbox, heartbeat's ``tick``); the only thing replaced is Slack itself.
"""

from __future__ import annotations

import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from typing import Any

from slack_bolt import App

from bot.app import AfterAckExecutor, create_app
from bot.clock import SettableClock, utcnow
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
SANDBOX_CLIENT_ID = "sandbox-client-id"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"


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

    def install(self, team_id: str, *, user_id: str | None = None) -> str:
        """A person of ``team_id`` installs the app through the OAuth routes (OAuth mode): the install page, Slack's
        Allow, the redirect back. Returns the last page's HTML."""
        return install_through_browser(self.base_url, team_id=team_id, user_id=user_id)

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
    oauth: bool = False,
    token_clock: Callable[[], datetime] = utcnow,
) -> LocalStack:
    """Start the sandbox (with the demo world), build the real bot against it and serve it over HTTP.

    ``oauth``: run as a distributed app (no static token; each workspace installs through ``/slack/install``, see
    :meth:`LocalStack.install`), with tokens encrypted under a key made for this run; ``token_clock``: the real time
    its tokens expire by (a test moves it together with the sandbox's clock).
    """
    sb = sandbox or SlackSandbox(signing_secret=SANDBOX_SIGNING_SECRET, bot_token=SANDBOX_BOT_TOKEN)
    sb.start()
    world = build_demo_world(sb)
    port = 0
    mode: dict[str, Any] = {"slack_bot_token": sb.bot_token}
    if oauth:
        from storage.token_cipher import new_key

        port = _free_port()
        mode = {
            "slack_client_id": SANDBOX_CLIENT_ID,
            "slack_client_secret": SANDBOX_CLIENT_SECRET,
            "token_keys": new_key(),
            "oauth_redirect_url": f"http://127.0.0.1:{port}/slack/oauth_redirect",
        }
    settings = Settings.load(
        {
            **mode,
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
    client = make_web_client(None if oauth else sb.bot_token, sb.api_url, rate_limit_retries=rate_limit_retries)
    services = build_services(settings, client=client, clock=clock, pacer=pacer, token_clock=token_clock)
    app = create_app(settings, services)
    server = make_server(
        app,
        services.engine,
        signing_secret=sb.signing_secret,
        host="127.0.0.1",
        port=port,
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


def _free_port() -> int:
    """A port free now on 127.0.0.1 (OAuth mode needs its redirect URL before the server listens)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def get_page(url: str, cookie: str = "") -> tuple[int, dict[str, str], str]:
    """A browser's GET of ``url`` (with ``cookie``), redirects not followed: (status, headers, body)."""
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read().decode("utf-8")
    except urllib.error.HTTPError as answer:  # 3xx (not followed) and 4xx/5xx pages
        return answer.code, dict(answer.headers.items()), answer.read().decode("utf-8")


def install_through_browser(base_url: str, *, team_id: str, user_id: str | None = None) -> str:
    """What a person's browser does to install the app: open ``/slack/install`` (keeping its state cookie), follow
    the Add to Slack link to Slack's authorize page as a person of ``team_id`` who clicks Allow, and follow Slack's
    redirect back to the app. Returns the final page."""
    status, headers, page = get_page(f"{base_url}/slack/install")
    link = re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page)
    if status != 200 or link is None:
        raise RuntimeError(f"install page answered {status} without an Add to Slack link")
    cookie = (headers.get("Set-Cookie") or "").split(";", 1)[0]
    allow = unescape(link.group(1)) + f"&team={team_id}" + (f"&user={user_id}" if user_id else "")
    status, headers, _ = get_page(allow)
    if status != 302 or "Location" not in headers:
        raise RuntimeError(f"Slack's authorize page answered {status}")
    _, _, page = get_page(headers["Location"], cookie)
    return page
