"""The sandbox's public face, :class:`SlackSandbox`: a local fake of Slack's Web API you start and stop.

``WebClient(base_url=sandbox.api_url)`` talks to it exactly as to ``https://slack.com/api/``. Every
call is validated against Slack's published description and the app manifest, answered with Slack's
JSON, status codes and headers, and recorded. The parts it is assembled from: the HTTP transport
(:mod:`.http_server`), injected faults (:mod:`.faults`), deciding a call's answer (:mod:`.dispatch`),
the world's state and Web API methods (:mod:`.state`), the app's installations and which one a token
acts as (:mod:`.installations`), OAuth (:mod:`.oauth`), setting up the world (:mod:`.world_setup`),
reading what happened (:mod:`.inspection`), delivering events to the bot (:mod:`.events`) and the
app's installs, uninstalls and revoked tokens (:mod:`.app_lifecycle`).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .app_lifecycle import AppLifecycle
from .dispatch import WebApiDispatcher
from .event_retry import SLACK_RETRY_DELAYS, EventRetries
from .faults import Faults
from .http_server import SandboxHTTPServer
from .models import RecordedCall, ResponseUrlPost, SandboxError
from .oauth import OAuthProvider, OAuthSettings
from .spec import SpecChecker, Violation, is_truthy
from .state import Workspace

Json = dict[str, Any]

#: Arguments and answer fields that are secrets: recorded calls hold a placeholder instead.
SECRET_FIELDS = frozenset({"client_secret", "code", "refresh_token", "access_token"})
REDACTED = "[redacted]"


def redacted(fields: Json) -> Json:
    """A deep copy of a call's arguments or answer with :data:`SECRET_FIELDS` replaced by :data:`REDACTED`."""
    return {key: REDACTED if key in SECRET_FIELDS else copy.deepcopy(value) for key, value in fields.items()}


