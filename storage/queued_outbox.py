"""The outbox rows the current request queued, so the request sends those and nothing else.

A request (a click, a form, a command) opens a scope with ``collecting()``; every unit of work committed inside
it notes the ids of the outbox rows it inserted (``note``, called by ``UnitOfWork.commit``), and the request's
sender takes them (``take``) to send just those. Outside a scope (the heartbeat's ``tick``) nothing is noted: the
background sender claims whatever is due.

The scope is a context variable: it follows the request's thread (and the copies of its context the sender hands
to its channel threads), never another request's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class _Queued:
    ids: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


_current: ContextVar[_Queued | None] = ContextVar("queued_outbox", default=None)


@contextmanager
def collecting() -> Iterator[None]:
    """Note the outbox rows queued until the block ends (a nested scope shares the outer one's rows)."""
    if _current.get() is not None:
        yield
        return
    token = _current.set(_Queued())
    try:
        yield
    finally:
        _current.reset(token)


def is_collecting() -> bool:
    return _current.get() is not None


def note(ids: Iterable[int]) -> None:
    """Rows a committed transaction queued; ignored outside a scope."""
    queued = _current.get()
    if queued is None:
        return
    with queued.lock:
        queued.ids.extend(ids)


def take() -> list[int]:
    """The rows noted since the last ``take`` in this scope (each id once), in the order they were queued."""
    queued = _current.get()
    if queued is None:
        return []
    with queued.lock:
        ids, queued.ids = queued.ids, []
    return list(dict.fromkeys(ids))
