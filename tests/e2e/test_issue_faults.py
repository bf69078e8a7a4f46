"""Bad input and faults in the issue log: each gets a clear answer, and nothing is lost or doubled."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.harness import LocalStack
from bot.sandbox.block_input import build_view_state
from bot.sandbox.signed_requests import post_signed
from bot.services import issue_lifecycle
from bot.services.issue_models import IssueInput
from bot.services.partnership_models import Side
from storage.models import Action, Issue
from tests.conftest import START
from tests.helpers import (
    ACTION_CALLBACK,
    ISSUE_CALLBACK,
    card,
    cards,
    demo_channel,
    ephemeral_with,
    issue_values,
    log_issue,
    mrkdwn_texts,
    new_view,
    setup_partnership,
    thread,
    view_ids,
    view_submission_body,
    wait_for,
)


def _count(stack: LocalStack, model: Any) -> int:
    with stack.services.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _open_issue_form(stack: LocalStack, user_id: str, text: str = "issue") -> dict[str, Any]:
    before = view_ids(stack)
    stack.actor(user_id).slash_command("/partner", text, stack.world.channel)
    return new_view(stack, user_id, ISSUE_CALLBACK, before)


def _mrkdwn(message: dict[str, Any]) -> list[str]:
    """Every text Slack formats in a message: the fallback text and the mrkdwn of its blocks."""
    return [str(message.get("text", "")), *mrkdwn_texts(message.get("blocks"))]


def test_bad_input_is_shown_at_the_fields_and_stores_nothing(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    member = w.client_members[0]
    actor = stack.actor(member)
    view = _open_issue_form(stack, member)
    opened = len(stack.sandbox.calls_to("views.open"))
    # Slack's client enforces required fields and max_length, but a forged or replayed request need not.
    bad = actor.submit_view(view["id"], issue_values(stack, title="  ", details="x" * 3001, due_on="2026-11-29"), force=True)
    assert bad.json is not None and bad.json["response_action"] == "errors"
    errors = bad.json["errors"]
    assert set(errors) == {"title", "details", "due_on"}
    assert "write a title" in errors["title"] and "3,000" in errors["details"] and "in the past" in errors["due_on"]
    bad = actor.submit_view(view["id"], issue_values(stack, title="t" * 151, due_on="2029-01-01"), force=True)
    assert (
        bad.json is not None
        and set(bad.json["errors"]) == {"title", "due_on"}
        and "two years" in bad.json["errors"]["due_on"]
    )
    stack.settle()  # the lazy function runs after every submission, refused or not
    assert _count(stack, Issue) == 0
    assert len(stack.sandbox.calls_to("views.open")) == opened, "a refused form is not opened again"
    assert stack.sandbox.ephemerals(w.channel, user=member) == [], "the refusal shows in the form only"
    # 3,000 characters is allowed and round-trips.
    view = _open_issue_form(stack, member)
    ok = actor.submit_view(view["id"], issue_values(stack, details="é" * 3000, due_on="2026-11-30"))
    assert ok.status == 200 and not ok.body.strip()
    card(stack, 1)
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(Issue)).one().details == "é" * 3000

    # The action form checks its due date too.
    before = view_ids(stack)
    actor.slash_command("/partner", "action Check the job", w.channel)
    view = new_view(stack, member, ACTION_CALLBACK, before)
    bad = actor.submit_view(view["id"], {"owner_id": member, "due_on": "2026-11-01", "title": ""}, force=True)
    assert bad.json is not None and set(bad.json["errors"]) == {"title", "due_on"}
    assert "in the past" in bad.json["errors"]["due_on"]
    assert _count(stack, Action) == 0

    # The update form: something must change, and a comment fits in a message.
    before = view_ids(stack)
    actor.click(w.channel, card(stack, 1)["ts"], "issue-update")
    view = new_view(stack, member, "issue-update-submit", before)
    bad = actor.submit_view(view["id"], {})
    assert bad.json is not None and "Write a comment or choose a new status" in bad.json["errors"]["comment"]
    bad = actor.submit_view(view["id"], {"comment": "c" * 3001}, force=True)
    assert bad.json is not None and "3,000" in bad.json["errors"]["comment"]
    assert stack.sandbox.violations == []


def test_mention_injection_in_title_and_details_is_shown_escaped(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    evil_title = "<!channel> ticket for <@U0PLEAD>"
    evil_details = "<!here> open <https://evil.example|the survey> & <!subteam^S1|@all>"
    first = log_issue(stack, w.client_members[0], title=evil_title, details=evil_details)
    texts = _mrkdwn(first)
    joined = "\n".join(texts)
    assert "&lt;!channel&gt; ticket for &lt;@U0PLEAD&gt;" in joined
    assert "&lt;!here&gt; open &lt;https://evil.example|the survey&gt; &amp; &lt;!subteam^S1|@all&gt;" in joined
    for raw in ("<!channel>", "<!here>", "<@U0PLEAD>", "<https://evil", "<!subteam"):
        assert all(raw not in t for t in texts), raw
    assert first["blocks"][0]["text"]["type"] == "plain_text"  # the header shows it literally
    # A comment in the thread, and the list, are escaped the same way.
    before = view_ids(stack)
    stack.actor(w.client_members[1]).click(w.channel, first["ts"], "issue-update")
    view = new_view(stack, w.client_members[1], "issue-update-submit", before)
    stack.actor(w.client_members[1]).submit_view(view["id"], {"comment": "<!everyone> look"})
    line = wait_for(lambda: [m for m in thread(stack, first["ts"]) if "look" in json.dumps(m)], what="the comment")[0]
    assert "&lt;!everyone&gt; look" in "\n".join(_mrkdwn(line)) and all("<!everyone>" not in t for t in _mrkdwn(line))
    stack.actor(w.client_lead).slash_command("/partner", "issues", w.channel)
    listing = ephemeral_with(stack, w.client_lead, "Open issues")
    assert all("<!channel>" not in t for t in _mrkdwn(listing))
    for call in stack.sandbox.calls_to("chat.postMessage") + stack.sandbox.calls_to("chat.update"):
        assert not call.args.get("link_names") and call.args.get("parse") != "full"


def test_an_unknown_or_deactivated_owner_is_refused_and_the_form_comes_back(stack: LocalStack) -> None:
    w, sb = stack.world, stack.sandbox
    sb.add_user("U0PGONE", w.provider_team, "left.company", "Left Company", deleted=True)
    sb.join(w.channel, "U0PGONE")
    sb.add_user("U0COUT", w.client_team, "not.here", "Not Here")  # in Northwind, not in the channel
    setup_partnership(stack)
    member = w.client_members[0]
    for owner, reason in (("U0PGONE", "deactivated"), ("U0COUT", "must be someone in this channel")):
        view = _open_issue_form(stack, member)
        before = view_ids(stack)
        response = stack.actor(member).submit_view(view["id"], issue_values(stack, owner_id=owner, title=f"For {owner}"))
        assert response.status == 200 and not response.body.strip()  # nothing the form could know before saving
        again = new_view(stack, member, ISSUE_CALLBACK, before)
        assert reason in json.dumps(again["blocks"])
        inputs = {b["block_id"]: b["element"] for b in again["blocks"] if b.get("type") == "input"}
        assert inputs["title"]["initial_value"] == f"For {owner}" and inputs["owner_id"]["initial_user"] == owner
    # When the form can no longer be opened again (the trigger expired), the refusal comes as a message.
    view = _open_issue_form(stack, member)
    sb.trigger_ttl = 0.0
    stack.actor(member).submit_view(view["id"], issue_values(stack, owner_id="U0PGONE"))
    ephemeral_with(stack, member, "deactivated")
    assert _count(stack, Issue) == 0


def test_a_deleted_card_is_posted_again(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    first = log_issue(stack, w.client_members[0], title="Card with a thread")
    before = view_ids(stack)
    stack.actor(w.client_members[1]).click(w.channel, first["ts"], "issue-update")
    view = new_view(stack, w.client_members[1], "issue-update-submit", before)
    stack.actor(w.client_members[1]).submit_view(view["id"], {"comment": "Checking the job logs."})
    wait_for(lambda: thread(stack, first["ts"]), what="the comment in the thread")
    stack.services.client.chat_delete(channel=w.channel, ts=first["ts"])  # someone removed the card
    assert (sb.message(w.channel, first["ts"]) or {}).get("subtype") == "tombstone"  # its thread remains
    # The lead acknowledges it from the list; the card comes back, and the change goes in the new card's thread.
    stack.actor(w.client_lead).slash_command("/partner", "issues", w.channel)
    listing = ephemeral_with(stack, w.client_lead, "Open issues")
    ack = next(
        o["value"]
        for b in listing["blocks"]
        for o in (b.get("accessory") or {}).get("options", [])
        if o["text"]["text"] == "Acknowledge"
    )
    stack.actor(w.client_lead).click_ephemeral(w.channel, listing["ts"], "issue-menu", value=ack)
    ephemeral_with(stack, w.client_lead, "Issue #1 is acknowledged")
    again = card(stack, 1)
    assert again["ts"] != first["ts"] and "Acknowledged by" in json.dumps(again["blocks"])
    wait_for(lambda: any("acknowledged this issue" in json.dumps(m) for m in thread(stack, again["ts"])), what="history")
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(Issue)).one().card_ts == again["ts"]

    # A card without replies disappears entirely; the next escalation posts it again and threads under it.
    second = log_issue(stack, w.client_members[0], title="Card without a thread", severity="S1")
    stack.services.client.chat_delete(channel=w.channel, ts=second["ts"])
    assert sb.message(w.channel, second["ts"]) is None
    assert stack.tick(START.replace(hour=15)).escalations == 1  # level 1: the owner alone is nudged
    assert card(stack, 2)["ts"] != second["ts"]
    assert stack.tick(START.replace(hour=16)).escalations == 1  # level 2: in the channel, under the card
    reposted = card(stack, 2)
    assert reposted["ts"] != second["ts"]
    assert [m["text"][:24] for m in thread(stack, reposted["ts"])] == ["Escalation (level 2: lea"]
    assert len([c for c in cards(stack) if c["text"].startswith("Issue #2 ")]) == 1
    assert sb.violations == []


def test_the_same_submission_delivered_twice_logs_one_issue(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    member = w.client_members[0]
    view = _open_issue_form(stack, member, "issue Delivered twice")
    state = build_view_state(view, issue_values(stack))
    sb.set_view_state(view["id"], state)
    body = view_submission_body(stack, member, view, state)
    for _ in range(2):  # as a retrying network would, back to back
        response = post_signed(sb, body, "application/x-www-form-urlencoded", kind="view_submission", user_id=member)
        assert response.status == 200
    card(stack, 1)
    stack.settle()  # the second delivery's work has finished
    assert _count(stack, Issue) == 1 and len(cards(stack)) == 1


def test_a_list_longer_than_fifty_blocks_comes_in_pages(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    for n in range(1, 46):
        issue_lifecycle.log_issue(
            stack.services.uow_factory(),
            **demo_channel(w),
            actor=w.client_members[0],
            data=IssueInput(
                title=f"Issue number {n}",
                details="",
                severity="S3",
                category="Other",
                owning_side=Side.PROVIDER,
                owner_id=w.provider_members[0],
            ),
            request_key=f"bulk-{n}",
            now=START,
        )
    lead = w.client_lead
    stack.actor(lead).slash_command("/partner", "issues all", w.channel)
    first = ephemeral_with(stack, lead, "All issues")
    issue_blocks = [b for b in first["blocks"] if (b.get("accessory") or {}).get("type") == "overflow"]
    assert len(first["blocks"]) <= 50 and len(issue_blocks) == 40
    assert "*#45* Issue number 45" in issue_blocks[0]["text"]["text"]
    assert "list-more" in json.dumps(first["blocks"])
    stack.actor(lead).click_ephemeral(w.channel, first["ts"], "list-more")
    second = ephemeral_with(stack, lead, "from number 41")
    rest = [b for b in second["blocks"] if (b.get("accessory") or {}).get("type") == "overflow"]
    assert [b["text"]["text"].split("\n")[0] for b in rest] == [f"*#{n}* Issue number {n}" for n in range(5, 0, -1)]
    assert "list-more" not in json.dumps(second["blocks"])
    assert sb.violations == []


def test_only_the_owner_or_a_lead_acknowledges_or_reassigns(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    first = log_issue(stack, w.client_members[0])
    bystander, owner = w.client_members[2], w.provider_members[0]
    stack.actor(bystander).click(w.channel, first["ts"], "issue-acknowledge")
    refusal = ephemeral_with(stack, bystander, "Only the issue")
    assert f"Only the issue's owner (<@{owner}>) or a lead can acknowledge it." in json.dumps(refusal)
    before = view_ids(stack)
    stack.actor(bystander).click(w.channel, first["ts"], "issue-reassign")
    view = new_view(stack, bystander, "issue-reassign-submit", before)
    same = stack.actor(bystander).submit_view(view["id"], {})  # the form starts with the current owner
    assert same.json is not None and "already owns" in same.json["errors"]["owner_id"]
    stack.actor(bystander).submit_view(view["id"], {"owner_id": bystander})
    wait_for(lambda: len([m for m in sb.ephemerals(w.channel, user=bystander) if "Only the issue" in json.dumps(m)]) == 2)
    # The lead hands it to the client side: the owning side (and its working hours) follow the new owner.
    before = view_ids(stack)
    stack.actor(w.client_lead).click(w.channel, first["ts"], "issue-reassign")
    view = new_view(stack, w.client_lead, "issue-reassign-submit", before)
    stack.actor(w.client_lead).submit_view(view["id"], {"owner_id": w.client_members[1]})
    wait_for(
        lambda: (
            f"<@{w.client_members[1]}> · Northwind Retail (client)"
            in json.dumps(sb.message(w.channel, first["ts"]), ensure_ascii=False)
        ),
        what="the new owner on the card",
    )
    wait_for(
        lambda: any("now owned by Northwind Retail" in json.dumps(m) for m in thread(stack, first["ts"])), what="history"
    )
    # Anyone may bring it to the next level now: level 1 goes to the owner alone (ours: a message from the app).
    stack.actor(bystander).click(w.channel, first["ts"], "issue-escalate")
    owner_dm = sb.dm_channel(w.client_members[1])
    wait_for(lambda: any("is waiting for you" in m["text"] for m in sb.messages(owner_dm)), what="escalated")
    assert not any(m["text"].startswith("Escalation (") for m in thread(stack, first["ts"]))
    assert "Acknowledged" not in json.dumps(sb.message(w.channel, first["ts"]))
    assert sb.violations == []
