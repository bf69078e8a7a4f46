"""Filling the outbox directly and counting what reached the sandbox, for the sender's lease and fault tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from bot.harness import LocalStack
from bot.services.outbox import SPECS, Purpose
from storage.models import OutboxMessage, Workspace
from tests.conftest import START


def queue_notices(stack: LocalStack, texts: Sequence[str], *, channel_ids: Sequence[str] = (), at: datetime = START) -> None:
    """Workspace-wide notices (no partnership) recorded straight into the outbox, in order, spread over
    ``channel_ids`` in turn (default: the demo world's shared channel)."""
    channels = list(channel_ids) or [stack.world.channel]
    with stack.services.uow_factory() as uow:
        workspace_id = uow.session.scalars(select(Workspace.id)).one()
        for i, text in enumerate(texts):
            uow.session.add(pending_notice(workspace_id, None, channels[i % len(channels)], text, at))
        uow.commit()


def pending_notice(workspace_id: int, partnership_id: int | None, channel_id: str, text: str, at: datetime) -> OutboxMessage:
    """A pending notice row carrying ``text``: a partnership's, or workspace-wide when ``partnership_id`` is None."""
    return OutboxMessage(
        dedupe_key=f"test-notice:{text}" if partnership_id is None else f"test-notice:{partnership_id}:{text}",
        workspace_id=workspace_id,
        partnership_id=partnership_id,
        purpose=Purpose.NOTICE.value,
        ref_id=partnership_id or 0,
        method=SPECS[Purpose.NOTICE].method,
        channel_id=channel_id,
        status="pending",
        attempts=0,
        available_at=at,
        created_at=at,
        extra={"text": text},
    )


def posted(stack: LocalStack, text: str, channel_id: str | None = None) -> int:
    """How many messages in the channel carry ``text``."""
    return sum(text in str(m.get("text")) for m in stack.sandbox.messages(channel_id or stack.world.channel))
