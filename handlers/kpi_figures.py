"""Recording a KPI's figure in Slack: ``/partner kpi record KEY`` and the owner's request's button open the form;
its values are checked in the form (a number, a short note) and saved by ``kpi_requests.record_from_form``, whose
refusals (a period not started, a KPI retired meanwhile) reopen the form with the reason."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.form_inputs import Refill
from bot.blocks.kpi_figures import KpiFormRef, build_record_modal, recorded_text
from bot.container import Services
from bot.services import kpi_requests
from bot.services.errors import DomainError, InvalidInput
from bot.services.kpi_models import MAX_KPI_TEXT
from bot.services.kpi_value_models import KpiFormInput, KpiRecordForm
from handlers.command_registry import CommandContext, handles
from handlers.command_types import KpiRecord
from handlers.form_values import selected_value, text_value
from handlers.ui import (
    STALE,
    ack_checked_form,
    actor_profile,
    checked_form,
    create_from_form,
    decode_clicked,
    ephemeral,
    listen,
    message_channel,
    open_modal,
)

B = ids.KpiFigureBlock
TITLE = "Record a KPI figure"


def check_figure(state: dict[str, Any]) -> tuple[date, float, str | None]:
    """The form's period, value and note; InvalidInput at the field that is wrong."""
    raw_end = selected_value(state, B.PERIOD_END)
    try:
        period_end = date.fromisoformat(raw_end or "")
    except ValueError:
        raise InvalidInput("Choose the period.", B.PERIOD_END) from None
    raw = text_value(state, B.VALUE).strip()
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InvalidInput("Write the figure as a number, with a point for decimals (like 81.5).", B.VALUE)
    note = text_value(state, B.NOTE).strip() or None
    if note is not None and len(note) > MAX_KPI_TEXT:
        raise InvalidInput(f"The note can be at most {MAX_KPI_TEXT:,} characters (this one has {len(note):,}).", B.NOTE)
    return period_end, value, note


def _form_data(services: Services, ref: KpiFormRef, actor: str, period_end: date | None, **find: Any) -> KpiRecordForm:
    return kpi_requests.record_form(
        services.uow_factory,
        team_id=ref.team_id,
        channel_id=ref.channel_id,
        actor=actor,
        now=services.clock(),
        period_end=period_end,
        **find,
    )


def _open_form(client: WebClient, services: Services, trigger_id: str, ref: KpiFormRef, actor: str, **find: Any) -> None:
    def build() -> Any:
        asked = date.fromisoformat(ref.period_end) if ref.period_end else None
        data = _form_data(services, ref, actor, asked, **find)
        return build_record_modal(KpiFormRef(ref.team_id, ref.channel_id, data.kpi.id, ref.period_end), data)

    open_modal(client, trigger_id, TITLE, build)


@opens_modal
def record_figure(command: KpiRecord, ctx: CommandContext) -> None:
    """``/partner kpi record KEY``."""
    ref = KpiFormRef(ctx.team_id, ctx.channel_id, 0)
    _open_form(ctx.client, ctx.services, ctx.trigger_id, ref, ctx.user_id, key=command.key)


@opens_modal
@after_ack
def open_form_from_request(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """The owner's request's button (in their direct messages, or an ephemeral in the channel)."""
    ref = decode_clicked(body, KpiFormRef)
    if message_channel(body, ref.channel_id) != ref.channel_id:
        raise DomainError(STALE)
    _open_form(client, services, body["trigger_id"], ref, actor_profile(body).user_id, kpi_id=ref.kpi_id)


def ack_figure_submission(ack: Ack, view: dict[str, Any]) -> None:
    ack_checked_form(ack, view, KpiFormRef, check_figure, stale_block=B.VALUE)


@after_ack
def save_figure(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    submitted = checked_form(view, KpiFormRef, check_figure)
    if submitted is None:
        return  # refused in the form already
    ref, (period_end, value, note) = submitted
    user = actor_profile(body).user_id

    def form_again(refill: Refill[KpiFormInput]) -> Any:
        data = _form_data(services, ref, user, period_end, kpi_id=ref.kpi_id)
        typed = text_value(view["state"]["values"], B.VALUE).strip()
        return build_record_modal(ref, data, error=refill.error, value=typed, note=refill.values.note)

    recorded = create_from_form(
        client,
        body,
        view,
        services,
        ref,
        # The service opens its own units of work (recording goes through kpi_values.record_values).
        lambda _uow, **form: kpi_requests.record_from_form(services.uow_factory, **form),
        data=KpiFormInput(kpi_id=ref.kpi_id, period_end=period_end, value=value, note=note),
        kind="kpi-record",
        form=form_again,
    )
    if recorded is not None:
        ephemeral(client, ref.channel_id, user, recorded_text(recorded))


COMMAND_HANDLERS = dict([handles(KpiRecord, record_figure)])


def register(app: App) -> None:
    listen(
        app,
        {ids.KpiFigureAction.RECORD: open_form_from_request},
        {ids.KpiFigureView.RECORD: (ack_figure_submission, save_figure)},
    )
