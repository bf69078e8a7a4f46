"""The issue log end to end through the sandbox: logging (command, message shortcut, menu button), the card and
its buttons, the blameless follow-up, actions and the policy. Signed requests over HTTP to the real app."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.harness import LocalStack
from storage.models import Action, EscalationPolicyRow, Issue, Partnership
from tests.helpers import (
    ACTION_CALLBACK,
    ISSUE_CALLBACK,
    card,
    cards,
    ephemeral_texts,
    ephemeral_with,
    issue_values,
    log_issue,
    new_view,
    setup_partnership,
    thread,
    view_ids,
    wait_for,
)
from tests.unit_support import second_partnership


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _count(stack: LocalStack, model: Any, *where: Any) -> int:
    with stack.services.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}


def _menu(stack: LocalStack) -> dict[str, Any]:
    return next(m for m in stack.sandbox.messages(stack.world.channel) if "menu-log-issue" in _dumps(m.get("blocks")))


def _in_thread(stack: LocalStack, ts: str, text: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next((m for m in thread(stack, ts) if text in _dumps(m)), None)

    return wait_for(find, what=f"{text!r} in the card's thread")


def _option_value(message: dict[str, Any], label: str, contains: str = "") -> str:
    """The value of the overflow option ``label`` in the block whose text contains ``contains``."""
    for block in message.get("blocks") or []:
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "overflow" and contains in _dumps(block.get("text")):
            for option in accessory["options"]:
                if option["text"]["text"] == label:
                    return str(option["value"])
    raise AssertionError(f"no overflow option {label!r} near {contains!r}")


def test_log_by_command_numbers_issues_per_partnership_and_updates_the_card_in_place(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    member, owner = w.client_members[0], w.provider_members[0]
    before = view_ids(stack)
    # Slack escapes &, < and > in a command's text (should_escape); the form shows what the person typed.
    stack.actor(member).slash_command("/partner", "issue Month-end report &lt;late&gt; &amp; incomplete", w.channel)
    view = new_view(stack, member, ISSUE_CALLBACK, before)
    inputs = _inputs(view)
    assert inputs["title"]["initial_value"] == "Month-end report <late> & incomplete"
    definitions = [o["description"]["text"] for o in inputs["severity"]["options"]]
    assert definitions[0] == "Service down, customers or contract at risk" and len(definitions) == 4
    assert "Timeliness" in [o["value"] for o in inputs["category"]["options"]]
    assert inputs["owner_id"]["type"] == "users_select" and inputs["due_on"]["type"] == "datepicker"
    values = issue_values(stack, due_on="2026-12-04")
    del values["title"]  # keep the prefilled title
    response = stack.actor(member).submit_view(view["id"], values)
    assert response.status == 200 and not response.body.strip()

    first = card(stack, 1)
    assert first["blocks"][0]["text"]["text"] == "#1 · Month-end report <late> & incomplete"
    body = _dumps(first["blocks"])
    assert "S2 high" in body and f"<@{owner}> · Contoso Services (provider)" in body and "Fri 4 Dec 2026" in body

    stack.actor(owner).click(w.channel, first["ts"], "issue-acknowledge")
    wait_for(lambda: "Acknowledged by" in _dumps(sb.message(w.channel, first["ts"])), what="the card acknowledged")
    _in_thread(stack, first["ts"], "acknowledged this issue")
    updated = sb.message(w.channel, first["ts"])
    assert updated is not None and "edited" in updated and len(cards(stack)) == 1
    assert "issue-acknowledge" not in _dumps(updated["blocks"])

    second = log_issue(stack, w.client_members[1], title="Access badges expire")
    assert second["text"].startswith("Issue #2 ")

    # Another partnership numbers its own issues from 1.
    second_partnership(stack, channel_id=w.internal_channel)
    before = view_ids(stack)
    stack.actor(w.client_lead).slash_command("/partner", "issue Internal review overdue", w.internal_channel)
    view = new_view(stack, w.client_lead, ISSUE_CALLBACK, before)
    stack.actor(w.client_lead).submit_view(
        view["id"], {"severity": "S3", "category": "Other", "owning_side": "client", "owner_id": w.client_lead}
    )
    internal = wait_for(
        lambda: [m for m in sb.messages(w.internal_channel) if "issue-actions" in _dumps(m.get("blocks"))],
        what="the internal card",
    )
    assert internal[0]["text"].startswith("Issue #1 ")
    assert _count(stack, Issue) == 3
    assert sb.violations == []


def test_log_from_a_message_shortcut_prefills_its_text_and_links_the_message(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    author, reporter = w.provider_members[1], w.client_members[0]
    ts = sb.user_message(
        w.channel,
        author,
        "Badges for <@U0PMEM3|kavya> expire &amp; nobody renews them\nSee <https://wiki.example/badges|the wiki>",
    )
    before = view_ids(stack)
    assert stack.actor(reporter).message_shortcut("log-partnership-issue", w.channel, ts).status == 200
    view = new_view(stack, reporter, ISSUE_CALLBACK, before)
    inputs = _inputs(view)
    assert inputs["title"]["initial_value"] == "Badges for @kavya expire & nobody renews them"
    assert "See the wiki (https://wiki.example/badges)" in inputs["details"]["initial_value"]
    link = f"https://northwind.slack.com/archives/{w.channel}/p{ts.replace('.', '')}"
    assert link in _dumps(view["blocks"]) and sb.calls_to("chat.getPermalink")
    values = issue_values(stack)
    del values["title"], values["details"]
    stack.actor(reporter).submit_view(view["id"], values)
    assert f"<{link}|The message this came from>" in _dumps(card(stack, 1)["blocks"])

    # Without chat.getPermalink (the bot cannot see the message, say), the link is built from the payload.
    reply_ts = sb.user_message(w.channel, author, "And mine expired today", thread_ts=ts)
    sb.fail_next("chat.getPermalink", "channel_not_found")
    before = view_ids(stack)
    stack.actor(reporter).message_shortcut("log-partnership-issue", w.channel, reply_ts)
    view = new_view(stack, reporter, ISSUE_CALLBACK, before)
    assert f"p{reply_ts.replace('.', '')}?thread_ts={ts}&amp;cid={w.channel}" in _dumps(view["blocks"])
    # A shortcut in a channel without a partnership explains instead of opening the form.
    internal_ts = sb.user_message(w.internal_channel, w.client_lead, "Hello")
    before = view_ids(stack)
    stack.actor(w.client_lead).message_shortcut("log-partnership-issue", w.internal_channel, internal_ts)
    wait_for(
        lambda: any("no partnership yet" in _dumps(v["blocks"]) for v in sb.open_views(w.client_lead)),
        what="a modal explaining there is no partnership",
    )
    assert sb.violations == []


def test_an_external_member_logs_an_issue_from_the_menu(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    external = w.provider_members[2]  # Contoso's people cannot run /partner in Northwind's workspace
    before = view_ids(stack)
    stack.actor(external).click(w.channel, _menu(stack)["ts"], "menu-log-issue")
    view = new_view(stack, external, ISSUE_CALLBACK, before)
    stack.actor(external).submit_view(
        view["id"], issue_values(stack, owning_side="client", owner_id=w.client_members[1], severity="S3")
    )
    body = _dumps(card(stack, 1)["blocks"])
    assert f"<@{external}> (Contoso Services)" in body and f"<@{w.client_members[1]}> · Northwind Retail (client)" in body
    with stack.services.uow_factory() as uow:
        issue = uow.session.scalars(select(Issue)).one()
        assert (issue.raised_by, issue.raised_by_side, issue.owning_side) == (external, "provider", "client")


def test_resolve_asks_both_sides_and_a_contribution_becomes_an_action_in_one_click(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    first = log_issue(stack, w.client_members[0])
    owner, client_person, provider_person = w.provider_members[0], w.client_members[1], w.provider_members[1]

    # Someone who is neither the owner nor a lead cannot resolve it: a clear refusal, only to them.
    before = view_ids(stack)
    stack.actor(client_person).click(w.channel, first["ts"], "issue-resolve")
    stack.actor(client_person).submit_view(new_view(stack, client_person, "issue-resolve-submit", before)["id"], {})
    ephemeral_with(stack, client_person, "Only the issue's owner")
    assert "Resolved" not in _dumps(sb.message(w.channel, first["ts"]))

    before = view_ids(stack)
    stack.actor(owner).click(w.channel, first["ts"], "issue-resolve")
    view = new_view(stack, owner, "issue-resolve-submit", before)
    stack.actor(owner).submit_view(view["id"], {"comment": "The report job now runs at 06:00."})
    wait_for(lambda: "Resolved by" in _dumps(sb.message(w.channel, first["ts"])), what="the card resolved")
    _in_thread(stack, first["ts"], "The report job now runs at 06:00.")
    question = _in_thread(stack, first["ts"], "followup-sides")
    assert "Northwind Retail: add ours" in _dumps(question) and "Contoso Services: add ours" in _dumps(question)

    for person, action_id, text in (
        (client_person, "followup-contribute-client", "We send the data extract by the 25th."),
        (provider_person, "followup-contribute-provider", "We alert when the job is late."),
    ):
        before = view_ids(stack)
        stack.actor(person).click(w.channel, question["ts"], action_id)
        view = new_view(stack, person, "followup-add-submit", before)
        assert stack.actor(person).submit_view(view["id"], {"text": text}).status == 200
    contribution = _in_thread(stack, first["ts"], "We send the data extract by the 25th.")
    assert "Northwind Retail (client)" in _dumps(contribution)
    _in_thread(stack, first["ts"], "We alert when the job is late.")

    stack.actor(client_person).click(w.channel, contribution["ts"], "followup-to-action")
    ephemeral_with(stack, client_person, "It is an action")
    wait_for(lambda: "We send the data extract" in _dumps(sb.message(w.channel, first["ts"])), what="the card's action")
    _in_thread(stack, first["ts"], "added an action")
    stack.actor(client_person).click(w.channel, contribution["ts"], "followup-to-action")  # a second click
    wait_for(lambda: len([t for t in ephemeral_texts(stack, client_person) if "It is an action" in t]) == 2)
    with stack.services.uow_factory() as uow:
        action = uow.session.scalars(select(Action)).one()
        assert (action.owner_id, action.side, action.followup_id is not None) == (client_person, "client", True)
    assert sb.violations == []


def test_actions_by_command_from_the_card_and_marked_done_from_a_list(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    lead, owner = w.client_lead, w.provider_members[0]
    before = view_ids(stack)
    stack.actor(lead).slash_command("/partner", "action Share the on-call rota", w.channel)
    view = new_view(stack, lead, ACTION_CALLBACK, before)
    inputs = _inputs(view)
    assert inputs["title"]["initial_value"] == "Share the on-call rota"
    assert inputs["due_on"]["initial_date"] == "2026-12-07"  # a week from today, in New York
    assert "issue_id" not in inputs  # no open issue to link it to
    stack.actor(lead).submit_view(view["id"], {"owner_id": owner})
    ephemeral_with(stack, lead, "Action added")

    # From the card: the action is linked to the issue, listed on the card and told in its thread.
    first = log_issue(stack, w.client_members[0])
    before = view_ids(stack)
    stack.actor(owner).click(w.channel, first["ts"], "issue-add-action")
    view = new_view(stack, owner, ACTION_CALLBACK, before)
    assert _inputs(view)["issue_id"]["initial_option"]["text"]["text"].startswith("#1 ")
    stack.actor(owner).submit_view(view["id"], {"title": "Move the job to 06:00", "owner_id": owner, "due_on": "2026-12-02"})
    wait_for(lambda: "Move the job to 06:00" in _dumps(sb.message(w.channel, first["ts"])), what="the action on the card")
    _in_thread(stack, first["ts"], "added an action")

    # The owner is external: the menu's "My actions" lists theirs, each with done/drop.
    stack.actor(owner).click(w.channel, _menu(stack)["ts"], "menu-actions")
    listing = ephemeral_with(stack, owner, "Your open actions")
    assert "Share the on-call rota" in _dumps(listing) and "issue #1" in _dumps(listing)
    done = _option_value(listing, "Mark done", "Share the on-call rota")
    stack.actor(owner).click_ephemeral(w.channel, listing["ts"], "action-menu", value=done)
    ephemeral_with(stack, owner, "is done")
    dropped = _option_value(listing, "Drop it", "Move the job")
    stack.actor(owner).click_ephemeral(w.channel, listing["ts"], "action-menu", value=dropped)
    ephemeral_with(stack, owner, "is dropped")
    wait_for(lambda: "(dropped)" in _dumps(sb.message(w.channel, first["ts"])), what="the card shows it dropped")
    with stack.services.uow_factory() as uow:
        assert sorted(a.status for a in uow.session.scalars(select(Action))) == ["done", "dropped"]
    assert sb.violations == []


def test_policy_is_shown_to_everyone_and_changed_by_leads_only(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    member, lead = w.client_members[0], w.client_lead
    stack.actor(member).slash_command("/partner", "policy", w.channel)
    shown = ephemeral_with(stack, member, "Escalation policy")
    text = _dumps(shown)
    assert "S1 critical" in text and "acknowledge within 1 working hour, resolve within 1 working day" in text
    assert "Mon–Fri 09:00–17:00 America/New_York" in text and "Timeliness" in text

    stack.actor(member).slash_command("/partner", "policy S2 2h 2d", w.channel)
    ephemeral_with(stack, member, "Only the partnership")
    stack.actor(member).click_ephemeral(w.channel, shown["ts"], "policy-change")
    wait_for(lambda: sum("Only the partnership" in t for t in ephemeral_texts(stack, member)) == 2, what="two refusals")
    assert _count(stack, EscalationPolicyRow) == 0

    stack.actor(lead).slash_command("/partner", "policy S2 2h 2d", w.channel)
    wait_for(
        lambda: any(
            "acknowledge within 2 working hours, resolve within 2 working days" in m["text"] for m in sb.messages(w.channel)
        ),
        what="the change announced in the channel",
    )
    # The provider's lead is external: the menu's "Escalation policy" shows it, with a button to the form.
    provider_lead = w.provider_lead
    stack.actor(provider_lead).click(w.channel, _menu(stack)["ts"], "menu-policy")
    shown = ephemeral_with(stack, provider_lead, "Escalation policy")
    assert "changed by a lead" in _dumps(shown)
    before = view_ids(stack)
    stack.actor(provider_lead).click_ephemeral(w.channel, shown["ts"], "policy-change")
    view = new_view(stack, provider_lead, "policy-submit", before)
    inputs = _inputs(view)
    assert inputs["acknowledge-S2"]["initial_value"] == "2h" and inputs["resolve-S2"]["initial_value"] == "2d"
    bad = stack.actor(provider_lead).submit_view(view["id"], {"acknowledge-S1": "soon", "resolve-S3": "1h"})
    assert bad.json is not None and bad.json["response_action"] == "errors"
    assert "30m, 4h, 3d" in bad.json["errors"]["acknowledge-S1"]
    bad = stack.actor(provider_lead).submit_view(view["id"], {"acknowledge-S3": "2d", "resolve-S3": "1d"})
    assert bad.json is not None and "longer than the time to resolve" in bad.json["errors"]["acknowledge-S3"]
    assert not any("warning" in t for t in ephemeral_texts(stack, provider_lead)), "refused forms change nothing"
    categories = inputs["categories"]["initial_value"] + "\nData quality"
    ok = stack.actor(provider_lead).submit_view(
        view["id"], {"acknowledge-S1": "30m", "acknowledge-S2": "4h", "resolve-S2": "3d", "categories": categories}
    )
    assert ok.status == 200 and not ok.body.strip()
    wait_for(lambda: any("Data quality" in m["text"] for m in sb.messages(w.channel)), what="the form's change announced")
    with stack.services.uow_factory() as uow:
        rows = {
            r.severity: (r.acknowledge_minutes, r.resolve_minutes) for r in uow.session.scalars(select(EscalationPolicyRow))
        }
        assert rows == {"S1": (30, 480)}  # S2 is back to its default, so it is no longer stored
        assert "Data quality" in (uow.session.scalars(select(Partnership)).one().issue_categories or [])

    stack.actor(lead).slash_command("/partner", "categories remove Staffing", w.channel)
    wait_for(lambda: any("changed the issue categories" in m["text"] for m in sb.messages(w.channel)), what="categories")
    stack.actor(lead).slash_command("/partner", "hours provider 08:00-16:00 mon-fri Asia/Kolkata", w.channel)
    wait_for(
        lambda: any(
            "Contoso Services (provider): Mon–Fri 08:00–16:00 Asia/Kolkata" in m["text"] for m in sb.messages(w.channel)
        ),
        what="working hours announced",
    )
    stack.actor(lead).slash_command("/partner", "holiday provider 2026-12-25 Christmas Day", w.channel)
    wait_for(lambda: any("Christmas Day" in m["text"] for m in sb.messages(w.channel)), what="holiday announced")
    stack.actor(lead).slash_command("/partner", "hours client 08:00-16:00 mon-fri Mars/Olympus", w.channel)
    ephemeral_with(stack, lead, "Mars/Olympus")
    assert sb.violations == []
