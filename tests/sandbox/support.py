"""Helpers shared by the sandbox tests: a fake clock, a fake bot HTTP server, manifest copies."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml

from bot.sandbox import SlackSandbox, build_demo_world
from bot.sandbox.spec import find_manifest_path

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xox" + "b-test_sandbox_token"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class ReceivedRequest:
    """What the fake bot received."""

    path: str
    headers: dict[str, str]
    body: str

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body, keep_blank_values=True).items()}

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON of an interaction (form field ``payload``) or of an event (the whole body)."""
        if self.headers.get("content-type", "").startswith("application/json"):
            return dict(json.loads(self.body))
        return dict(json.loads(self.form["payload"]))


Responder = Callable[[ReceivedRequest], tuple[int, str]]


@dataclass
class FakeBot:
    """A tiny HTTP server standing in for the bot: records requests, answers with ``respond``."""

    url: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    respond: Responder = field(default=lambda request: (200, ""))

    def answer_json(self, payload: dict[str, Any], status: int = 200) -> None:
        """Answer every following request with this JSON."""
        text = json.dumps(payload)
        self.respond = lambda request: (status, text)


def start_fake_bot(bot: FakeBot) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            request = ReceivedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            bot.requests.append(request)
            status, text = bot.respond(request)
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if text.startswith("{") else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    bot.url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def write_manifest(
    tmp_path: Path,
    *,
    add: tuple[str, ...] = (),
    drop: tuple[str, ...] = (),
    features: dict[str, Any] | None = None,
) -> Path:
    """A copy of the repository's manifest with bot scopes added/removed and ``features`` keys replaced."""
    document = yaml.safe_load(find_manifest_path().read_text(encoding="utf-8"))
    scopes = [s for s in document["oauth_config"]["scopes"]["bot"] if s not in drop]
    document["oauth_config"]["scopes"]["bot"] = scopes + [s for s in add if s not in scopes]
    for key, value in (features or {}).items():
        document.setdefault("features", {})[key] = value
    path = tmp_path / "app_manifest.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def make_sandbox(**kwargs: Any) -> SlackSandbox:
    """A started sandbox with the demo world (caller stops it)."""
    sb = SlackSandbox(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, **kwargs).start()
    build_demo_world(sb)
    return sb
