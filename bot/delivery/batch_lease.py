"""The lease of a claimed outbox batch while it is sent: renewed every ``RENEW_EVERY`` seconds for the whole batch,
and each row's claim checked (and renewed) just before its Slack call, so a row another sender took over after
our lease ran out is left to that sender."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from bot.services import outbox_sending
from bot.services.outbox import OutboxItem
from storage.uow import UnitOfWork

#: Seconds between renewals of a claimed batch's lease while it is sent: well within ``outbox_sending.LEASE``.
RENEW_EVERY = outbox_sending.LEASE.total_seconds() / 4


class TakenOver(Exception):
    """The row's lease ran out and another sender claimed it: it is theirs to send."""


class BatchLease:
    """Keeps the lease of a claimed batch while it is sent, and checks each row's claim before its Slack call."""

    def __init__(
        self,
        items: list[OutboxItem],
        *,
        uow_factory: Callable[[], UnitOfWork],
        clock: Callable[[], datetime],
        renew_every: float,
        monotonic: Callable[[], float],
    ) -> None:
        self.items, self.uow_factory, self.clock = items, uow_factory, clock
        self.renew_every, self.monotonic = renew_every, monotonic
        #: Workspaces whose token Slack rejected during the current batch: their other rows are not tried.
        self._rejected: set[int] = set()
        self._renewed = monotonic()
        self._lock = threading.Lock()

    def take(self, item: OutboxItem) -> None:
        """Renew the batch's lease when due, then this row's; raises ``TakenOver`` if the row is no longer ours."""
        with self._lock:
            due = self.monotonic() - self._renewed >= self.renew_every
            if due:
                self._renewed = self.monotonic()
        if due:
            # One statement for the whole batch: rows still waiting in a channel's queue keep their lease.
            outbox_sending.renew(self.uow_factory(), self.items, now=self.clock())
        if not outbox_sending.take(self.uow_factory(), item, now=self.clock()):
            raise TakenOver(item.id)
