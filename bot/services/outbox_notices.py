"""Notices: a change both sides should see (the escalation policy, the categories, a side's working calendar, a
KPI's change), announced in the partnership's channel through the outbox (``Purpose.NOTICE``), recorded in the
change's transaction and worded by the caller's presentation code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from bot.services.outbox import OutboxItem, Purpose, enqueue
from storage.models import Partnership
from storage.uow import UnitOfWork

V = TypeVar("V")


@dataclass(frozen=True)
class Notice(Generic[V]):
    """A notice to post in the partnership's channel about a change, recorded in the change's transaction.

    ``compose`` builds the notice's text from what the change saved (``V``: the service's read model of it); it is
    the caller's presentation code (our wording, user text escaped), so services decide *whether* to announce and
    never word it. ``request_key`` names the Slack request that asked for the change: a repeated delivery of the
    same request records the notice once.
    """

    request_key: str
    compose: Callable[[V], str]


def notice_key(partnership_id: int, request_key: str) -> str:
    """The outbox key of the notice a request causes in a partnership's channel."""
    return f"{Purpose.NOTICE.value}:{partnership_id}:{request_key}"[:200]


def enqueue_notice(uow: UnitOfWork, partnership: Partnership, notice: Notice[V], saved: V, *, now: datetime) -> bool:
    """Record ``notice`` about ``saved`` for the partnership's channel, inside the caller's transaction.

    Once per request key: returns False when the same request announced it before (its repeated delivery).
    """
    key = notice_key(partnership.id, notice.request_key)
    if uow.outbox.get_by_key(key) is not None:
        return False
    return enqueue(
        uow,
        partnership,
        purpose=Purpose.NOTICE,
        ref_id=partnership.id,
        now=now,
        key=key,
        extra={"text": notice.compose(saved)},
    )


def commit_saved(uow: UnitOfWork, partnership: Partnership, notice: Notice[V] | None, saved: V, *, now: datetime) -> V:
    """A lead's change is done: queue ``notice`` about ``saved`` (if any) in the same transaction, commit, and
    return ``saved``."""
    if notice is not None:
        enqueue_notice(uow, partnership, notice, saved, now=now)
    uow.commit()
    return saved


def notice_text(item: OutboxItem) -> str | None:
    """The wording a ``Purpose.NOTICE`` row was recorded with (None if it has none)."""
    text = (item.extra or {}).get("text")
    return str(text) if text else None
