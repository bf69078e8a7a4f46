"""People acting in the demo through the sandbox: answering the pulse, submitting forms, and finding the messages
they see (cards, threads, ephemerals), waiting for the bot to react."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.demo_story import Json
from bot.harness import LocalStack
from bot.services import partnerships
from bot.services.pulse_models import DIMENSION_LABELS


def wait_for_bot(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "the bot to react") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def find_one(search: Callable[[], list[Json]], what: str) -> Json:
    """The last item ``search`` returns, waiting until there is one."""
    found: list[Json] = []

    def look() -> bool:
        found[:] = search()
        return bool(found)

    wait_for_bot(look, what=what)
    return found[-1]


def answer_pulse(
    stack: LocalStack,
    user_id: str,
    score: int,
    comment: str | None,
    rng: random.Random,
    *,
    reminder: Json | None = None,
    by_dimension: Mapping[str, int] | None = None,
) -> None:
    """Click Answer (on the pulse, or on the reminder: a direct message or an ephemeral), submit the modal like a person
    would, and wait until the bot confirms the answers are recorded (saving happens after the modal closes).

    A question on a dimension in ``by_dimension`` (known by the label the form shows under it) gets that score as
    it is; the others ``score`` give or take one."""
    fixed = {DIMENSION_LABELS[d]: s for d, s in (by_dimension or {}).items()}
    sb, channel = stack.sandbox, stack.world.channel
    actor = stack.actor(user_id)
    seen = {v["id"] for v in sb.open_views(user_id)}
    if reminder is not None and reminder.get("dm_channel"):
        actor.click(str(reminder["dm_channel"]), str(reminder["ts"]), "pulse-answer")
    elif reminder is not None:
        actor.click_ephemeral(channel, str(reminder["ts"]), "pulse-answer")
    else:
        pulse = next(m for m in reversed(sb.messages(channel)) if "pulse-answer" in str(m.get("blocks")))
        actor.click(channel, pulse["ts"], "pulse-answer")
    view = find_one(
        lambda: [v for v in sb.open_views(user_id) if v.get("callback_id") == "pulse-answer-submit" and v["id"] not in seen],
        "the answer form",
    )
    values: dict[str, object] = {}
    for block in view["blocks"]:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith("score-"):
            nps = block["element"]["type"] == "static_select"
            value = max(1, min(5, score + rng.choice((-1, 0, 0, 1))))
            value = fixed.get(str((block.get("hint") or {}).get("text", "")), value)
            values[block_id] = str(value * 2 if nps else value)
    if comment:
        first = next(b for b in values)
        values["comment-" + first.removeprefix("score-")] = comment
    notes_before = len(sb.ephemerals(channel, user=user_id))
    response = actor.submit_view(view["id"], values)
    if response.status != 200:
        raise RuntimeError(f"answer submission failed: {response.status} {response.body}")
    note = find_one(lambda: ephemerals_since(stack, user_id, notes_before), "the bot to confirm the answers")
    if "Thank you, your answers" not in str(note.get("text")):
        raise RuntimeError(f"the answers of {user_id} were not recorded: {note.get('text')}")


def submit_new_view(stack: LocalStack, user_id: str, callback_id: str, seen: set[str], values: dict[str, object]) -> None:
    """Wait for the modal the bot opens for ``user_id`` and submit it like a person would."""
    sb = stack.sandbox
    view = find_one(
        lambda: [v for v in sb.open_views(user_id) if v.get("callback_id") == callback_id and v["id"] not in seen],
        f"the {callback_id} form",
    )
    response = stack.actor(user_id).submit_view(view["id"], values)
    if response.status != 200 or response.body.strip():
        raise RuntimeError(f"{callback_id} was refused: {response.status} {response.body}")


def log_issue(stack: LocalStack, user_id: str, title: str, details: str, severity: str, owner_id: str) -> None:
    """``user_id`` logs a timeliness issue for the provider side: ``/partner issue <title>``, then the form."""
    seen = set(stack.sandbox.views)
    stack.actor(user_id).slash_command("/partner", f"issue {title}", stack.world.channel)
    values: dict[str, object] = {"title": title, "details": details, "severity": severity, "category": "Timeliness"}
    values |= {"owning_side": "provider", "owner_id": owner_id}
    submit_new_view(stack, user_id, "issue-log-submit", seen, values)


def issue_card(stack: LocalStack, number: int) -> Json:
    sb, channel = stack.sandbox, stack.world.channel
    return find_one(
        lambda: [
            m
            for m in sb.messages(channel, include_thread_replies=False)
            if str(m.get("text", "")).startswith(f"Issue #{number} ")
        ],
        f"the card of issue #{number}",
    )


def thread_of(stack: LocalStack, ts: str) -> list[Json]:
    return [m for m in stack.sandbox.messages(stack.world.channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def replies_with(stack: LocalStack, ts: str, text: str) -> list[Json]:
    return [m for m in thread_of(stack, ts) if text in str(m)]


def ephemerals_since(stack: LocalStack, user_id: str, count: int) -> list[Json]:
    """The ephemerals a user got after the first ``count``."""
    return stack.sandbox.ephemerals(stack.world.channel, user=user_id)[count:]


def newest_message(stack: LocalStack, text: str) -> Json:
    """The newest top-level channel message whose JSON contains ``text`` (waiting for it)."""
    return find_one(
        lambda: [m for m in stack.sandbox.messages(stack.world.channel, include_thread_replies=False) if text in str(m)],
        f"a message with {text!r}",
    )


def newest_ephemeral(stack: LocalStack, user_id: str, text: str) -> Json:
    return find_one(
        lambda: [m for m in stack.sandbox.ephemerals(stack.world.channel, user=user_id) if text in str(m)],
        f"an ephemeral message with {text!r}",
    )


def scheduled_pulse_at(stack: LocalStack) -> datetime:
    w = stack.world
    p = partnerships.get_partnership(stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
    assert p is not None and p.next_pulse_at is not None
    return p.next_pulse_at


def person_named(name: str) -> str:
    """``name``'s, as English writes it."""
    return name + ("'" if name.endswith("s") else "'s")


def next_monday_noon(today: datetime) -> datetime:
    days = (7 - today.weekday()) % 7 or 7
    return (today + timedelta(days=days)).replace(hour=12, minute=0, second=0, microsecond=0)
