"""A red KPI at the Slack edge: each side's button on the blameless question opens the action form, so the answer
is an action linked to the KPI; and ``/partner kpi policy red-periods N``, when a red run is logged as an issue."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import App, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.common import build_notice
from bot.blocks.form_inputs import Refill
from bot.blocks.kpi_red import QUESTION, red_line
from bot.blocks.kpi_red_refs import KpiRedAsk
from bot.container import Services
from bot.services import kpi_red
from bot.services.errors import DomainError
from bot.services.followups import DEFAULT_ACTION_DAYS
from bot.services.issue_models import ActionInput
from bot.services.outbox_notices import Notice
from bot.services.partnership_models import Side
from handlers.action_items import action_form
from handlers.command_registry import CommandContext, handles
from handlers.command_types import KpiRedPeriodsSet
from handlers.policy import command_request_key
from handlers.ui import STALE, ack_button, actor_profile, clicked_channel, decode_clicked, open_modal, reply

SIDES = {s.value for s in Side}


@opens_modal
@after_ack
def open_answer_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """A side's "add ours" on a red KPI's question: the action form, for that side, linked to the KPI (as an issue
    follow-up's suggestion becomes an action: its presser owns it, due in two weeks, until they change it)."""
    ask = decode_clicked(body, KpiRedAsk)
    channel_id = clicked_channel(body)
    try:
        period_end = date.fromisoformat(ask.period_end)
    except ValueError:
        period_end = None
    if channel_id is None or ask.side not in SIDES or period_end is None:
        raise DomainError(STALE)
    side = Side(ask.side)
    user = actor_profile(body).user_id

    def build() -> View:
        red = kpi_red.red_kpi_in_channel(
            services.uow_factory(), channel_id=channel_id, kpi_id=ask.kpi_id, period_end=period_end
        )
        p = red.partnership
        today = services.clock().astimezone(ZoneInfo(p.timezone)).date()
        values = ActionInput(
            title="", owner_id=user, due_on=today + timedelta(days=DEFAULT_ACTION_DAYS), side=side, kpi_id=red.kpi_id
        )
        intro = f"{red_line(red)}\n*{QUESTION}* What {p.org(side)} can do:"
        return action_form(
            services, team_id=p.team_id, channel_id=p.channel_id, user_id=user, refill=Refill(values), intro=intro
        )

    open_modal(client, body["trigger_id"], "Add an action", build)


def red_periods_notice(request_key: str, user_id: str) -> Notice[int]:
    def compose(periods: int) -> str:
        return (
            f"<@{user_id}> changed the KPI policy: a KPI red for {periods} period(s) in a row is logged as an issue "
            "and escalates like one."
        )

    return Notice(request_key, compose)


def set_red_periods(command: KpiRedPeriodsSet, ctx: CommandContext) -> None:
    """``/partner kpi policy red-periods N`` (leads); announced in the channel."""
    now = ctx.services.clock()
    periods = kpi_red.set_red_periods(
        ctx.services.uow_factory(),
        team_id=ctx.team_id,
        channel_id=ctx.channel_id,
        actor=ctx.user_id,
        periods=command.periods,
        now=now,
        announce=red_periods_notice(command_request_key(ctx.trigger_id, ctx.user_id, now), ctx.user_id),
    )
    ctx.services.sender.deliver_queued()
    reply(ctx.respond, build_notice(f"Saved: a KPI red for {periods} period(s) in a row is logged as an issue."))


COMMAND_HANDLERS = dict([handles(KpiRedPeriodsSet, set_red_periods)])


def register(app: App) -> None:
    for action in (ids.Action.KPI_RED_ANSWER_CLIENT, ids.Action.KPI_RED_ANSWER_PROVIDER):
        app.action(action)(ack=ack_button, lazy=[open_answer_form])
