"""The sandbox retries an event delivery that got no 2xx, as Slack does: same event_id, X-Slack-Retry-Num 1-3."""

from __future__ import annotations

from bot.sandbox import DemoWorld, SlackSandbox
from bot.sandbox.event_retry import SLACK_RETRY_DELAYS

from .support import FakeBot, ReceivedRequest

RETRY_TIMEOUT = 30.0


def _event(world: DemoWorld) -> dict[str, str]:
    return {"type": "member_left_channel", "user": world.client_lead, "channel": world.channel, "channel_type": "C"}


def _failing(times: int) -> tuple[list[int], object]:
    answered: list[int] = []

    def respond(request: ReceivedRequest) -> tuple[int, str]:
        status = 500 if len(answered) < times else 200
        answered.append(status)
        return status, ""

    return answered, respond


def test_slacks_schedule_is_at_once_then_one_then_five_minutes() -> None:
    assert SLACK_RETRY_DELAYS == (0.0, 60.0, 300.0)
    assert SlackSandbox().event_retry_delays == SLACK_RETRY_DELAYS


def test_a_failed_delivery_is_retried_with_the_same_event_until_a_2xx(
    sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot
) -> None:
    answered, fake_bot.respond = _failing(2)  # type: ignore[assignment]
    sandbox.event_retry_delays = (0.0, 0.05, 0.05)
    first = sandbox.event(_event(world), event_id="EvRetry1")
    assert first.status == 500
    assert sandbox.event_retries.wait_idle(RETRY_TIMEOUT)
    assert answered == [500, 500, 200], "the second retry got a 2xx, so there is no third"
    envelopes = [r.payload for r in fake_bot.requests]
    assert {e["event_id"] for e in envelopes} == {"EvRetry1"}
    assert len({e["event"]["event_ts"] for e in envelopes}) == 1, "the same event each time"
    assert [r.headers.get("x-slack-retry-num") for r in fake_bot.requests] == [None, "1", "2"]
    assert [r.headers.get("x-slack-retry-reason") for r in fake_bot.requests] == [None, "http_error", "http_error"]
    deliveries = [d for d in sandbox.deliveries if d.event_id == "EvRetry1"]
    assert [(d.retry_num, d.status) for d in deliveries] == [(None, 500), (1, 500), (2, 200)]


def test_slack_gives_up_after_three_retries(sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot) -> None:
    answered, fake_bot.respond = _failing(10)  # type: ignore[assignment]
    sandbox.event_retry_delays = (0.0, 0.01, 0.01)
    sandbox.event(_event(world))
    assert sandbox.event_retries.wait_idle(RETRY_TIMEOUT)
    assert answered == [500, 500, 500, 500]


def test_a_2xx_is_not_retried_nor_a_delivery_the_test_shapes_itself(
    sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot
) -> None:
    sandbox.event_retry_delays = (0.0, 0.01, 0.01)
    sandbox.event(_event(world))
    answered, fake_bot.respond = _failing(10)  # type: ignore[assignment]
    sandbox.event(_event(world), retry_num=1)  # the test drives the retries
    sandbox.event(_event(world), signature="v0=forged")
    assert sandbox.event_retries.wait_idle(RETRY_TIMEOUT)
    assert answered == [500, 500]
    assert len(fake_bot.requests) == 3


def test_stopping_the_sandbox_drops_the_retries_still_waiting(
    sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot
) -> None:
    answered, fake_bot.respond = _failing(10)  # type: ignore[assignment]
    sandbox.event_retry_delays = (0.0, 3600.0)
    sandbox.event(_event(world))
    wait_until_answered = sandbox.event_retries.wait_idle(0.0)
    assert not wait_until_answered and sandbox.event_retries.pending() == 1
    sandbox.stop()
    assert sandbox.event_retries.wait_idle(RETRY_TIMEOUT)
    assert len(answered) <= 2, "the retry an hour away never came"
