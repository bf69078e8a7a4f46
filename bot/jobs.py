"""Scheduled work. ``tick(now)`` does everything due by ``now``; the heartbeat and ``partnerpulse tick`` call it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.container import Services
from bot.delivery import DeliveryReport
from bot.services import pulses

logger = logging.getLogger(__name__)


@dataclass
class TickReport:
    opened: int = 0
    skipped: int = 0
    reminders: int = 0
    closed: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        d = self.delivery
        text = (
            f"opened {self.opened} round(s), skipped {self.skipped}, queued {self.reminders} reminder(s), "
            f"closed {self.closed}; sent {d.sent}, retrying {d.retried}, failed {d.failed}, cancelled {d.cancelled}"
        )
        if self.failures:
            text += f"; steps that failed: {', '.join(self.failures)}"
        return text


def tick(services: Services, now: datetime) -> TickReport:
    """Open due rounds, queue due reminders, close due rounds, then send the outbox.

    Each step is its own transaction and claims its rows, so a step that fails is logged and the others
    still run; the next tick tries again. Nothing here raises.
    """
    report = TickReport()
    steps = (
        ("open", lambda: _open(services, now, report)),
        ("remind", lambda: _remind(services, now, report)),
        ("close", lambda: _close(services, now, report)),
        ("send", lambda: report.delivery.add(services.sender.deliver_pending())),
    )
    for name, step in steps:
        try:
            step()
        except Exception:
            logger.exception("tick at %s: step %s failed; it will run again at the next tick", now.isoformat(), name)
            report.failures.append(name)
    return report


def _open(services: Services, now: datetime, report: TickReport) -> None:
    result = pulses.open_due_rounds(services.uow_factory, now=now)
    report.opened, report.skipped = len(result.opened), result.skipped


def _remind(services: Services, now: datetime, report: TickReport) -> None:
    report.reminders = pulses.queue_due_reminders(services.uow_factory, secret_key=services.secret_key, now=now)


def _close(services: Services, now: datetime, report: TickReport) -> None:
    report.closed = len(pulses.close_due_rounds(services.uow_factory, now=now))
