"""What a renderer gives the sender for an outbox row (``Rendered``, ``Upload``), and what renderers read with
(``RenderContext``): the shapes shared by the sender and the renderers of every feature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from bot.blocks.pulse import Message
from bot.services import outbox
from bot.services.digest_models import DigestView
from bot.services.outbox import OutboxItem, Purpose
from bot.services.recipients import Recipient
from storage.uow import UnitOfWork

C = TypeVar("C")


@dataclass(frozen=True)
class Upload:
    """A file for files_upload_v2: its bytes, name, title and the alt text screen readers read."""

    content: bytes
    filename: str
    title: str
    alt_text: str


@dataclass(frozen=True)
class Rendered:
    """What to send for an outbox row: one or more messages (later ones go in the first one's thread).

    ``thread_ts`` posts the first message as a reply in that thread. ``post_if_missing`` (chat.update rows
    only) posts a new message when there is nothing to update: no ``update_ts`` yet, or Slack says the message
    is gone (deleted by someone); the new message's ``ts`` is what gets recorded.
    """

    messages: list[Message]
    update_ts: str | None = None
    thread_ts: str | None = None
    post_if_missing: bool = False
    #: A file to upload (files_upload_v2) instead of messages, into ``thread_ts``'s thread when set.
    upload: Upload | None = None
    #: Pin the posted message (the menu). Pinning is a convenience: a failure is logged, the message stays sent.
    pin: bool = False
    #: For one person only (reminders, nags, signals, the owner's escalation nudge): ``send_privately`` sends it.
    private_to: Recipient | None = None


@dataclass
class RenderContext:
    """What renderers read the database with, at send time."""

    uow_factory: Callable[[], UnitOfWork]
    secret_key: str
    clock: Callable[[], datetime]
    #: Digests built together for the rows being sent (``Renderer.prepare``), by digests row id.
    digests: dict[int, DigestView] = field(default_factory=dict)


#: Builds the message for an outbox row at send time, or None when it is no longer wanted (the row is cancelled).
RenderFn = Callable[[RenderContext, OutboxItem], Rendered | None]


def update_in_place(ctx: RenderContext, purpose: Purpose, ref_id: int, messages: list[Message]) -> Rendered | None:
    """``messages`` replacing the message first sent for ``purpose`` and ``ref_id``; None if it was never posted."""
    ts = outbox.sent_ts(ctx.uow_factory(), f"{purpose.value}:{ref_id}")
    return Rendered(messages, update_ts=ts) if ts else None


def card_renderers(
    purpose: Purpose, read: Callable[[RenderContext, int], C | None], build: Callable[[C], Message]
) -> tuple[RenderFn, RenderFn]:
    """A card posted once for ``purpose`` and updated in place when it changes: the renderer that posts it and the
    one that updates it, both from the card as ``read`` finds it now (by the item's ref_id; None when it is gone).
    The update is None when the card was never posted: the first message, when it goes, shows the current state."""

    def post(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
        assert item.ref_id is not None
        card = read(ctx, item.ref_id)
        return Rendered([build(card)]) if card is not None else None

    def update(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
        assert item.ref_id is not None
        card = read(ctx, item.ref_id)
        return update_in_place(ctx, purpose, item.ref_id, [build(card)]) if card is not None else None

    return post, update
