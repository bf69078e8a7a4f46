"""Renderers of shared goals and the bilateral scorecard: expectation messages (updated in place when answered)
and the scorecard's invitation, closing and report, from the database as it is now."""

from __future__ import annotations

from bot.blocks.expectations import build_expectation_card
from bot.blocks.scorecard import build_scorecard_invite, build_scorecard_reminder, build_scorecard_report
from bot.delivery.rendered import RenderContext, Rendered, RenderFn, card_renderers, update_in_place
from bot.services import expectations, scorecard, scorecard_rounds
from bot.services.outbox import OutboxItem, Purpose

render_expectation, render_expectation_update = card_renderers(
    Purpose.EXPECTATION,
    lambda ctx, expectation_id: expectations.expectation_card(ctx.uow_factory(), expectation_id=expectation_id),
    build_expectation_card,
)


def render_scorecard_open(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    assert item.ref_id is not None
    invite = scorecard.invite(ctx.uow_factory(), scorecard_id=item.ref_id)
    if invite is None:
        return None
    # Closed before it was posted (downtime): only the report is worth posting.
    return Rendered([build_scorecard_invite(invite)]) if invite.scorecard.status == "open" else None


def render_scorecard_closed(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The invitation, updated in place to its closed state; None when it was never posted."""
    assert item.ref_id is not None
    invite = scorecard.invite(ctx.uow_factory(), scorecard_id=item.ref_id)
    if invite is None:
        return None
    return update_in_place(ctx, Purpose.SCORECARD_OPEN, item.ref_id, [build_scorecard_invite(invite, closed=True)])


def render_scorecard_report(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    assert item.ref_id is not None
    report = scorecard.report(ctx.uow_factory(), scorecard_id=item.ref_id)
    return Rendered(build_scorecard_report(report)) if report else None


def render_scorecard_reminder(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The nudge to one person; None when the scorecard closed meanwhile or they filled it in since it was queued."""
    assert item.ref_id is not None and item.user_id is not None
    invite = scorecard.invite(ctx.uow_factory(), scorecard_id=item.ref_id)
    if invite is None or invite.scorecard.status != "open":
        return None
    if scorecard_rounds.has_filled_in(
        ctx.uow_factory(), scorecard_id=item.ref_id, user_id=item.user_id, secret_key=ctx.secret_key
    ):
        return None
    return Rendered([build_scorecard_reminder(invite)])


RENDERERS: dict[Purpose, RenderFn] = {
    Purpose.EXPECTATION: render_expectation,
    Purpose.EXPECTATION_UPDATE: render_expectation_update,
    Purpose.SCORECARD_OPEN: render_scorecard_open,
    Purpose.SCORECARD_CLOSED: render_scorecard_closed,
    Purpose.SCORECARD_REPORT: render_scorecard_report,
    Purpose.SCORECARD_REMINDER: render_scorecard_reminder,
}
