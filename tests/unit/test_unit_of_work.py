"""What the unit of work offers services besides its repositories: the partnership lock, savepoints, DuplicateKey,
and the category edit that relies on the lock (two leads editing at once both keep their change)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from bot.services import issue_settings
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.issue_models import DEFAULT_CATEGORIES
from storage.errors import DuplicateKey
from storage.models import Holiday
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, make_issue_world

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
CHRISTMAS = date(2026, 12, 25)


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> IssueWorld:
    return make_issue_world(uow_factory, now=NOW)


def _holiday(world: IssueWorld, name: str) -> Holiday:
    return Holiday(
        partnership_id=world.partnership_id, side="client", day=CHRISTMAS, name=name, created_by="UCL", created_at=NOW
    )


def test_a_duplicate_inside_a_savepoint_undoes_only_the_savepoint(world: IssueWorld) -> None:
    with world.uow_factory() as uow:
        uow.holidays.add(_holiday(world, "first"))
        with pytest.raises(DuplicateKey), uow.savepoint():
            uow.holidays.add(_holiday(world, "second"))
        uow.commit()
    with world.uow_factory() as uow:
        assert [h.name for h in uow.holidays.for_partnership(world.partnership_id)] == ["first"]


def test_a_duplicate_at_commit_is_one_error_and_the_transaction_is_rolled_back(world: IssueWorld) -> None:
    with world.uow_factory() as uow:
        uow.holidays.add(_holiday(world, "first"))
        uow.commit()
    with world.uow_factory() as uow:
        uow.holidays.session.add(_holiday(world, "again"))  # pending until the commit flushes it
        with pytest.raises(DuplicateKey):
            uow.commit_or_duplicate()
        assert [h.name for h in uow.holidays.for_partnership(world.partnership_id)] == ["first"]


def test_commit_or_read_back_gives_the_stored_row_for_a_duplicate_and_none_after_a_commit(world: IssueWorld) -> None:
    def stored_names() -> list[str]:
        with world.uow_factory() as uow:
            return [h.name for h in uow.holidays.for_partnership(world.partnership_id)]

    with world.uow_factory() as uow:
        uow.holidays.add(_holiday(world, "first"))
        assert uow.commit_or_read_back(lambda: None) is None
    with world.uow_factory() as uow:
        uow.holidays.session.add(_holiday(world, "again"))  # the same side and day: refused at the commit
        stored = uow.commit_or_read_back(lambda: uow.holidays.for_partnership(world.partnership_id)[0])
        assert stored is not None and stored.name == "first"
    with world.uow_factory() as uow:
        uow.holidays.session.add(_holiday(world, "again"))
        with pytest.raises(DuplicateKey):  # nothing to read back: the refusal is not the caller's duplicate
            uow.commit_or_read_back(lambda: None)
    assert stored_names() == ["first"]


def test_lock_partnership_rereads_the_row(world: IssueWorld) -> None:
    with world.uow_factory() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert p is not None
        p.issue_categories = ["changed, not saved"]
        assert uow.lock_partnership(world.partnership_id) is p
        assert p.issue_categories is None
    with world.uow_factory() as uow, pytest.raises(LookupError):
        uow.lock_partnership(-1)


def _edit(world: IssueWorld, verb: str, *names: str, actor: str = "UCL") -> tuple[str, ...]:
    return issue_settings.edit_categories(
        world.uow_factory(),
        **world.where,
        actor=actor,
        verb=verb,
        names=names,
        now=NOW,
    )


def test_category_edits_add_remove_and_set(world: IssueWorld) -> None:
    assert _edit(world, "add", "Data quality") == (*DEFAULT_CATEGORIES, "Data quality")
    assert _edit(world, "remove", "data QUALITY") == DEFAULT_CATEGORIES
    assert _edit(world, "set", "A ", "B") == ("A", "B")
    with pytest.raises(InvalidInput, match="already a category"):
        _edit(world, "add", "a")
    with pytest.raises(InvalidInput, match="not one of the categories"):
        _edit(world, "remove", "C")
    with pytest.raises(InvalidInput, match="already a category"):  # a wrong edit is refused before the lead check
        _edit(world, "add", "A", actor="UC1")
    with pytest.raises(NotAllowed):
        _edit(world, "add", "C", actor="UC1")
    assert issue_settings.get_categories(world.uow_factory(), **world.where) == (
        "A",
        "B",
    )


def test_two_leads_adding_categories_at_once_both_keep_their_change(world: IssueWorld) -> None:
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def add(name: str, actor: str) -> None:
        try:
            start.wait(timeout=10)
            _edit(world, "add", name, actor=actor)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    threads = [
        threading.Thread(target=add, args=("Client view", world.client_lead)),
        threading.Thread(target=add, args=("Provider view", world.provider_lead)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    saved = issue_settings.get_categories(world.uow_factory(), **world.where)
    assert set(saved) == {*DEFAULT_CATEGORIES, "Client view", "Provider view"}
