"""A row that a request creates once, however often Slack delivers the request (a retry, a double submission)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from storage.uow import UnitOfWork

Row = TypeVar("Row")
Row_co = TypeVar("Row_co", covariant=True)


class ByRequestKey(Protocol[Row_co]):
    """A repository whose rows keep the key of the request that created them, unique per owner (a partnership,
    or the issue of a follow-up)."""

    def get_by_request_key(self, owner_id: int, request_key: str, /) -> Row_co | None: ...


def created_once(
    uow: UnitOfWork, rows: ByRequestKey[Row], owner_id: int, key: str, create: Callable[[], Row]
) -> tuple[Row, bool]:
    """(the row, whether this call created it), committed.

    A row an earlier delivery of the request stored (``key`` in ``rows``) is returned as it is: nothing is written.
    Otherwise ``create`` adds it and the unit of work commits; when the same request, delivered twice at once,
    stored it first, the commit is refused by the key and that first row stands.
    """
    existing = rows.get_by_request_key(owner_id, key)
    if existing is not None:
        return existing, False
    row = create()
    stored = uow.commit_or_read_back(lambda: rows.get_by_request_key(owner_id, key))
    return (row, True) if stored is None else (stored, False)
