"""HTTP mode: Slack's requests on POST /slack/events, liveness on GET /healthz, the HTTP API's paths (KPI
figures, ``bot/kpi_api.py``), the privacy note on GET /privacy and, in OAuth mode, Bolt's install flow on GET
/slack/install and /slack/oauth_redirect (``bot/oauth_app.py``), served by waitress.

Before Bolt sees a request, this module refuses what Bolt would mishandle: a body over ``MAX_BODY_BYTES`` gets 413
without being read (waitress refuses it from its Content-Length, and this app reads at most one byte past the limit
of a body without one); a request whose signature does not verify over the raw bytes gets 401 without being parsed;
a signed body that is not UTF-8, or not the JSON or form Slack sends, gets 400. Each is logged as one short line
(method, path, reason, size) and never with its body, which carries a verification token and a response_url.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, text
from waitress.server import create_server

from bot.install_pages import PRIVACY_PATH, privacy_page

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
#: The largest request body accepted. Slack's payloads are a few kilobytes (a modal's full state is well under
#: 100 KB); anything near this is not from Slack.
MAX_BODY_BYTES = 1 << 20
_TIMESTAMP = re.compile(r"\d{1,12}")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Refused(Exception):
    """A request answered before Bolt sees it: the status, and the reason logged (never the body)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def read_body(environ: dict[str, Any], limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refusing one over ``limit`` bytes from its Content-Length before reading any of it, or
    after reading at most ``limit + 1`` bytes when there is no length."""
    stream = environ.get("wsgi.input")
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        if not declared.isdigit():
            raise Refused(400, "invalid Content-Length")
        if int(declared) > limit:
            raise Refused(413, f"body of {declared} bytes over the {limit}-byte limit")
        return stream.read(int(declared)) if stream is not None and int(declared) else b""
    body = stream.read(limit + 1) if stream is not None else b""
    if len(body) > limit:
        raise Refused(413, f"body over the {limit}-byte limit")
    return bytes(body)


def signature_is_valid(verifier: SignatureVerifier, body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature over the body, within the replay window, checked by slack_sdk's ``SignatureVerifier``.

    The verifier raises instead of answering False for a timestamp that is not a whole number (``int()``) and for
    a body that is not UTF-8 (it decodes the bytes): both are refused here first. Slack signs UTF-8 text, so a body
    that is not UTF-8 cannot carry a valid signature.
    """
    if not _TIMESTAMP.fullmatch(timestamp) or not signature:
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return verifier.is_valid(body=text, timestamp=timestamp, signature=signature)


def verified_request(environ: dict[str, Any], verifier: SignatureVerifier) -> BoltRequest:
    """Bolt's request for a signed, well-formed body; :class:`Refused` for anything else."""
    body = read_body(environ)
    timestamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
    signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
    if not signature_is_valid(verifier, body, timestamp, signature):
        raise Refused(401, "invalid signature" if signature else "no signature")
    raw = body.decode("utf-8")  # a valid signature is over UTF-8 text
    try:
        request = BoltRequest(
            body=raw, query=environ.get("QUERY_STRING", ""), headers=WsgiHttpRequest(environ).get_headers()
        )
    except Exception as exc:  # noqa: BLE001 - Bolt parses in its constructor; any failure there is a malformed body
        raise Refused(400, f"signed body could not be parsed ({type(exc).__name__})") from None
    if not isinstance(request.body, dict):
        raise Refused(400, "signed body is not a JSON object")
    return request


def _respond(start_response: StartResponse, status: int, body: str, content_type: str) -> Iterable[bytes]:
    response = WsgiHttpResponse(status=status, headers={"content-type": [content_type]}, body=body)
    start_response(response.status, response.get_headers())
    return response.get_body()


def install_routes(app: App) -> dict[str, WsgiApp]:
    """GET routes of the install: the privacy note, and Bolt's OAuth flow when the app has one (the install page
    with its state cookie; the redirect back from Slack, which checks the state and saves the installation). The
    query string (code, state) is never logged."""

    def page(
        environ: dict[str, Any], start_response: StartResponse, handle: Callable[[BoltRequest], Any]
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return _respond(start_response, 405, "method not allowed", "text/plain")
        request = BoltRequest(body="", query=environ.get("QUERY_STRING", ""), headers=WsgiHttpRequest(environ).get_headers())
        answer = handle(request)
        response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
        start_response(response.status, response.get_headers())
        return response.get_body()

    def privacy(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return _respond(start_response, 200, privacy_page(), "text/html; charset=utf-8")

    routes: dict[str, WsgiApp] = {PRIVACY_PATH: privacy}
    flow = app.oauth_flow
    if flow is not None:
        routes[flow.install_path] = lambda environ, start: page(environ, start, flow.handle_installation)
        routes[flow.redirect_uri_path] = lambda environ, start: page(environ, start, flow.handle_callback)
    return routes


def make_wsgi_app(app: App, engine: Engine, *, signing_secret: str, routes: Mapping[str, WsgiApp] | None = None) -> WsgiApp:
    """A WSGI app routing verified Slack requests to Bolt, /healthz to a database check, the install's pages
    (:func:`install_routes`) and each path of ``routes`` (the HTTP API, ``bot.kpi_api.api_routes``) to its own app,
    which checks its own requests.

    Bolt verifies the signature again (its RequestVerification stays on); verifying here first is what keeps an
    unsigned body from ever being parsed or logged.
    """
    verifier = SignatureVerifier(signing_secret)
    routes = {**install_routes(app), **(routes or {})}

    def slack(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            request = verified_request(environ, verifier)
        except Refused as refused:
            log = logger.info if refused.status in (401, 413) else logger.warning
            log(
                "refused %s %s: %s (%s bytes, HTTP %s)",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                refused.reason,
                environ.get("CONTENT_LENGTH") or "unknown",
                refused.status,
            )
            return _respond(start_response, refused.status, json.dumps({"error": "invalid request"}), "application/json")
        answer = app.dispatch(request)
        response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
        start_response(response.status, response.get_headers())
        return response.get_body()

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH and method == "POST":
            return slack(environ, start_response)
        if routes and path in routes:
            return routes[path](environ, start_response)
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            body: dict[str, object]
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                status, body = 200, {"ok": True}
            except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy"
                logger.warning("health check failed: %s", exc)
                status, body = 503, {"ok": False, "error": "database unavailable"}
            return _respond(start_response, status, json.dumps(body), "application/json")
        return _respond(start_response, 404, "not found", "text/plain")

    return wsgi


def make_server(
    app: App,
    engine: Engine,
    *,
    signing_secret: str,
    host: str,
    port: int,
    threads: int,
    routes: Mapping[str, WsgiApp] | None = None,
) -> Any:
    """A waitress server (call ``run()``; ``effective_port`` tells the port when 0 was asked for).

    ``poll()`` rather than ``select()``: no limit of 1,024 open sockets, and closing the server from another
    thread (shutdown, the test harness) reports the closed socket instead of failing the loop with EBADF.
    waitress buffers a whole body before calling the app, so its own limit is what refuses an oversized body
    unread (it refuses a length at or over its setting, hence the + 1).
    """
    return create_server(
        make_wsgi_app(app, engine, signing_secret=signing_secret, routes=routes),
        host=host,
        port=port,
        threads=threads,
        ident="partnerpulse",
        asyncore_use_poll=True,
        max_request_body_size=MAX_BODY_BYTES + 1,
    )
