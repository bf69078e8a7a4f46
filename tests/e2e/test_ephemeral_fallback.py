"""An ephemeral Slack refuses with ``user_not_in_channel`` reaches the person as a message from the app (check 22).

The outbox's personal messages are tested in tests/unit/test_issue_delivery.py; this is a reply to a request: the
confirmation of a submitted form, which goes to the partnership's channel as an ephemeral.
"""

from __future__ import annotations

import json

from bot.harness import LocalStack
from tests.conftest import START
from tests.helpers import ANSWER_CALLBACK, latest_pulse, open_view, setup_partnership, wait_for

PULSE_AT = START.replace(hour=14, minute=0)


def test_22_a_reply_to_someone_who_left_the_channel_arrives_as_a_direct_message(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    assert stack.tick(PULSE_AT).opened == 1
    person = w.client_members[0]  # of the installing organisation: the app can message them
    stack.actor(person).click(w.channel, latest_pulse(stack)["ts"], "pulse-answer")
    view = open_view(stack, person, ANSWER_CALLBACK)
    # The person leaves with the form open (no event reaches the bot: still a member on record, so the answer counts).
    sb.leave(w.channel, person)
    sb.clear_calls()
    scores = {b["block_id"]: "4" for b in view["blocks"] if str(b.get("block_id", "")).startswith("score-")}
    assert stack.actor(person).submit_view(view["id"], scores).status == 200
    dm = sb.dm_channel(person)
    [thanks] = wait_for(lambda: sb.messages(dm), what="the confirmation as a direct message")
    stack.settle()
    assert "Thank you, your answers" in json.dumps(thanks)
    refused = [c for c in sb.calls_to("chat.postEphemeral") if c.args.get("user") == person]
    assert [c.response.get("error") for c in refused] == ["user_not_in_channel"]
    assert sb.ephemerals(w.channel, user=person) == []
    assert not any("went wrong" in json.dumps(m) for m in sb.messages(dm))
