"""Renderers of a partnership's own messages in its channel: the pinned menu, what the setup form saved, and
notices of changes both sides should see."""

from __future__ import annotations

from bot.blocks.common import build_menu, build_notice, build_reinstall_needed, build_setup_done
from bot.delivery.rendered import RenderContext, Rendered, RenderFn
from bot.services import outbox_notices, partnerships, recipients
from bot.services.outbox import OutboxItem, Purpose


def render_menu(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The menu, pinned once posted."""
    assert item.partnership_id is not None
    p = partnerships.get_partnership_by_id(ctx.uow_factory(), partnership_id=item.partnership_id)
    return Rendered([build_menu(p)], pin=True) if p else None


def render_notice(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The wording the notice was recorded with (composed by the caller when the change was saved)."""
    text = outbox_notices.notice_text(item)
    return Rendered([build_notice(text)]) if text else None


def render_setup_done(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    assert item.ref_id is not None
    done = partnerships.setup_done(ctx.uow_factory(), partnership_id=item.ref_id, extra=item.extra)
    return Rendered([build_setup_done(done.result, user_id=done.user_id)]) if done else None


def render_reinstall_needed(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """For one lead, reached as people of an organisation that has not installed are (never public)."""
    assert item.partnership_id is not None and item.user_id is not None
    to = recipients.recipient(ctx.uow_factory(), partnership_id=item.partnership_id, user_id=item.user_id)
    if to is None:
        return None
    return Rendered([build_reinstall_needed(str((item.extra or {}).get("workspace") or ""))], private_to=to)


RENDERERS: dict[Purpose, RenderFn] = {
    Purpose.MENU: render_menu,
    Purpose.NOTICE: render_notice,
    Purpose.SETUP_DONE: render_setup_done,
    Purpose.REINSTALL_NEEDED: render_reinstall_needed,
}
