"""Channel notices end to end: policy, category and calendar changes and the "setup done" message go through the
outbox, so a Slack error never loses them and a repeated request never posts them twice. Signed requests over
HTTP to the real app, against the sandbox."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from bot.harness import LocalStack
from bot.sandbox.signed_requests import post_signed
from bot.services.issue_models import DEFAULT_CATEGORIES
from storage.models import EscalationPolicyRow, OutboxMessage, Partnership
from tests.conftest import START
from tests.helpers import ephemeral_texts, new_view, setup_partnership, view_ids, wait_for


def _notices(stack: LocalStack, text: str) -> list[dict[str, Any]]:
    return [m for m in stack.sandbox.messages(stack.world.channel) if text in m["text"]]


def _rows(stack: LocalStack, purpose: str) -> list[tuple[str, str, str | None]]:
    """(status, dedupe key, error) of the outbox rows of one purpose."""
    with stack.services.uow_factory() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == purpose).order_by(OutboxMessage.id))
        return [(r.status, r.dedupe_key, r.error) for r in rows]


def _categories(stack: LocalStack) -> list[str] | None:
    with stack.services.uow_factory() as uow:
        return uow.session.scalars(select(Partnership)).one().issue_categories


def test_the_setup_message_goes_through_the_outbox_before_the_menu(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    first, second = sb.messages(w.channel, include_thread_replies=False)[:2]
    assert first["text"] == "PartnerPulse set up for Northwind service desk."
    assert f"<@{w.client_lead}> set up PartnerPulse for *Northwind service desk*" in first["blocks"][0]["text"]["text"]
    assert first["metadata"]["event_payload"]["key"].startswith("setup-done:")
    assert second["metadata"]["event_payload"]["key"].startswith("menu:")
    [(status, _, _)] = _rows(stack, "setup-done")
    assert status == "sent" and sb.violations == []


def test_a_slack_error_keeps_the_change_and_its_notice_follows_once(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    lead = w.client_lead
    sb.fail_next("chat.postMessage", "internal_error")
    stack.actor(lead).slash_command("/partner", "categories add Data quality", w.channel)
    wait_for(
        lambda: [(s, e) for s, _, e in _rows(stack, "notice")] == [("pending", "internal_error")],
        what="the notice waiting for a retry after Slack's error",
    )
    assert "Data quality" in (_categories(stack) or [])
    assert _notices(stack, "changed the issue categories") == []
    assert not any("warning" in t for t in ephemeral_texts(stack, lead)), "the change succeeded: no error for the lead"
    # The heartbeat sends it when its retry is due, once.
    stack.tick(START + timedelta(minutes=5))
    stack.tick(START + timedelta(minutes=10))
    [notice] = _notices(stack, "changed the issue categories")
    assert notice["text"] == f"<@{lead}> changed the issue categories: {', '.join(DEFAULT_CATEGORIES)}, Data quality."
    assert [s for s, _, _ in _rows(stack, "notice")] == ["sent"]
    assert sb.violations == []


def test_the_same_command_delivered_twice_posts_one_notice(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    lead = w.client_lead
    team = sb.snapshot_team(w.client_team)
    fields = {
        "token": sb.verification_token,
        "team_id": w.client_team,
        "team_domain": team.domain,
        "channel_id": w.channel,
        "channel_name": "northwind-contoso",
        "user_id": lead,
        "user_name": "lead",
        "command": "/partner",
        "text": "hours provider 08:00-16:00 mon-fri Asia/Kolkata",
        "api_app_id": sb.app_id,
        "is_enterprise_install": "false",
        "response_url": sb.issue_response_url(lead, w.channel),
        "trigger_id": sb.issue_trigger_id(lead),
    }
    body = urlencode(fields)
    for _ in range(2):  # as a retrying network would, back to back
        response = post_signed(sb, body, "application/x-www-form-urlencoded", kind="slash_command", user_id=lead)
        assert response.status == 200
    wait_for(lambda: _notices(stack, "changed the working calendar"), what="the notice")
    stack.settle()  # the second delivery's work has finished
    stack.services.sender.deliver_pending()
    [notice] = _notices(stack, "changed the working calendar")
    assert "Contoso Services (provider): Mon–Fri 08:00–16:00 Asia/Kolkata" in notice["text"]
    assert len(_rows(stack, "notice")) == 1
    assert not any("warning" in t for t in ephemeral_texts(stack, lead))


def _open_policy_form(stack: LocalStack, user_id: str) -> dict[str, Any]:
    w = stack.world
    stack.actor(user_id).slash_command("/partner", "policy", w.channel)
    shown = wait_for(
        lambda: next(
            (m for m in stack.sandbox.ephemerals(w.channel, user=user_id) if "policy-change" in json.dumps(m)), None
        ),
        what="the policy message",
    )
    assert shown is not None
    before = view_ids(stack)
    stack.actor(user_id).click_ephemeral(w.channel, shown["ts"], "policy-change")
    return new_view(stack, user_id, "policy-submit", before)


def test_the_policy_form_is_one_change_with_one_notice_and_refused_categories_change_nothing(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    lead = w.client_lead
    view = _open_policy_form(stack, lead)
    categories = "\n".join(DEFAULT_CATEGORIES)
    refused = stack.actor(lead).submit_view(
        view["id"], {"acknowledge-S1": "30m", "categories": categories + "\nData quality\ndata QUALITY"}
    )
    assert refused.json is not None and refused.json["response_action"] == "errors"
    assert "in the list twice" in refused.json["errors"]["categories"]
    stack.settle()  # the lazy listener runs whatever the ack said: it must change nothing
    assert _categories(stack) is None and _rows(stack, "notice") == []
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(EscalationPolicyRow)).all() == []
    ok = stack.actor(lead).submit_view(
        view["id"], {"acknowledge-S1": "30m", "resolve-S3": "4d", "categories": categories + "\nData quality"}
    )
    assert ok.status == 200 and not ok.body.strip()
    wait_for(lambda: _notices(stack, "changed the escalation policy"), what="the form's notice")
    stack.settle()
    [notice] = _notices(stack, "changed the escalation policy")
    assert notice["text"] == (
        f"<@{lead}> changed the escalation policy. issue categories: {', '.join(DEFAULT_CATEGORIES)}, Data quality; "
        "S1 critical: acknowledge within 30 working minutes, resolve within 1 working day; "
        "S3 medium: acknowledge within 1 working day, resolve within 4 working days."
    )
    with stack.services.uow_factory() as uow:
        rows = {
            r.severity: (r.acknowledge_minutes, r.resolve_minutes) for r in uow.session.scalars(select(EscalationPolicyRow))
        }
    assert rows == {"S1": (30, 480), "S3": (480, 1920)}
    wait_for(
        lambda: [(s, k.endswith(f":policy-view:{view['id']}")) for s, k, _ in _rows(stack, "notice")] == [("sent", True)],
        what="one notice, keyed by the form, recorded as sent",
    )
    assert sb.violations == []
