"""Renderers of the KPI ledger (``renderers/kpis.py`` has the figures'): a proposal in the channel, updated in place when answered or withdrawn, and each
answer in the proposal's thread, from the database as it is now."""

from __future__ import annotations

from bot.blocks.kpi_ledger import build_kpi_answer, build_kpi_proposal
from bot.delivery.rendered import RenderContext, Rendered, RenderFn, card_renderers
from bot.services import kpi_reads, outbox
from bot.services.kpi_models import KpiVersionStatus
from bot.services.outbox import OutboxItem, Purpose


def _proposal_ts(ctx: RenderContext, version_id: int) -> str | None:
    return outbox.sent_ts(ctx.uow_factory(), outbox.default_key(Purpose.KPI_PROPOSAL, version_id))


render_kpi_proposal, render_kpi_proposal_update = card_renderers(
    Purpose.KPI_PROPOSAL,
    lambda ctx, version_id: kpi_reads.proposal_card(ctx.uow_factory(), version_id=version_id),
    build_kpi_proposal,
)


def render_kpi_answer(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The answer in the proposal's thread (in the channel when the proposal was never posted)."""
    assert item.ref_id is not None
    card = kpi_reads.proposal_card(ctx.uow_factory(), version_id=item.ref_id)
    answered = (KpiVersionStatus.AGREED, KpiVersionStatus.SUPERSEDED, KpiVersionStatus.DISCUSSING)
    if card is None or card.version.responded_by is None or card.version.status not in answered:
        return None  # withdrawn since: nothing to say
    return Rendered([build_kpi_answer(card)], thread_ts=_proposal_ts(ctx, item.ref_id))


RENDERERS: dict[Purpose, RenderFn] = {
    Purpose.KPI_PROPOSAL: render_kpi_proposal,
    Purpose.KPI_PROPOSAL_UPDATE: render_kpi_proposal_update,
    Purpose.KPI_ANSWER: render_kpi_answer,
}
