"""Renderer of a red KPI's blameless question (``kpi_red``), from the database as it is now."""

from __future__ import annotations

from datetime import date

from bot.blocks.kpi_red import build_kpi_red_answer, build_kpi_red_question
from bot.delivery.rendered import RenderContext, Rendered, RenderFn
from bot.services import kpi_red
from bot.services.outbox import OutboxItem, Purpose


def render_kpi_red_question(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The question about the KPI (ref_id) for its red period (``extra["period_end"]``); nothing when the KPI or
    its figure is gone."""
    assert item.ref_id is not None
    period_end = date.fromisoformat(str((item.extra or {})["period_end"]))
    red = kpi_red.red_kpi(ctx.uow_factory(), kpi_id=item.ref_id, period_end=period_end)
    return Rendered([build_kpi_red_question(red)]) if red is not None else None


def render_kpi_red_answer(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """A side's answer (the action, ref_id) in the thread of the question (``extra["question"]``, its key)."""
    assert item.ref_id is not None
    answer = kpi_red.red_answer(ctx.uow_factory, action_id=item.ref_id, question=str((item.extra or {}).get("question")))
    return Rendered([build_kpi_red_answer(answer)], thread_ts=answer.thread_ts) if answer is not None else None


RENDERERS: dict[Purpose, RenderFn] = {
    Purpose.KPI_RED_QUESTION: render_kpi_red_question,
    Purpose.KPI_RED_ANSWER: render_kpi_red_answer,
}
