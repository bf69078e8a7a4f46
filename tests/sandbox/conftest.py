"""Fixtures for the sandbox's own tests: a started sandbox with the demo world, a WebClient, a fake bot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.sandbox import DemoWorld, SlackSandbox, build_demo_world

from .support import BOT_TOKEN, SIGNING_SECRET, FakeBot, FakeClock, start_fake_bot


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox(signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN) as sb:
        yield sb


@pytest.fixture
def world(sandbox: SlackSandbox) -> DemoWorld:
    return build_demo_world(sandbox)


@pytest.fixture
def client(sandbox: SlackSandbox) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=sandbox.api_url, timeout=10)


@pytest.fixture
def fake_bot(sandbox: SlackSandbox) -> Iterator[FakeBot]:
    bot = FakeBot()
    server = start_fake_bot(bot)
    sandbox.bot_endpoint = bot.url
    try:
        yield bot
    finally:
        server.shutdown()
        server.server_close()
