"""The pulse at the Slack edge: answering (the Answer button, its form), the question bank (``/partner
questions``, a lead's own question), and ``/partner pulse now|pause|resume``."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.common import build_notice, build_questions
from bot.blocks.metadata import ChannelRef, RoundRef
from bot.blocks.pulse import build_answer_modal
from bot.blocks.setup import build_question_modal
from bot.blocks.text import escape, local_time_label
from bot.container import Services
from bot.services import partnerships, pulse_rounds, pulses
from bot.services.errors import DomainError, InvalidInput, NotFound
from bot.services.partnership_models import SlackProfile
from bot.services.pulse_models import AnswerInput
from handlers.command_registry import CommandContext, handles
from handlers.command_types import PulseNow, PulsePause, PulseResume, Questions
from handlers.form_values import State, selected_value, text_value
from handlers.ui import (
    ack_checked_form,
    act_in,
    actor_profile,
    checked_form,
    decode_clicked,
    ephemeral,
    listen,
    open_modal,
    reply,
    submitted_ref,
    unless_held,
)

logger = logging.getLogger(__name__)


# --- answering ---------------------------------------------------------------------------------------------


def open_answer_modal(
    client: WebClient,
    services: Services,
    *,
    trigger_id: str,
    round_id: int,
    profile: SlackProfile,
    channel_id: str = "",
) -> None:
    """The round's questions for the person's side, prefilled with their earlier answers; ``channel_id`` is
    where they clicked Answer."""

    def build() -> View:
        form = pulses.answer_form(
            services.uow_factory(), round_id=round_id, profile=profile, secret_key=services.secret_key, now=services.clock()
        )
        return build_answer_modal(form, channel_id=channel_id)

    open_modal(client, trigger_id, "Partnership pulse", build)


@opens_modal
@after_ack
def open_answer_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """Answer on a pulse message or reminder: open the answer modal."""
    ref = decode_clicked(body, RoundRef)
    channel_id = str((body.get("channel") or {}).get("id") or "")
    open_answer_modal(
        client,
        services,
        trigger_id=body["trigger_id"],
        round_id=ref.round_id,
        profile=actor_profile(body),
        channel_id=channel_id,
    )


def parse_answers(state: State) -> list[AnswerInput]:
    """Scores and comments keyed by question id, from ``score-<id>`` / ``comment-<id>`` blocks."""
    answers: list[AnswerInput] = []
    for block in state:
        if not block.startswith(ids.SCORE_PREFIX):
            continue
        suffix = block[len(ids.SCORE_PREFIX) :]
        if not suffix.isdigit():
            continue
        raw = selected_value(state, block)
        if raw is None or not raw.lstrip("-").isdigit():
            raise InvalidInput("Please choose a score.", block)
        comment = text_value(state, f"{ids.COMMENT_PREFIX}{suffix}") or None
        answers.append(AnswerInput(question_id=int(suffix), score=int(raw), comment=comment))
    return answers


# Bolt runs a listener's lazy functions even when its ack function answered with field errors, so each saver
# checks the submission again (the same checks as its ack function) and stops quietly when the form was refused.


def _checked_answers(state: State) -> list[AnswerInput]:
    """Raises InvalidInput."""
    answers = parse_answers(state)
    pulses.check_comments(answers)
    return answers


def ack_answer_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Check the answers (comment length); errors show in the form."""
    if submitted_ref(view, RoundRef) is None:
        # Not a form we built (forged or from an older version): close it, store nothing.
        logger.warning("answer submission with unreadable metadata from %s ignored", actor_profile(body).user_id)
        ack()
        return
    try:
        _checked_answers(view["state"]["values"])
    except InvalidInput as exc:
        ack(response_action="errors", errors={exc.field or next(iter(view["state"]["values"]), ""): str(exc)})
        return
    ack()


