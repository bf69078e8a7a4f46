"""HTTP mode: Slack's requests on POST /slack/events, liveness on GET /healthz, served by waitress."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text
from waitress.server import create_server

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"

StartResponse = Callable[..., Any]


def make_wsgi_app(app: App, engine: Engine) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """A WSGI app routing Slack's requests to Bolt (which verifies their signatures) and /healthz to a DB check."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH and method == "POST":
            return slack(environ, start_response)
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            body: dict[str, object]
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                status, body = "200 OK", {"ok": True}
            except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy"
                logger.warning("health check failed: %s", exc)
                status, body = "503 Service Unavailable", {"ok": False, "error": "database unavailable"}
            payload = json.dumps(body).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
            return [payload]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return wsgi


def make_server(app: App, engine: Engine, *, host: str, port: int, threads: int) -> Any:
    """A waitress server (call ``run()``; ``effective_port`` tells the port when 0 was asked for).

    ``poll()`` rather than ``select()``: no limit of 1,024 open sockets, and closing the server from another
    thread (shutdown, the test harness) reports the closed socket instead of failing the loop with EBADF.
    """
    return create_server(
        make_wsgi_app(app, engine), host=host, port=port, threads=threads, ident="partnerpulse", asyncore_use_poll=True
    )
