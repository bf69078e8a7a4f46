"""The sandbox's HTTP transport: a threaded server that turns requests into calls on the sandbox.

``WebClient(base_url=sandbox.api_url)`` talks to it exactly as to ``https://slack.com/api/``: GET with a
query string, POST form-encoded, POST JSON or multipart, a ``Bearer`` token in ``Authorization`` (or
``Basic`` client credentials, which ``oauth.v2.access`` reads as ``client_id`` and ``client_secret``). Four
paths are served: ``/api/<method>`` (the Web API), ``/upload/v1/<token>`` (upload URLs handed out by
``files.getUploadURLExternal``), ``/response/<id>`` (``response_url`` posts) and ``GET /oauth/v2/authorize``
(the person approving an install). What they answer is decided by the :class:`ApiEndpoints` this server is
given; this module only parses and writes HTTP.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

Json = dict[str, Any]

logger = logging.getLogger(__name__)

# Arguments Slack accepts as JSON inside form fields; decoded so recorded args look the same either way.
JSON_ARGUMENTS = frozenset({"blocks", "attachments", "view", "metadata", "files", "unfurls", "user_auth_blocks"})


class ApiEndpoints(Protocol):
    """What the HTTP server calls; :class:`~bot.sandbox.server.SlackSandbox` provides it."""

    def handle_api(self, method: str, token: str | None, args: dict[str, Any]) -> tuple[int, dict[str, str], Json]:
        """Answer one Web API call: (HTTP status, extra headers, JSON body)."""
        ...

    def handle_upload(self, token: str, content: bytes) -> tuple[int, str]:
        """Receive a file's bytes at an upload URL: (HTTP status, text body)."""
        ...

    def handle_response_url(self, url_id: str, raw: bytes) -> tuple[int, Json]:
        """Receive a post to a ``response_url``: (HTTP status, JSON body)."""
        ...

    def record_violation(self, method: str, reason: str, error: str = "invalid_arguments") -> None:
        """Record something Slack would have rejected."""
        ...

    def handle_authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """The OAuth authorize page: (HTTP status, headers, HTML body)."""
        ...


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(client id, client secret) of a ``Basic`` Authorization header, or None."""
    if not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[len("Basic ") :].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, client_secret = decoded.partition(":")
    return (client_id, client_secret) if colon else None


def decode_json_arguments(args: dict[str, Any]) -> dict[str, Any]:
    """Decode the arguments Slack accepts as JSON strings inside form fields, in place."""
    for key in JSON_ARGUMENTS & args.keys():
        value = args[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except json.JSONDecodeError:
                pass  # left as a string: the method answers invalid_blocks_format/invalid_arguments
    return args


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename, content) for each part of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    parts: list[tuple[str, str | None, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts.append((str(name or ""), part.get_filename(), payload if isinstance(payload, bytes) else b""))
    return parts


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server whose requests are answered by ``endpoints``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], endpoints: ApiEndpoints) -> None:
        super().__init__(address, _Handler)
        self.endpoints = endpoints


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
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
            self.server.endpoints.record_violation(self.path, f"sandbox internal error: {exc!r}", error="internal_error")
            self._send_json(500, {"ok": False, "error": "internal_error"})

    def _route(self) -> None:
        endpoints = self.server.endpoints
        parts = urlsplit(self.path)
        body = self._read_body()
        content_type = self.headers.get("Content-Type", "")
        if parts.path.startswith("/api/"):
            self._web_api(parts.path[len("/api/") :], parts.query, content_type, body)
        elif parts.path.startswith("/upload/v1/") and self.command == "POST":
            if content_type.split(";")[0].strip().lower() == "multipart/form-data":
                files = [c for _, filename, c in parse_multipart(content_type, body) if filename]
                body = files[0] if files else body
            status, text = endpoints.handle_upload(parts.path[len("/upload/v1/") :], body)
            self._send(status, text.encode("utf-8"), "text/plain; charset=utf-8")
        elif parts.path.startswith("/response/") and self.command == "POST":
            status, payload = endpoints.handle_response_url(parts.path[len("/response/") :], body)
            self._send_json(status, payload)
        elif parts.path == "/oauth/v2/authorize" and self.command == "GET":
            status, headers, page = endpoints.handle_authorize(dict(parse_qsl(parts.query, keep_blank_values=True)))
            self._send(status, page.encode("utf-8"), headers.pop("Content-Type", "text/html; charset=utf-8"), headers)
        else:
            self._send_json(404, {"ok": False, "error": "not_found"})

    def _web_api(self, method: str, query: str, content_type: str, body: bytes) -> None:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        media = content_type.split(";")[0].strip().lower()
        try:
            if media == "application/json" and body:
                decoded = json.loads(body.decode("utf-8"))
                if not isinstance(decoded, dict):
                    raise ValueError("JSON body must be an object")
                args.update(decoded)
            elif media == "multipart/form-data":
                for name, filename, content in parse_multipart(content_type, body):
                    args[name] = content if filename else content.decode("utf-8", errors="replace")
            elif body:
                args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (ValueError, UnicodeDecodeError):
            self._send_json(200, {"ok": False, "error": "invalid_json"})
            return
        authorization = self.headers.get("Authorization", "")
        token = authorization[len("Bearer ") :].strip() if authorization.startswith("Bearer ") else None
        credentials = basic_credentials(authorization)
        if credentials is not None:
            args.setdefault("client_id", credentials[0])
            args.setdefault("client_secret", credentials[1])
        status, headers, payload = self.server.endpoints.handle_api(method, token, decode_json_arguments(args))
        self._send_json(status, payload, headers)
