"""Which post-ack work runs on the modal lane: functions that open a modal from the click's trigger id (issue 13,
item 9). The lane itself is tested end to end in tests/e2e/test_ack_under_faults.py."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest

from bot.after_ack import opens_modal, runs_first
from bot.blocks import ids
from bot.workers import task_for
from handlers.commands import carry_out_partner_command
from handlers.goals import save_goal
from handlers.menu import carry_out_menu_button
from handlers.pulse import open_answer_form

FORM = {"content-type": ["application/x-www-form-urlencoded"]}


def _command(text: str) -> BoltRequest:
    return BoltRequest(body=urlencode({"command": "/partner", "text": text, "trigger_id": "1.2.3"}), headers=FORM)


def _click(action_id: str) -> BoltRequest:
    payload = {"type": "block_actions", "trigger_id": "1.2.3", "actions": [{"action_id": action_id}]}
    return BoltRequest(body=urlencode({"payload": json.dumps(payload)}), headers=FORM)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("setup", True),
        ("goal add Ship it", True),
        ("issue log", True),
        ("goals", False),
        ("pulse now", False),
        ("?!", False),
    ],
)
def test_a_subcommand_runs_first_only_when_its_handler_opens_a_modal(text: str, first: bool) -> None:
    request = _command(text)
    assert runs_first(carry_out_partner_command, request.body) is first
    assert task_for(carry_out_partner_command, request).first is first  # the same in a worker process


@pytest.mark.parametrize(
    ("action_id", "first"),
    [(ids.Action.MENU_ANSWER, True), (ids.Action.MENU_SETUP, True), (ids.Action.MENU_PULSE_NOW, False)],
)
def test_a_menu_button_runs_first_only_when_it_opens_a_modal(action_id: str, first: bool) -> None:
    assert runs_first(carry_out_menu_button, _click(action_id).body) is first


def test_marked_functions_run_first_and_others_do_not() -> None:
    assert runs_first(open_answer_form, {}) and task_for(open_answer_form, _click("pulse-answer")).first
    assert not runs_first(save_goal, {}) and not task_for(save_goal, _click("x")).first
    assert not task_for("open_answer_form", _click("pulse-answer")).first  # by name only: no mark to read


def test_a_failing_test_of_the_body_loses_only_the_priority() -> None:
    @opens_modal(when=lambda body: body["missing"] == 1)
    def lazy() -> None:
        return None

    assert runs_first(lazy, {}) is False
