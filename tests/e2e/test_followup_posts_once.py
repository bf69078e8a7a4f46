"""Issue 12, item 9: the blameless follow-up's thread posts appear once each.

The demo showed the provider's suggestion and the "added an action" note twice in the issue's thread. Cause: a
sender claims outbox rows in a batch, then each row waits its turn (one message a second per channel); a row that
waited longer than the claim's lease was taken over by the heartbeat's sender as abandoned and posted by both. The
gated pacer below holds the first sender at exactly that point while the heartbeat runs days later.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.delivery.pacer import Pacer
from bot.harness import LocalStack, start_local_stack
from bot.sandbox.block_input import build_view_state
from bot.sandbox.signed_requests import post_signed
from tests.conftest import START
from tests.helpers import log_issue, new_view, setup_partnership, thread, view_ids, wait_for


class GatedPacer(Pacer):
    """Slack's pacing, plus a gate that holds post-ack senders' channel messages while it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False
        self.holding = threading.Event()
        self.opened = threading.Event()

    def close(self) -> None:
        self.closed = True
        self.holding.clear()
        self.opened.clear()

    def open(self) -> None:
        self.closed = False
        self.opened.set()

    def wait(self, method: str, workspace: str, channel: str) -> float:
        if self.closed and method == "chat.postMessage" and threading.current_thread() is not threading.main_thread():
            self.holding.set()
            self.opened.wait(30)
        return super().wait(method, workspace, channel)


@pytest.fixture
def gated(database_url: str) -> Iterator[tuple[LocalStack, GatedPacer]]:
    pacer = GatedPacer()
    s = start_local_stack(database_url=database_url, start=START, pacer=pacer)
    try:
        yield s, pacer
    finally:
        pacer.open()
        s.close()


def _posts(stack: LocalStack, card_ts: str, text: str) -> int:
    return sum(1 for m in thread(stack, card_ts) if text in json.dumps(m, ensure_ascii=False))


def _overtaken(stack: LocalStack, pacer: GatedPacer, days: int, act: Any) -> None:
    """Do ``act`` while its post waits its turn, run the heartbeat ``days`` later meanwhile, then let it go on."""
    pacer.close()
    act()
    assert pacer.holding.wait(30), "the post-ack sender reached its post"
    stack.tick(START + timedelta(days=days))  # finds the row in 'sending' since days ago: abandoned, it seems
    pacer.open()
    stack.settle()


def _submission(stack: LocalStack, user_id: str, view: dict[str, Any], values: dict[str, Any]) -> str:
    """The body of a view_submission of ``view`` with ``values``, as Slack would send it (and resend it)."""
    sb = stack.sandbox
    user = sb.snapshot_user(user_id)
    team_id, _, _ = sb.installation()
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": sb.snapshot_team(team_id).domain},
        "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id},
        "api_app_id": sb.app_id,
        "token": sb.verification_token,
        "trigger_id": sb.issue_trigger_id(user_id),
        "view": {**{k: v for k, v in view.items() if k != "user_id"}, "state": {"values": build_view_state(view, values)}},
        "response_urls": [],
        "is_enterprise_install": False,
    }
    return urlencode({"payload": json.dumps(payload)})


def test_follow_up_posts_go_once_even_when_the_heartbeat_overtakes_the_sender(
    gated: tuple[LocalStack, GatedPacer],
) -> None:
    stack, pacer = gated
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    card = log_issue(stack, w.client_members[0], severity="S3")
    owner, client_person, provider_person = w.provider_members[0], w.client_members[1], w.provider_members[1]
    before = view_ids(stack)
    stack.actor(owner).click(w.channel, card["ts"], "issue-resolve")
    stack.actor(owner).submit_view(new_view(stack, owner, "issue-resolve-submit", before)["id"], {"comment": "Fixed."})
    question = wait_for(
        lambda: next((m for m in thread(stack, card["ts"]) if "followup-sides" in json.dumps(m)), None),
        what="the follow-up question",
    )

    before = view_ids(stack)
    stack.actor(client_person).click(w.channel, question["ts"], "followup-contribute-client")
    view = new_view(stack, client_person, "followup-add-submit", before)
    stack.actor(client_person).submit_view(view["id"], {"text": "We send the data extract by the 25th."})
    contribution = wait_for(
        lambda: next((m for m in thread(stack, card["ts"]) if "data extract" in json.dumps(m)), None),
        what="the client's contribution",
    )
    stack.settle()

    # The provider's suggestion: its post waits its turn while the heartbeat runs four days later.
    before = view_ids(stack)
    stack.actor(provider_person).click(w.channel, question["ts"], "followup-contribute-provider")
    view = new_view(stack, provider_person, "followup-add-submit", before)
    values = {"text": "We alert the client when the job runs late."}
    body = _submission(stack, provider_person, view, values)
    _overtaken(stack, pacer, 4, lambda: stack.actor(provider_person).submit_view(view["id"], values))
    assert _posts(stack, card["ts"], "We alert the client when the job runs late.") == 1

    # The action made from the client's suggestion: the same race, four days further on.
    _overtaken(
        stack, pacer, 8, lambda: stack.actor(client_person).click(w.channel, contribution["ts"], "followup-to-action")
    )
    assert _posts(stack, card["ts"], "added an action") == 1

    # Retried requests with the same payload (a network that resends, a second click) post nothing more.
    for _ in range(2):
        response = post_signed(
            sb, body, "application/x-www-form-urlencoded", kind="view_submission", user_id=provider_person
        )
        assert response.status == 200
        stack.actor(client_person).click(w.channel, contribution["ts"], "followup-to-action")
    stack.settle()
    stack.services.sender.deliver_pending()
    assert _posts(stack, card["ts"], "We alert the client when the job runs late.") == 1
    assert _posts(stack, card["ts"], "added an action") == 1
    assert _posts(stack, card["ts"], "We send the data extract by the 25th.") == 2  # the suggestion, the action note
    assert sb.violations == []
