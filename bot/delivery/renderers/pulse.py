"""Renderers of the pulse round's messages: the pulse, its closed state, the reminder and the results."""

from __future__ import annotations

from bot.blocks.pulse import build_pulse_message, build_reminder, build_results_messages
from bot.delivery.rendered import RenderContext, Rendered, RenderFn, update_in_place
from bot.services import pulse_rounds, pulses, recipients
from bot.services.outbox import OutboxItem, Purpose
from bot.services.partnership_models import PartnershipView
from bot.services.pulse_models import RoundView


def _round(ctx: RenderContext, item: OutboxItem) -> tuple[RoundView, PartnershipView] | None:
    """The round (ref_id) and its partnership, as they are now; None when the round is gone."""
    assert item.ref_id is not None
    return pulses.round_context(ctx.uow_factory(), round_id=item.ref_id)


def render_pulse(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    context = _round(ctx, item)
    if context is None:
        return None
    round_, partnership = context
    return Rendered([build_pulse_message(round_, partnership)]) if round_.status == "open" else None


def render_pulse_closed(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The pulse message, updated in place to its closed state; None when the pulse was never posted."""
    context = _round(ctx, item)
    if context is None:
        return None
    round_, partnership = context
    return update_in_place(ctx, Purpose.PULSE, round_.id, [build_pulse_message(round_, partnership, closed=True)])


def render_reminder(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The reminder to one person (user_id); None once the round closed or the person answered meanwhile."""
    context = _round(ctx, item)
    if context is None:
        return None
    round_, partnership = context
    assert item.user_id is not None
    if round_.status != "open" or pulse_rounds.has_answered(
        ctx.uow_factory(), round_id=round_.id, user_id=item.user_id, secret_key=ctx.secret_key
    ):
        return None
    to = recipients.recipient(ctx.uow_factory(), partnership_id=partnership.id, user_id=item.user_id)
    if to is None:
        return None
    return Rendered([build_reminder(round_, partnership, timezone=to.timezone)], private_to=to)


def render_results(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    context = _round(ctx, item)
    if context is None:
        return None
    round_, _ = context
    return Rendered(build_results_messages(pulses.round_results(ctx.uow_factory(), round_id=round_.id)))


RENDERERS: dict[Purpose, RenderFn] = {
    Purpose.PULSE: render_pulse,
    Purpose.PULSE_CLOSED: render_pulse_closed,
    Purpose.REMINDER: render_reminder,
    Purpose.RESULTS: render_results,
}
