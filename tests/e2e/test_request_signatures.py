"""Slack's request signatures over real HTTP (bot/http.py, then Bolt): checks 1-4 of a trustworthy Slack bot.

A correctly signed request runs its listener once; a tampered body, a timestamp outside the 300-second window and
every malformed signature header are refused with 401 and change nothing (no row written, no Web API call, no
secret logged); an empty signing secret stops ``serve`` before it listens.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.signature import Clock, SignatureVerifier
from sqlalchemy import func, select

from bot.app import create_app
from bot.harness import LocalStack
from bot.http import Refused, verified_request
from bot.sandbox.signed_requests import post_signed
from bot.settings import Settings, SettingsError
from storage.base import Base
from storage.models import Member, ProcessedEvent
from tests.helpers import setup_partnership, wait_for
from tests.serve_process import SERVE_COMMAND

NEW = "U0PSIG1"
SECRET = "checks-signing-secret-0123456789"


@pytest.fixture(autouse=True)
def every_log_record(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every level, set before the stack's app is built (Bolt copies the root level into its loggers)."""
    caplog.set_level(logging.DEBUG)


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)


def _row_counts(stack: LocalStack) -> dict[str, int]:
    """Rows in every table of the schema: a refused request must leave each count as it was."""
    with stack.services.engine.connect() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in Base.metadata.sorted_tables}


def _join_body(stack: LocalStack, event_id: str) -> str:
    """An Events API envelope announcing that NEW joined the partnership's channel, as Slack serialises it."""
    team_id, bot_user, _ = stack.sandbox.installation()
    w = stack.world
    envelope = {
        "token": stack.sandbox.verification_token,
        "team_id": team_id,
        "api_app_id": stack.sandbox.app_id,
        "event": {"type": "member_joined_channel", "user": NEW, "channel": w.channel, "team": w.provider_team},
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": bot_user, "is_bot": True}],
    }
    return json.dumps(envelope)


def _joined(stack: LocalStack) -> tuple[int, int]:
    """(member rows for NEW, processed rows of any event)."""
    with stack.services.uow_factory() as uow:
        members = uow.session.scalar(select(func.count()).select_from(Member).where(Member.user_id == NEW))
        events = uow.session.scalar(select(func.count()).select_from(ProcessedEvent))
        return int(members or 0), int(events or 0)


def _ready(stack: LocalStack) -> None:
    setup_partnership(stack)
    stack.sandbox.add_user(NEW, stack.world.provider_team, "sig.tester", "Sig Tester", tz="Europe/Berlin")
    stack.sandbox.join(stack.world.channel, NEW)
    stack.settle()
    stack.sandbox.clear_calls()


def test_1_a_request_signed_as_slack_signs_is_accepted_and_its_listener_runs_once(stack: LocalStack) -> None:
    _ready(stack)
    body = _join_body(stack, "EvSig1")
    stamp = str(int(time.time()))
    signature = SignatureVerifier(stack.sandbox.signing_secret).generate_signature(timestamp=stamp, body=body)
    response = post_signed(
        stack.sandbox, body, "application/json", kind="event", user_id=None, timestamp=stamp, signature=signature
    )
    assert response.status == 200, response.body
    assert _joined(stack) == (1, 1), "recorded once, before the answer"
    stack.settle()
    # The listener's post-ack half ran once: one users.info for the new member.
    assert [c.args.get("user") for c in stack.sandbox.calls_to("users.info")] == [NEW]


