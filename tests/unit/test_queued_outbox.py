"""The unit of work notes, for the request that runs it, the outbox rows each committed transaction queued, by
every way rows are queued (one at a time, without a flush, many in one statement), and never a row that was
rolled back; outside a request nothing is noted."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.services import outbox
from bot.services.outbox import NewMessage, Purpose
from storage import queued_outbox
from storage.errors import DuplicateKey
from storage.models import OutboxMessage
from storage.uow import UnitOfWorkFactory
from tests.factories import make_issue_world

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def _ids(uow_factory: UnitOfWorkFactory, *keys: str) -> list[int]:
    with uow_factory() as uow:
        by_key = {r.dedupe_key: r.id for r in uow.session.scalars(select(OutboxMessage))}
        return [by_key[k] for k in keys]


def test_committed_rows_are_noted_for_the_request_and_rolled_back_ones_are_not(uow_factory: UnitOfWorkFactory) -> None:
    world = make_issue_world(uow_factory, now=NOW)
    with queued_outbox.collecting():
        assert queued_outbox.take() == []  # setting the world up happened outside the request
        with uow_factory() as uow:
            p = uow.partnerships.get(world.partnership_id)
            assert p is not None
            outbox.enqueue(uow, p, purpose=Purpose.MENU, ref_id=p.id, key="k-once", now=NOW)
            outbox.add_new(uow, p, purpose=Purpose.MENU, ref_id=p.id, key="k-new", now=NOW)
            outbox.add_many(
                uow, [NewMessage(p, Purpose.MENU, p.id, f"k-many-{i}") for i in range(3)], now=NOW, skip_existing=False
            )
            uow.commit()
        queued = queued_outbox.take()
        assert queued == _ids(uow_factory, "k-once", "k-new", "k-many-0", "k-many-1", "k-many-2")
        assert queued_outbox.take() == []  # each row is handed over once

        with uow_factory() as uow:  # rolled back: nothing noted
            p = uow.partnerships.get(world.partnership_id)
            assert p is not None
            outbox.add_new(uow, p, purpose=Purpose.MENU, ref_id=p.id, key="k-gone", now=NOW)
        with uow_factory() as uow:  # a savepoint undone by a duplicate key: only the rest of the transaction counts
            p = uow.partnerships.get(world.partnership_id)
            assert p is not None
            try:
                with uow.savepoint():
                    outbox.add_new(uow, p, purpose=Purpose.MENU, ref_id=p.id, key="k-once", now=NOW)
            except DuplicateKey:
                pass
            outbox.add_new(uow, p, purpose=Purpose.MENU, ref_id=p.id, key="k-kept", now=NOW)
            uow.commit()
        assert queued_outbox.take() == _ids(uow_factory, "k-kept")


def test_outside_a_request_nothing_is_noted(uow_factory: UnitOfWorkFactory) -> None:
    world = make_issue_world(uow_factory, now=NOW)
    with uow_factory() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert p is not None
        outbox.add_many(uow, [NewMessage(p, Purpose.MENU, p.id, "k-batch")], now=NOW, skip_existing=False)
        uow.commit()
    with queued_outbox.collecting():
        assert queued_outbox.take() == []


def test_a_change_is_queued_once_keyed_by_what_changed_and_when(uow_factory: UnitOfWorkFactory) -> None:
    world = make_issue_world(uow_factory, now=NOW)
    later = datetime(2026, 11, 30, 15, 5, tzinfo=UTC)
    with uow_factory() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert p is not None
        for at, queued in ((NOW, True), (NOW, False), (later, True)):
            assert queued is outbox.enqueue_change(
                uow, p, purpose=Purpose.EXPECTATION_UPDATE, ref_id=7, state="agreed", now=at
            )
        assert outbox.enqueue_change(uow, p, purpose=Purpose.ISSUE_CARD_UPDATE, ref_id=7, state="s", now=NOW, name="card")
        uow.commit()
    with uow_factory() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.ref_id == 7).order_by(OutboxMessage.id))
        assert [(r.purpose, r.dedupe_key) for r in rows] == [
            ("expectation-update", "expectation-update:7:agreed:2026-11-30T15:00:00+00:00"),
            ("expectation-update", "expectation-update:7:agreed:2026-11-30T15:05:00+00:00"),
            ("issue-card-update", "card:7:s:2026-11-30T15:00:00+00:00"),
        ]
