"""The heartbeat's batch loop: one unit of work per claimed batch, committed after its body, rolled back on error."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, cast

import pytest

from bot.services.batches import claimed_batches
from storage.uow import UnitOfWork


class FakeUow:
    def __init__(self, log: list[str], batch: Sequence[int]) -> None:
        self.log, self.batch = log, batch

    def __enter__(self) -> FakeUow:
        self.log.append("open")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.log.append("close")

    def commit(self) -> None:
        self.log.append("commit")


def _factory(log: list[str], batches: list[list[int]]) -> Any:
    return lambda: cast(UnitOfWork, FakeUow(log, batches.pop(0)))


def _claim(uow: UnitOfWork) -> Sequence[int]:
    return cast(FakeUow, uow).batch


def test_each_batch_is_committed_after_its_body_until_a_claim_is_empty() -> None:
    log: list[str] = []
    for _, batch in claimed_batches(_factory(log, [[1, 2], [3], []]), _claim):
        log.append(f"handle {batch}")
    assert log == ["open", "handle [1, 2]", "commit", "close", "open", "handle [3]", "commit", "close", "open", "close"]


def test_an_error_in_the_body_leaves_the_batch_uncommitted() -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError):
        for _, _batch in claimed_batches(_factory(log, [[1], [2]]), _claim):
            raise RuntimeError("handling failed")
    assert log == ["open", "close"]
