"""OAuth states of installs that were never finished (issue 15): the heartbeat removes them once expired."""

from __future__ import annotations

from datetime import datetime

from storage.uow import UnitOfWork


def purge_expired_states(uow: UnitOfWork, *, now: datetime) -> int:
    """Delete the OAuth states that expired by ``now``; how many there were."""
    with uow:
        purged = uow.oauth_states.purge_expired(now)
        uow.commit()
    return purged
