"""A failure after the acknowledgement always reaches the person, found from the payload alone (issue 13, items 1
and 9): the database failing under a form's save, and a response_url Slack no longer takes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.after_ack import _channel_id
from bot.blocks.expectations import ExpectationRef
from bot.blocks.goals import GoalFormRef, GoalRef
from bot.blocks.issue_form_refs import ActionFormRef, FollowupFormRef, IssueFormRef, IssueModalRef
from bot.blocks.metadata import AnswerFormRef, ChannelRef, RoundRef, encode
from bot.blocks.scorecard import ScorecardRef
from bot.services import issue_lifecycle, pulses
from tests.conftest import START
from tests.helpers import ISSUE_CALLBACK, answer_pulse, issue_values, new_view, setup_partnership, view_ids, wait_for

PULSE_AT = START.replace(hour=14, minute=0)


def _database_down(*_args: Any, **_kwargs: Any) -> Any:
    raise OperationalError("INSERT INTO responses ...", {}, Exception("could not connect to server"))


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(m) for m in messages]


@pytest.mark.parametrize(
    ("ref", "channel"),
    [
        (RoundRef(7), None),
        (AnswerFormRef(7, "C1"), "C1"),
        (ChannelRef("T1", "C1"), "C1"),
        (GoalFormRef("T1", "C1", "UTC"), "C1"),
        (GoalRef("T1", "C1", 3), "C1"),
        (ExpectationRef("T1", "C1", 3), "C1"),
        (IssueFormRef("T1", "C1", "UTC", "", False), "C1"),
        (IssueModalRef("T1", "C1", 3, "open", "", False), "C1"),
        (ActionFormRef("T1", "C1", "UTC", 0, False), "C1"),
        (FollowupFormRef("T1", "C1", 3, "client"), "C1"),
        (ScorecardRef("T1", "C1", 3), "C1"),
    ],
)
def test_every_form_metadata_type_gives_its_channel_or_none(ref: Any, channel: str | None) -> None:
    body = {"type": "view_submission", "user": {"id": "U1"}, "view": {"private_metadata": encode(ref)}}
    assert _channel_id(body) == channel


def test_unreadable_metadata_gives_no_channel() -> None:
    for raw in ("", "not json", "[1]", '{"channel_id": 5}'):
        assert _channel_id({"view": {"private_metadata": raw}}) is None


@pytest.mark.parametrize("side", ["client", "provider"])
def test_pulse_answer_lost_to_the_database_is_told_in_the_channel_they_answered_from(stack, monkeypatch, side) -> None:  # type: ignore[no-untyped-def]
    """The answer form's metadata names the channel the person clicked Answer in: they get an ephemeral there,
    which reaches the other organisation's people too (a direct message from the app cannot)."""
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    person = (w.client_members if side == "client" else w.provider_members)[0]
    assert stack.tick(PULSE_AT).opened == 1
    monkeypatch.setattr(pulses, "submit_answers", _database_down)
    answer_pulse(stack, person, 4)

    def told() -> list[str]:
        return [t for t in _texts(sb.ephemerals(w.channel, user=person)) if "were not saved" in t]

    text = wait_for(told, what="the person told their answers were not saved")[0]
    assert "Something went wrong on our side (reference `" in text and "Please try again in a minute." in text


def test_issue_form_lost_to_the_database_is_told_in_the_channel(stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The issue form's metadata names the channel: the person gets an ephemeral there."""
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    user = w.client_members[0]
    before = view_ids(stack)
    stack.actor(user).slash_command("/partner", "issue Printers", w.channel)
    view = new_view(stack, user, ISSUE_CALLBACK, before)
    monkeypatch.setattr(issue_lifecycle, "log_issue", _database_down)
    submitted = stack.actor(user).submit_view(view["id"], issue_values(stack))
    assert submitted.status == 200

    def told() -> list[str]:
        return [t for t in _texts(sb.ephemerals(w.channel, user=user)) if "were not saved" in t]

    assert "reference `" in wait_for(told, what="an ephemeral saying the issue was not saved")[0]


def test_used_up_response_url_falls_back_to_an_ephemeral(stack) -> None:  # type: ignore[no-untyped-def]
    """A reply after the ack through a response_url Slack refuses (used up or expired) still reaches the person."""
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    sb.workspace.response_url_uses = 0  # every response_url is used up
    member = w.client_members[0]
    stack.actor(member).slash_command("/partner", "pulse now", w.channel)

    def told() -> list[str]:
        return [t for t in _texts(sb.ephemerals(w.channel, user=member)) if "Only the partnership" in t]

    wait_for(told, what="the refusal as an ephemeral")
    assert sb.response_url_posts, "the response_url was tried first"
    assert sb.calls_to("chat.postEphemeral")
