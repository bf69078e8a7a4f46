"""The KPI ledger at the Slack edge: ``/partner kpi [propose | show KEY | change KEY | retire KEY]``, the proposal
form, and the other side's answers (agree; discuss with a reason) or the proposer's side withdrawing. The buttons
work for people of both organisations, who cannot all run the slash command (Slack Connect)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.common import build_notice
from bot.blocks.kpi_form import KpiFormRef, build_kpi_discuss_modal, build_kpi_modal
from bot.blocks.kpi_ledger import KpiKeyRef, KpiVersionRef, build_kpi_detail, build_kpi_ledger
from bot.blocks.metadata import ChannelRef
from bot.blocks.text import escape
from bot.container import Services
from bot.services import kpi_checks, kpi_reads, kpis
from bot.services.errors import InvalidInput
from bot.services.kpi_ledger_models import KpiProposalInput
from bot.services.kpi_models import KpiDefinition, KpiDirection, KpiPeriod, KpiView
from bot.services.outbox_notices import Notice
from bot.services.partnership_models import Side
from handlers.command_registry import CommandContext, handles
from handlers.command_types import KpiChange, KpiLedgerShow, KpiPropose, KpiRetire, KpiShow
from handlers.form_values import selected_value, text_value, user_value
from handlers.policy import command_request_key
from handlers.ui import (
    ack_form,
    actor_profile,
    clicked_ref,
    create_from_form,
    ephemeral,
    listen,
    notify,
    open_modal,
    reply,
    reply_or_ephemeral,
    require_partnership,
    submitted_ref,
)

B = ids.KpiBlock
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


# --- the proposal form ----------------------------------------------------------------------------------------------


def _number(state: dict[str, Any], block: str, label: str) -> float:
    raw = text_value(state, block).strip()
    if not _NUMBER.match(raw):
        raise InvalidInput(f"The {label} must be a number, like 75 or 2.5 (no unit or thousands separator).", block)
    return float(raw)


def _choice(state: dict[str, Any], block: str, allowed: tuple[str, ...], message: str) -> str:
    chosen = selected_value(state, block)
    if chosen not in allowed:
        raise InvalidInput(message, block)
    return str(chosen)


def parse_kpi_form(state: dict[str, Any], ref: KpiFormRef) -> KpiProposalInput:
    """The form's values, checked as far as they can be without the database (``kpis.check_definition``); for a
    change, the key and the delivering side come from the form's metadata.

    Raises:
        InvalidInput: ``field`` is the block to show it at.
    """
    delivered_by = ref.delivered_by or _choice(
        state, B.DELIVERED_BY, (Side.CLIENT.value, Side.PROVIDER.value), "Choose which side delivers it."
    )
    definition = KpiDefinition(
        name=text_value(state, B.NAME),
        measure=text_value(state, B.MEASURE),
        unit=text_value(state, B.UNIT),
        direction=KpiDirection(
            _choice(state, B.DIRECTION, ("higher", "lower"), "Choose whether higher or lower is better.")
        ),
        target=_number(state, B.TARGET, "target"),
        amber=_number(state, B.AMBER, "amber level"),
        red=_number(state, B.RED, "red level"),
        period=KpiPeriod(_choice(state, B.PERIOD, ("weekly", "monthly"), "Choose how often it is measured.")),
        dimension=selected_value(state, B.DIMENSION) or "",
        delivered_by=Side(delivered_by),
        owner_id=user_value(state, B.OWNER),
    )
    key = ref.key or text_value(state, B.KEY).strip()
    if key and not ref.key:
        kpi_checks.check_key(key)
    return KpiProposalInput(definition=kpi_checks.check_definition(definition), key=key or None, change=bool(ref.key))


def _form(services: Services, ref: KpiFormRef, data: KpiProposalInput | None = None, error: str | None = None) -> Any:
    p = require_partnership(services, ref.team_id, ref.channel_id)
    values = data.definition if data else None
    return build_kpi_modal(p, values=values, key=data.key or "" if data else "", change=bool(ref.key), error=error)


def open_kpi_form(client: WebClient, services: Services, *, trigger_id: str, team_id: str, channel_id: str) -> None:
    open_modal(client, trigger_id, "Propose a KPI", lambda: _form(services, KpiFormRef(team_id, channel_id)))


def open_change_form(
    client: WebClient, services: Services, *, trigger_id: str, team_id: str, channel_id: str, key: str
) -> None:
    """The form prefilled with the version in force (or the proposal, before one is agreed)."""
    kpi = kpi_reads.kpi_to_change(services.uow_factory(), team_id=team_id, channel_id=channel_id, key=key)
    ref = KpiFormRef(team_id, channel_id, kpi.key, kpi.delivered_by.value)
    data = KpiProposalInput((kpi.current or kpi.latest).definition, kpi.key, change=True)
    open_modal(client, trigger_id, "Propose a change", lambda: _form(services, ref, data))


@opens_modal
@after_ack
def open_kpi_form_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ref, channel_id = clicked_ref(body, ChannelRef)
    open_kpi_form(client, services, trigger_id=body["trigger_id"], team_id=ref.team_id, channel_id=channel_id)


@opens_modal
@after_ack
def open_change_form_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ref, channel_id = clicked_ref(body, KpiKeyRef)
    open_change_form(
        client, services, trigger_id=body["trigger_id"], team_id=ref.team_id, channel_id=channel_id, key=ref.key
    )


def ack_kpi_submission(ack: Ack, view: dict[str, Any]) -> None:
    def errors(ref: KpiFormRef) -> dict[str, str]:
        try:
            parse_kpi_form(view["state"]["values"], ref)
        except InvalidInput as exc:
            return {exc.field or B.NAME: str(exc)}
        return {}

    ack_form(ack, view, KpiFormRef, stale_block=B.NAME, errors=errors)


@after_ack
def save_kpi(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    ref = submitted_ref(view, KpiFormRef)
    if ref is None:
        return
    try:
        data = parse_kpi_form(view["state"]["values"], ref)
    except InvalidInput:
        return  # refused in the form already
    card = create_from_form(
        client,
        body,
        view,
        services,
        ref,
        kpis.propose,
        data=data,
        kind="kpi",
        form=lambda refill: _form(services, ref, refill.values, refill.error),
    )
    if card is None:
        return
    services.sender.deliver_queued()
    other = escape(card.partnership.org(card.version.proposed_side.other))
    ephemeral(
        client,
        ref.channel_id,
        actor_profile(body).user_id,
        f"KPI #{card.kpi.number} (`{escape(card.kpi.key)}`), version {card.version.version}, is posted; a lead of "
        f"{other} can agree to it or ask to discuss it.",
    )


# --- answers ----------------------------------------------------------------------------------------------------------


def _version_clicked(body: dict[str, Any]) -> dict[str, Any]:
    """What a proposal's button names, as the services take it: the partnership's channel, the KPI, its version, and
    who clicked."""
    ref, channel_id = clicked_ref(body, KpiVersionRef)
    actor = actor_profile(body).user_id
    return {"team_id": ref.team_id, "channel_id": channel_id, "kpi_id": ref.kpi_id, "version": ref.version, "actor": actor}


@after_ack
def agree_to_kpi(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    clicked = _version_clicked(body)
    card = kpis.respond(services.uow_factory(), **clicked, agree=True, reason=None, now=services.clock())
    services.sender.deliver_queued()
    notify(respond, client, body, f"You agreed to version {card.version.version} of KPI #{card.kpi.number}.")


@opens_modal
@after_ack
def open_discuss_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """ "Discuss": a lead of the other side gives a short reason; anyone else is told who can."""
    card = kpi_reads.card_to_answer(services.uow_factory(), **_version_clicked(body))
    open_modal(client, body["trigger_id"], "Discuss a KPI", lambda: build_kpi_discuss_modal(card))


def ack_discuss_submission(ack: Ack, view: dict[str, Any]) -> None:
    def errors(_: KpiVersionRef) -> dict[str, str]:
        try:
            kpi_checks.check_reason(text_value(view["state"]["values"], B.REASON))
        except InvalidInput as exc:
            return {B.REASON: str(exc)}
        return {}

    ack_form(ack, view, KpiVersionRef, stale_block=B.REASON, errors=errors)


@after_ack
def save_discussion(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    ref = submitted_ref(view, KpiVersionRef)
    reason = text_value(view["state"]["values"], B.REASON)
    if ref is None or not reason.strip():
        return
    user = actor_profile(body).user_id
    answering: dict[str, Any] = {
        "team_id": ref.team_id,
        "channel_id": ref.channel_id,
        "kpi_id": ref.kpi_id,
        "version": ref.version,
        "actor": user,
    }
    try:
        card = kpis.respond(services.uow_factory(), **answering, agree=False, reason=reason, now=services.clock())
    except InvalidInput:
        return  # refused in the form already
    services.sender.deliver_queued()
    ephemeral(client, ref.channel_id, user, f"KPI #{card.kpi.number} is marked to discuss, with your reason.")


@after_ack
def withdraw_kpi(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    card = kpis.withdraw(services.uow_factory(), **_version_clicked(body), now=services.clock())
    services.sender.deliver_queued()
    notify(respond, client, body, f"Version {card.version.version} of KPI #{card.kpi.number} is withdrawn.")


# --- the ledger and one KPI -------------------------------------------------------------------------------------------


@after_ack
def show_ledger_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """The "KPI ledger" button (for people who cannot run ``/partner``): the ledger, only for them."""
    ref, channel_id = clicked_ref(body, ChannelRef)
    found = kpi_reads.ledger(services.uow_factory(), team_id=ref.team_id, channel_id=channel_id)
    reply_or_ephemeral(respond, client, body, channel_id, build_kpi_ledger(found))


@after_ack
def show_kpi_from_button(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    ref, channel_id = clicked_ref(body, KpiKeyRef)
    found = kpi_reads.detail(services.uow_factory(), team_id=ref.team_id, channel_id=channel_id, key=ref.key)
    reply_or_ephemeral(respond, client, body, channel_id, build_kpi_detail(found))


def show_ledger(command: KpiLedgerShow, ctx: CommandContext) -> None:
    """``/partner kpi`` (and the menu's "KPIs" button)."""
    reply(
        ctx.respond,
        build_kpi_ledger(kpi_reads.ledger(ctx.services.uow_factory(), team_id=ctx.team_id, channel_id=ctx.channel_id)),
    )


def show_kpi(command: KpiShow, ctx: CommandContext) -> None:
    """``/partner kpi show KEY``."""
    found = kpi_reads.detail(ctx.services.uow_factory(), team_id=ctx.team_id, channel_id=ctx.channel_id, key=command.key)
    reply(ctx.respond, build_kpi_detail(found))


@opens_modal
def propose_kpi(command: KpiPropose, ctx: CommandContext) -> None:
    """``/partner kpi propose``."""
    open_kpi_form(ctx.client, ctx.services, trigger_id=ctx.trigger_id, team_id=ctx.team_id, channel_id=ctx.channel_id)


@opens_modal
def change_kpi(command: KpiChange, ctx: CommandContext) -> None:
    """``/partner kpi change KEY``: the form prefilled with the version in force."""
    open_change_form(
        ctx.client, ctx.services, trigger_id=ctx.trigger_id, team_id=ctx.team_id, channel_id=ctx.channel_id, key=command.key
    )


def retire_kpi(command: KpiRetire, ctx: CommandContext) -> None:
    """``/partner kpi retire KEY`` (leads): announced in the channel."""
    now, user = ctx.services.clock(), ctx.user_id

    def compose(view: KpiView) -> str:
        name = escape(view.latest.definition.name)
        return (
            f"<@{user}> retired KPI #{view.number} *{name}* (`{escape(view.key)}`): no more figures are asked for; "
            "its history stays."
        )

    kpi = kpis.retire(
        ctx.services.uow_factory(),
        team_id=ctx.team_id,
        channel_id=ctx.channel_id,
        actor=user,
        key=command.key,
        notice=Notice(command_request_key(ctx.trigger_id, user, now), compose),
        now=now,
    )
    ctx.services.sender.deliver_queued()
    reply(ctx.respond, build_notice(f"KPI #{kpi.number} (`{escape(kpi.key)}`) is retired."))


COMMAND_HANDLERS = dict(
    [
        handles(KpiLedgerShow, show_ledger),
        handles(KpiPropose, propose_kpi),
        handles(KpiShow, show_kpi),
        handles(KpiChange, change_kpi),
        handles(KpiRetire, retire_kpi),
    ]
)


def register(app: App) -> None:
    A, V = ids.KpiAction, ids.KpiModal
    listen(
        app,
        {
            A.PROPOSE: open_kpi_form_from_button,
            A.CHANGE: open_change_form_from_button,
            A.AGREE: agree_to_kpi,
            A.DISCUSS: open_discuss_form,
            A.WITHDRAW: withdraw_kpi,
            A.LEDGER: show_ledger_from_button,
            A.SHOW: show_kpi_from_button,
        },
        {V.PROPOSE: (ack_kpi_submission, save_kpi), V.DISCUSS: (ack_discuss_submission, save_discussion)},
    )
