"""The heartbeat's batch loop written once: claim rows, handle them, commit, until nothing is due."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from storage.uow import UnitOfWork

T = TypeVar("T")


def claimed_batches(
    uow_factory: Callable[[], UnitOfWork], claim: Callable[[UnitOfWork], Sequence[T]]
) -> Iterator[tuple[UnitOfWork, Sequence[T]]]:
    """Each batch ``claim`` returns (rows it locks, ``SKIP LOCKED`` on PostgreSQL), in a unit of work of its own.

    Usage::

        for uow, due in claimed_batches(uow_factory, lambda uow: uow.rounds.claim_due_closes(now, BATCH)):
            ...  # handle the batch; it is committed when the loop moves on

    The batch is committed once the loop's body has handled it; an exception in the body (or leaving the loop)
    rolls it back. Ends at the first claim that comes back empty.
    """
    while True:
        with uow_factory() as uow:
            batch = claim(uow)
            if not batch:
                return
            yield uow, batch
            uow.commit()
