"""Time travel with ``stack.tick(at)``: escalation levels, grouped overdue reminders and early-warning signals.

The demo partnership counts working time in New York, 09:00-17:00 Monday to Friday; START is Monday 30 Nov 2026,
07:00 there, so an issue logged at START starts its clock at 09:00 (14:00 UTC).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.harness import LocalStack
from bot.services import actions
from bot.services.issue_models import ActionInput
from storage.models import Action, IssueEvent, Signal
from tests.conftest import START
from tests.helpers import (
    ISSUE_CALLBACK,
    answer_open_round,
    card,
    demo_channel,
    log_issue,
    new_view,
    setup_partnership,
    thread,
    view_ids,
    wait_for,
)


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` after Monday 30 Nov 2026, at ``hour``:``minute`` UTC (New York is 5 hours behind)."""
    return START.replace(hour=hour, minute=minute) + timedelta(days=days)


def _escalations(stack: LocalStack, ts: str) -> list[dict[str, Any]]:
    return [m for m in thread(stack, ts) if m.get("text", "").startswith("Escalation (")]


def _private(stack: LocalStack, user: str, needle: str) -> list[dict[str, Any]]:
    """Messages for ``user`` alone containing ``needle``: in their DMs with the app, and ephemerals in the channel."""
    sb = stack.sandbox
    dms = [m for m in sb.messages(sb.dm_channel(user)) if needle in m.get("text", "")]
    return dms + [m for m in sb.ephemerals(stack.world.channel, user=user) if needle in m.get("text", "")]


