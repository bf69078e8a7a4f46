"""The ``Renderer`` the sender uses: it turns a claimed outbox row into what is sent, by its purpose's renderer
(``bot.delivery.renderers``), reading the database as it is at send time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.clock import utcnow
from bot.delivery.rendered import RenderContext, Rendered
from bot.delivery.renderers import RENDERERS, digests
from bot.services.outbox import OutboxItem
from storage.uow import UnitOfWork


class Renderer:
    """Builds the message for an outbox row at send time, or None when it is no longer wanted."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], secret_key: str, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.context = RenderContext(uow_factory=uow_factory, secret_key=secret_key, clock=clock)

    def prepare(self, items: Sequence[OutboxItem]) -> None:
        """Build what a claimed batch's rows share before the sender sends it (today: its weekly digests).

        ``render`` then uses it, and builds anything else on its own as before.
        """
        digests.prepare(self.context, items)

    def render(self, item: OutboxItem) -> Rendered | None:
        render = RENDERERS.get(item.purpose)
        if render is None:
            raise ValueError(f"unknown outbox purpose {item.purpose}")
        return render(self.context, item)
