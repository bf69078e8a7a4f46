"""Answers only from the partnership's people (issue 13, item 10): a signed answer from someone who is not a member
of the round's channel, or for a round that is not open (closed, another partnership's, unknown), is refused with
a message to the person and nothing is stored; a member's answer still counts."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.blocks.metadata import RoundRef, encode
from bot.harness import LocalStack
from bot.sandbox.block_input import build_view_state, public_view
from bot.sandbox.models import ActorResponse
from bot.services import pulse_rounds
from storage.models import PulseRound, Response
from tests.conftest import START
from tests.e2e.test_click_sends_its_own import OTHER, _other_partnership
from tests.helpers import ANSWER_CALLBACK, latest_pulse, setup_partnership, wait_for

PULSE_AT = START.replace(hour=14, minute=0)
OUTSIDER = "U0OUTSDR"
NOT_A_MEMBER = "Only members of this partnership's channel can answer its pulse, so nothing was saved."


def _open_round(stack: LocalStack) -> dict[str, Any]:
    """The round opens; the first client member opens the Answer form. Returns that modal."""
    setup_partnership(stack)
    assert stack.tick(PULSE_AT).opened == 1
    member = stack.world.client_members[0]
    stack.actor(member).click(stack.world.channel, latest_pulse(stack)["ts"], "pulse-answer")
    return wait_for(
        lambda: next((v for v in stack.sandbox.open_views(member) if v.get("callback_id") == ANSWER_CALLBACK), None),
        what="the answer modal",
    )


def _scores(view: dict[str, Any]) -> dict[str, str]:
    return {b["block_id"]: "4" for b in view["blocks"] if str(b.get("block_id", "")).startswith("score-")}


def _submit_as(
    stack: LocalStack, user_id: str, view: dict[str, Any], *, metadata: str | None = None, actor_team: bool = True
) -> ActorResponse:
    """A signed view_submission of ``view`` filled with 4s, sent by ``user_id`` (whoever opened it), with its
    private_metadata replaced when given: what a forged or replayed request looks like to the bot."""
    forged = dict(view)
    if metadata is not None:
        forged["private_metadata"] = metadata
    forged["state"] = {"values": build_view_state(forged, _scores(view))}
    actor = stack.actor(user_id)
    payload = {
        "type": "view_submission",
        "team": actor._team_obj(),
        "user": actor._user_obj(),
        "api_app_id": stack.sandbox.app_id,
        "token": stack.sandbox.verification_token,
        "trigger_id": stack.sandbox.issue_trigger_id(user_id),
        "view": public_view(forged),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    if not actor_team:  # no actor team in the payload (as Slack may send for some external actors)
        payload["user"].pop("team_id")
    return actor._post_payload(payload, "view_submission", {})


def _responses(stack: LocalStack) -> int:
    with stack.services.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Response)) or 0)


def _told(stack: LocalStack, user_id: str, text: str) -> str:
    """A message to the person containing ``text``: an ephemeral in the partnership's channel or a direct one."""
    sb = stack.sandbox

    def find() -> str | None:
        seen = [*sb.ephemerals(stack.world.channel, user=user_id), *sb.messages(sb.dm_channel(user_id))]
        return next((json.dumps(m) for m in seen if text in json.dumps(m)), None)

    return wait_for(find, what=f"{user_id} told {text!r}")


def test_an_answer_from_someone_outside_the_channel_is_refused_and_nothing_stored(stack: LocalStack) -> None:
    view = _open_round(stack)
    stack.sandbox.add_user(OUTSIDER, stack.world.client_team, "outsider")  # same organisation, not in the channel
    response = _submit_as(stack, OUTSIDER, view)
    assert response.status == 200
    _told(stack, OUTSIDER, NOT_A_MEMBER)
    stack.settle()
    assert _responses(stack) == 0


