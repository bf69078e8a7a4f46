"""Modals and the Home tab: trigger_id rules, hashes, stacks and view limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackSandbox

from .support import BOT_TOKEN, FakeClock, make_sandbox


def _modal(title: str = "Pulse", blocks: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "pulse_modal",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": blocks if blocks is not None else [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
        **extra,
    }


def _error(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call()
    return str(caught.value.response["error"])


@pytest.fixture
def timed(clock: FakeClock) -> Iterator[tuple[SlackSandbox, WebClient]]:
    sb = make_sandbox(clock=clock)
    try:
        yield sb, WebClient(token=BOT_TOKEN, base_url=sb.api_url)
    finally:
        sb.stop()


def test_views_open_returns_the_view(timed: tuple[SlackSandbox, WebClient]) -> None:
    sb, client = timed
    trigger = sb.issue_trigger_id("U0CLEAD")
    view = client.views_open(trigger_id=trigger, view=_modal(private_metadata='{"p": 1}'))["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert view["state"] == {"values": {}}
    assert view["callback_id"] == "pulse_modal" and view["private_metadata"] == '{"p": 1}'
    assert view["root_view_id"] == view["id"] and view["previous_view_id"] is None
    assert view["app_installed_team_id"] == "T0CLIENT"
    assert "user_id" not in view
    assert sb.views[view["id"]]["user_id"] == "U0CLEAD"
    assert [v["id"] for v in sb.open_views("U0CLEAD")] == [view["id"]]
    assert sb.violations == []


def test_trigger_id_expires_after_three_seconds(timed: tuple[SlackSandbox, WebClient], clock: FakeClock) -> None:
    sb, client = timed
    trigger = sb.issue_trigger_id("U0CLEAD")
    clock.advance(3.01)
    assert _error(lambda: client.views_open(trigger_id=trigger, view=_modal())) == "expired_trigger_id"
    fresh = sb.issue_trigger_id("U0CLEAD")
    clock.advance(2.9)
    assert client.views_open(trigger_id=fresh, view=_modal())["ok"]


def test_trigger_id_is_used_once(timed: tuple[SlackSandbox, WebClient]) -> None:
    sb, client = timed
    trigger = sb.issue_trigger_id("U0CLEAD")
    client.views_open(trigger_id=trigger, view=_modal())
    assert _error(lambda: client.views_open(trigger_id=trigger, view=_modal())) == "exchanged_trigger_id"
    assert _error(lambda: client.views_open(trigger_id="123.456.abc", view=_modal())) == "invalid_trigger_id"


def test_invalid_view_does_not_spend_the_trigger(timed: tuple[SlackSandbox, WebClient]) -> None:
    sb, client = timed
    trigger = sb.issue_trigger_id("U0CLEAD")
    too_many = _modal(blocks=[{"type": "divider"}] * 101)
    with pytest.raises(SlackApiError) as caught:
        client.views_open(trigger_id=trigger, view=too_many)
    assert caught.value.response["error"] == "invalid_arguments"
    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]
    assert client.views_open(trigger_id=trigger, view=_modal(blocks=[{"type": "divider"}] * 100))["ok"]


def test_view_too_large(timed: tuple[SlackSandbox, WebClient]) -> None:
    sb, client = timed
    huge = _modal(blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 99)
    assert _error(lambda: client.views_open(trigger_id=sb.issue_trigger_id("U0CLEAD"), view=huge)) == "view_too_large"


def test_views_update_hash_and_external_id(timed: tuple[SlackSandbox, WebClient]) -> None:
    sb, client = timed
    opened = client.views_open(trigger_id=sb.issue_trigger_id("U0CLEAD"), view=_modal(external_id="pulse-1"))["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=_modal(title="Loaded"))["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert updated["title"]["text"] == "Loaded"
    stale = lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=_modal(title="Again"))  # noqa: E731
    assert _error(stale) == "hash_conflict"
    by_external = client.views_update(external_id="pulse-1", view=_modal(title="By external id", external_id="pulse-1"))
    assert by_external["view"]["id"] == opened["id"]
    assert _error(lambda: client.views_update(view_id="V9999", view=_modal())) == "not_found"
    assert sb.views[opened["id"]]["title"]["text"] == "By external id"


def test_views_push_stack_limit(timed: tuple[SlackSandbox, WebClient]) -> None:
    sb, client = timed
    root = client.views_open(trigger_id=sb.issue_trigger_id("U0CLEAD"), view=_modal())["view"]
    second = client.views_push(trigger_id=sb.issue_trigger_id("U0CLEAD"), view=_modal(title="Two"))["view"]
    assert second["root_view_id"] == root["id"] and second["previous_view_id"] == root["id"]
    client.views_push(trigger_id=sb.issue_trigger_id("U0CLEAD"), view=_modal(title="Three"))
    fourth = lambda: client.views_push(trigger_id=sb.issue_trigger_id("U0CLEAD"), view=_modal(title="Four"))  # noqa: E731
    assert _error(fourth) == "push_limit_reached"
    assert [v["title"]["text"] for v in sb.open_views("U0CLEAD")] == ["Pulse", "Two", "Three"]


def test_views_publish_home_tab(timed: tuple[SlackSandbox, WebClient]) -> None:
    sb, client = timed
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Welcome"}}]}
    first = client.views_publish(user_id="U0CLEAD", view=home)["view"]
    again = client.views_publish(user_id="U0CLEAD", view=home, hash=first["hash"])["view"]
    assert again["id"] == first["id"]
    assert _error(lambda: client.views_publish(user_id="U0CLEAD", view=home, hash=first["hash"])) == "hash_conflict"
    stored = sb.home_view("U0CLEAD")
    assert stored is not None and stored["type"] == "home"
    assert _error(lambda: client.views_publish(user_id="U0CLEAD", view=_modal())) == "invalid_arguments"
    assert sb.violations == []


def test_modal_needs_submit_with_inputs(timed: tuple[SlackSandbox, WebClient]) -> None:
    sb, client = timed
    view = _modal(
        blocks=[
            {
                "type": "input",
                "block_id": "comment",
                "label": {"type": "plain_text", "text": "Comment"},
                "element": {"type": "plain_text_input", "action_id": "comment"},
            }
        ]
    )
    del view["submit"]
    assert _error(lambda: client.views_open(trigger_id=sb.issue_trigger_id("U0CLEAD"), view=view)) == "invalid_arguments"
