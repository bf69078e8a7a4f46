"""Issue 12, item 9: a scorecard reminds the people who have not filled it in, once, before it closes (DESIGN 3.2's
reminder rule, as for pulse rounds), and its button opens the form."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.harness import LocalStack
from bot.services.pulse_models import DIMENSIONS
from storage.models import Member, Scorecard
from tests.helpers import new_view, setup_partnership, view_ids, wait_for

SCORECARD_CALLBACK = "scorecard-submit"


def _reminders(stack: LocalStack, user_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in stack.sandbox.ephemerals(stack.world.channel, user=user_id)
        if "scorecard" in str(m.get("text", "")) and str(m.get("text", "")).startswith("Reminder")
    ]


def test_non_respondents_get_one_reminder_before_the_scorecard_closes(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    stack.actor(w.client_lead).slash_command("/partner", "scorecard start", w.channel)
    invite = wait_for(
        lambda: next((m for m in sb.messages(w.channel) if "scorecard-fill" in json.dumps(m.get("blocks"))), None),
        what="the invitation",
    )
    answered = w.client_members[0]
    before = view_ids(stack)
    stack.actor(answered).click(w.channel, invite["ts"], "scorecard-fill")
    view = new_view(stack, answered, SCORECARD_CALLBACK, before)
    stack.actor(answered).submit_view(view["id"], {f"{t}-{d}": "4" for t in ("self", "other") for d in DIMENSIONS})
    stack.settle()
    with stack.services.uow_factory() as uow:
        s = uow.session.scalars(select(Scorecard)).one()
        remind_at, closes_at = s.remind_at, s.closes_at
        asked = sorted(
            m.user_id
            for m in uow.session.scalars(
                select(Member).where(Member.side.is_not(None), Member.is_bot.is_(False), Member.in_channel.is_(True))
            )
        )
    assert remind_at == closes_at - timedelta(hours=24)  # the partnership's reminder time, as for pulses

    assert stack.tick(remind_at - timedelta(minutes=1)).scorecard_reminders == 0
    report = stack.tick(remind_at)
    assert report.scorecard_reminders == len(asked) - 1  # everyone on a side but the one who answered
    assert stack.tick(remind_at + timedelta(hours=1)).scorecard_reminders == 0  # once
    stack.settle()
    assert _reminders(stack, answered) == []
    late = w.provider_members[0]
    (reminder,) = _reminders(stack, late)
    assert "closes" in reminder["text"] and "Northwind service desk" in json.dumps(reminder["blocks"])

    # Its button opens the form, like the invitation's.
    before = view_ids(stack)
    stack.actor(late).click_ephemeral(w.channel, reminder["ts"], "scorecard-fill")
    new_view(stack, late, SCORECARD_CALLBACK, before)
    assert stack.tick(closes_at).scorecards_closed == 1
    assert all(len(_reminders(stack, u)) <= 1 for u in asked)
    assert sb.violations == []