def test_the_answer_button_of_someone_outside_the_channel_shows_why_not(stack: LocalStack) -> None:
    _open_round(stack)
    stack.sandbox.add_user(OUTSIDER, stack.world.client_team, "outsider")
    stack.actor(OUTSIDER).click(stack.world.channel, latest_pulse(stack)["ts"], "pulse-answer", force=True)
    shown = wait_for(
        lambda: [v for v in stack.sandbox.open_views(OUTSIDER) if NOT_A_MEMBER in json.dumps(v)],
        what="the refusal in the modal",
    )
    assert not any(str(b.get("block_id", "")).startswith("score-") for b in shown[-1]["blocks"])
    stack.settle()
    assert _responses(stack) == 0


def test_a_member_who_left_the_channel_can_no_longer_answer(stack: LocalStack) -> None:
    view = _open_round(stack)
    member = stack.world.client_members[0]
    stack.sandbox.member_left(stack.world.channel, member)
    _submit_as(stack, member, view)
    _told(stack, member, NOT_A_MEMBER)
    stack.settle()
    assert _responses(stack) == 0


def test_an_answer_to_a_closed_round_is_refused(stack: LocalStack) -> None:
    view = _open_round(stack)
    with stack.services.uow_factory() as uow:
        closes_at = uow.session.scalars(select(PulseRound.closes_at)).one()
    assert stack.tick(closes_at).closed == 1
    _submit_as(stack, stack.world.client_members[0], view)
    _told(stack, stack.world.client_members[0], "This pulse has closed")
    stack.settle()
    assert _responses(stack) == 0


def test_an_answer_naming_another_partnerships_round_is_refused(stack: LocalStack) -> None:
    """The member of A puts B's open round in the form's metadata: they are not in B's channel."""
    view = _open_round(stack)
    w = stack.world
    _other_partnership(stack)
    b_round = pulse_rounds.start_round_now(
        stack.services.uow_factory(), team_id=w.client_team, channel_id=OTHER, actor=w.client_members[3], now=stack.clock()
    )
    _submit_as(stack, w.client_members[0], view, metadata=encode(RoundRef(b_round.id)))
    _told(stack, w.client_members[0], NOT_A_MEMBER)
    stack.settle()
    assert _responses(stack) == 0


def test_an_answer_naming_a_round_that_does_not_exist_is_refused_and_told(stack: LocalStack) -> None:
    view = _open_round(stack)
    _submit_as(stack, stack.world.client_members[0], view, metadata=encode(RoundRef(987654)))
    _told(stack, stack.world.client_members[0], "This pulse does not exist (any more), so your answers were not saved.")
    stack.settle()
    assert _responses(stack) == 0


def test_a_members_answer_still_counts(stack: LocalStack) -> None:
    view = _open_round(stack)
    member = stack.world.client_members[0]
    stack.actor(member).submit_view(view["id"], _scores(view))
    _told(stack, member, "your answers to the *Northwind service desk* pulse are recorded")
    assert _responses(stack) == 1


def test_without_an_actor_team_a_stranger_is_denied_and_a_member_keeps_their_recorded_side(stack: LocalStack) -> None:
    """slack-platform.md item 20: no decision trusts the payload's actor team. With none, someone unknown to the
    channel is refused; an external member (the provider's organisation) counts on the side recorded for them."""
    view = _open_round(stack)
    stack.sandbox.add_user(OUTSIDER, stack.world.client_team, "outsider")
    _submit_as(stack, OUTSIDER, view, actor_team=False)
    _told(stack, OUTSIDER, NOT_A_MEMBER)
    stack.settle()
    assert _responses(stack) == 0
    external = stack.world.provider_members[0]
    stack.actor(external).click(stack.world.channel, latest_pulse(stack)["ts"], "pulse-answer")
    own = wait_for(
        lambda: next((v for v in stack.sandbox.open_views(external) if v.get("callback_id") == ANSWER_CALLBACK), None),
        what="the external member's answer modal",
    )
    _submit_as(stack, external, own, actor_team=False)
    _told(stack, external, "are recorded")
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(Response.side)).all() == ["provider"]
