"""Renderer of the weekly portfolio digest: every partnership of a workspace ranked by risk."""

from __future__ import annotations

from bot.blocks.portfolio import build_portfolio_messages
from bot.delivery.rendered import RenderContext, Rendered, RenderFn
from bot.services import portfolio
from bot.services.outbox import OutboxItem, Purpose


def render_portfolio(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The portfolio of a workspace (ref_id), as of the Monday its key names; None when it was turned off or moved
    to another channel since it was queued."""
    assert item.ref_id is not None
    view = portfolio.scheduled_portfolio(
        ctx.uow_factory, workspace_id=item.ref_id, channel_id=item.channel_id, key=item.dedupe_key
    )
    return Rendered(build_portfolio_messages(view)) if view is not None else None


RENDERERS: dict[Purpose, RenderFn] = {Purpose.PORTFOLIO: render_portfolio}
