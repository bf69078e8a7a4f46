"""The App Home tab through the sandbox: published on app_home_opened, acted on, published again."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from bot.harness import LocalStack
from bot.sandbox import ActorError
from bot.services import actions
from bot.services.issue_models import ActionInput
from tests.conftest import START
from tests.helpers import ISSUE_CALLBACK, card, demo_channel, log_issue, new_view, setup_partnership, view_ids, wait_for


def _option(home: dict[str, Any], action_id: str, label: str, near: str) -> str:
    for block in home["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == action_id and near in json.dumps(block.get("text"), ensure_ascii=False):
            return next(str(o["value"]) for o in accessory["options"] if o["text"]["text"] == label)
    raise AssertionError(f"no {label!r} for {near!r} on the Home tab")


def _home_text(stack: LocalStack, user_id: str) -> str:
    return json.dumps((stack.sandbox.home_view(user_id) or {}).get("blocks"), ensure_ascii=False)


def test_home_tab_is_published_and_its_buttons_act_and_publish_it_again(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    me = w.client_members[0]
    log_issue(stack, me, title="Raised by me")  # owned by Contoso's first member
    log_issue(stack, w.client_lead, title="Owned by me", owning_side="client", owner_id=me, severity="S1")
    actions.create_action(
        stack.services.uow_factory(),
        **demo_channel(w),
        actor=w.client_lead,
        data=ActionInput(title="Write the runbook", owner_id=me, due_on=date(2026, 12, 4), issue_id=None),
        request_key="runbook",
        now=START,
    )
    assert sb.home_opened(me).status == 200
    home = wait_for(lambda: sb.home_view(me), what="the Home tab")
    text = _home_text(stack, me)
    assert "Write the runbook" in text and "Raised by me" in text and "Owned by me" in text
    assert "*Northwind service desk* in <#C0JOINT>" in text and "open issues: S1 1 · S2 1 · S3 0 · S4 0" in text

    # Acknowledge the issue I own, from Home: the card changes in the channel and Home is published again.
    stack.actor(me).click_in_view(home["id"], "issue-menu", value=_option(home, "issue-menu", "Acknowledge", "Owned by me"))
    wait_for(lambda: "Acknowledged by" in json.dumps(card(stack, 2)["blocks"]), what="the card acknowledged")
    wait_for(lambda: "S1 critical · acknowledged" in _home_text(stack, me), what="Home published again")

    # Mark my action done: it leaves the list.
    home = sb.home_view(me) or {}
    stack.actor(me).click_in_view(
        home["id"], "action-menu", value=_option(home, "action-menu", "Mark done", "Write the runbook")
    )
    wait_for(lambda: "Write the runbook" not in _home_text(stack, me), what="the action gone from Home")

    # I raised the other issue but do not own it: the refusal comes in a modal (Home has no channel to answer in).
    stack.actor(me).click_in_view(home["id"], "issue-menu", value=_option(home, "issue-menu", "Acknowledge", "Raised by me"))
    wait_for(lambda: any("Only the issue's owner" in json.dumps(v["blocks"]) for v in sb.open_views(me)), what="the refusal")

    # Resolve the issue I own through its modal, from Home: once saved, Home is published again without it.
    home = sb.home_view(me) or {}
    before = view_ids(stack)
    stack.actor(me).click_in_view(home["id"], "issue-menu", value=_option(home, "issue-menu", "Resolve", "Owned by me"))
    form = new_view(stack, me, "issue-resolve-submit", before)
    assert stack.actor(me).submit_view(form["id"], {"comment": "Fixed the nightly job."}).status == 200
    wait_for(lambda: "Owned by me" not in _home_text(stack, me), what="Home published after the resolve modal")

    # Log an issue in a partnership straight from Home: once logged, it is on the tab.
    home = sb.home_view(me) or {}
    before = view_ids(stack)
    stack.actor(me).click_in_view(home["id"], "menu-log-issue")
    form = new_view(stack, me, ISSUE_CALLBACK, before)
    values = {
        "title": "Logged from Home",
        "details": "Typed on the Home tab.",
        "severity": "S3",
        "category": "Timeliness",
        "owning_side": "provider",
        "owner_id": w.provider_members[0],
    }
    assert stack.actor(me).submit_view(form["id"], values).status == 200
    wait_for(lambda: "Logged from Home" in _home_text(stack, me), what="Home published after the issue form")

    # Someone in no partnership gets a Home tab that says so; Contoso's people have no Home tab of ours.
    sb.add_user("U0CNEW1", w.client_team, "new.person", "New Person")
    sb.home_opened("U0CNEW1")
    wait_for(lambda: "not part of a partnership yet" in _home_text(stack, "U0CNEW1"), what="an empty Home")
    with pytest.raises(ActorError):
        sb.home_opened(w.provider_members[0])
    assert sb.violations == []
