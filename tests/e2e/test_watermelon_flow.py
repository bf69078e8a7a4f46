"""The watermelon check through the real heartbeat and sender against the sandbox: a KPI red while both sides rate
its dimension 5.0 is signalled once to both leads, with a prefilled "Log issue" button, and named in the digest.

The round opens Monday 30 Nov 2026 09:00 New York and everyone answers 5 (trust is among the first round's
dimensions). The digest of Monday 7 Dec 09:00 covers the week whose last whole day is Sunday 6 Dec; the KPI's
figure for the week ending that Sunday is 50 against a red level of 65: red. Both sides 5.0 >= 4.0: people happy.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from bot.harness import LocalStack
from storage.models import Partnership, Signal
from tests.conftest import START
from tests.helpers import ISSUE_CALLBACK, answer_open_round, new_view, setup_partnership, view_ids
from tests.kpi_factories import add_agreed_kpi, record_figure

PULSE_AT = START.replace(hour=14, minute=0)  # Monday 30 Nov 2026, 09:00 New York
DIGEST_AT = PULSE_AT + timedelta(days=7)
NEEDLE = "people happy, KPIs red"


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(m.get("blocks"), ensure_ascii=False) for m in messages]


def test_a_red_kpi_beside_happy_people_is_signalled_once_to_both_leads_and_in_the_digest(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb, f = stack.world, stack.sandbox, stack.services.uow_factory
    with f() as uow:
        pid = uow.session.scalars(select(Partnership.id)).one()
    fcr = add_agreed_kpi(
        f, pid, name="First-contact resolution", dimension="trust", target=80, amber=75, red=65,
        effective_from=date(2026, 11, 30), now=PULSE_AT,
    )  # fmt: skip
    record_figure(f, fcr, date(2026, 12, 6), 50, now=PULSE_AT)
    people = [w.client_lead, *w.client_members[:3], w.provider_lead, *w.provider_members[:3]]
    assert stack.tick(PULSE_AT).opened == 1
    answer_open_round(stack, people, 5, now=PULSE_AT + timedelta(hours=1))
    assert stack.tick(PULSE_AT + timedelta(hours=48)).closed == 1

    assert stack.tick(DIGEST_AT).digests == 1
    again = stack.tick(DIGEST_AT + timedelta(hours=1))
    assert again.digests == 0
    with f() as uow:
        assert [(s.kind, s.subject) for s in uow.session.scalars(select(Signal))] == [("kpis_red_happy", "trust")]

    # Northwind's lead gets it from the app, Contoso's lead (whom the app cannot message) as an ephemeral; once each.
    to_client = [m for m in sb.messages(sb.dm_channel(w.client_lead)) if "Early warning" in m.get("text", "")]
    to_provider = [m for m in sb.ephemerals(w.channel, user=w.provider_lead) if "Early warning" in m.get("text", "")]
    assert len(to_client) == 1 and len(to_provider) == 1
    assert [m for m in sb.ephemerals(w.channel, user=w.client_members[0]) if "Early warning" in m.get("text", "")] == []
    expected = (
        "Trust: people happy, KPIs red. Both sides rate it 4.0 or higher (Northwind Retail 5.0, Contoso Services 5.0 of 5), "
        "but 1 of its KPIs is red: First-contact resolution."
    )
    assert all(expected in t for t in _texts(to_client + to_provider))

    # The digest's headline says the same.
    digests = [m for m in sb.messages(w.channel, include_thread_replies=False) if "Weekly digest" in m.get("text", "")]
    assert len(digests) == 1 and expected in _texts(digests)[0]

    # The button opens the issue form prefilled from the signal.
    before = view_ids(stack)
    stack.actor(w.provider_lead).click_ephemeral(w.channel, to_provider[0]["ts"], "signal-log-issue")
    view = new_view(stack, w.provider_lead, ISSUE_CALLBACK, before)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}
    assert inputs["title"]["initial_value"] == "Trust: people happy, KPIs red"
    assert "First-contact resolution: 50%, red (target 80%)" in inputs["details"]["initial_value"]
    assert NEEDLE in inputs["details"]["initial_value"]
    assert sb.violations == []
