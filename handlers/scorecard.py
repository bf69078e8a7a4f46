"""The bilateral scorecard at the Slack edge: ``/partner scorecard``, the invitation's button and the form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.blocks.common import build_notice
from bot.blocks.metadata import MetadataError, decode
from bot.blocks.pulse import build_message_modal
from bot.blocks.scorecard import ScorecardRef, build_scorecard_modal, build_scorecard_status, score_block
from bot.blocks.text import local_time_label
from bot.container import Services
from bot.services import scorecard
from bot.services.errors import DomainError, InvalidInput
from bot.services.models import DIMENSIONS, ScorecardCadence, ScorecardInput
from handlers.forms import ParsedCommand, actor_profile, selected_value, text_value
from handlers.modals import open_loading, replace_view
from handlers.ui import OUT_OF_DATE_FORM, ack_button, decode_clicked, ephemeral, reply, target_channel, unless_held

USAGE = (
    "Usage: `/partner scorecard` to see it; leads: `/partner scorecard monthly`, `quarterly` or `off`, or "
    "`/partner scorecard start` to open one now."
)
CADENCE_NOTICE = {
    ScorecardCadence.MONTHLY: "The scorecard now runs monthly",
    ScorecardCadence.QUARTERLY: "The scorecard now runs quarterly",
    ScorecardCadence.OFF: "The scheduled scorecard is off (a lead can still start one with `/partner scorecard start`)",
}


def run_scorecard_command(
    parsed: ParsedCommand, *, team_id: str, channel_id: str, user_id: str, respond: Respond, services: Services
) -> None:
    """``/partner scorecard [monthly|quarterly|off|start]``. Domain errors propagate."""
    uow, now = services.uow_factory, services.clock()
    if parsed.text is not None:
        raise DomainError(USAGE)
    if parsed.arg is None:
        reply(respond, build_scorecard_status(scorecard.status(uow(), team_id=team_id, channel_id=channel_id)))
    elif parsed.arg == "start":
        s = scorecard.start_now(uow(), team_id=team_id, channel_id=channel_id, actor=user_id, now=now)
        services.sender.deliver_pending()
        p = scorecard.status(uow(), team_id=team_id, channel_id=channel_id).partnership
        until = f"The {s.period} scorecard is open until {local_time_label(s.closes_at, p.timezone)}"
        done = f"{until}; the invitation is in the channel."
        reply(respond, build_notice(unless_held(services, team_id, done, saved="its invitation", opening=f"{until}. ")))
    elif parsed.arg in {c.value for c in ScorecardCadence}:
        cadence = ScorecardCadence(parsed.arg)
        status = scorecard.set_cadence(
            uow(), team_id=team_id, channel_id=channel_id, actor=user_id, cadence=cadence, now=now
        )
        nxt = f" Next one opens {local_time_label(status.next_at, status.partnership.timezone)}." if status.next_at else ""
        reply(respond, build_notice(f"{CADENCE_NOTICE[cadence]}.{nxt}"))
    else:
        raise DomainError(USAGE)


@after_ack
def open_scorecard_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """ "Fill in the scorecard": the form with the person's earlier answers (or why they cannot fill it in)."""
    ref = decode_clicked(body, ScorecardRef)
    target_channel(body, ref.channel_id)
    view_id = open_loading(client, body["trigger_id"])
    try:
        form = scorecard.scorecard_form(
            services.uow_factory(),
            scorecard_id=ref.scorecard_id,
            user_id=actor_profile(body).user_id,
            secret_key=services.secret_key,
            now=services.clock(),
        )
        view = build_scorecard_modal(form)
    except DomainError as exc:
        view = build_message_modal("Scorecard", str(exc))
    replace_view(client, view_id, view)


def parse_scorecard(state: dict[str, Any]) -> ScorecardInput:
    """The form's ratings (unreadable or missing ones are left out, so validation names them) and comment."""
    scores: dict[tuple[str, str], int] = {}
    for target in scorecard.TARGETS:
        for d in DIMENSIONS:
            raw = selected_value(state, score_block(target, d))
            if raw is not None and raw.isdigit():
                scores[(target, d)] = int(raw)
    return ScorecardInput(scores=scores, comment=text_value(state, ids.SCORECARD_COMMENT) or None)


def ack_scorecard_submission(ack: Ack, view: dict[str, Any]) -> None:
    try:
        decode(view.get("private_metadata"), ScorecardRef)
        scorecard.validate_scorecard(parse_scorecard(view["state"]["values"]))
    except MetadataError:
        ack(response_action="errors", errors={ids.SCORECARD_COMMENT: OUT_OF_DATE_FORM})
        return
    except InvalidInput as exc:
        ack(response_action="errors", errors={exc.field or ids.SCORECARD_COMMENT: str(exc)})
        return
    ack()


@after_ack
def save_scorecard(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    try:
        ref = decode(view.get("private_metadata"), ScorecardRef)
        data = parse_scorecard(view["state"]["values"])
        scorecard.validate_scorecard(data)
    except (MetadataError, InvalidInput):
        return  # refused in the form already
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
    app.action(ids.ReviewAction.SCORECARD_FILL)(ack=ack_button, lazy=[open_scorecard_form])
    app.view(ids.ReviewView.SCORECARD)(ack=ack_scorecard_submission, lazy=[save_scorecard])
