"""The KPI ledger end to end: signed requests to the real app, the sandbox as Slack. The provider lead (the other
organisation, who cannot run ``/partner``) proposes a KPI from the menu's "KPIs" button; the client lead agrees to
it; the client lead proposes a change (version 2), the provider lead discusses then agrees it; both versions are
visible in the KPI's card."""

from __future__ import annotations

from sqlalchemy import select

from bot.harness import LocalStack
from storage.models import Kpi, KpiVersion
from tests.helpers import (
    channel_messages_with,
    dumps,
    ephemeral_with,
    form_errors,
    new_view,
    open_kpi_proposal_from_menu,
    partner_command,
    setup_partnership,
    thread,
    view_ids,
    wait_for,
)

PROPOSE_CALLBACK = "kpi-propose-submit"
DISCUSS_CALLBACK = "kpi-discuss-submit"
KEY = "first-contact-resolution"
FORM = {
    "name": "First-contact resolution",
    "measure": "Tickets closed on the first contact / all tickets closed, from the service desk <!channel>",
    "unit": "%",
    "direction": "higher",
    "target": "75",
    "amber": "70",
    "red": "60",
    "period": "weekly",
    "dimension": "responsiveness",
    "delivered_by": "provider",
}


def _shows(stack: LocalStack, ts: str, text: str) -> None:
    wait_for(lambda: text in dumps(stack.sandbox.message(stack.world.channel, ts)), what=f"{text!r} on the message")


def test_provider_lead_proposes_client_lead_agrees_and_a_change_makes_version_2(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    client_member = w.client_members[0]

    # Clear answers to what cannot be understood.
    assert "`/partner kpi propose`" in partner_command(stack, w.client_lead, "kpi frobnicate").body
    partner_command(stack, w.client_lead, "kpi show nope")
    ephemeral_with(stack, w.client_lead, "There is no KPI with the key `nope`")

    # The provider lead opens the ledger from the menu's "KPIs" button and proposes from it.
    menu, form = open_kpi_proposal_from_menu(stack, w.provider_lead)
    bad = stack.actor(w.provider_lead).submit_view(form["id"], {**FORM, "target": "75%"})
    assert "must be a number" in form_errors(bad)["target"]
    bad = stack.actor(w.provider_lead).submit_view(form["id"], {**FORM, "red": "72"})
    assert "red level must be at or below the amber level" in form_errors(bad)["amber"]
    stack.actor(w.provider_lead).submit_view(form["id"], FORM)
    ephemeral_with(stack, w.provider_lead, f"KPI #1 (`{KEY}`), version 1, is posted")
    proposal = wait_for(lambda: next(iter(channel_messages_with(stack, "KPI #1")), None), what="the proposal in the channel")
    shown = dumps(proposal["blocks"])
    assert "Higher is better: target 75%; amber below 70%, red below 60%." in shown
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown and "kpi-agree" in shown

    # Only a lead of the other side answers.
    stack.actor(client_member).click(w.channel, proposal["ts"], "kpi-agree")
    ephemeral_with(stack, client_member, "Only the partnership's leads")
    stack.actor(w.provider_lead).click(w.channel, proposal["ts"], "kpi-agree")
    ephemeral_with(stack, w.provider_lead, "Your side proposed this")
    stack.actor(w.client_lead).click(w.channel, proposal["ts"], "kpi-agree")
    _shows(stack, proposal["ts"], "Agreed by")
    assert "kpi-agree" not in dumps(sb.message(w.channel, proposal["ts"]))
    wait_for(lambda: any("agreed to version 1" in dumps(m) for m in thread(stack, proposal["ts"])), what="the answer")

    # The client lead proposes a change, prefilled with the version in force.
    before = view_ids(stack)
    partner_command(stack, w.client_lead, f"kpi change {KEY}")
    change = new_view(stack, w.client_lead, PROPOSE_CALLBACK, before)
    initial = {b.get("block_id"): (b.get("element") or {}).get("initial_value") for b in change["blocks"]}
    assert initial["name"] == "First-contact resolution" and initial["target"] == "75"
    assert initial["measure"] == FORM["measure"]
    assert "delivered_by" not in initial  # which side delivers it stays
    stack.actor(w.client_lead).submit_view(change["id"], {"target": "85", "amber": "80", "red": "70"})
    v2 = wait_for(lambda: next(iter(channel_messages_with(stack, "version 2")), None), what="version 2 in the channel")
    assert "Version 1 stays in force until this one is agreed." in dumps(v2["blocks"])

    # The provider lead asks to discuss it, then agrees.
    before = view_ids(stack)
    stack.actor(w.provider_lead).click(w.channel, v2["ts"], "kpi-discuss")
    discuss = new_view(stack, w.provider_lead, DISCUSS_CALLBACK, before)
    assert (
        "reason"
        in form_errors(stack.actor(w.provider_lead).submit_view(discuss["id"], {"reason": " "}, force=True))["reason"]
    )
    stack.actor(w.provider_lead).submit_view(discuss["id"], {"reason": "85 before the new tool is live? <!here>"})
    _shows(stack, v2["ts"], "asked to discuss it")
    assert "&lt;!here&gt;" in dumps(sb.message(w.channel, v2["ts"]))
    stack.actor(w.provider_lead).click(w.channel, v2["ts"], "kpi-agree")
    _shows(stack, v2["ts"], "Agreed by")
    assert len(channel_messages_with(stack, "KPI #1")) == 2  # one message per version, updated in place

    # Both versions are visible: in the KPI's card (for the client lead) and from the ledger (for the provider).
    partner_command(stack, w.client_lead, f"kpi show {KEY}")
    card = dumps(ephemeral_with(stack, w.client_lead, "*Versions*"))
    assert "Version 1 · :arrow_heading_down: Superseded" in card and "Version 2 · :handshake: Agreed" in card
    assert "target 85%" in card and "No figures recorded yet." in card
    stack.actor(w.provider_lead).click(w.channel, menu["ts"], "menu-kpis")
    ledger = ephemeral_with(stack, w.provider_lead, "_(version 2)_")
    stack.actor(w.provider_lead).click_ephemeral(w.channel, ledger["ts"], "kpi-show")
    ephemeral_with(stack, w.provider_lead, "Version 1 · :arrow_heading_down: Superseded")
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(Kpi.current_version)).one() == 2
        statuses = list(uow.session.scalars(select(KpiVersion.status).order_by(KpiVersion.version)))
    assert statuses == ["superseded", "agreed"]

    # A lead retires it; the channel is told.
    partner_command(stack, w.client_lead, f"kpi retire {KEY}")
    wait_for(lambda: channel_messages_with(stack, "retired KPI #1"), what="the retirement notice")
    assert sb.violations == []
