"""Helpers for driving the bot through the sandbox like people would."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from bot.container import Services
from bot.harness import LocalStack
from bot.kpi_api import VALUES_PATH
from bot.sandbox import DemoWorld
from bot.services.partnership_models import SlackProfile
from bot.services.pulse_models import AnswerInput

T = TypeVar("T")
SETUP_CALLBACK = "setup-submit"
ANSWER_CALLBACK = "pulse-answer-submit"


#: How long a test waits for the bot to react before failing. Only a failing test waits this long: every wait
#: polls its condition and returns as soon as it holds, so a loaded machine (CI, 450 profiles to fetch) is never
#: mistaken for a bug.
SETTLE_TIMEOUT = 30.0


def wait_for(predicate: Callable[[], T], timeout: float = SETTLE_TIMEOUT, what: str = "condition") -> T:
    """Poll until ``predicate`` returns something truthy (listeners finish after the ack)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def all_at_once(count: int, call: Callable[[], T], timeout: float = SETTLE_TIMEOUT) -> list[T]:
    """Run ``call`` on ``count`` threads released together (a barrier); their results, in the order they finished.
    A call that raised fails the test with its exception."""
    start = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        start.wait()
        try:
            result = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            with lock:
                errors.append(exc)
            return
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    assert len(results) == count, "a thread did not finish in time"
    return results


def open_view(stack: LocalStack, user_id: str, callback_id: str, timeout: float = SETTLE_TIMEOUT) -> dict[str, Any]:
    """The user's open modal with this callback id, once the bot has opened it."""

    def find() -> dict[str, Any] | None:
        views = [v for v in stack.sandbox.open_views(user_id) if v.get("callback_id") == callback_id]
        return views[-1] if views else None

    return wait_for(find, timeout, f"{callback_id} modal for {user_id}")


def demo_channel(w: DemoWorld) -> dict[str, str]:
    """The demo world's shared channel and the installing (client's) workspace, as a service call names them."""
    return {"team_id": w.client_team, "channel_id": w.channel}


def setup_form_values(w: DemoWorld, **overrides: Any) -> dict[str, Any]:
    """What the client lead fills in the setup form for the demo world's partnership, with ``overrides``."""
    values: dict[str, Any] = {
        "name": "Northwind service desk",
        "client_org": "Northwind Retail",
        "provider_org": "Contoso Services",
        "provider_leads": [w.provider_lead],
        "client_sponsors": [w.client_sponsor],
        "provider_sponsors": [w.provider_sponsor],
        "timezone": "America/New_York",
    }
    return values | overrides


def setup_partnership(stack: LocalStack, **overrides: Any) -> None:
    """The client lead runs /partner setup in the Connect channel and saves the form."""
    w = stack.world
    lead = stack.actor(w.client_lead)
    before = len(stack.sandbox.messages(w.channel))
    response = lead.slash_command("/partner", "setup", w.channel)
    assert response.status == 200, response.body
    view = open_view(stack, w.client_lead, SETUP_CALLBACK)
    response = lead.submit_view(view["id"], setup_form_values(w, **overrides))
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


def assert_comment_refused_in_the_form(stack: LocalStack, user_id: str, comment: str) -> None:
    """The answer form, submitted anyway (as a forged or replayed request may be) with ``comment`` on the first
    question, comes back with the form's error on that comment: the 3,000-character limit."""
    refused = answer_pulse(stack, user_id, 3, {0: comment}, force=True)
    assert refused["json"]["response_action"] == "errors"
    ((block, message),) = refused["json"]["errors"].items()
    assert block.startswith("comment-") and "3,000" in message


# --- the issue log (issue 3) ------------------------------------------------------------------------------

ISSUE_CALLBACK = "issue-log-submit"
ACTION_CALLBACK = "action-add-submit"


def reply_texts(stack: LocalStack) -> list[str]:
    """Every ephemeral reply the bot sent through a response_url, as JSON text."""
    import json

    return [json.dumps(p.body) for p in stack.sandbox.response_url_posts]


def ephemeral_texts(stack: LocalStack, user_id: str) -> list[str]:
    """Every ephemeral message (chat.postEphemeral or response_url) shown to ``user_id`` in the joint channel."""
    import json

    return [json.dumps(m) for m in stack.sandbox.ephemerals(stack.world.channel, user=user_id)]


