"""Renderers of the weekly digest: the partnership's digest (its headline), its full detail and trend chart in
its thread, and subscribers' copies (the headline); and ``prepare``, which builds a claimed batch's digests
together."""

from __future__ import annotations

from collections.abc import Sequence

from bot.blocks.digest import build_digest_detail, copy_note
from bot.blocks.digest_headline import build_digest_headline
from bot.delivery.rendered import RenderContext, Rendered, RenderFn, Upload
from bot.services import digest, digest_headline, digest_schedule, kpi_charts, outbox
from bot.services.charts import alt_text, weekly_chart
from bot.services.digest_models import DigestView
from bot.services.kpi_chart_png import kpi_alt_text, kpi_chart_png
from bot.services.outbox import OutboxItem, Purpose


def prepare(ctx: RenderContext, items: Sequence[OutboxItem]) -> None:
    """Build the weekly digests of a claimed batch together (a few statements, not a dozen per digest).

    The renderers then use them, and build any other digest on its own. A batch is sent within moments of being
    claimed, so the digests are as current as if each had been built when its message went.
    """
    ids = sorted({i.ref_id for i in items if i.purpose in RENDERERS and i.ref_id is not None})
    ctx.digests = {}
    ctx.digests = digest.digests_for(ctx.uow_factory(), digest_ids=ids, now=ctx.clock()) if len(ids) > 1 else {}


def _digest_view(ctx: RenderContext, digest_id: int) -> DigestView | None:
    prepared = ctx.digests.get(digest_id)
    return prepared if prepared is not None else digest.digest_for(ctx.uow_factory(), digest_id=digest_id, now=ctx.clock())


def render_digest(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The weekly digest's main message (its headline, then what was measured), built from the database as it is
    now (its KPI part as it was when the digest was made)."""
    assert item.ref_id is not None
    view = _digest_view(ctx, item.ref_id)
    return Rendered([build_digest_headline(view, digest_headline.headline(view))]) if view is not None else None


def _thread_of(ctx: RenderContext, digest_id: int) -> tuple[str, DigestView] | None:
    """The posted digest's ``ts`` and its view; None when the digest was never posted (a reply alone would make
    no sense) or is gone."""
    uow = ctx.uow_factory
    key = digest_schedule.message_key(uow(), digest_id=digest_id)
    ts = outbox.sent_ts(uow(), key) if key else None
    view = _digest_view(ctx, digest_id) if ts else None
    return (ts, view) if ts is not None and view is not None else None


def render_detail(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The digest's full detail, as one reply (more only past Slack's limits) in the digest's thread."""
    assert item.ref_id is not None
    found = _thread_of(ctx, item.ref_id)
    if found is None:
        return None
    ts, view = found
    return Rendered(build_digest_detail(view), thread_ts=ts)


def render_chart(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The digest's trend chart, into the digest's thread.

    It belongs to that week's digest (a top-level message would notify the channel a second time every week),
    and a retried upload lands in the same place.
    """
    assert item.ref_id is not None
    found = _thread_of(ctx, item.ref_id)
    if found is None:
        return None
    ts, view = found
    upload = Upload(
        content=weekly_chart(view.chart),
        filename=f"partnerpulse-{view.week_start.isoformat()}.png",
        title=f"{view.partnership.name}: health by week",
        alt_text=alt_text(view.chart),
    )
    return Rendered([], thread_ts=ts, upload=upload)


def render_kpi_charts(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The charts of the week's KPIs that changed status or are red, one image in the digest's thread; nothing
    (the row cancelled) when none is."""
    assert item.ref_id is not None
    found = _thread_of(ctx, item.ref_id)
    if found is None:
        return None
    ts, view = found
    charts = kpi_charts.charts_of_week(ctx.uow_factory(), view, digest_thread=True)
    if not charts:
        return None
    upload = Upload(
        content=kpi_chart_png(charts),
        filename=f"partnerpulse-kpis-{view.week_start.isoformat()}.png",
        title=f"{view.partnership.name}: KPIs against their targets",
        alt_text=kpi_alt_text(charts),
    )
    return Rendered([], thread_ts=ts, upload=upload)


def render_copy(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The digest's headline in a subscriber's direct messages, pointing to the channel's thread for the rest."""
    assert item.ref_id is not None
    view = _digest_view(ctx, item.ref_id)
    if view is None:
        return None
    headline = digest_headline.headline(view)
    return Rendered([build_digest_headline(view, headline, note=copy_note(view.partnership.channel_id))])


#: Also the purposes whose digests ``prepare`` builds together.
RENDERERS: dict[Purpose, RenderFn] = {
    Purpose.DIGEST: render_digest,
    Purpose.DIGEST_DETAIL: render_detail,
    Purpose.DIGEST_CHART: render_chart,
    Purpose.DIGEST_KPI_CHARTS: render_kpi_charts,
    Purpose.DIGEST_COPY: render_copy,
}
