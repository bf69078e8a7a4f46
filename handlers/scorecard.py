"""The bilateral scorecard at the Slack edge: ``/partner scorecard``, the invitation's button and the form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.common import build_notice
from bot.blocks.scorecard import ScorecardRef, build_scorecard_modal, build_scorecard_status, score_block
from bot.blocks.text import local_time_label
from bot.container import Services
from bot.services import scorecard
from bot.services.pulse_models import DIMENSIONS
from bot.services.review_models import ScorecardCadence, ScorecardInput
from handlers.command_registry import CommandContext, handles
from handlers.command_types import ScorecardCadenceSet, ScorecardShow, ScorecardStart
from handlers.form_values import State, selected_value, text_value
from handlers.ui import (
    ack_checked_form,
    actor_profile,
    checked_form,
    decode_clicked,
    ephemeral,
    listen,
    open_modal,
    reply,
    target_channel,
    unless_held,
)

CADENCE_NOTICE = {
    ScorecardCadence.MONTHLY: "The scorecard now runs monthly",
    ScorecardCadence.QUARTERLY: "The scorecard now runs quarterly",
    ScorecardCadence.OFF: "The scheduled scorecard is off (a lead can still start one with `/partner scorecard start`)",
}


def show_scorecard(command: ScorecardShow, ctx: CommandContext) -> None:
    """``/partner scorecard``."""
    status = scorecard.status(ctx.services.uow_factory(), team_id=ctx.team_id, channel_id=ctx.channel_id)
    reply(ctx.respond, build_scorecard_status(status))


def start_scorecard(command: ScorecardStart, ctx: CommandContext) -> None:
    """``/partner scorecard start`` (leads)."""
    uow, now = ctx.services.uow_factory, ctx.services.clock()
    s = scorecard.start_now(uow(), team_id=ctx.team_id, channel_id=ctx.channel_id, actor=ctx.user_id, now=now)
    ctx.services.sender.deliver_queued()
    p = scorecard.status(uow(), team_id=ctx.team_id, channel_id=ctx.channel_id).partnership
    until = f"The {s.period} scorecard is open until {local_time_label(s.closes_at, p.timezone)}"
    done = f"{until}; the invitation is in the channel."
    opening = f"{until}. "
    reply(ctx.respond, build_notice(unless_held(ctx.services, ctx.team_id, done, saved="its invitation", opening=opening)))


def set_cadence(command: ScorecardCadenceSet, ctx: CommandContext) -> None:
    """``/partner scorecard monthly|quarterly|off`` (leads)."""
    status = ctx.act(scorecard.set_cadence, cadence=command.cadence)
    nxt = f" Next one opens {local_time_label(status.next_at, status.partnership.timezone)}." if status.next_at else ""
    reply(ctx.respond, build_notice(f"{CADENCE_NOTICE[command.cadence]}.{nxt}"))


COMMAND_HANDLERS = dict(
    [
        handles(ScorecardShow, show_scorecard),
        handles(ScorecardStart, start_scorecard),
        handles(ScorecardCadenceSet, set_cadence),
    ]
)


@opens_modal
@after_ack
def open_scorecard_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """ "Fill in the scorecard": the form with the person's earlier answers (or why they cannot fill it in)."""
    ref = decode_clicked(body, ScorecardRef)
    target_channel(body, ref.channel_id)

    def build() -> View:
        form = scorecard.scorecard_form(
            services.uow_factory(),
            scorecard_id=ref.scorecard_id,
            user_id=actor_profile(body).user_id,
            secret_key=services.secret_key,
            now=services.clock(),
        )
        return build_scorecard_modal(form)

    open_modal(client, body["trigger_id"], "Scorecard", build)


def parse_scorecard(state: dict[str, Any]) -> ScorecardInput:
    """The form's ratings (unreadable or missing ones are left out, so validation names them) and comment."""
    scores: dict[tuple[str, str], int] = {}
    for target in scorecard.TARGETS:
        for d in DIMENSIONS:
            raw = selected_value(state, score_block(target, d))
            if raw is not None and raw.isdigit():
                scores[(target, d)] = int(raw)
    return ScorecardInput(scores=scores, comment=text_value(state, ids.SCORECARD_COMMENT) or None)


def _checked_scorecard(state: State) -> ScorecardInput:
    """Raises InvalidInput."""
    data = parse_scorecard(state)
    scorecard.validate_scorecard(data)
    return data


def ack_scorecard_submission(ack: Ack, view: dict[str, Any]) -> None:
    ack_checked_form(ack, view, ScorecardRef, _checked_scorecard, stale_block=ids.SCORECARD_COMMENT)


@after_ack
def save_scorecard(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    submitted = checked_form(view, ScorecardRef, _checked_scorecard)
    if submitted is None:
        return  # refused in the form already
    ref, data = submitted
    user = actor_profile(body).user_id
    created = scorecard.submit(
        services.uow_factory(),
        scorecard_id=ref.scorecard_id,
        user_id=user,
        data=data,
        secret_key=services.secret_key,
        now=services.clock(),
    )
    what = "recorded" if created else "updated (your earlier answers are replaced)"
    ephemeral(client, ref.channel_id, user, f"Thank you: your scorecard is {what}. You can change it until it closes.")


def register(app: App) -> None:
    listen(
        app,
        {ids.ReviewAction.SCORECARD_FILL: open_scorecard_form},
        {ids.ReviewView.SCORECARD: (ack_scorecard_submission, save_scorecard)},
    )
