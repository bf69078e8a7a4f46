"""A red KPI through the real handlers against the sandbox (issue 14, item 4): the heartbeat posts the blameless
question in the channel once per red period; a side's answer becomes an action linked to the KPI; the third red
week in a row logs an issue, whose card is posted and which escalates along the partnership's path like any issue;
a lead changes N with ``/partner kpi policy red-periods N``.

The KPI: first-contact resolution delivered by the provider, higher is better, red below 65 %, weekly (periods end
on Sundays: 8, 15 and 22 Nov 2026, before START, Monday 30 Nov)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bot.harness import LocalStack
from storage.models import Action, Issue, IssueEvent, Partnership
from tests.conftest import START
from tests.helpers import card, new_view, setup_partnership, thread, view_ids, wait_for
from tests.kpi_red_support import add_agreed_kpi, record_figure

W1, W2, W3 = date(2026, 11, 8), date(2026, 11, 15), date(2026, 11, 22)


def _questions(stack: LocalStack) -> list[dict[str, Any]]:
    return [
        m
        for m in stack.sandbox.messages(stack.world.channel, include_thread_replies=False)
        if "kpi-red-sides" in json.dumps(m)
    ]


def _partnership(stack: LocalStack) -> Partnership:
    with stack.services.uow_factory() as uow:
        p = uow.session.scalars(select(Partnership).where(Partnership.channel_id == stack.world.channel)).one()
        uow.session.expunge(p)
        return p


def test_a_red_kpi_asks_each_side_and_three_red_weeks_escalate_like_an_issue(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    owner = w.provider_members[0]
    uow = stack.services.uow_factory
    kpi_id = add_agreed_kpi(uow, _partnership(stack).id, now=START, owner_id=owner, created_by=w.client_lead)

    record_figure(uow, kpi_id, W1, 61.0, now=START)
    assert stack.tick(START + timedelta(minutes=1)).kpi_questions == 1
    [question] = wait_for(lambda: _questions(stack) or None, what="the red KPI's question")
    blocks = json.dumps(question["blocks"])
    assert "What can each side do to get it back?" in blocks and "not about whose fault" in blocks
    assert "61 %" in blocks and "target 75 %" in blocks
    assert stack.tick(START + timedelta(minutes=2)).kpi_questions == 0  # once per red period

    # The provider answers: its button opens the action form for the provider side, linked to the KPI.
    before = view_ids(stack)
    stack.actor(owner).click(w.channel, question["ts"], "kpi-red-answer-provider")
    form = new_view(stack, owner, "action-add-submit", before)
    assert "What can each side do to get it back?" in json.dumps(form["blocks"])
    title = "Password resets handled at first line"
    response = stack.actor(owner).submit_view(form["id"], {"title": title, "owner_id": owner, "due_on": "2026-12-14"})
    assert response.status == 200, response.body

    def action() -> tuple[int | None, str] | None:
        with uow() as u:
            row = u.session.scalars(select(Action).where(Action.title == title)).one_or_none()
            return (row.kpi_id, row.side) if row else None

    assert wait_for(action, what="the answer's action") == (kpi_id, "provider")
    # both sides see it in the question's thread
    reply = wait_for(
        lambda: next((m for m in thread(stack, question["ts"]) if title in json.dumps(m)), None), what="the answer"
    )
    assert f"<@{owner}>, due Mon 14 Dec 2026" in json.dumps(reply["blocks"])

    record_figure(uow, kpi_id, W2, 63.0, now=START + timedelta(hours=1))
    report = stack.tick(START + timedelta(hours=1, minutes=1))
    assert (report.kpi_questions, report.kpi_escalations) == (1, 0)
    record_figure(uow, kpi_id, W3, 58.0, now=START + timedelta(hours=2))
    report = stack.tick(START + timedelta(hours=2, minutes=1))
    assert (report.kpi_questions, report.kpi_escalations) == (1, 1)
    issue_card = card(stack, 1)
    assert "red for 3 weeks in a row" in issue_card["text"]
    with uow() as u:
        issue = u.session.scalars(select(Issue)).one()
        assert (issue.severity, issue.owner_id) == ("S2", owner)
        assert "Period ending 2026-11-22: 58 % (Red)" in issue.details
    assert len(_questions(stack)) == 3

    # Nobody acknowledges it: a week later the escalation pass has taken it to the leads of both sides.
    stack.tick(START + timedelta(days=7))
    with uow() as u:
        levels = [e.level for e in u.session.scalars(select(IssueEvent).where(IssueEvent.kind == "escalated"))]
    assert 2 in levels
    assert any(str(m.get("text", "")).startswith("Escalation (level 2") for m in thread(stack, issue_card["ts"]))
    assert stack.sandbox.violations == []


def test_a_lead_sets_the_red_periods_with_a_command(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    response = stack.actor(w.client_lead).slash_command("/partner", "kpi policy red-periods 2", w.channel)
    assert response.status == 200, response.body
    wait_for(lambda: _partnership(stack).kpi_red_periods_to_escalate == 2 or None, what="the policy saved")
    wait_for(
        lambda: next(
            (m for m in stack.sandbox.messages(w.channel) if "red for 2 period(s) in a row" in json.dumps(m)), None
        ),
        what="the notice in the channel",
    )
    # out of range: refused, nothing changes
    stack.actor(w.client_lead).slash_command("/partner", "kpi policy red-periods 13", w.channel)
    refused = stack.actor(w.client_members[0]).slash_command("/partner", "kpi policy red-periods 4", w.channel)
    assert refused.status == 200
    stack.settle()
    assert _partnership(stack).kpi_red_periods_to_escalate == 2
