"""Shared goals, the expectations ledger and the bilateral scorecard end to end: signed requests to the real app,
the sandbox as Slack, the heartbeat (``stack.tick``) for the schedule. The partnership's digest (and so the
scorecard's opening time) is Mondays 09:00 New York, the setup form's default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from bot.harness import LocalStack
from bot.sandbox.block_input import build_view_state
from bot.sandbox.signed_requests import post_signed
from bot.services import expectations
from bot.services.pulse_models import DIMENSIONS
from storage.models import Expectation, Goal, OutboxMessage, Scorecard, ScorecardResponse
from tests.conftest import START
from tests.helpers import (
    channel_messages_with,
    demo_channel,
    dumps,
    ephemeral_with,
    form_errors,
    new_view,
    partner_command,
    setup_partnership,
    view_ids,
    view_submission_body,
    wait_for,
)

GOAL_CALLBACK = "goal-add-submit"
GOAL_STATUS_CALLBACK = "goal-status-submit"
EXPECT_CALLBACK = "expectation-add-submit"
DISCUSS_CALLBACK = "expectation-discuss-submit"
SCORECARD_CALLBACK = "scorecard-submit"


def _count(stack: LocalStack, model: Any, *where: Any) -> int:
    with stack.services.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# The shared helpers, by the short names this module has always used.
_dumps, _ephemeral, _channel_messages, _command, _errors = (
    dumps,
    ephemeral_with,
    channel_messages_with,
    partner_command,
    form_errors,
)


# --- goals ------------------------------------------------------------------------------------------------------


def test_goals_from_the_command_with_field_errors_and_status_updates_by_owners_only(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    member, client_owner, provider_owner = w.client_members[0], w.client_members[1], w.provider_members[0]
    before = view_ids(stack)
    _command(stack, member, "goal add Cut the ticket backlog &amp; keep it down")
    view = new_view(stack, member, GOAL_CALLBACK, before)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}
    assert inputs["title"]["initial_value"] == "Cut the ticket backlog & keep it down"
    assert inputs["client_owner_id"]["type"] == inputs["provider_owner_id"]["type"] == "users_select"
    actor = stack.actor(member)

    # An owner from the wrong side is refused at that field, before the form closes.
    bad = actor.submit_view(view["id"], {"client_owner_id": provider_owner, "provider_owner_id": provider_owner})
    errors = _errors(bad)
    assert list(errors) == ["client_owner_id"] and "Contoso Services side" in errors["client_owner_id"]
    bad = actor.submit_view(view["id"], {"client_owner_id": client_owner, "provider_owner_id": w.client_members[2]})
    assert "Northwind Retail side" in _errors(bad)["provider_owner_id"]
    # Slack's client enforces required fields and max_length; a forged request need not.
    bad = actor.submit_view(
        view["id"], {"title": " ", "client_owner_id": client_owner, "provider_owner_id": provider_owner}, force=True
    )
    assert _errors(bad) == {"title": "Please write a goal."}
    long = "t" * 3001
    bad = actor.submit_view(
        view["id"], {"title": long, "client_owner_id": client_owner, "provider_owner_id": provider_owner}, force=True
    )
    assert "at most 150 characters" in _errors(bad)["title"]
    bad = actor.submit_view(
        view["id"],
        {"title": "ok", "client_owner_id": client_owner, "provider_owner_id": provider_owner, "due_on": "2026-11-01"},
        force=True,
    )
    assert "in the past" in _errors(bad)["due_on"]
    assert _count(stack, Goal) == 0

    ok = actor.submit_view(
        view["id"],
        {
            "title": "Cut the backlog <!channel> <@U0PLEAD>",
            "client_owner_id": client_owner,
            "provider_owner_id": provider_owner,
            "due_on": "2026-12-31",
        },
        force=True,
    )
    assert ok.status == 200 and not ok.body.strip()
    _ephemeral(stack, member, "Goal #1 added")

    _command(stack, member, "goals")
    listing = _ephemeral(stack, member, "Shared goals")
    text = _dumps(listing)
    assert "#1 Cut the backlog &lt;!channel&gt; &lt;@U0PLEAD&gt;" in text and "<!channel>" not in text
    assert "On track" in text and "Thu 31 Dec 2026" in text and f"<@{client_owner}>" in text

    # Not an owner and not a lead: told who can, and nothing opens.
    before = view_ids(stack)
    stack.actor(member).click_ephemeral(w.channel, listing["ts"], "goal-status")
    _ephemeral(stack, member, "Only the goal's owners")
    assert not [v for v in sb.open_views(member) if v.get("callback_id") == GOAL_STATUS_CALLBACK]

    # The client owner updates it from their own list.
    _command(stack, client_owner, "goals")
    own = _ephemeral(stack, client_owner, "Shared goals")
    stack.actor(client_owner).click_ephemeral(w.channel, own["ts"], "goal-status")
    status_view = new_view(stack, client_owner, GOAL_STATUS_CALLBACK, before)
    bad = stack.actor(client_owner).submit_view(status_view["id"], {"status": "at_risk", "note": "n" * 3001}, force=True)
    assert "3,000" in _errors(bad)["note"]
    stack.actor(client_owner).submit_view(status_view["id"], {"status": "at_risk", "note": "Waiting on the test env"})
    _ephemeral(stack, client_owner, "Goal #1 is now *At risk*")
    with stack.services.uow_factory() as uow:
        goal = uow.session.scalars(select(Goal)).one()
        assert (goal.number, goal.status, goal.note, goal.updated_by) == (
            1,
            "at_risk",
            "Waiting on the test env",
            client_owner,
        )

    # "Add a goal" under the list opens the form too; the second goal is #2.
    before = view_ids(stack)
    stack.actor(client_owner).click_ephemeral(w.channel, own["ts"], "goal-add")
    second = new_view(stack, client_owner, GOAL_CALLBACK, before)
    stack.actor(client_owner).submit_view(
        second["id"], {"title": "Go live in Madrid", "client_owner_id": member, "provider_owner_id": w.provider_lead}
    )
    _ephemeral(stack, client_owner, "Goal #2 added")

    # The provider owner cannot run our slash command (other organisation): the menu's "Shared goals" lists the
    # goals for them, with the status buttons; "Expectations" the ledger.
    _command(stack, w.client_lead, "menu")
    menu = wait_for(lambda: next(iter(_channel_messages(stack, "menu-everyone")), None), what="the menu")
    stack.actor(provider_owner).click(w.channel, menu["ts"], "goals-list")
    theirs = _dumps(_ephemeral(stack, provider_owner, "Shared goals"))
    assert "Go live in Madrid" in theirs and "goal-status" in theirs
    stack.actor(provider_owner).click(w.channel, menu["ts"], "expectations-list")
    _ephemeral(stack, provider_owner, "Expectations ledger")
    assert sb.violations == []


def test_the_same_goal_submission_delivered_twice_adds_one_goal(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    member = w.client_members[0]
    before = view_ids(stack)
    _command(stack, member, "goal add Delivered twice")
    view = new_view(stack, member, GOAL_CALLBACK, before)
    state = build_view_state(view, {"client_owner_id": member, "provider_owner_id": w.provider_members[0]})
    sb.set_view_state(view["id"], state)
    body = view_submission_body(stack, member, view, state)
    for _ in range(2):
        response = post_signed(sb, body, "application/x-www-form-urlencoded", kind="view_submission", user_id=member)
        assert response.status == 200
    _ephemeral(stack, member, "Goal #1 added")
    stack.settle()  # the second delivery's work has finished
    assert _count(stack, Goal) == 1


# --- the expectations ledger -------------------------------------------------------------------------------------


def test_expectations_agreed_or_discussed_by_the_other_side_only(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    client, provider = w.client_members[0], w.provider_members[0]
    before = view_ids(stack)
    _command(stack, client, "expect Status reports every Friday")
    view = new_view(stack, client, EXPECT_CALLBACK, before)
    text_input = next(b for b in view["blocks"] if b.get("block_id") == "text")["element"]
    assert text_input["initial_value"] == "Status reports every Friday"
    bad = stack.actor(client).submit_view(view["id"], {"text": "x" * 3001}, force=True)
    assert "3,000" in _errors(bad)["text"]
    bad = stack.actor(client).submit_view(view["id"], {"text": "  "}, force=True)
    assert _errors(bad) == {"text": "Please write what your side expects of the other side."}
    stack.actor(client).submit_view(view["id"], {"text": "Status reports every Friday <!channel> <@U0PLEAD>"})
    _ephemeral(stack, client, "Expectation #1 is posted")
    posted = wait_for(lambda: _channel_messages(stack, "Expectation #1"), what="the expectation in the channel")[0]
    body = _dumps(posted["blocks"])
    assert "Northwind Retail expects of Contoso Services" in body
    assert "&lt;!channel&gt; &lt;@U0PLEAD&gt;" in body and "<!channel>" not in body and "<@U0PLEAD>" not in body

    # The author's side cannot agree to its own expectation; the other side cannot withdraw it.
    stack.actor(w.client_lead).click(w.channel, posted["ts"], "expectation-agree")
    _ephemeral(stack, w.client_lead, "only people on the Contoso Services side")
    stack.actor(provider).click(w.channel, posted["ts"], "expectation-withdraw")
    _ephemeral(stack, provider, "Only people on the Northwind Retail side")
    before = view_ids(stack)
    stack.actor(client).click(w.channel, posted["ts"], "expectation-discuss")
    _ephemeral(stack, client, "only people on the Contoso Services side")
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(Expectation.status)).one() == "open"

    # The provider asks to discuss it, with a reason; the message is updated in place.
    stack.actor(provider).click(w.channel, posted["ts"], "expectation-discuss")
    discuss = new_view(stack, provider, DISCUSS_CALLBACK, before)
    bad = stack.actor(provider).submit_view(discuss["id"], {"reason": " "}, force=True)
    assert "reason" in _errors(bad)["reason"]
    stack.actor(provider).submit_view(discuss["id"], {"reason": "Friday is our release day; <!here> Thursday?"})
    wait_for(lambda: "asked to discuss it" in _dumps(sb.message(w.channel, posted["ts"])), what="the discussion shown")
    updated = sb.message(w.channel, posted["ts"])
    assert updated is not None and "Thursday?" in _dumps(updated) and "&lt;!here&gt;" in _dumps(updated)
    # Then their lead agrees.
    stack.actor(w.provider_lead).click(w.channel, posted["ts"], "expectation-agree")
    wait_for(lambda: "Agreed by" in _dumps(sb.message(w.channel, posted["ts"])), what="the agreement shown")
    assert len(_channel_messages(stack, "Expectation #1")) == 1  # updated, never posted again

    # The provider (who cannot run /partner) records one of theirs from the message's button.
    before = view_ids(stack)
    stack.actor(provider).click(w.channel, posted["ts"], "expectation-add")
    theirs = new_view(stack, provider, EXPECT_CALLBACK, before)
    stack.actor(provider).submit_view(theirs["id"], {"text": "Access to the staging logs"})
    second = wait_for(lambda: _channel_messages(stack, "Expectation #2"), what="the second expectation")[0]
    assert "Contoso Services expects of Northwind Retail" in _dumps(second["blocks"])
    stack.actor(provider).click(w.channel, second["ts"], "expectation-withdraw")
    wait_for(lambda: "Withdrawn by" in _dumps(sb.message(w.channel, second["ts"])), what="withdrawn")
    assert "expectation-agree" not in _dumps(sb.message(w.channel, second["ts"]))

    _command(stack, w.client_lead, "expectations")
    ledger = _dumps(_ephemeral(stack, w.client_lead, "Expectations ledger"))
    assert "Agreed* (1)" in ledger and "Withdrawn* (1)" in ledger and "Status reports every Friday" in ledger
    _command(stack, w.client_lead, "expectations all")
    _ephemeral(stack, w.client_lead, "Usage: `/partner expectations`")
    _command(stack, w.client_lead, "goal remove 3")
    _ephemeral(stack, w.client_lead, "Usage: `/partner goal add [title]`")
    assert sb.violations == []


# --- the scorecard ------------------------------------------------------------------------------------------------


def _fill(stack: LocalStack, user_id: str, invite: dict[str, Any], own: int, other: int, comment: str = "") -> Any:
    before = view_ids(stack)
    stack.actor(user_id).click(stack.world.channel, invite["ts"], "scorecard-fill")
    view = new_view(stack, user_id, SCORECARD_CALLBACK, before)
    values: dict[str, Any] = {f"self-{d}": str(own) for d in DIMENSIONS} | {f"other-{d}": str(other) for d in DIMENSIONS}
    if comment:
        values["comment"] = comment
    return stack.actor(user_id).submit_view(view["id"], values)


def test_scorecard_started_by_a_lead_filled_in_by_both_sides_and_reported_once(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    _command(stack, w.client_members[0], "scorecard monthly")
    _ephemeral(stack, w.client_members[0], "Only the partnership's leads")
    _command(stack, w.client_lead, "scorecard fortnightly")
    _ephemeral(stack, w.client_lead, "Usage: `/partner scorecard`")
    _command(stack, w.client_lead, "scorecard monthly")
    _ephemeral(stack, w.client_lead, "now runs monthly. Next one opens Mon 7 Dec")
    expectations.record_expectation(
        stack.services.uow_factory(),
        **demo_channel(w),
        actor=w.client_lead,
        text="Named backup for every on-call shift",
        request_key="seeded",
        now=START,
    )
    _command(stack, w.client_lead, "scorecard start")
    _ephemeral(stack, w.client_lead, "The 2026-11 scorecard is open until")
    _command(stack, w.client_lead, "scorecard start")
    _ephemeral(stack, w.client_lead, "2026-11 is open already")
    invite = wait_for(lambda: _channel_messages(stack, "scorecard-fill"), what="the invitation")
    assert len(invite) == 1
    invite_msg = invite[0]

    # Three people per side. Client: themselves 4, 4, 5 (4.33), the provider 3, 2, 3 (2.67). Provider: themselves
    # 5, 5, 4 (4.67), the client 3, 4, 2 (3.00).
    for user, own, other in zip(w.client_members[:3], (4, 4, 5), (3, 2, 3), strict=True):
        _fill(stack, user, invite_msg, own, other, comment=f"<!channel> from {user}")
    for user, own, other in zip(w.provider_members[:3], (5, 5, 4), (3, 4, 2), strict=True):
        _fill(stack, user, invite_msg, own, other)
    wait_for(lambda: _count(stack, ScorecardResponse) == 6, what="six responses")
    # A second submission replaces the first: the modal shows the earlier answers, and the count stays six.
    before = view_ids(stack)
    stack.actor(w.client_members[0]).click(w.channel, invite_msg["ts"], "scorecard-fill")
    again = new_view(stack, w.client_members[0], SCORECARD_CALLBACK, before)
    prefilled = {b["block_id"]: b["element"].get("initial_option") for b in again["blocks"] if b.get("type") == "input"}
    assert prefilled["self-trust"]["value"] == "4" and prefilled["other-trust"]["value"] == "3"
    # The ledger is there to review, and the form names the person's side and the other.
    shown = _dumps(again["blocks"])
    assert "Named backup for every on-call shift" in shown and "Waiting for an answer: 1" in shown
    assert "Trust: Northwind Retail (your side)" in shown and "Trust: Contoso Services (the other side)" in shown
    bad = stack.actor(w.client_members[0]).submit_view(again["id"], {"other-trust": None}, force=True)
    assert _errors(bad) == {"other-trust": "Please choose a rating."}
    _fill(stack, w.client_members[0], invite_msg, 4, 3, comment=f"<!channel> from {w.client_members[0]}")
    _ephemeral(stack, w.client_members[0], "updated (your earlier answers are replaced)")
    assert _count(stack, ScorecardResponse) == 6
    _command(stack, w.client_lead, "scorecard")
    status = _dumps(_ephemeral(stack, w.client_lead, "Bilateral scorecard"))
    assert "Cadence: monthly" in status and "Northwind Retail: 3 answered, Contoso Services: 3" in status

    # Seven days later the heartbeat closes it and posts the report, once.
    closes = START + timedelta(days=7)
    assert stack.tick(closes - timedelta(minutes=1)).scorecards_closed == 0
    report = stack.tick(closes)
    assert report.scorecards_closed == 1 and report.failures == []
    posted = wait_for(lambda: _channel_messages(stack, "perception gaps"), what="the report")
    text = _dumps([m["blocks"] for m in sb.messages(w.channel) if m.get("thread_ts") in (None, posted[0]["ts"])])
    # One decimal, halves up; gap = provider − client: 3.0 − 4.3 = −1.3 (watch), 4.7 − 2.7 = +2.0 (act).
    assert "Northwind Retail rates itself 4.3 · Contoso Services rates it 3.0 · gap −1.3 🔸" in text
    assert "Contoso Services rates itself 4.7 · Northwind Retail rates it 2.7 · gap +2.0 ⚠️" in text
    assert "&lt;!channel&gt; from" in text and "<!channel>" not in text
    assert "Expectations ledger" in text and "Named backup for every on-call shift" in text
    assert "has closed" in _dumps(sb.message(w.channel, invite_msg["ts"]))
    assert "scorecard-fill" not in _dumps(sb.message(w.channel, invite_msg["ts"]))
    count = len(sb.messages(w.channel))
    assert stack.tick(closes + timedelta(minutes=5)).scorecards_closed == 0
    assert len(sb.messages(w.channel)) == count
    assert sb.violations == []


def test_scheduled_scorecard_opens_through_the_tick_once_and_a_thin_side_is_withheld(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    assert stack.tick(START).scorecards_opened == 0  # the first tick only computes the next time
    due = datetime(2027, 1, 4, 14, 0, tzinfo=UTC)  # quarterly: Monday 4 January 2027, 09:00 New York
    assert stack.tick(due - timedelta(minutes=1)).scorecards_opened == 0
    assert stack.tick(due).scorecards_opened == 1
    assert stack.tick(due + timedelta(minutes=1)).scorecards_opened == 0
    invites = _channel_messages(stack, "scorecard-fill")
    assert len(invites) == 1 and "Bilateral scorecard 2027-Q1" in _dumps(invites[0])
    with stack.services.uow_factory() as uow:
        s = uow.session.scalars(select(Scorecard)).one()
        assert (s.period, s.opened_by) == ("2027-Q1", None)
    stack.clock.set(due + timedelta(hours=1))
    for user in w.client_members[:3]:
        _fill(stack, user, invites[0], 4, 2, comment="client view")
    for user in w.provider_members[:2]:  # two provider people: below the threshold of three
        _fill(stack, user, invites[0], 5, 1, comment="PROVIDER-ONLY-COMMENT")
    wait_for(lambda: _count(stack, ScorecardResponse) == 5, what="five responses")
    assert stack.tick(due + timedelta(days=7)).scorecards_closed == 1
    posted = wait_for(lambda: _channel_messages(stack, "perception gaps"), what="the report")
    text = _dumps([m["blocks"] for m in sb.messages(w.channel) if m.get("thread_ts") in (None, posted[0]["ts"])])
    assert "PROVIDER-ONLY-COMMENT" not in text and "itself 5.0" not in text and "rates it 1.0" not in text
    assert "Northwind Retail rates itself 4.0 · Contoso Services rates it – · gap –" in text
    assert "Contoso Services: 2 answered, fewer than 3" in text and "client view" in text
    assert _count(stack, OutboxMessage, OutboxMessage.purpose == "scorecard-report") == 1
    assert sb.violations == []
