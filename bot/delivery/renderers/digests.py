"""Renderers of the weekly digest: the partnership's digest, its trend chart and subscribers' copies; and
``prepare``, which builds a claimed batch's digests together."""

from __future__ import annotations

from collections.abc import Sequence

from bot.blocks.digest import CHART_NOTE, build_digest_messages, copy_note
from bot.delivery.rendered import RenderContext, Rendered, RenderFn, Upload
from bot.services import digest, outbox
from bot.services.charts import alt_text, weekly_chart
from bot.services.digest_models import DigestView
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
    """The weekly digest, built from the database as it is now."""
    assert item.ref_id is not None
    view = _digest_view(ctx, item.ref_id)
    return Rendered(build_digest_messages(view, note=CHART_NOTE)) if view is not None else None


def render_chart(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The digest's trend chart, into the digest's thread.

    It belongs to that week's digest (a top-level message would notify the channel a second time every week),
    and a retried upload lands in the same place.
    """
    assert item.ref_id is not None
    uow = ctx.uow_factory
    key = digest.message_key(uow(), digest_id=item.ref_id)
    ts = outbox.sent_ts(uow(), key) if key else None
    view = _digest_view(ctx, item.ref_id) if ts else None
    if ts is None or view is None:  # the digest was never posted: a chart alone would make no sense
        return None
    upload = Upload(
        content=weekly_chart(view.chart),
        filename=f"partnerpulse-{view.week_start.isoformat()}.png",
        title=f"{view.partnership.name}: health by week",
        alt_text=alt_text(view.chart),
    )
    return Rendered([], thread_ts=ts, upload=upload)


def render_copy(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The same digest in a subscriber's direct messages, pointing to the channel for the chart."""
    assert item.ref_id is not None
    view = _digest_view(ctx, item.ref_id)
    return Rendered(build_digest_messages(view, note=copy_note(view.partnership.channel_id))) if view else None


#: Also the purposes whose digests ``prepare`` builds together.
RENDERERS: dict[Purpose, RenderFn] = {
    Purpose.DIGEST: render_digest,
    Purpose.DIGEST_CHART: render_chart,
    Purpose.DIGEST_COPY: render_copy,
}
