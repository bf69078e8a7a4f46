"""A KPI's figure recorded in Slack: the owner on the delivering side is asked once each period after it ends, in
their working hours, and the request's button opens the form; ``/partner kpi record KEY`` opens it for anyone on
the delivering side; the form checks its values, and a repeat for the same period replaces the figure.

The stack starts on Monday 30 November 2026, 12:00 UTC (07:00 in New York, both sides' zone; working hours 09:00 to
17:00, Monday to Friday). The weekly KPI is first asked about the week it was agreed in, ending Sunday 6 December:
on Monday 7 December at 09:00 New York (14:00 UTC).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.harness import LocalStack
from bot.services.kpi_models import KpiSource, KpiValueInput
from bot.services.kpi_values import record_values
from tests.conftest import START
from tests.helpers import ephemeral_with, form_errors, new_view, setup_partnership, view_ids, wait_for
from tests.kpi_factories import add_kpi, stored_values

RECORD_CALLBACK = "kpi-record-submit"
ASK_AT = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


def _partnership_id(stack: LocalStack) -> int:
    with stack.services.uow_factory() as uow:
        p = uow.partnerships.get_by_channel(stack.world.client_team, stack.world.channel)
        assert p is not None
        return p.id


def _requests(stack: LocalStack, user_id: str) -> list[dict[str, Any]]:
    return [m for m in stack.sandbox.ephemerals(stack.world.channel, user=user_id) if "kpi-record" in json.dumps(m)]


def test_the_owner_is_asked_once_per_period_in_working_hours_and_records_the_figure(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    owner = w.provider_members[0]
    kpi_id = add_kpi(
        stack.services.uow_factory,
        _partnership_id(stack),
        key="fcr",
        now=START,
        effective_from=date(2026, 11, 30),
        owner_id=owner,
    )
    assert stack.tick(START).kpi_requests == 0  # scheduled: the week running now is asked about once it ends
    assert stack.tick(ASK_AT - timedelta(minutes=1)).kpi_requests == 0
    assert stack.tick(ASK_AT).kpi_requests == 1
    assert stack.tick(ASK_AT + timedelta(hours=1)).kpi_requests == 0  # once a period
    stack.settle()
    (request,) = wait_for(lambda: _requests(stack, owner) or None, what="the owner's request")
    assert "week ending" in json.dumps(request) and "Fcr" in json.dumps(request)
    assert _requests(stack, w.provider_lead) == []  # the owner is asked, not the leads

    before = view_ids(stack)
    stack.actor(owner).click_ephemeral(w.channel, request["ts"], "kpi-record")
    view = new_view(stack, owner, RECORD_CALLBACK, before)
    period = next(b for b in view["blocks"] if b.get("block_id") == "period_end")
    assert period["element"]["initial_option"]["value"] == "2026-12-06"
    assert form_errors(
        stack.actor(owner).submit_view(view["id"], {"period_end": "2026-12-06", "value": "eighty"}, force=True)
    ) == {"value": "Write the figure as a number, with a point for decimals (like 81.5)."}
    response = stack.actor(owner).submit_view(
        view["id"], {"period_end": "2026-12-06", "value": " 72.5 ", "note": "Two off sick"}
    )
    assert response.status == 200
    confirmation = ephemeral_with(stack, owner, "You recorded")
    # Target 80, amber 75, red 65, higher is better: 72.5 is worse than 75 and not than 65, so amber.
    assert "*72.5%* (Amber)" in json.dumps(confirmation)
    assert stored_values(stack.services.uow_factory, kpi_id) == [(date(2026, 12, 6), 72.5, "Two off sick", "slack")]

    # The next week's figure arrives through the API before the owner is asked: nobody is asked for it.
    record_values(
        stack.services.uow_factory,
        _partnership_id(stack),
        [KpiValueInput("fcr", date(2026, 12, 13), 81)],
        source=KpiSource.API,
        recorded_by="Ticketing",
        now=ASK_AT + timedelta(days=7),
    )
    assert stack.tick(ASK_AT + timedelta(days=7)).kpi_requests == 0
    # The week after, it is asked for again (09:00 New York on Monday 21 December).
    assert stack.tick(ASK_AT + timedelta(days=14)).kpi_requests == 1
    assert stack.sandbox.violations == []


def test_the_command_opens_the_form_for_the_delivering_side_only_and_a_repeat_replaces(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    partnership_id = _partnership_id(stack)
    kpi_id = add_kpi(
        stack.services.uow_factory,
        partnership_id,
        key="decisions",
        number=1,
        now=START,
        delivered_by="client",
        target=90,
        amber=80,
        red=60,
    )
    add_kpi(stack.services.uow_factory, partnership_id, key="fcr", number=2, now=START)
    member = w.client_members[0]

    stack.actor(member).slash_command("/partner", "kpi record fcr", w.channel)
    refusal = wait_for(
        lambda: next((v for v in stack.sandbox.open_views(member) if "records its figure" in json.dumps(v)), None),
        what="the refusal in the modal",
    )
    assert "delivered by Contoso Services; someone on that side records its figure" in json.dumps(refusal)
    stack.actor(member).close_view(refusal["id"])

    for value, verb in (("95", "You recorded"), ("55", "You replaced the figure")):
        before = view_ids(stack)
        assert stack.actor(member).slash_command("/partner", "kpi record decisions", w.channel).status == 200
        view = new_view(stack, member, RECORD_CALLBACK, before)
        period = next(b for b in view["blocks"] if b.get("block_id") == "period_end")
        # On Monday 30 November the last complete week ended on Sunday 29 November.
        assert period["element"]["initial_option"]["value"] == "2026-11-29"
        assert stack.actor(member).submit_view(view["id"], {"period_end": "2026-11-29", "value": value}).status == 200
        ephemeral_with(stack, member, verb)
    # 55 is worse than the red level 60: red.
    assert "*55%* (Red)" in json.dumps(ephemeral_with(stack, member, "You replaced the figure"))
    assert stored_values(stack.services.uow_factory, kpi_id) == [(date(2026, 11, 29), 55.0, None, "slack")]
    assert stack.sandbox.violations == []
