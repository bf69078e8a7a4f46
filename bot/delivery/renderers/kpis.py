"""Renderers of agreed KPIs: the owner's request for a period's figure (for one person, never public)."""

from __future__ import annotations

from datetime import date

from bot.blocks.kpi_figures import KpiFormRef, build_figure_request
from bot.delivery.rendered import RenderContext, Rendered, RenderFn
from bot.services import kpi_requests, recipients
from bot.services.outbox import OutboxItem, Purpose


def render_figure_request(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """None when no longer needed: the figure was recorded meanwhile, the KPI was retired, or the person left."""
    assert item.ref_id is not None and item.user_id is not None and item.partnership_id is not None
    period_end = date.fromisoformat(str((item.extra or {})["period_end"]))
    data = kpi_requests.figure_request(ctx.uow_factory, kpi_id=item.ref_id, period_end=period_end)
    if data is None:
        return None
    to = recipients.recipient(ctx.uow_factory(), partnership_id=item.partnership_id, user_id=item.user_id)
    if to is None:
        return None
    form = KpiFormRef(data.team_id, data.channel_id, item.ref_id, period_end.isoformat())
    return Rendered([build_figure_request(form, data)], private_to=to)


RENDERERS: dict[Purpose, RenderFn] = {Purpose.KPI_FIGURE_REQUEST: render_figure_request}