def test_each_level_fires_once_through_tick(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    first = log_issue(stack, w.client_members[0], severity="S1")  # acknowledge 1 h, resolve 1 working day
    ts = first["ts"]
    timeline = [
        (_at(0, 14, 59), 0),  # 09:59 New York: not yet an hour of working time
        (_at(0, 15, 0), 1),  # level 1: the acknowledge time passed
        (_at(0, 15, 30), 0),
        (_at(0, 16, 0), 1),  # level 2: twice the acknowledge time
        (_at(1, 21, 59), 0),
        (_at(1, 22, 0), 1),  # level 3: twice the resolve time (16 working hours: Tuesday 17:00 New York)
        (_at(2, 16, 0), 0),
        (_at(9, 16, 0), 0),  # a week later: nothing left to fire
    ]
    for at, expected in timeline:
        assert stack.tick(at).escalations == expected, at
    # The channel sees level 2 and above, naming the roles needed; level 1 went to the owner alone.
    messages = _escalations(stack, ts)
    assert [m["text"].split(")")[0] for m in messages] == [
        "Escalation (level 2: leads of both sides",
        "Escalation (level 3: executive sponsors",
    ]
    level2, level3 = (json.dumps(m["blocks"]) for m in messages)
    assert "needs the leads of both sides" in level2 and "needs the executive sponsors of both sides" in level3
    assert f"<@{w.client_lead}>" in level2 and f"<@{w.provider_lead}>" in level2
    assert f"<@{w.client_sponsor}>" in level3 and f"<@{w.provider_sponsor}>" in level3
    owner = w.provider_members[0]
    # The owner is of the other organisation: the app cannot message them, so the nudge is an ephemeral for them.
    [nudge] = _private(stack, owner, "is waiting for you")
    assert nudge.get("is_ephemeral") and nudge["channel"] == w.channel
    assert "waiting 1 working hour to be acknowledged" in json.dumps(nudge["blocks"])
    assert "Mon 30 Nov, 17:30 IST" in json.dumps(nudge["blocks"])  # the owner's time zone (Kolkata)
    for text in (level2, level3, json.dumps(nudge["blocks"])):
        assert f"<@{owner}>" not in text
        assert "fault" not in text.lower() or "not whose fault" in text.lower()
    assert "level 3: executive sponsors" in json.dumps(stack.sandbox.message(w.channel, ts))
    assert "issue-escalate" not in json.dumps(stack.sandbox.message(w.channel, ts))  # nothing above level 3
    assert stack.sandbox.violations == []


def test_level_1_is_a_direct_message_to_an_owner_of_our_organisation(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    owner = w.client_members[1]  # Northwind installed the app: it can message its own people
    issue = log_issue(stack, w.client_members[0], severity="S1", owning_side="client", owner_id=owner)
    assert stack.tick(_at(0, 15, 0)).escalations == 1
    wait_for(lambda: _private(stack, owner, "is waiting for you"), what="the owner's nudge")
    [nudge] = _private(stack, owner, "is waiting for you")
    assert not nudge.get("is_ephemeral")  # a message from the app: it notifies, and it stays
    assert nudge in sb.messages(sb.dm_channel(owner))
    assert f"<#{w.channel}>" in json.dumps(nudge["blocks"]) and "Mon 30 Nov, 07:00 EST" in json.dumps(nudge["blocks"])
    assert _escalations(stack, issue["ts"]) == []  # nothing in the channel shared with the other side
    assert not [m for m in sb.ephemerals(w.channel) if "is waiting for you" in m.get("text", "")]
    assert stack.sandbox.violations == []


def test_acknowledging_stops_the_acknowledge_based_levels(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    owner = w.provider_members[0]
    acked = log_issue(stack, w.client_members[0], title="Acknowledged in time", severity="S2")
    waiting = log_issue(stack, w.client_members[0], title="Nobody looked", severity="S2")
    stack.clock.set(_at(0, 14, 30))  # 09:30 New York
    stack.actor(owner).click(w.channel, acked["ts"], "issue-acknowledge")
    wait_for(lambda: "Acknowledged by" in json.dumps(stack.sandbox.message(w.channel, acked["ts"])), what="acknowledged")
    # S2: acknowledge within 4 working hours, resolve within 3 working days (24 working hours).
    assert stack.tick(_at(0, 17, 59)).escalations == 0
    assert stack.tick(_at(0, 18, 0)).escalations == 1  # only the unacknowledged one, at 13:00 New York
    assert stack.tick(_at(0, 22, 0)).escalations == 1  # its level 2, at twice the acknowledge time
    assert stack.tick(_at(2, 15, 59)).escalations == 0
    assert stack.tick(_at(2, 16, 0)).escalations == 1  # the acknowledged one: 75% of the resolve time (18 h)
    assert [m["text"].split(")")[0] for m in _escalations(stack, waiting["ts"])] == [
        "Escalation (level 2: leads of both sides",
    ]
    assert _escalations(stack, acked["ts"]) == []  # its level 1 went to the owner alone
    nudges = _private(stack, owner, "is waiting for you")
    assert len(nudges) == 2 and "three quarters of the agreed 3 working days" in json.dumps(nudges[-1]["blocks"])
    with stack.services.uow_factory() as uow:
        kinds = [
            (e.issue_id, e.level) for e in uow.session.scalars(select(IssueEvent).where(IssueEvent.kind == "escalated"))
        ]
    assert sorted(kinds) == [(1, 1), (2, 1), (2, 2)]


def test_overdue_actions_are_reminded_when_overdue_then_weekly_grouped_per_owner(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    owner, other = w.provider_members[0], w.client_members[1]
    for title, who in (("Send the rota", owner), ("Fix the badge job", owner), ("Review the contract", other)):
        actions.create_action(
            stack.services.uow_factory(),
            **demo_channel(w),
            actor=w.client_lead,
            data=ActionInput(title=title, owner_id=who, due_on=date(2026, 12, 1)),
            request_key=title,
            now=START,
        )
    assert stack.tick(_at(1, 15)).action_reminders == 0  # due today is not overdue
    assert stack.tick(_at(2, 13)).action_reminders == 0  # overdue, but 08:00 in New York: not before work
    assert stack.tick(_at(2, 15)).action_reminders == 2  # one per owner
    assert stack.tick(_at(2, 18)).action_reminders == 0  # once a day
    assert stack.tick(_at(3, 15)).action_reminders == 0  # and not again the next day for the same actions

    def reminders(user: str) -> list[dict[str, Any]]:
        return _private(stack, user, "overdue")

    # The provider's owner is of the other organisation: an ephemeral in the channel, the only way to reach them.
    [grouped] = reminders(owner)
    assert grouped.get("is_ephemeral") and grouped["text"].startswith("You have 2 overdue actions")
    assert "Send the rota" in json.dumps(grouped["blocks"]) and "Fix the badge job" in json.dumps(grouped["blocks"])
    # Northwind's owner gets a message from the app, worded for one action.
    [single] = reminders(other)
    assert not single.get("is_ephemeral") and single in sb.messages(sb.dm_channel(other))
    assert (
        single["text"].startswith("Your action “Review the contract” in ")
        and "is 1 day overdue: mark it done" in single["text"]
    )
    done = next(
        b["accessory"]["value"] for b in grouped["blocks"] if "Send the rota" in json.dumps(b) and b.get("accessory")
    )
    stack.actor(owner).click_ephemeral(w.channel, grouped["ts"], "action-done", value=done)
    wait_for(lambda: any("is done" in m.get("text", "") for m in sb.ephemerals(w.channel, user=owner)), what="done")
    # "Mark done" works from the direct message too: the button names the partnership's channel.
    stack.actor(other).click(sb.dm_channel(other), single["ts"], "action-done")

    def status(title: str) -> str:
        with stack.services.uow_factory() as uow:
            return {a.title: a.status for a in uow.session.scalars(select(Action))}[title]

    wait_for(lambda: status("Review the contract") == "done", what="done from the DM")
    assert stack.tick(_at(8, 15)).action_reminders == 0  # six days on: still within the week
    assert stack.tick(_at(9, 15)).action_reminders == 1  # a week after the last reminder; the other owner is done
    latest = reminders(owner)[-1]
    assert latest["text"].startswith("Your action “Fix the badge job” in ") and "is 8 days overdue" in latest["text"]
    assert "Send the rota" not in json.dumps(latest["blocks"])
    with stack.services.uow_factory() as uow:
        assert {a.title: a.status for a in uow.session.scalars(select(Action))}["Send the rota"] == "done"


def test_a_pulse_drop_signals_the_leads_with_a_prefilled_log_issue_button(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    people = [w.client_lead, *w.client_members[:3], w.provider_lead, *w.provider_members[:3]]
    # Three weekly rounds (pulse Mondays 09:00 New York, open 48 hours): high twice, then a sharp drop.
    for week, score in enumerate((5, 5, 1)):
        opens = _at(0, 14) + timedelta(weeks=week)
        assert stack.tick(opens).opened == 1
        answer_open_round(stack, people, score, now=opens + timedelta(hours=1))
        report = stack.tick(opens + timedelta(hours=48))
        assert report.closed == 1
    assert report.signals > 0
    with stack.services.uow_factory() as uow:
        kinds = {s.kind for s in uow.session.scalars(select(Signal))}
    assert kinds == {"drop"}  # both sides dropped alike: no gap between them

    def signals_for(user: str) -> list[dict[str, Any]]:
        return _private(stack, user, "Early warning")

    assert len(signals_for(w.client_lead)) == report.signals == len(signals_for(w.provider_lead))
    assert signals_for(w.client_members[0]) == []  # only the leads
    # Northwind's lead gets a message from the app; Contoso's lead, whom the app cannot message, an ephemeral.
    assert all(not m.get("is_ephemeral") for m in signals_for(w.client_lead))
    assert all(m.get("is_ephemeral") for m in signals_for(w.provider_lead))
    from_dm = signals_for(w.client_lead)[0]
    before = view_ids(stack)
    stack.actor(w.client_lead).click(sb.dm_channel(w.client_lead), from_dm["ts"], "signal-log-issue")
    in_dm = new_view(stack, w.client_lead, ISSUE_CALLBACK, before)  # the button names the partnership's channel
    assert "rating dropped" in json.dumps(in_dm["blocks"])
    signal = signals_for(w.provider_lead)[0]
    assert "dropped for" in json.dumps(signal["blocks"], ensure_ascii=False)
    before = view_ids(stack)
    stack.actor(w.provider_lead).click_ephemeral(w.channel, signal["ts"], "signal-log-issue")
    view = new_view(stack, w.provider_lead, ISSUE_CALLBACK, before)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}
    assert "rating dropped" in inputs["title"]["initial_value"]
    assert "against 5.0 on average" in inputs["details"]["initial_value"]
    assert inputs["severity"]["initial_option"]["value"] == "S3"
    stack.actor(w.provider_lead).submit_view(
        view["id"], {"owning_side": "client", "owner_id": w.client_lead, "category": "Other"}
    )
    assert "rating dropped" in card(stack, 1)["text"]
    assert sb.violations == []