def new_view(
    stack: LocalStack, user_id: str, callback_id: str, before: set[str], timeout: float = SETTLE_TIMEOUT
) -> dict[str, Any]:
    """A modal with this callback id opened for the user since ``before`` (ids of views seen earlier)."""

    def find() -> dict[str, Any] | None:
        views = [
            v for v in stack.sandbox.open_views(user_id) if v.get("callback_id") == callback_id and v["id"] not in before
        ]
        return views[-1] if views else None

    return wait_for(find, timeout, f"a new {callback_id} modal for {user_id}")


def view_ids(stack: LocalStack) -> set[str]:
    return set(stack.sandbox.views)


def issue_values(stack: LocalStack, **overrides: Any) -> dict[str, Any]:
    """A valid issue form: S2 timeliness issue owned by the first provider member, no due date."""
    values: dict[str, Any] = {
        "title": "Month-end report arrived late",
        "details": "The November report came two days after the agreed date.",
        "severity": "S2",
        "category": "Timeliness",
        "owning_side": "provider",
        "owner_id": stack.world.provider_members[0],
    }
    values.update(overrides)
    return values


def cards(stack: LocalStack) -> list[dict[str, Any]]:
    """Issue cards in the joint channel (top-level messages with the card's buttons), oldest first."""
    return [
        m
        for m in stack.sandbox.messages(stack.world.channel, include_thread_replies=False)
        if "issue-actions" in str(m.get("blocks"))
    ]


def card(stack: LocalStack, number: int, timeout: float = SETTLE_TIMEOUT) -> dict[str, Any]:
    """The card of issue ``number`` once it is in the channel."""

    def find() -> dict[str, Any] | None:
        found = [m for m in cards(stack) if str(m.get("text", "")).startswith(f"Issue #{number} ")]
        return found[-1] if found else None

    return wait_for(find, timeout, f"the card of issue #{number}")


