"""Rate limits: token buckets, HTTP 429 with Retry-After, and slack_sdk's retry handler."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.sandbox import SlackSandbox
from bot.sandbox.ratelimit import RateLimitConfig, RateLimiter, TokenBucket, retry_after_seconds

from .support import BOT_TOKEN, FakeClock, make_sandbox


def test_token_bucket_refills_with_the_clock(clock: FakeClock) -> None:
    bucket = TokenBucket(capacity=2, rate=1.0, clock=clock)
    assert bucket.take() == 0.0
    assert bucket.take() == 0.0
    assert bucket.take() == pytest.approx(1.0)  # refused: nothing taken
    clock.advance(0.5)
    assert bucket.take() == pytest.approx(0.5)
    clock.advance(0.5)
    assert bucket.take() == 0.0
    clock.advance(10)
    assert bucket.tokens == pytest.approx(2.0)  # never above capacity


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_seconds(0.01) == 1
    assert retry_after_seconds(1.0) == 1
    assert retry_after_seconds(1.2) == 2


def test_tier_limits_per_team_and_method(clock: FakeClock) -> None:
    limiter = RateLimiter(RateLimitConfig(), clock=clock)
    assert limiter.per_minute("pins.add") == 20
    assert limiter.per_minute("chat.update") == 50
    assert limiter.per_minute("views.open") == 100
    assert limiter.per_minute("auth.test") is None
    results = [limiter.check("T1", "pins.add") for _ in range(21)]
    assert results[:20] == [None] * 20 and results[20] == 3  # 1 token per 3 s
    assert limiter.check("T2", "pins.add") is None  # another workspace has its own bucket
    assert limiter.check("T1", "chat.update") is None  # and another method
    clock.advance(3)
    assert limiter.check("T1", "pins.add") is None


def test_tier_overrides(clock: FakeClock) -> None:
    limiter = RateLimiter(RateLimitConfig(tiers={"tier4": 600, "chat.update": 2}), clock=clock)
    assert limiter.per_minute("users.info") == 600
    assert limiter.per_minute("chat.update") == 2
    assert limiter.per_minute("chat.delete") == 50


def test_post_message_is_limited_per_channel(clock: FakeClock) -> None:
    sb = make_sandbox(clock=clock)
    try:
        sb.set_rate_limits(enabled=True, per_channel_per_second=1.0, channel_burst=1)
        client = WebClient(token=BOT_TOKEN, base_url=sb.api_url)
        assert client.chat_postMessage(channel="C0JOINT", text="1")["ok"]
        assert client.chat_postMessage(channel="C0INTERN", text="other channel")["ok"]
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="C0JOINT", text="2")
        response = caught.value.response
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        assert response.data == {"ok": False, "error": "ratelimited"}
        assert sb.ratelimited_count == 1
        clock.advance(1.0)
        assert client.chat_postMessage(channel="C0JOINT", text="2")["ok"]
        assert [m["text"] for m in sb.messages("C0JOINT")] == ["1", "2"]
        sb.set_rate_limits(enabled=False)
        for n in range(5):
            client.chat_postMessage(channel="C0JOINT", text=str(n))
        assert sb.ratelimited_count == 1
    finally:
        sb.stop()


def test_forced_429_then_retry_handler_succeeds(sandbox: SlackSandbox, world: object) -> None:
    sandbox.ratelimit_next("chat.postMessage", retry_after=1)
    client = WebClient(token=BOT_TOKEN, base_url=sandbox.api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    answer = client.chat_postMessage(channel="C0JOINT", text="eventually")
    assert answer["ok"]
    calls = sandbox.calls_to("chat.postMessage")
    assert [c.http_status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 1.0  # the handler waited Retry-After
    assert sandbox.ratelimited_count == 1
    assert len(sandbox.messages("C0JOINT")) == 1  # no duplicate
