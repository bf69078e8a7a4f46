"""Slack's block limits caught before any API call (slack-platform.md check 7), and a message Slack still finds too
long posted in halves (``bot.delivery.fitting``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.pulse import Message
from bot.delivery.fitting import post_fitting
from bot.sandbox import SlackSandbox, build_demo_world
from bot.slack_client import make_web_client

BOT_TOKEN = "xox" + "b-block-limits-test"


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox(signing_secret="block-limits-secret", bot_token=BOT_TOKEN) as sb:
        build_demo_world(sb)
        yield sb


def _modal(blocks: list[Block]) -> View:
    return View(type="modal", callback_id="limits", title="Limits", blocks=blocks)


def _select(options: int) -> ActionsBlock:
    return ActionsBlock(
        elements=[StaticSelectElement(action_id="pick", options=[Option(text=str(i), value=str(i)) for i in range(options)])]
    )


def _button(*, value: str = "v", action_id: str = "go") -> ActionsBlock:
    return ActionsBlock(elements=[ButtonElement(text="Go", action_id=action_id, value=value)])


OVER_THE_LIMITS: dict[str, Callable[[WebClient], Any]] = {
    "a modal of 101 blocks": lambda c: c.views_open(trigger_id="t", view=_modal([DividerBlock()] * 101)),
    "a select of 101 options": lambda c: c.chat_postMessage(channel="C0JOINT", text="x", blocks=[_select(101)]),
    "a button value of 2,001 characters": lambda c: c.chat_postMessage(
        channel="C0JOINT", text="x", blocks=[_button(value="v" * 2001)]
    ),
    "an action_id of 256 characters": lambda c: c.chat_postMessage(
        channel="C0JOINT", text="x", blocks=[_button(action_id="a" * 256)]
    ),
    "a block_id of 256 characters": lambda c: c.chat_postMessage(
        channel="C0JOINT", text="x", blocks=[SectionBlock(block_id="b" * 256, text="x")]
    ),
}


@pytest.mark.parametrize("case", sorted(OVER_THE_LIMITS))
def test_block_kit_over_slacks_limits_is_refused_by_the_sdk_before_any_api_call(sandbox: SlackSandbox, case: str) -> None:
    """The builders hand slack_sdk model objects to the product's WebClient, which validates them as it serialises:
    nothing over a limit ever reaches Slack."""
    client = make_web_client(BOT_TOKEN, sandbox.api_url)
    with pytest.raises(SlackObjectFormationError):
        OVER_THE_LIMITS[case](client)
    assert sandbox.calls == []
    # At the limit, the same calls go through.
    client.chat_postMessage(channel="C0JOINT", text="x", blocks=[_select(100), _button(value="v" * 2000)])
    assert [c.method for c in sandbox.calls] == ["chat.postMessage"] and sandbox.violations == []


# --- a message Slack finds too long ----------------------------------------------------------------------------


def _too_long(posted: list[tuple[list[str], str | None]], max_blocks: int) -> Callable[[Message, str | None], str]:
    """A post function that answers msg_blocks_too_long for more than ``max_blocks`` blocks and records the rest."""

    def post(message: Message, thread_ts: str | None) -> str:
        if len(message.blocks) > max_blocks:
            raise SlackApiError("too long", {"ok": False, "error": "msg_blocks_too_long"})  # type: ignore[arg-type]
        posted.append(([str(b.block_id) for b in message.blocks], thread_ts))
        return f"ts{len(posted)}"

    return post


def _message(n: int) -> Message:
    return Message(text="Pulse results", blocks=[SectionBlock(block_id=f"b{i}", text=f"part {i}") for i in range(n)])


def test_a_message_slack_refuses_as_too_long_is_halved_until_it_fits_in_order_and_threaded() -> None:
    posted: list[tuple[list[str], str | None]] = []
    # 5 blocks, at most 2 per message: 5 → 2 + 3, and the 3 → 1 + 2; the first part where the whole would have
    # gone (top level), every later part in its thread.
    assert post_fitting(_too_long(posted, 2), _message(5), None) == "ts1"
    assert posted == [(["b0", "b1"], None), (["b2"], "ts1"), (["b3", "b4"], "ts1")]


def test_a_halved_reply_stays_in_its_thread() -> None:
    posted: list[tuple[list[str], str | None]] = []
    assert post_fitting(_too_long(posted, 1), _message(2), "T0") == "ts1"
    assert posted == [(["b0"], "T0"), (["b1"], "T0")]


def test_a_single_block_or_another_error_is_raised_for_the_usual_retry() -> None:
    with pytest.raises(SlackApiError):
        post_fitting(_too_long([], 0), _message(1), None)

    def channel_gone(message: Message, thread_ts: str | None) -> str:
        raise SlackApiError("gone", {"ok": False, "error": "channel_not_found"})  # type: ignore[arg-type]

    with pytest.raises(SlackApiError):
        post_fitting(channel_gone, _message(4), None)


def test_later_parts_say_they_continue_once() -> None:
    texts: list[str] = []

    def post(message: Message, thread_ts: str | None) -> str:
        if len(message.blocks) > 1:
            raise SlackApiError("too long", {"ok": False, "error": "msg_blocks_too_long"})  # type: ignore[arg-type]
        texts.append(message.text)
        return "ts"

    post_fitting(post, _message(4), None)
    assert texts == ["Pulse results"] + ["Pulse results (continued)"] * 3