class SlackSandbox(AppLifecycle):
    """A local fake of the Slack Web API, with a world of teams, users and channels, and actors.

    Start it, point ``slack_sdk.WebClient(token=bot_token, base_url=sandbox.api_url)`` at it and read
    what happened from :attr:`calls`, :attr:`violations`, :meth:`messages`, :attr:`views`, ...
    The app can be installed in several teams (:meth:`install`, or OAuth: :meth:`approve_install` and
    ``oauth.v2.access`` with ``client_id``/``client_secret``; ``token_rotation`` issues expiring tokens).
    """

    def __init__(
        self,
        signing_secret: str = "sandbox-signing-secret",
        bot_token: str = "xox" + "b-sandbox_fake_token",
        spec_path: str | Path | None = None,
        manifest_path: str | Path | None = None,
        strict: bool = True,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        app_id: str = "A0SANDBOX",
        verification_token: str = "sandbox-verification-token",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        trigger_ttl: float = 3.0,
        client_id: str = "sandbox-client-id",
        client_secret: str = "sandbox-client-secret",
        token_rotation: bool = False,
        token_lifetime_seconds: float = 43200.0,
        oauth_redirect_url: str | None = None,
    ) -> None:
        self.signing_secret = signing_secret
        self.app_id = app_id
        self.verification_token = verification_token
        self.host = host
        self.port = port
        self.clock = clock
        self.wall_clock = wall_clock
        self.checker = SpecChecker.load(
            Path(spec_path) if spec_path is not None else None,
            Path(manifest_path) if manifest_path is not None else None,
        )
        self.manifest = self.checker.manifest
        self.workspace = Workspace(
            app_id=app_id,
            bot_display_name=self.manifest.bot_display_name,
            clock=clock,
            wall_clock=wall_clock,
            trigger_ttl=trigger_ttl,
        )
        self.faults = Faults(clock)
        self.oauth = OAuthProvider(
            self.workspace,
            OAuthSettings(client_id, client_secret, token_rotation, token_lifetime_seconds, oauth_redirect_url),
            tuple(self.manifest.bot_scopes),
        )
        self.workspace.handlers["oauth.v2.access"] = self.oauth.access
        self.workspace.handlers["auth.revoke"] = self.oauth.revoke
        self._initial_bot_token = bot_token
        self._lock = threading.RLock()
        self._calls: list[RecordedCall] = []
        self._violations: list[Violation] = []
        self._response_posts: list[ResponseUrlPost] = []
        self._deliveries = []
        #: Seconds before each retry of an event delivery that got no 2xx (Slack's: at once, 1 min, 5 min).
        #: Tests shorten it; an empty tuple turns the retries off.
        self.event_retry_delays: tuple[float, ...] = SLACK_RETRY_DELAYS
        self.event_retries = EventRetries()
        # The dispatcher runs under _lock, so it may append to the violations directly.
        self._dispatcher = WebApiDispatcher(
            self.checker,
            self.workspace,
            self.faults,
            strict=strict,
            record_violation=self._violations.append,
        )
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.bot_endpoint = None

    @property
    def bot_token(self) -> str:
        """The default installation's bot token (before install(): the one it will get)."""
        with self._lock:
            installation = self.workspace.installations.default()
            return installation.bot_token if installation is not None else self._initial_bot_token

    @property
    def strict(self) -> bool:
        """True when calls Slack would reject are rejected (they are recorded as violations either way)."""
        return self._dispatcher.strict

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackSandbox:
        """Listen on ``host:port`` (an ephemeral port by default) in a daemon thread."""
        if self._server is not None:
            return self
        self._server = SandboxHTTPServer((self.host, self.port), self)
        self.port = int(self._server.server_address[1])
        self.workspace.public_url = f"http://{self.host}:{self.port}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; event retries still waiting are dropped."""
        self.event_retries.cancel()
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackSandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/`` (the sandbox must be started)."""
        if self._server is None:
            raise SandboxError("the sandbox is not started; call start() first")
        return self.workspace.public_url

    @property
    def api_url(self) -> str:
        """The ``base_url`` for ``WebClient``: ``http://127.0.0.1:PORT/api/``."""
        return self.base_url + "api/"

    # ------------------------------------------------------------------ fault injection

    def fail_next(self, method: str, error: str = "channel_not_found", times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}`` with HTTP 200."""
        with self._lock:
            self.faults.fail_next(method, error, times)

    def ratelimit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 with ``Retry-After: retry_after``."""
        with self._lock:
            self.faults.ratelimit_next(method, retry_after, times)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` wait ``seconds`` before being answered."""
        with self._lock:
            self.faults.delay_next(method, seconds, times)

    def set_latency(self, method: str, seconds: float) -> None:
        """Every call of ``method`` waits ``seconds`` (a slow Slack) until set again; 0 ends it."""
        with self._lock:
            self.faults.set_latency(method, seconds)

    def set_rate_limits(
        self,
        enabled: bool = True,
        per_channel_per_second: float = 1.0,
        channel_burst: int = 1,
        tiers: Mapping[str, int] | None = None,
    ) -> None:
        """Enforce Slack's limits (off by default). ``tiers`` overrides per-minute limits by method or tier name."""
        with self._lock:
            self.faults.set_rate_limits(enabled, per_channel_per_second, channel_burst, tiers)

    def revoke_token(self, error: str = "invalid_auth") -> None:
        """The app is uninstalled / its token revoked: later calls fail with ``error``."""
        with self._lock:
            self.faults.token_error = error

    def deactivate_account(self) -> None:
        """The installing workspace or bot is deactivated: later calls fail with ``account_inactive``."""
        with self._lock:
            self.faults.token_error = "account_inactive"

    def restore_token(self) -> None:
        """Undo :meth:`revoke_token` / :meth:`deactivate_account`."""
        with self._lock:
            self.faults.token_error = None

    # ------------------------------------------------------------------ what the HTTP server calls

    def handle_api(self, method: str, token: str | None, args: dict[str, Any]) -> tuple[int, dict[str, str], Json]:
        """Answer one Web API call (used by the HTTP handler; callable directly in unit tests)."""
        # Slack also accepts the token as an argument (the header wins); it is never recorded.
        argument_token = args.pop("token", None)
        if not token and isinstance(argument_token, str) and argument_token:
            token = argument_token
        with self._lock:
            delay = self.faults.take_delay(method)
        if delay > 0:
            time.sleep(delay)  # outside the lock: other calls go on while this one is "slow"
        with self._lock:
            team_id = self.workspace.installations.team_of(token) or self.workspace.installed_team
            status, headers, payload = self._dispatcher.answer(method, token, args)
            team = payload.get("team")
            if method == "oauth.v2.access" and isinstance(team, dict):
                team_id = str(team.get("id"))
            self._calls.append(
                RecordedCall(
                    method=method,
                    args=redacted(args),
                    http_status=status,
                    response=redacted(payload),
                    at=self.clock(),
                    team_id=team_id,
                )
            )
            return status, headers, payload

    def handle_upload(self, token: str, content: bytes) -> tuple[int, str]:
        """Receive a file's bytes at an upload URL from ``files.getUploadURLExternal``."""
        with self._lock:
            return self.workspace.receive_upload(token, content)

    def handle_response_url(self, url_id: str, raw: bytes) -> tuple[int, Json]:
        """Receive a post to a ``response_url``."""
        with self._lock:
            status, answer, body, record = self.workspace.post_response_url(url_id, raw)
            if body is not None and (is_truthy(body.get("link_names")) or str(body.get("parse", "")).lower() == "full"):
                self._violations.append(
                    Violation("response_url", "link_names/parse=full set: user text must not be linkified")
                )
            self._response_posts.append(
                ResponseUrlPost(
                    url_id=url_id,
                    body=body,
                    user=record.user_id if record else None,
                    channel=record.channel_id if record else None,
                    status=status,
                    at=self.clock(),
                )
            )
            return status, answer
