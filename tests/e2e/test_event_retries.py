"""Slack's retried events, over HTTP and over Socket Mode: one event id, one effect (checks 10 and 11).

Slack delivers an event again, with ``X-Slack-Retry-Num`` 1-3 and a reason, when it did not get a 2xx in time; the
retries can overlap the first delivery, which may still be running. Socket Mode marks a retry with the envelope's
``retry_attempt``, which Bolt (1.29 and later) turns into the same ``x-slack-retry-num`` header. Either way the
event's id is recorded once, with the member it announces, and every delivery is answered 2xx.
"""

from __future__ import annotations

import threading
from typing import Any

from slack_bolt.adapter.socket_mode.internals import build_headers, run_bolt_app
from slack_sdk.socket_mode.request import SocketModeRequest
from sqlalchemy import func, select

from bot.app import create_app
from bot.harness import LocalStack
from bot.sandbox.signed_requests import deliver_event
from storage.models import Member, ProcessedEvent
from tests.helpers import setup_partnership, wait_for

NEW = "U0PRETRY"


def _ready(stack: LocalStack) -> dict[str, Any]:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    sb.add_user(NEW, w.provider_team, "re.try", "Re Try", tz="Europe/Berlin")
    sb.join(w.channel, NEW)
    stack.settle()
    sb.clear_calls()
    return {"type": "member_joined_channel", "user": NEW, "channel": w.channel, "channel_type": "C", "team": w.provider_team}


def _recorded(stack: LocalStack, event_id: str) -> tuple[int, int, tuple[str | None, bool] | None]:
    """(rows of the event id, member rows for NEW, NEW's side and whether in the channel)."""
    with stack.services.uow_factory() as uow:
        events = uow.session.scalar(
            select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id == event_id)
        )
        members = uow.session.scalars(select(Member).where(Member.user_id == NEW)).all()
        state = (members[0].side, members[0].in_channel) if members else None
        return int(events or 0), len(members), state


def test_10_one_event_delivered_four_times_some_at_once_has_one_effect_and_every_delivery_gets_200(
    stack: LocalStack,
) -> None:
    """The join is delivered with its first retry at once; the person then leaves; retries 2 and 3 arrive together
    after that. A retry that acted again would put the person back in the channel they left."""
    event = _ready(stack)
    sb = stack.sandbox
    statuses: dict[int, int] = {}

    def deliver(retry: int | None, start: threading.Barrier) -> None:
        start.wait(timeout=10)
        statuses[retry or 0] = deliver_event(
            sb, event, event_id="EvRetry1", retry_num=retry, retry_reason="http_timeout"
        ).status

    def at_once(*retries: int | None) -> None:
        start = threading.Barrier(len(retries))
        threads = [threading.Thread(target=deliver, args=(n, start)) for n in retries]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)

    at_once(None, 1)
    wait_for(lambda: _recorded(stack, "EvRetry1")[2] == ("provider", True), what="the member, on their side")
    stack.settle()
    sb.leave(stack.world.channel, NEW)
    assert deliver_event(sb, {**event, "type": "member_left_channel"}, event_id="EvLeft1").status == 200
    at_once(2, 3)
    stack.settle()
    assert statuses == {0: 200, 1: 200, 2: 200, 3: 200}
    assert [d.status for d in sb.deliveries if d.event_id == "EvRetry1"] == [200] * 4
    assert _recorded(stack, "EvRetry1") == (1, 1, ("provider", False))
    # The profile is fetched once for the four deliveries (the directory's cache, shared by concurrent callers).
    assert [c.args.get("user") for c in sb.calls_to("users.info")] == [NEW]


def test_11_a_socket_mode_retry_goes_through_the_same_dedupe_as_http(stack: LocalStack) -> None:
    """``partnerpulse run`` serves Socket Mode with the same app (bot/cli.py: create_app(socket_mode=True))."""
    event = _ready(stack)
    socket_app = create_app(stack.settings, stack.services, socket_mode=True)
    team_id, bot_user, _ = stack.sandbox.installation()
    envelope = {
        "team_id": team_id,
        "api_app_id": stack.sandbox.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": "EvSocket1",
        "event_time": 1_764_504_000,
        "authorizations": [{"team_id": team_id, "user_id": bot_user, "is_bot": True}],
    }
    first = SocketModeRequest(type="events_api", envelope_id="env-1", payload=envelope)
    retry = SocketModeRequest(
        type="events_api", envelope_id="env-2", payload=envelope, retry_attempt=2, retry_reason="timeout"
    )
    assert build_headers(retry) == {"x-slack-retry-num": "2", "x-slack-retry-reason": "timeout"}
    try:
        assert run_bolt_app(socket_app, first).status == 200
        wait_for(lambda: _recorded(stack, "EvSocket1")[2] == ("provider", True), what="the member, on their side")
        socket_app.listener_runner.listener_executor.wait_idle(30)
        # The person leaves; then the join's retry arrives over Socket Mode, and once more over HTTP.
        stack.sandbox.leave(stack.world.channel, NEW)
        assert deliver_event(stack.sandbox, {**event, "type": "member_left_channel"}).status == 200
        assert run_bolt_app(socket_app, retry).status == 200
        assert deliver_event(stack.sandbox, event, event_id="EvSocket1", retry_num=3).status == 200
        socket_app.listener_runner.listener_executor.wait_idle(30)
        stack.settle()
        assert _recorded(stack, "EvSocket1") == (1, 1, ("provider", False))
    finally:
        socket_app.listener_runner.listener_executor.shutdown(wait=True)
