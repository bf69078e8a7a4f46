"""Helpers for driving the bot through the sandbox like people would."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from bot.harness import LocalStack

T = TypeVar("T")
SETUP_CALLBACK = "setup-submit"
ANSWER_CALLBACK = "pulse-answer-submit"


def wait_for(predicate: Callable[[], T], timeout: float = 5.0, what: str = "condition") -> T:
    """Poll until ``predicate`` returns something truthy (listeners finish after the ack)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def open_view(stack: LocalStack, user_id: str, callback_id: str, timeout: float = 5.0) -> dict[str, Any]:
    """The user's open modal with this callback id, once the bot has opened it."""

    def find() -> dict[str, Any] | None:
        views = [v for v in stack.sandbox.open_views(user_id) if v.get("callback_id") == callback_id]
        return views[-1] if views else None

    return wait_for(find, timeout, f"{callback_id} modal for {user_id}")


def setup_partnership(stack: LocalStack, **overrides: Any) -> None:
    """The client lead runs /partner setup in the Connect channel and saves the form."""
    w = stack.world
    lead = stack.actor(w.client_lead)
    before = len(stack.sandbox.messages(w.channel))
    response = lead.slash_command("/partner", "setup", w.channel)
    assert response.status == 200, response.body
    view = open_view(stack, w.client_lead, SETUP_CALLBACK)
    values: dict[str, Any] = {
        "name": "Northwind service desk",
        "client_org": "Northwind Retail",
        "provider_org": "Contoso Services",
        "provider_leads": [w.provider_lead],
        "client_sponsors": [w.client_sponsor],
        "provider_sponsors": [w.provider_sponsor],
        "timezone": "America/New_York",
    }
    values.update(overrides)
    response = lead.submit_view(view["id"], values)
    assert response.status == 200 and not response.body.strip(), response.body
    # The setup confirmation and the partnership menu.
    wait_for(lambda: len(stack.sandbox.messages(w.channel)) >= before + 2, what="setup messages")
    wait_for(lambda: stack.sandbox.pins(w.channel), what="the pinned menu")


def latest_pulse(stack: LocalStack) -> dict[str, Any]:
    """The newest channel message carrying an Answer button."""
    for message in reversed(stack.sandbox.messages(stack.world.channel)):
        if "pulse-answer" in str(message.get("blocks")):
            return message
    raise AssertionError("no pulse message in the channel")


def answer_pulse(
    stack: LocalStack,
    user_id: str,
    scores: Sequence[int] | int,
    comments: Mapping[int, str] | None = None,
    *,
    message: dict[str, Any] | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Click Answer on the pulse, fill every question (score per question, optional comments), submit.

    Returns the ActorResponse JSON (None when the modal closed) wrapped with the view that was submitted.
    """
    pulse = message or latest_pulse(stack)
    actor = stack.actor(user_id)
    before = {v["id"] for v in stack.sandbox.open_views(user_id) if v.get("callback_id") == ANSWER_CALLBACK}
    actor.click(stack.world.channel, pulse["ts"], "pulse-answer")

    def new_view() -> dict[str, Any] | None:
        views = [
            v for v in stack.sandbox.open_views(user_id) if v.get("callback_id") == ANSWER_CALLBACK and v["id"] not in before
        ]
        return views[-1] if views else None

    view = wait_for(new_view, what=f"answer modal for {user_id}")
    score_blocks = [b["block_id"] for b in view["blocks"] if str(b.get("block_id", "")).startswith("score-")]
    values: dict[str, Any] = {}
    for i, block_id in enumerate(score_blocks):
        element = next(b["element"] for b in view["blocks"] if b.get("block_id") == block_id)
        score = scores if isinstance(scores, int) else scores[i]
        if element["type"] == "static_select":  # the NPS question, 0..10
            score = min(10, score * 2)
        values[block_id] = str(score)
        if comments and i in comments:
            values["comment-" + block_id.removeprefix("score-")] = comments[i]
    response = actor.submit_view(view["id"], values, force=force)
    return {"status": response.status, "json": response.json, "view": view}