@after_ack
def save_answers(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Record the answers (a resubmission replaces the earlier ones)."""
    submitted = checked_form(view, RoundRef, _checked_answers)
    if submitted is None:
        return  # the ack function closed a form it could not read, or showed why it refused it
    ref, answers = submitted
    user = actor_profile(body)
    context = pulses.round_context(services.uow_factory(), round_id=ref.round_id)
    if context is None:  # a round id we never wrote, or one deleted since: after_ack tells the person
        raise NotFound("This pulse does not exist (any more), so your answers were not saved.")
    round_, partnership = context
    try:
        result = pulses.submit_answers(
            services.uow_factory(),
            round_id=ref.round_id,
            profile=user,
            answers=answers,
            secret_key=services.secret_key,
            now=services.clock(),
        )
    except DomainError as exc:
        try:
            ephemeral(client, partnership.channel_id, user.user_id, str(exc), error=True)
        except SlackApiError:  # not in that channel (someone from outside it): after_ack tells them another way
            raise exc from None
        return
    verb = "recorded" if result.created else "updated"
    closes = local_time_label(round_.closes_at, partnership.timezone)
    ephemeral(
        client,
        partnership.channel_id,
        user.user_id,
        f"Thank you, your answers to the *{escape(partnership.name)}* pulse are {verb}. You can change them until {closes}.",
    )


# --- the question bank -------------------------------------------------------------------------------------


@opens_modal
@after_ack
def open_question_form(body: dict[str, Any], client: WebClient, respond: Respond, services: Services) -> None:
    """Add a question: leads only, checked before the form opens."""
    ref = decode_clicked(body, ChannelRef)
    user_id = actor_profile(body).user_id
    partnerships.require_lead(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id, user_id=user_id)
    open_modal(
        client,
        body["trigger_id"],
        "Add a question",
        lambda: build_question_modal(team_id=ref.team_id, channel_id=ref.channel_id),
    )


def parse_question(state: State) -> tuple[str, str, str, str]:
    """(dimension, client wording, provider wording, subject); the subject defaults to the relationship."""
    Q = ids.QuestionBlock
    return (
        selected_value(state, Q.DIMENSION) or "",
        text_value(state, Q.TEXT_CLIENT),
        text_value(state, Q.TEXT_PROVIDER),
        selected_value(state, Q.SUBJECT) or "relationship",
    )


def _checked_question(state: State) -> tuple[str, str, str, str]:
    """Raises InvalidInput."""
    question = parse_question(state)
    pulses.validate_question(*question)
    return question


def ack_question_submission(ack: Ack, view: dict[str, Any]) -> None:
    """Check a lead's own question; errors show in the form."""
    ack_checked_form(
        ack,
        view,
        ChannelRef,
        _checked_question,
        stale_block=ids.QuestionBlock.DIMENSION,
        stale="This form is out of date; open it again.",
    )


@after_ack
def save_question(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Add a lead's own question (permission is checked by the service)."""
    submitted = checked_form(view, ChannelRef, _checked_question)
    if submitted is None:
        return  # the form showed why
    ref, (dimension, text_client, text_provider, subject) = submitted
    user = actor_profile(body).user_id
    wording = {"text_client": text_client, "text_provider": text_provider}
    q = act_in(services, ref, user, pulses.add_question, dimension=dimension, subject=subject, **wording)
    done = f"Added your question ({escape(q.text_client)}). It joins the rotation from the next round."
    ephemeral(client, ref.channel_id, user, done)


def show_questions(command: Questions, ctx: CommandContext) -> None:
    """``/partner questions``."""
    uow = ctx.services.uow_factory
    p = partnerships.get_partnership(uow(), team_id=ctx.team_id, channel_id=ctx.channel_id)
    if p is None:
        raise DomainError("This channel has no partnership yet. A lead can create one with `/partner setup`.")
    questions = pulses.list_questions(uow(), team_id=ctx.team_id, channel_id=ctx.channel_id)
    reply(ctx.respond, build_questions(p.name, questions, team_id=ctx.team_id, channel_id=ctx.channel_id))


# --- /partner pulse now | pause | resume --------------------------------------------------------------------


def start_pulse_now(command: PulseNow, ctx: CommandContext) -> None:
    uow, now = ctx.services.uow_factory, ctx.services.clock()
    r = pulse_rounds.start_round_now(uow(), team_id=ctx.team_id, channel_id=ctx.channel_id, actor=ctx.user_id, now=now)
    ctx.services.sender.deliver_queued()
    p = partnerships.get_partnership(uow(), team_id=ctx.team_id, channel_id=ctx.channel_id)
    closes = local_time_label(r.closes_at, p.timezone) if p else r.closes_at.isoformat()
    done = f"Started pulse round {r.sequence}; it is open until {closes}."
    opening = f"Pulse round {r.sequence} is open until {closes}. "
    reply(ctx.respond, build_notice(unless_held(ctx.services, ctx.team_id, done, saved="your round", opening=opening)))


def pause_or_resume(command: PulsePause | PulseResume, ctx: CommandContext) -> None:
    paused = isinstance(command, PulsePause)
    p = ctx.act(partnerships.set_paused, paused=paused)
    if paused:
        reply(ctx.respond, build_notice("Pulses are paused. Resume with `/partner pulse resume`."))
    else:
        ctx.services.sender.deliver_resumed(p.id)  # messages held while paused go now
        nxt = local_time_label(p.next_pulse_at, p.timezone) if p.next_pulse_at else "not scheduled"
        reply(ctx.respond, build_notice(f"Pulses are back on. Next pulse: {nxt}."))


COMMAND_HANDLERS = dict(
    [
        handles(Questions, show_questions),
        handles(PulseNow, start_pulse_now),
        handles(PulsePause, pause_or_resume),
        handles(PulseResume, pause_or_resume),
    ]
)


def register(app: App) -> None:
    listen(
        app,
        {ids.Action.PULSE_ANSWER: open_answer_form, ids.Action.QUESTION_ADD: open_question_form},
        {
            ids.View.PULSE_ANSWER: (ack_answer_submission, save_answers),
            ids.View.QUESTION_ADD: (ack_question_submission, save_question),
        },
    )
