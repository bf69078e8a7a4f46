"""The watermelon check's signals (issue 14 item 3): when a week's digest is queued, the pairings its check finds
("KPIs green, people unhappy", "people happy, KPIs red") go to both leads with a prefilled "Log issue" button,
once per partnership, dimension and week (``signals.record_pairing``). The check is the digest's own
(``DigestView.kpis``, as the digest was made), so the signal says what the digest says."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.services import digest, signals
from storage.models import Partnership
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


def signal_week(uow: UnitOfWork, p: Partnership, ends_at: datetime, now: datetime) -> int:
    """Inside the caller's transaction: record and send the pairings of ``p``'s week ending at ``ends_at``.
    Nothing is read beyond one query for a partnership without agreed KPIs. Returns how many signals were new."""
    if not uow.kpi_figures.has_agreed(p.id):
        return 0
    # As the week's digest was made; a week whose digest is not made yet reads them as they are now (None).
    view = digest.build_in(uow, p, ends_at=ends_at, now=now, kpis_as_of=digest.made_at(uow, p, ends_at))
    if view.kpis is None:
        return 0
    return sum(signals.record_pairing(uow, p, c, week_start=view.week_start, now=now) for c in view.kpis.pairings)
