"""Request hygiene over real HTTP (bot/http.py): oversized, unsigned and malformed requests are refused before they
are parsed, no request body is ever logged, and Slack never gets a 404 for something it sends."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import yaml

from bot.harness import LocalStack
from bot.http import MAX_BODY_BYTES, Refused, make_wsgi_app, read_body
from bot.sandbox.signed_requests import post_signed

MARKER = "PPMARKER-7f3a"
FAKE_RESPONSE_URL = "https://hooks.slack.com/commands/T0FAKE/1/PPMARKER-url"
MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "app_manifest.yml").read_text())


@pytest.fixture(autouse=True)
def every_log_record(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every level, set before the stack's app is built (Bolt copies the root level into its loggers)."""
    caplog.set_level(logging.DEBUG)


def _sign(secret: str, body: bytes, timestamp: str) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()


def _post(stack: LocalStack, body: bytes, headers: dict[str, str], *, signed: bool) -> tuple[int, str]:
    """POST raw bytes to the bot, signed over exactly those bytes when ``signed``."""
    headers = dict(headers)
    if signed:
        stamp = str(int(time.time()))
        headers.update(
            {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": _sign(stack.sandbox.signing_secret, body, stamp)}
        )
    request = urllib.request.Request(stack.bot_url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as answer:
            return int(answer.status), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode("utf-8", "replace")


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)


def _assert_no_error_and_body_unlogged(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing logged at ERROR and no traceback, and the body's marker in no log line."""
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert MARKER not in _logged(caplog)


def _command_body(stack: LocalStack) -> str:
    w = stack.world
    return urlencode(
        {
            "token": stack.sandbox.verification_token,
            "team_id": w.client_team,
            "channel_id": w.channel,
            "user_id": w.client_lead,
            "command": "/partner",
            "text": f"pulse now {MARKER}",
            "response_url": FAKE_RESPONSE_URL,
            "trigger_id": "1.2.3",
        }
    )


MALFORMED: dict[str, tuple[bytes, dict[str, str]]] = {
    "invalid JSON": (b'{"type": "event_callback", ' + MARKER.encode(), {"Content-Type": "application/json"}),
    "broken payload JSON": (
        ("payload=" + urlencode({"x": '{"type": "block_actions", ' + MARKER})[2:]).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "no content type, not JSON": (b"{" + MARKER.encode(), {"Content-Type": ""}),
    "a JSON list": (json.dumps([MARKER]).encode(), {"Content-Type": "application/json"}),
}


def test_forged_and_malformed_signatures_get_401_and_no_body_is_logged(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    sb, body = stack.sandbox, _command_body(stack)
    sb.clear_calls()
    now = int(time.time())
    good = _sign(sb.signing_secret, body.encode(), str(now))
    variants: dict[str, dict[str, Any]] = {
        "forged": {"signature": "v0=" + "0" * 64},
        "no signature": {"signature": ""},
        "v1 prefix": {"signature": "v1=" + good[3:]},
        "truncated hex": {"signature": good[:-2]},
        # Offsets from the moment of sending, 10 s clear of the 300 s window: timestamps are whole seconds, and a
        # loaded machine takes a while between signing and checking.
        "stale": {"offset": -310},
        "future": {"offset": 310},
        "timestamp abc": {"timestamp": "abc"},
        "timestamp 1.5": {"timestamp": "1.5"},
        "empty timestamp": {"timestamp": ""},
    }
    statuses: dict[str, int] = {}
    for name, kw in variants.items():
        if "offset" in kw:
            kw = {"timestamp": int(time.time()) + kw["offset"]}
        statuses[name] = post_signed(sb, body, "application/x-www-form-urlencoded", kind="forged", user_id=None, **kw).status
    unsigned = _post(stack, body.encode(), {"Content-Type": "application/x-www-form-urlencoded"}, signed=False)
    stack.settle()
    logged = _logged(caplog)
    assert MARKER not in logged and FAKE_RESPONSE_URL not in logged and sb.verification_token not in logged
    assert statuses == dict.fromkeys(variants, 401) and unsigned[0] == 401
    assert sb.calls == [] and sb.response_url_posts == []
    assert "refused POST /slack/events: invalid signature" in logged
    # Just inside the window is still accepted.
    ok = post_signed(
        sb, body, "application/x-www-form-urlencoded", kind="ok", user_id=None, timestamp=int(time.time()) - 290
    )
    assert ok.status == 200


def test_bolts_own_verification_never_logs_the_body(stack: LocalStack, caplog: pytest.LogCaptureFixture) -> None:
    """Socket Mode's and any other path into the app: Bolt's check refuses without logging the body either."""
    from slack_bolt import BoltRequest

    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-signature": "v0=00",
        "x-slack-request-timestamp": "1",
    }
    assert stack.app.dispatch(BoltRequest(body=_command_body(stack), headers=headers)).status == 401
    assert MARKER not in _logged(caplog)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_unsigned_malformed_bodies_get_401_without_being_parsed(
    stack: LocalStack, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body, headers = MALFORMED[case]
    status, _ = _post(stack, body, headers, signed=False)
    assert status == 401
    _assert_no_error_and_body_unlogged(caplog)


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_signed_malformed_bodies_get_400_not_500_and_no_traceback(
    stack: LocalStack, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body, headers = MALFORMED[case]
    stack.sandbox.clear_calls()
    status, _ = _post(stack, body, headers, signed=True)
    assert status == 400
    stack.settle()
    _assert_no_error_and_body_unlogged(caplog)
    assert stack.sandbox.calls == []


def test_a_body_that_is_not_utf8_cannot_be_verified_and_gets_401(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    # Slack signs UTF-8 text: whatever its signature header says, such a body is refused unread.
    body = b"payload=\xff\xfe" + MARKER.encode()
    for signed in (False, True):
        status, _ = _post(stack, body, {"Content-Type": "application/x-www-form-urlencoded"}, signed=signed)
        assert status == 401
    _assert_no_error_and_body_unlogged(caplog)


def test_oversized_body_gets_413_before_it_is_read(stack: LocalStack, caplog: pytest.LogCaptureFixture) -> None:
    url = urlsplit(stack.bot_url)
    size = 5 * 1024 * 1024
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        # The headers and a first piece only: the answer must come without the rest of the 5 MB being sent.
        conn.sendall(
            f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n".encode()
            + (b'{"text": "' + MARKER.encode() * 100)
        )
        answer = conn.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5
    assert MARKER not in _logged(caplog)
    # A body just under the limit is read and verified (and refused for its missing signature, not its size).
    assert _post(stack, b"x" * (MAX_BODY_BYTES - 1), {"Content-Type": "text/plain"}, signed=False)[0] == 401


class _CountingStream(io.BytesIO):
    """A request body stream that says how much of it was read."""

    def __init__(self, size: int) -> None:
        super().__init__(b"x" * size)
        self.consumed = 0

    def read(self, n: int | None = -1) -> bytes:
        data = super().read(n)
        self.consumed += len(data)
        return data


def test_the_app_itself_refuses_oversized_bodies_with_or_without_a_length() -> None:
    huge = _CountingStream(5 * 1024 * 1024)
    with pytest.raises(Refused) as refused:
        read_body({"CONTENT_LENGTH": str(5 * 1024 * 1024), "wsgi.input": huge})
    assert refused.value.status == 413 and huge.consumed == 0
    with pytest.raises(Refused) as refused:
        read_body({"wsgi.input": huge})  # chunked: no length to check first
    assert refused.value.status == 413 and huge.consumed == MAX_BODY_BYTES + 1
    assert read_body({"wsgi.input": io.BytesIO(b"small")}) == b"small"

    started: list[str] = []
    # An app without an install flow, and no database: neither is reached.
    wsgi = make_wsgi_app(SimpleNamespace(oauth_flow=None), None, signing_secret="s")  # type: ignore[arg-type]
    body = wsgi(
        {"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "5242880", "wsgi.input": huge},
        lambda status, headers: started.append(status),
    )
    assert started == ["413 Request Entity Too Large"] and b"invalid request" in b"".join(body)


def _event(kind: str, stack: LocalStack) -> dict[str, Any]:
    w = stack.world
    return {"type": kind, "user": w.client_lead, "channel": w.channel, "tab": "home", "subteam_id": "S0NONE"}


def test_every_subscribed_event_an_unknown_one_and_app_rate_limited_get_2xx(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    sb = stack.sandbox
    subscribed = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert subscribed
    for kind in [*subscribed, "pp_no_such_event"]:
        response = sb.event(_event(kind, stack), force=kind not in subscribed)
        assert 200 <= response.status < 300, (kind, response.status, response.body)
    team_id, _, _ = sb.installation()
    notice = {
        "token": sb.verification_token,
        "type": "app_rate_limited",
        "team_id": team_id,
        "minute_rate_limited": 1518467820,
        "api_app_id": sb.app_id,
    }
    response = post_signed(sb, json.dumps(notice), "application/json", kind="app_rate_limited", user_id=None)
    assert response.status == 200, response.body
    assert "app_rate_limited" in _logged(caplog)
    stack.settle()


def test_unknown_block_action_is_acknowledged_and_logged(stack: LocalStack, caplog: pytest.LogCaptureFixture) -> None:
    sb, w = stack.sandbox, stack.world
    team_id, _, _ = sb.installation()
    sb.clear_calls()
    payload = {
        "type": "block_actions",
        "user": {"id": w.client_lead, "team_id": team_id},
        "team": {"id": team_id},
        "api_app_id": sb.app_id,
        "token": sb.verification_token,
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": w.channel},
        "channel": {"id": w.channel},
        "trigger_id": "1.2.3",
        "response_url": FAKE_RESPONSE_URL,
        "actions": [{"action_id": "pp-retired-button", "block_id": "b1", "type": "button", "action_ts": "1.2"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    response = post_signed(sb, body, "application/x-www-form-urlencoded", kind="block_actions", user_id=w.client_lead)
    assert response.status == 200, response.body
    stack.settle()
    assert any("pp-retired-button" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)
    assert [c.method for c in sb.calls if c.method != "auth.test"] == [] and sb.response_url_posts == []
