"""The sandbox's HTTP server and its public face, :class:`SlackSandbox`.

``WebClient(base_url=sandbox.api_url)`` talks to it exactly as to ``https://slack.com/api/``: GET with a
query string, POST form-encoded, POST JSON or multipart, a ``Bearer`` token in ``Authorization``.
Every call is validated against Slack's published description and the app manifest, answered with
Slack's JSON, status codes and headers, and recorded.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .models import (
    Channel,
    RecordedCall,
    ResponseUrlPost,
    SandboxError,
    SlackError,
    StoredFile,
    Team,
    User,
    UserGroup,
)
from .ratelimit import RateLimitConfig, RateLimiter
from .spec import SpecChecker, Violation, is_truthy
from .state import Workspace
from .transcript import render_channel

if TYPE_CHECKING:
    from .actors import ActorResponse, Delivery, SandboxActor

Json = dict[str, Any]

logger = logging.getLogger(__name__)

# Arguments Slack accepts as JSON inside form fields; decoded so recorded args look the same either way.
JSON_ARGUMENTS = frozenset({"blocks", "attachments", "view", "metadata", "files", "unfurls", "user_auth_blocks"})


def _decode_json_arguments(args: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_ARGUMENTS & args.keys():
        value = args[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as a string: the method answers invalid_blocks_format/invalid_arguments
    return args


def _parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename, content) for each part of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    parts: list[tuple[str, str | None, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts.append((str(name or ""), part.get_filename(), payload if isinstance(payload, bytes) else b""))
    return parts


class _SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: SlackSandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox


class _Handler(BaseHTTPRequestHandler):
    server: _SandboxHTTPServer
    server_version = "SlackSandbox/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the stdlib
        # Tests and the demo read sb.calls; per-request stderr lines would only be noise.
        return

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, payload: Json, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json; charset=utf-8", headers)

    def _handle(self) -> None:
        try:
            self._route()
        except Exception as exc:  # a sandbox bug must fail the test loudly, not hang or reset the connection
            logger.exception("slack sandbox failed on %s %s", self.command, self.path)
            self.server.sandbox.record_violation(self.path, f"sandbox internal error: {exc!r}", error="internal_error")
            self._send_json(500, {"ok": False, "error": "internal_error"})

    def _route(self) -> None:
        sandbox = self.server.sandbox
        parts = urlsplit(self.path)
        body = self._read_body()
        content_type = self.headers.get("Content-Type", "")
        if parts.path.startswith("/api/"):
            method = parts.path[len("/api/") :]
            args: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
            media = content_type.split(";")[0].strip().lower()
            try:
                if media == "application/json" and body:
                    decoded = json.loads(body.decode("utf-8"))
                    if not isinstance(decoded, dict):
                        raise ValueError("JSON body must be an object")
                    args.update(decoded)
                elif media == "multipart/form-data":
                    for name, filename, content in _parse_multipart(content_type, body):
                        args[name] = content if filename else content.decode("utf-8", errors="replace")
                elif body:
                    args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except (ValueError, UnicodeDecodeError):
                self._send_json(200, {"ok": False, "error": "invalid_json"})
                return
            authorization = self.headers.get("Authorization", "")
            token = authorization[len("Bearer ") :].strip() if authorization.startswith("Bearer ") else None
            status, headers, payload = sandbox.handle_api(method, token, _decode_json_arguments(args))
            self._send_json(status, payload, headers)
        elif parts.path.startswith("/upload/v1/") and self.command == "POST":
            if content_type.split(";")[0].strip().lower() == "multipart/form-data":
                files = [c for _, filename, c in _parse_multipart(content_type, body) if filename]
                body = files[0] if files else body
            status, text = sandbox.handle_upload(parts.path[len("/upload/v1/") :], body)
            self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8")
        elif parts.path.startswith("/response/") and self.command == "POST":
            status, payload = sandbox.handle_response_url(parts.path[len("/response/") :], body)
            self._send_json(status, payload)
        else:
            self._send_json(404, {"ok": False, "error": "not_found"})


class SlackSandbox:
    """A local fake of the Slack Web API, with a world of teams, users and channels, and actors.

    Start it, point ``slack_sdk.WebClient(token=bot_token, base_url=sandbox.api_url)`` at it and read
    what happened from :attr:`calls`, :attr:`violations`, :meth:`messages`, :attr:`views`, ...
    """

    def __init__(
        self,
        signing_secret: str = "sandbox-signing-secret",
        bot_token: str = "xoxb-sandbox_fake_token",
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
    ) -> None:
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.strict = strict
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
        # One lock around all state: the HTTP server is threaded and actors run on test threads.
        self._lock = threading.RLock()
        self._calls: list[RecordedCall] = []
        self._violations: list[Violation] = []
        self._response_posts: list[ResponseUrlPost] = []
        self._deliveries: list[Delivery] = []
        self._failures: dict[str, list[str]] = {}
        self._forced_429: dict[str, list[int]] = {}
        self._delays: dict[str, list[float]] = {}
        self._limiter: RateLimiter | None = None
        self._ratelimited = 0
        self._token_error: str | None = None
        self._server: _SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        #: Where actors deliver signed requests (the bot's ``/slack/events`` URL).
        self.bot_endpoint: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackSandbox:
        """Listen on ``host:port`` (an ephemeral port by default) in a daemon thread."""
        if self._server is not None:
            return self
        self._server = _SandboxHTTPServer((self.host, self.port), self)
        self.port = int(self._server.server_address[1])
        self.workspace.public_url = f"http://{self.host}:{self.port}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
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

    # ------------------------------------------------------------------ world building

    def add_team(self, team_id: str, name: str, domain: str) -> None:
        """Add a workspace."""
        with self._lock:
            self.workspace.teams[team_id] = Team(team_id, name, domain)

    def add_user(
        self,
        user_id: str,
        team_id: str,
        name: str,
        real_name: str | None = None,
        tz: str | None = "America/New_York",
        is_bot: bool = False,
        deleted: bool = False,
        is_stranger: bool | None = None,
    ) -> None:
        """Add a user whose home workspace is ``team_id`` (``tz=None`` models a profile without a time zone)."""
        with self._lock:
            if team_id not in self.workspace.teams:
                raise SandboxError(f"unknown team {team_id}; add_team() first")
            self.workspace.users[user_id] = User(
                id=user_id,
                team_id=team_id,
                name=name,
                real_name=real_name or name,
                tz=tz,
                is_bot=is_bot,
                deleted=deleted,
                is_stranger=is_stranger,
            )

    def add_channel(
        self,
        channel_id: str,
        name: str,
        host_team_id: str,
        members: list[str] | None = None,
        is_ext_shared: bool = False,
        is_private: bool = False,
        shared_team_ids: list[str] | None = None,
    ) -> None:
        """Add a channel hosted by ``host_team_id``; a shared channel is visible to its members' teams."""
        with self._lock:
            ws = self.workspace
            if host_team_id not in ws.teams:
                raise SandboxError(f"unknown team {host_team_id}")
            members = list(members or [])
            for member in members:
                if member not in ws.users:
                    raise SandboxError(f"unknown user {member}; add_user() first")
            teams = list(shared_team_ids or [host_team_id])
            if is_ext_shared and shared_team_ids is None:
                for member in members:
                    if ws.users[member].team_id not in teams:
                        teams.append(ws.users[member].team_id)
            if not is_ext_shared:
                foreign = [m for m in members if ws.users[m].team_id != host_team_id]
                if foreign:
                    raise SandboxError(f"{foreign} belong to another team; only a shared channel can hold them")
            ws.channels[channel_id] = Channel(
                id=channel_id,
                name=name,
                host_team_id=host_team_id,
                members=members,
                is_ext_shared=is_ext_shared,
                is_private=is_private,
                created=int(self.wall_clock()),
                shared_team_ids=teams,
            )
            ws.message_log.setdefault(channel_id, [])

    def add_usergroup(
        self, usergroup_id: str, team_id: str, handle: str, users: list[str] | None = None, name: str | None = None
    ) -> None:
        """Add a user group ``@handle`` of ``team_id`` (no event is delivered)."""
        with self._lock:
            ws = self.workspace
            if team_id not in ws.teams:
                raise SandboxError(f"unknown team {team_id}; add_team() first")
            unknown = [u for u in users or [] if u not in ws.users]
            if unknown:
                raise SandboxError(f"unknown users {unknown}; add_user() first")
            ws.usergroups[usergroup_id] = UserGroup(usergroup_id, team_id, handle, name or handle, list(users or []))

    def disable_usergroup(self, usergroup_id: str) -> None:
        """An admin disables (deletes) the group: usergroups.users.list answers ``no_such_subteam``."""
        with self._lock:
            self._usergroup(usergroup_id).disabled = True

    def _usergroup(self, usergroup_id: str) -> UserGroup:
        group = self.workspace.usergroups.get(usergroup_id)
        if group is None:
            raise SandboxError(f"unknown user group {usergroup_id}")
        return group

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        with self._lock:
            return list(self._usergroup(usergroup_id).users)

    def install(self, team_id: str, bot_user_id: str = "U0BOT", bot_id: str = "B0BOT") -> None:
        """Install the app in ``team_id``: creates its bot user; ``bot_token`` starts working."""
        with self._lock:
            ws = self.workspace
            if team_id not in ws.teams:
                raise SandboxError(f"unknown team {team_id}")
            ws.users[bot_user_id] = User(
                id=bot_user_id,
                team_id=team_id,
                name=self.manifest.bot_display_name.lower().replace(" ", ""),
                real_name=self.manifest.bot_display_name,
                tz="America/Los_Angeles",
                is_bot=True,
                bot_id=bot_id,
            )
            ws.installed_team = team_id
            ws.bot_user_id = bot_user_id
            ws.bot_id = bot_id

    def _channel(self, channel_id: str) -> Channel:
        channel = self.workspace.channels.get(channel_id)
        if channel is None:
            raise SandboxError(f"unknown channel {channel_id}")
        return channel

    def join(self, channel_id: str, user_id: str) -> None:
        """Make a user a member of a channel (no event is delivered; see :meth:`member_joined`)."""
        with self._lock:
            channel = self._channel(channel_id)
            user = self.workspace.users.get(user_id)
            if user is None:
                raise SandboxError(f"unknown user {user_id}")
            if user.team_id not in channel.shared_team_ids:
                if not channel.is_ext_shared:
                    raise SandboxError(f"{user_id} is from {user.team_id}; {channel_id} is not shared with it")
                channel.shared_team_ids.append(user.team_id)
            if user_id not in channel.members:
                channel.members.append(user_id)

    def leave(self, channel_id: str, user_id: str) -> None:
        """Remove a user from a channel (no event is delivered; see :meth:`member_left`)."""
        with self._lock:
            channel = self._channel(channel_id)
            if user_id in channel.members:
                channel.members.remove(user_id)

    def user_message(self, channel_id: str, user_id: str, text: str, *, thread_ts: str | None = None) -> str:
        """A person posts ``text`` in a channel they are in (no event is delivered). Returns the message's ts."""
        with self._lock:
            ws = self.workspace
            channel = self._channel(channel_id)
            user = ws.users.get(user_id)
            if user is None or user_id not in channel.members:
                raise SandboxError(f"{user_id} is not a member of {channel_id}")
            ts = ws.next_ts()
            message: Json = {"type": "message", "ts": ts, "user": user_id, "team": user.team_id, "text": text}
            ws.store_message(channel, message, thread_ts)
            return ts

    def archive_channel(self, channel_id: str) -> None:
        """Archive a channel: posting into it fails with ``is_archived``."""
        with self._lock:
            self._channel(channel_id).is_archived = True

    def revoke_token(self, error: str = "invalid_auth") -> None:
        """The app is uninstalled / its token revoked: later calls fail with ``error``."""
        with self._lock:
            self._token_error = error

    def deactivate_account(self) -> None:
        """The installing workspace or bot is deactivated: later calls fail with ``account_inactive``."""
        with self._lock:
            self._token_error = "account_inactive"

    def restore_token(self) -> None:
        """Undo :meth:`revoke_token` / :meth:`deactivate_account`."""
        with self._lock:
            self._token_error = None

    @property
    def trigger_ttl(self) -> float:
        """Seconds a trigger_id stays valid (Slack: 3)."""
        return self.workspace.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        with self._lock:
            self.workspace.trigger_ttl = seconds

    # ------------------------------------------------------------------ fault injection

    def fail_next(self, method: str, error: str = "channel_not_found", times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``{"ok": false, "error": error}`` with HTTP 200."""
        with self._lock:
            self._failures.setdefault(method, []).extend([error] * times)

    def ratelimit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer HTTP 429 with ``Retry-After: retry_after``."""
        with self._lock:
            self._forced_429.setdefault(method, []).extend([retry_after] * times)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` wait ``seconds`` before being answered."""
        with self._lock:
            self._delays.setdefault(method, []).extend([seconds] * times)

    def set_rate_limits(
        self,
        enabled: bool = True,
        per_channel_per_second: float = 1.0,
        channel_burst: int = 1,
        tiers: Mapping[str, int] | None = None,
    ) -> None:
        """Enforce Slack's limits (off by default). ``tiers`` overrides per-minute limits by method or tier name."""
        with self._lock:
            if not enabled:
                self._limiter = None
                return
            config = RateLimitConfig(
                per_channel_per_second=per_channel_per_second, channel_burst=channel_burst, tiers=dict(tiers or {})
            )
            self._limiter = RateLimiter(config, clock=self.clock)

    # ------------------------------------------------------------------ request handling

    def _record_violation(self, violation: Violation) -> None:
        self._violations.append(violation)

    def record_violation(self, method: str, reason: str, error: str = "invalid_arguments") -> None:
        """Record a violation found outside the Web API (actors use it for bad view responses)."""
        with self._lock:
            self._record_violation(Violation(method, reason, error=error))

    def _token_failure(self, token: str | None, method: str, token_type: str) -> str | None:
        if not token:
            return "not_authed"
        if token_type == "app":
            # The sandbox issues no app-level (xapp-) tokens; a bot token is the wrong kind.
            return "not_allowed_token_type" if token == self.bot_token else "invalid_auth"
        if token != self.bot_token or self.workspace.installed_team is None:
            return "invalid_auth"
        return self._token_error

    def _scope_headers(self, accepted: str) -> dict[str, str]:
        return {"X-OAuth-Scopes": ",".join(self.manifest.bot_scopes), "X-Accepted-OAuth-Scopes": accepted}

    def _answer(self, method: str, token: str | None, args: dict[str, Any]) -> tuple[int, dict[str, str], Json]:
        spec = self.checker.method(method)
        if spec is None:
            self._record_violation(Violation(method, f"{method} is not a Slack Web API method", error="unknown_method"))
            return 200, {}, {"ok": False, "error": "unknown_method", "req_method": method}
        headers = self._scope_headers(",".join(sorted(self.checker.accepted_scopes(spec))))
        failure = self._token_failure(token, method, spec.token_type)
        if failure is not None:
            return 200, headers, {"ok": False, "error": failure}
        forced = self._forced_429.get(method)
        if forced:
            self._ratelimited += 1
            return 429, {**headers, "Retry-After": str(forced.pop(0))}, {"ok": False, "error": "ratelimited"}
        failures = self._failures.get(method)
        if failures:
            return 200, headers, {"ok": False, "error": failures.pop(0)}
        if self._limiter is not None:
            team_id = self.workspace.installed_team or ""
            channel = args.get("channel") if method == "chat.postMessage" else None
            retry_after = self._limiter.check(team_id, method, str(channel) if channel else None)
            if retry_after is not None:
                self._ratelimited += 1
                return 429, {**headers, "Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
        violation = self.checker.check_call(method, args)
        if violation is not None:
            self._record_violation(violation)
            if self.strict:
                if violation.error == "missing_scope":
                    provided = ",".join(self.manifest.bot_scopes)
                    return (
                        200,
                        headers,
                        {"ok": False, "error": "missing_scope", "needed": violation.needed, "provided": provided},
                    )
                missing = violation.details.get("missing")
                messages = (
                    [f"[ERROR] missing required field: {name}" for name in missing]
                    if missing
                    else [f"[ERROR] {violation.reason}"]
                )
                return 200, headers, {"ok": False, "error": violation.error, "response_metadata": {"messages": messages}}
        handler = self.workspace.handlers.get(method)
        if handler is None:
            # A real method the sandbox does not model: accepted (and recorded) without side effects.
            return 200, headers, {"ok": True}
        try:
            return 200, headers, handler(args)
        except SlackError as exc:
            return exc.status, headers, exc.body()

    def handle_api(self, method: str, token: str | None, args: dict[str, Any]) -> tuple[int, dict[str, str], Json]:
        """Answer one Web API call (used by the HTTP handler; callable directly in unit tests)."""
        # Slack also accepts the token as an argument (the header wins); it is never recorded.
        argument_token = args.pop("token", None)
        if not token and isinstance(argument_token, str) and argument_token:
            token = argument_token
        with self._lock:
            delays = self._delays.get(method)
            delay = delays.pop(0) if delays else 0.0
        if delay > 0:
            time.sleep(delay)  # outside the lock: other calls go on while this one is "slow"
        with self._lock:
            status, headers, payload = self._answer(method, token, args)
            self._calls.append(
                RecordedCall(
                    method=method,
                    args=copy.deepcopy(args),
                    http_status=status,
                    response=copy.deepcopy(payload),
                    at=self.clock(),
                    team_id=self.workspace.installed_team,
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
                self._record_violation(
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

    # ------------------------------------------------------------------ reading what happened

    @property
    def calls(self) -> list[RecordedCall]:
        """Every Web API call received, in order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """The calls of one method, in order."""
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def clear_calls(self) -> None:
        """Forget recorded calls, violations and response_url posts (the world is kept)."""
        with self._lock:
            self._calls.clear()
            self._violations.clear()
            self._response_posts.clear()
            self._deliveries.clear()

    @property
    def violations(self) -> list[Violation]:
        """Calls Slack would have rejected (or that broke a project rule)."""
        with self._lock:
            return list(self._violations)

    @property
    def ratelimited_count(self) -> int:
        """How many HTTP 429s the sandbox has returned."""
        with self._lock:
            return self._ratelimited

    @property
    def response_url_posts(self) -> list[ResponseUrlPost]:
        """Posts the bot made to response_urls, in order (including refused ones)."""
        with self._lock:
            return list(self._response_posts)

    def messages(self, channel_id: str, include_thread_replies: bool = True) -> list[Json]:
        """Messages in a channel, oldest first (deep copies of Slack message objects)."""
        with self._lock:
            log = self.workspace.message_log.get(channel_id, [])
            return [
                copy.deepcopy(m)
                for m in log
                if include_thread_replies or not m.get("thread_ts") or m.get("thread_ts") == m.get("ts")
            ]

    def message(self, channel_id: str, ts: str) -> Json | None:
        """One stored message, or None."""
        with self._lock:
            found = self.workspace.find_message(channel_id, ts)
            return copy.deepcopy(found) if found is not None else None

    def ephemerals(self, channel_id: str | None = None, user: str | None = None) -> list[Json]:
        """Ephemeral messages (each has ``channel`` and ``recipient``), optionally filtered."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self.workspace.ephemeral_log
                if (channel_id is None or m["channel"] == channel_id) and (user is None or m["recipient"] == user)
            ]

    def dm_channel(self, user_id: str) -> str:
        """The id of the app's DM channel with a user (where ``chat.postMessage(channel=user_id)`` lands)."""
        with self._lock:
            return self.workspace.im_channel(user_id).id

    @property
    def views(self) -> dict[str, Json]:
        """Every view ever opened, pushed or published, by id (closed ones included), with ``user_id``."""
        with self._lock:
            return copy.deepcopy(self.workspace.views)

    def view(self, view_id: str) -> Json | None:
        """One stored view, or None."""
        with self._lock:
            view = self.workspace.views.get(view_id)
            return copy.deepcopy(view) if view is not None else None

    def is_view_open(self, view_id: str) -> bool:
        """True while a modal view is on its owner's stack (or a view is a published Home tab)."""
        with self._lock:
            ws = self.workspace
            owner = ws.view_owner.get(view_id)
            if owner is None:
                return False
            return view_id in ws.stacks.get(owner, []) or ws.homes.get(owner) == view_id

    def open_views(self, user_id: str) -> list[Json]:
        """A user's open modal views, bottom of the stack first."""
        with self._lock:
            ws = self.workspace
            return [copy.deepcopy(ws.views[v]) for v in ws.stacks.get(user_id, [])]

    def home_view(self, user_id: str) -> Json | None:
        """The Home tab view published for a user, or None."""
        with self._lock:
            view_id = self.workspace.homes.get(user_id)
            return copy.deepcopy(self.workspace.views[view_id]) if view_id else None

    def pins(self, channel_id: str) -> list[str]:
        """The ts of pinned messages in a channel."""
        with self._lock:
            return list(self._channel(channel_id).pins)

    def members(self, channel_id: str) -> list[str]:
        """Members of a channel."""
        with self._lock:
            return list(self._channel(channel_id).members)

    @property
    def files(self) -> dict[str, StoredFile]:
        """Uploaded files by id (``content`` holds the bytes)."""
        with self._lock:
            return copy.deepcopy(self.workspace.files)

    def user_name(self, user_id: str) -> str:
        """The @name a reader sees for a user id (the user id itself if unknown)."""
        with self._lock:
            user = self.workspace.users.get(user_id)
            if user is None:
                return user_id
            return user.real_name if user.is_bot else user.name

    def transcript(self, channel_id: str) -> str:
        """A readable rendering of a channel: messages, thread replies (indented) and ephemerals."""
        with self._lock:
            channel = self._channel(channel_id)
            title = (
                f"#{channel.name} ({channel.id})"
                if not channel.is_im
                else f"DM with @{self.user_name(channel.im_user or '')}"
            )
            messages = copy.deepcopy(self.workspace.message_log.get(channel_id, []))
            ephemerals = [copy.deepcopy(m) for m in self.workspace.ephemeral_log if m["channel"] == channel_id]
        return render_channel(title, messages, ephemerals, self.user_name)

    # ------------------------------------------------------------------ support for actors

    def snapshot_user(self, user_id: str) -> User:
        """A copy of a user (SandboxError if unknown)."""
        with self._lock:
            user = self.workspace.users.get(user_id)
            if user is None:
                raise SandboxError(f"unknown user {user_id}")
            return copy.copy(user)

    def snapshot_team(self, team_id: str) -> Team:
        """A copy of a team (SandboxError if unknown)."""
        with self._lock:
            team = self.workspace.teams.get(team_id)
            if team is None:
                raise SandboxError(f"unknown team {team_id}")
            return copy.copy(team)

    def snapshot_channel(self, channel_id: str) -> Channel:
        """A copy of a channel (SandboxError if unknown)."""
        with self._lock:
            return copy.deepcopy(self._channel(channel_id))

    def installation(self) -> tuple[str, str, str]:
        """(team id, bot user id, bot id) of the installation (SandboxError before install())."""
        with self._lock:
            try:
                return self.workspace.require_installed()
            except SlackError as exc:
                raise SandboxError("the app is not installed; call install() first") from exc

    def issue_trigger_id(self, user_id: str) -> str:
        """A fresh trigger_id for an interaction by ``user_id``."""
        with self._lock:
            return self.workspace.issue_trigger(user_id)

    def issue_response_url(
        self, user_id: str, channel_id: str, source_ts: str | None = None, ephemeral: bool = False
    ) -> str:
        """A fresh response_url for an interaction by ``user_id`` in ``channel_id``."""
        with self._lock:
            return self.workspace.issue_response_url(user_id, channel_id, source_ts=source_ts, ephemeral=ephemeral)

    def apply_command_ack(self, response_url: str, body: Json) -> None:
        """Show a slash command's ack body the way Slack does (an ephemeral reply, or in channel)."""
        with self._lock:
            record = self.workspace.response_urls.get(response_url.rstrip("/").rsplit("/", 1)[-1])
            if record is not None:
                self.workspace.apply_reply(record, body, count_use=False)

    def open_modal_for(self, view_in: Json, user_id: str, *, push: bool) -> Json:
        """Open (or push) a view as a ``response_action`` does; returns the stored view."""
        with self._lock:
            if push:
                return copy.deepcopy(self.workspace.push_modal(view_in, user_id))
            return copy.deepcopy(self.workspace.open_modal(view_in, user_id))

    def replace_view_content(self, view_id: str, view_in: Json) -> Json:
        """Replace a view's content as ``response_action: update`` does."""
        with self._lock:
            return copy.deepcopy(self.workspace.replace_view(view_id, view_in))

    def close_modal(self, view_id: str) -> None:
        """Close one modal view."""
        with self._lock:
            self.workspace.close_view(view_id)

    def clear_modals(self, user_id: str) -> None:
        """Close all of a user's modal views."""
        with self._lock:
            self.workspace.clear_views(user_id)

    def set_view_state(self, view_id: str, values: Json) -> None:
        """Store the state a user typed into a view (sent with view_submission)."""
        with self._lock:
            self.workspace.views[view_id]["state"] = {"values": copy.deepcopy(values)}

    # ------------------------------------------------------------------ actors and events

    def record_delivery(self, delivery: Delivery) -> None:
        """Remember a request delivered to the bot (actors call this)."""
        with self._lock:
            self._deliveries.append(delivery)

    @property
    def deliveries(self) -> list[Delivery]:
        """Requests delivered to the bot, with its status and time to answer."""
        with self._lock:
            return list(self._deliveries)

    def new_event_id(self) -> str:
        """A fresh Events API ``event_id``."""
        with self._lock:
            return f"Ev{self.workspace.next_id():08d}SBX"

    def actor(self, user_id: str) -> SandboxActor:
        """A user who sends signed requests (commands, clicks, submissions) to :attr:`bot_endpoint`."""
        from .actors import SandboxActor

        self.snapshot_user(user_id)
        return SandboxActor(self, user_id)

    def event(
        self,
        event: Json,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> ActorResponse:
        """Deliver an Events API ``event_callback`` envelope, signed, to :attr:`bot_endpoint`."""
        from .actors import deliver_event

        return deliver_event(
            self,
            event,
            event_id=event_id,
            retry_num=retry_num,
            retry_reason=retry_reason,
            timestamp=timestamp,
            signature=signature,
            headers=headers,
            force=force,
        )

    def member_joined(self, channel_id: str, user_id: str, inviter: str | None = None) -> ActorResponse:
        """``join`` the user, then deliver ``member_joined_channel``."""
        self.join(channel_id, user_id)
        channel = self.snapshot_channel(channel_id)
        event: Json = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": channel_id,
            "channel_type": "G" if channel.is_private else "C",
            "team": self.snapshot_user(user_id).team_id,
        }
        if inviter is not None:
            event["inviter"] = inviter
        return self.event(event)

    def member_left(self, channel_id: str, user_id: str) -> ActorResponse:
        """``leave`` the user, then deliver ``member_left_channel``."""
        self.leave(channel_id, user_id)
        channel = self.snapshot_channel(channel_id)
        return self.event(
            {
                "type": "member_left_channel",
                "user": user_id,
                "channel": channel_id,
                "channel_type": "G" if channel.is_private else "C",
                "team": self.snapshot_user(user_id).team_id,
            }
        )

    def subteam_members_changed(
        self, usergroup_id: str, *, added: list[str] | None = None, removed: list[str] | None = None
    ) -> ActorResponse:
        """Change a user group's members, then deliver ``subteam_members_changed`` with the difference."""
        with self._lock:
            group = self._usergroup(usergroup_id)
            unknown = [u for u in added or [] if u not in self.workspace.users]
            if unknown:
                raise SandboxError(f"unknown users {unknown}; add_user() first")
            previous = int(self.wall_clock()) - 1
            gained = [u for u in added or [] if u not in group.users]
            lost = [u for u in removed or [] if u in group.users]
            group.users = [u for u in group.users if u not in lost] + gained
            team_id = group.team_id
        return self.event(
            {
                "type": "subteam_members_changed",
                "subteam_id": usergroup_id,
                "team_id": team_id,
                "date_previous_update": previous,
                "date_update": int(self.wall_clock()),
                "added_users": gained,
                "added_users_count": str(len(gained)),
                "removed_users": lost,
                "removed_users_count": str(len(lost)),
            }
        )

    def home_opened(self, user_id: str, *, force: bool = False) -> ActorResponse:
        """The user opens the app's Home tab: deliver ``app_home_opened`` (with the published view, if any).

        Only people of the installing organisation have the app's Home tab; Slack Connect guests do not.
        """
        from .actors import ActorError

        team_id, _, _ = self.installation()
        user = self.snapshot_user(user_id)
        if not force and user.team_id != team_id:
            raise ActorError(f"{user_id} is from {user.team_id}; only {team_id}'s people have this app's Home tab")
        event: Json = {"type": "app_home_opened", "user": user_id, "channel": self.dm_channel(user_id), "tab": "home"}
        home = self.home_view(user_id)
        if home is not None:
            event["view"] = {k: v for k, v in home.items() if k != "user_id"}
        return self.event(event, force=force)