def thread(stack: LocalStack, ts: str) -> list[dict[str, Any]]:
    """Replies in a message's thread, oldest first."""
    return [m for m in stack.sandbox.messages(stack.world.channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def log_issue(stack: LocalStack, user_id: str, title: str = "", **overrides: Any) -> dict[str, Any]:
    """``/partner issue <title>``, then fill and submit the form. Returns the card (the issue is the newest)."""
    before = view_ids(stack)
    before_cards = len(cards(stack))
    response = stack.actor(user_id).slash_command("/partner", f"issue {title}".strip(), stack.world.channel)
    assert response.status == 200 and not response.body.strip(), response.body
    view = new_view(stack, user_id, ISSUE_CALLBACK, before)
    values = issue_values(stack, **overrides)
    if title:  # what the person finally typed in the form
        values["title"] = title
    submitted = stack.actor(user_id).submit_view(view["id"], values)
    assert submitted.status == 200 and not submitted.body.strip(), submitted.body
    wait_for(lambda: len(cards(stack)) > before_cards, what="the new card")
    card = cards(stack)[-1]
    # The card is in the channel as soon as Slack has it; its ts is recorded a moment later by the worker that
    # posted it. Wait for that too, so a test that travels in time next starts from a settled stack (an update
    # rendered before the ts is recorded would find no card to update).
    wait_for(lambda: _card_recorded(stack, str(card["ts"])), what="the new card's ts recorded")
    return card


def _card_recorded(stack: LocalStack, ts: str) -> bool:
    from sqlalchemy import select

    from storage.models import Issue

    with stack.services.uow_factory() as uow:
        return uow.session.scalar(select(Issue.id).where(Issue.card_ts == ts)) is not None


def answer_open_round(
    stack: LocalStack, user_ids: Sequence[str], score: int, *, now: Any, comment: str | None = None
) -> int:
    """Answer the channel's open round for each person through the service layer (a synthetic round: faster than
    driving each answer modal). Every question gets ``score`` (twice it, at most 10, for the NPS question) and
    ``comment``."""
    from bot.services import pulses

    w, services = stack.world, stack.services
    round_id = pulses.open_round_id(services.uow_factory(), **demo_channel(w))
    for user_id in user_ids:
        profile = services.directory.profile(user_id)
        form = pulses.answer_form(
            services.uow_factory(), round_id=round_id, profile=profile, secret_key=services.secret_key, now=now
        )
        answers = [
            AnswerInput(q.id, min(10, score * 2) if q.kind == "nps" else score, comment) for q in form.round.questions
        ]
        submit_as(services, profile, round_id, answers, now=now)
    return round_id


def submit_as(services: Services, profile: SlackProfile, round_id: int, answers: list[AnswerInput], *, now: Any) -> None:
    """The person's answers to the round, submitted through the service layer with the services' secret key."""
    from bot.services import pulses

    pulses.submit_answers(
        services.uow_factory(), round_id=round_id, profile=profile, answers=answers, secret_key=services.secret_key, now=now
    )


def mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text in a tree of blocks (dicts and lists, as Slack gets them), in reading order."""
    if isinstance(node, dict):
        own = [str(node.get("text"))] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


def view_submission_body(stack: LocalStack, user_id: str, view: dict[str, Any], state: dict[str, Any]) -> str:
    """The form-encoded request Slack sends when ``user_id`` (of the client's workspace) submits ``view`` filled
    in with ``state``: to post it by hand, more than once."""
    w, sb = stack.world, stack.sandbox
    public = {k: v for k, v in view.items() if k != "user_id"}
    payload = {
        "type": "view_submission",
        "team": {"id": w.client_team, "domain": "northwind"},
        "user": {"id": user_id, "username": "maya.chen", "name": "maya.chen", "team_id": w.client_team},
        "api_app_id": sb.app_id,
        "token": sb.verification_token,
        "trigger_id": sb.issue_trigger_id(user_id),
        "view": {**public, "state": {"values": state}},
        "response_urls": [],
        "is_enterprise_install": False,
    }
    return urlencode({"payload": json.dumps(payload)})


# --- messages and form answers, found by their text (the review features' tests) -------------------------------------


def dumps(value: Any) -> str:
    """A message or block as JSON text, for looking for words in it."""
    return json.dumps(value, ensure_ascii=False)


def ephemeral_with(stack: LocalStack, user_id: str, text: str, times: int = 1) -> dict[str, Any]:
    """The newest ephemeral message for the user containing ``text``, once there are ``times`` of them."""

    def find() -> dict[str, Any] | None:
        found = [m for m in stack.sandbox.ephemerals(stack.world.channel, user=user_id) if text in dumps(m)]
        return found[-1] if len(found) >= times else None

    return wait_for(find, what=f"an ephemeral {text!r} for {user_id}")


def channel_messages_with(stack: LocalStack, text: str) -> list[dict[str, Any]]:
    """The joint channel's top-level messages containing ``text``."""
    return [m for m in stack.sandbox.messages(stack.world.channel, include_thread_replies=False) if text in dumps(m)]


def menus_posted(stack: LocalStack) -> int:
    """How many partnership menus the joint channel shows."""
    return sum("menu-pulse-now" in str(m.get("blocks")) for m in stack.sandbox.messages(stack.world.channel))


def partner_command(stack: LocalStack, user_id: str, text: str) -> Any:
    """``/partner text`` in the joint channel; the response (acknowledged)."""
    response = stack.actor(user_id).slash_command("/partner", text, stack.world.channel)
    assert response.status == 200, response.body
    return response


def form_errors(response: Any) -> dict[str, str]:
    """The field errors a modal submission was refused with."""
    body = response.json or {}
    assert body.get("response_action") == "errors", response.body
    return dict(body["errors"])


def post_kpi_values(
    stack: LocalStack, body: bytes, *, token: str | None, content_type: str = "application/json", method: str = "POST"
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """``body`` sent to ``POST /api/v1/kpis/values`` of the stack's HTTP server with ``token`` as its bearer: the
    status, the JSON answer and the headers (names in lower case)."""
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(stack.base_url + VALUES_PATH, data=body, headers=headers, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as answer:
            return int(answer.status), json.loads(answer.read()), {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read()), {k.lower(): v for k, v in error.headers.items()}


def open_kpi_proposal_from_menu(stack: LocalStack, user_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The client lead posts the menu; ``user_id`` opens the (empty) KPI ledger from its "KPIs" button and the
    proposal form from the ledger: (the menu message, the form's view)."""
    w = stack.world
    partner_command(stack, w.client_lead, "menu")
    menu = wait_for(lambda: next(iter(channel_messages_with(stack, "menu-everyone")), None), what="the menu")
    stack.actor(user_id).click(w.channel, menu["ts"], "menu-kpis")
    empty = ephemeral_with(stack, user_id, "No KPIs yet")
    before = view_ids(stack)
    stack.actor(user_id).click_ephemeral(w.channel, empty["ts"], "kpi-propose")
    return menu, new_view(stack, user_id, "kpi-propose-submit", before)