def test_2_a_tampered_body_is_refused_with_no_write_and_no_slack_call(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    _ready(stack)
    body = _join_body(stack, "EvSig2")
    stamp = str(int(time.time()))
    signature = SignatureVerifier(stack.sandbox.signing_secret).generate_signature(timestamp=stamp, body=body)
    one_byte = body.replace(NEW, NEW[:-1] + "2")
    respaced = json.dumps(json.loads(body), separators=(",", ":"))
    assert len(one_byte) == len(body) and sum(a != b for a, b in zip(one_byte, body, strict=True)) == 1
    assert respaced != body and json.loads(respaced) == json.loads(body)
    before = _row_counts(stack)
    for tampered in (one_byte, respaced):
        response = post_signed(
            stack.sandbox, tampered, "application/json", kind="event", user_id=None, timestamp=stamp, signature=signature
        )
        assert response.status == 401, response.body
    stack.settle()
    assert _row_counts(stack) == before
    assert stack.sandbox.calls == [] and stack.sandbox.response_url_posts == []
    assert "refused POST /slack/events: invalid signature" in _logged(caplog)


class FrozenClock(Clock):
    """slack_sdk's verifier clock, stopped at one instant: the window's edges are tested to the second."""

    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


def _environ(body: bytes, timestamp: str, signature: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp,
        "HTTP_X_SLACK_SIGNATURE": signature,
    }


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-301, False), (301, False), (-299, True), (299, True), (-300, True), (300, True), (0, True)],
)
def test_3_the_replay_window_is_300_seconds_either_way(offset: int, accepted: bool) -> None:
    """The HTTP adapter's check with the clock stopped: a timestamp 301 s old or ahead is refused, 299 s is not.

    (Over real HTTP, tests/e2e/test_request_hygiene.py sends timestamps 310 s either side and 290 s old; whole-second
    timestamps and a moving clock make the last second untestable there.)
    """
    now = 1_800_000_000
    body = b'{"type": "event_callback", "event_id": "EvWindow", "event": {"type": "app_home_opened"}}'
    stamp = str(now + offset)
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body.decode()) or ""
    verifier = SignatureVerifier(SECRET, clock=FrozenClock(float(now)))
    if accepted:
        assert verified_request(_environ(body, stamp, signature), verifier).body["event_id"] == "EvWindow"
    else:
        with pytest.raises(Refused) as refused:
            verified_request(_environ(body, stamp, signature), verifier)
        assert refused.value.status == 401


def test_4_malformed_signature_headers_are_refused_with_no_side_effect_and_no_secret_logged(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    _ready(stack)
    sb = stack.sandbox
    body = _join_body(stack, "EvSig4")
    now = str(int(time.time()))
    good = SignatureVerifier(sb.signing_secret).generate_signature(timestamp=now, body=body) or ""
    variants: dict[str, tuple[str, str]] = {
        "missing signature": (now, ""),
        "v1= prefix": (now, "v1=" + good[3:]),
        "truncated hex": (now, good[:-1]),
        "timestamp abc": ("abc", good),
        "timestamp 1.5": ("1.5", good),
        "empty timestamp": ("", good),
    }
    before = _row_counts(stack)
    statuses = {
        name: post_signed(sb, body, "application/json", kind="event", user_id=None, timestamp=ts, signature=sig).status
        for name, (ts, sig) in variants.items()
    }
    stack.settle()
    assert statuses == dict.fromkeys(variants, 401)
    assert _row_counts(stack) == before
    assert sb.calls == [] and sb.response_url_posts == []
    logged = _logged(caplog)
    for secret in (sb.signing_secret, sb.bot_token, sb.verification_token, good[3:]):
        assert secret not in logged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    # The same body, signed properly, is then accepted: the refusals were about the headers alone.
    assert post_signed(sb, body, "application/json", kind="event", user_id=None).status == 200
    wait_for(lambda: _joined(stack) == (1, 1), what="the join recorded")


@pytest.mark.parametrize("blank", ["", "   "])
def test_4_an_empty_signing_secret_stops_the_app_before_it_serves(stack: LocalStack, blank: str) -> None:
    settings = Settings.load({**_stack_settings(stack), "slack_signing_secret": blank}, env_file=None)
    assert settings.slack_signing_secret is None
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        create_app(settings, stack.services)


def _stack_settings(stack: LocalStack) -> dict[str, Any]:
    s = stack.settings
    return {
        "slack_bot_token": s.secret("slack_bot_token"),
        "secret_key": s.secret("secret_key"),
        "database_url": s.database_url,
        "slack_api_url": s.slack_api_url,
    }


def test_4_serve_with_an_empty_signing_secret_exits_at_startup_naming_it(tmp_path: Path) -> None:
    ours = ("SLACK_", "PARTNERPULSE_", "DATABASE_URL", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env.update(
        {
            "SLACK_SIGNING_SECRET": "",
            "SLACK_BOT_TOKEN": "xox" + "b-checks-not-a-real-token",
            "PARTNERPULSE_SECRET_KEY": "checks-secret-key-0123456789abcdef",
            # Never reached: the missing secret stops the process first.
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
        }
    )
    result = subprocess.run(
        [*SERVE_COMMAND, "--no-heartbeat"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "listening" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("partnerpulse: Missing setting: set SLACK_SIGNING_SECRET ("), lines
    assert not (tmp_path / "never.db").exists(), "stopped before touching the database"
