"""Checks 10 and 11: one event delivered several times (Slack's retries, some at the same moment; over HTTP and
over Socket Mode) has exactly one effect, and every delivery is acknowledged."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt.adapter.socket_mode.internals import build_headers, run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlalchemy import func, select

from bot.harness import LocalStack
from storage.models import Member, ProcessedEvent
from tests.helpers import setup_partnership, wait_for

NEW = "U0PNEW1"


def _join(stack: LocalStack) -> dict[str, Any]:
    w, sb = stack.world, stack.sandbox
    sb.add_user(NEW, w.provider_team, "lena.fischer", "Lena Fischer", tz="Europe/Berlin")
    sb.join(w.channel, NEW)
    return {"type": "member_joined_channel", "user": NEW, "channel": w.channel, "channel_type": "C", "team": w.provider_team}


def _effects(stack: LocalStack, event_id: str) -> tuple[int, int]:
    """(processed-event rows for ``event_id``, member rows for the new person)."""
    with stack.services.uow_factory() as uow:
        events = uow.session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id == event_id)
        )
        members = uow.session.scalar(select(func.count()).select_from(Member).where(Member.user_id == NEW))
        return int(events or 0), int(members or 0)


def _side(stack: LocalStack) -> str | None:
    with stack.services.uow_factory() as uow:
        return uow.session.scalar(select(Member.side).where(Member.user_id == NEW))


def test_http_retries_some_at_once_have_one_effect_and_all_get_200(stack: LocalStack) -> None:
    setup_partnership(stack)
    event, sb = _join(stack), stack.sandbox
    first = sb.event(event, event_id="EvTwice1")
    with ThreadPoolExecutor(max_workers=3) as pool:  # Slack's retries arriving together (http_timeout)
        retries = list(pool.map(lambda n: sb.event(event, event_id="EvTwice1", retry_num=n), (1, 2, 3)))
    assert [r.status for r in [first, *retries]] == [200] * 4
    wait_for(lambda: _side(stack) == "provider", what="the member's side filled in")
    stack.settle()
    assert _effects(stack, "EvTwice1") == (1, 1)


def _socket_envelope(stack: LocalStack, event: dict[str, Any], event_id: str) -> dict[str, Any]:
    w = stack.world
    return {
        "token": stack.sandbox.verification_token,
        "team_id": w.client_team,
        "api_app_id": stack.sandbox.app_id,
        "event": {**event, "event_ts": f"{time.time():.6f}"},
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": w.client_team, "user_id": w.bot_user, "is_bot": True}],
    }


def test_a_socket_mode_retry_goes_through_the_same_dedupe(stack: LocalStack) -> None:
    setup_partnership(stack)
    payload = _socket_envelope(stack, _join(stack), "EvSocket1")
    requests = [
        SocketModeRequest(
            type="events_api", envelope_id=f"env-{n}", payload=payload, retry_attempt=n, retry_reason="timeout"
        )
        for n in (None, 2)
    ]
    retried = build_headers(requests[1])
    assert retried.get("x-slack-retry-num") == ["2"] or retried.get("x-slack-retry-num") == "2"
    answers = [run_bolt_app(stack.app, request) for request in requests]
    assert [a.status for a in answers] == [200, 200]
    wait_for(lambda: _side(stack) == "provider", what="the member's side filled in")
    stack.settle()
    assert _effects(stack, "EvSocket1") == (1, 1)
