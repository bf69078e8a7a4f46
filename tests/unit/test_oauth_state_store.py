"""The OAuth state (issue 15, check 23): good once, until it expires; two callbacks racing with one state let
exactly one through; the heartbeat purges expired states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from bot.harness import LocalStack
from bot.services import oauth_states
from storage.models import SlackOAuthState
from storage.oauth_state_store import OnceOAuthStateStore
from storage.uow import UnitOfWorkFactory
from tests.conftest import START
from tests.helpers import all_at_once

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def store(engine: Engine, clock: Clock) -> OnceOAuthStateStore:
    return OnceOAuthStateStore(engine, clock=clock)


def stored_states(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(SlackOAuthState)).scalar_one())


def test_a_state_is_good_once(store: OnceOAuthStateStore, engine: Engine) -> None:
    state = store.issue()
    assert len(state) >= 43 and store.issue() != state, "32 random bytes, url-safe: at least 43 characters"
    assert stored_states(engine) == 2
    assert store.consume(state) is True
    assert store.consume(state) is False, "reused"
    assert stored_states(engine) == 1


@pytest.mark.parametrize(
    "state",
    ["", "never-issued", "x" * 201, "' OR 1=1 --"],
    ids=["empty", "foreign", "too-long", "quote"],
)
def test_a_state_never_issued_here_is_refused(store: OnceOAuthStateStore, engine: Engine, state: str) -> None:
    issued = store.issue()
    assert store.consume(state) is False
    assert stored_states(engine) == 1 and store.consume(issued) is True, "the issued state is untouched"


def test_a_state_expires_after_600_seconds(store: OnceOAuthStateStore, clock: Clock) -> None:
    on_time, late = store.issue(), store.issue()
    clock.now = NOW + timedelta(seconds=599)
    assert store.consume(on_time) is True
    clock.now = NOW + timedelta(seconds=600)
    assert store.consume(late) is False, "expired at exactly 600 s"


def test_the_expiry_is_configurable(engine: Engine, clock: Clock) -> None:
    store = OnceOAuthStateStore(engine, expiration_seconds=60, clock=clock)
    first, second = store.issue(), store.issue()
    clock.now = NOW + timedelta(seconds=59)
    assert store.consume(first) is True
    clock.now = NOW + timedelta(seconds=61)
    assert store.consume(second) is False


def test_two_callbacks_racing_with_one_state_let_exactly_one_through(store: OnceOAuthStateStore) -> None:
    for _ in range(3):
        state = store.issue()
        results = all_at_once(6, lambda state=state: store.consume(state))
        assert sorted(results) == [False] * 5 + [True]


def test_purge_removes_only_expired_states(store: OnceOAuthStateStore, engine: Engine, clock: Clock) -> None:
    old = [store.issue() for _ in range(3)]
    clock.now = NOW + timedelta(minutes=5)
    fresh = store.issue()
    # The first three expire at NOW + 10 min, the fresh one at NOW + 15 min.
    assert store.purge_expired(NOW + timedelta(minutes=9, seconds=59)) == 0
    assert store.purge_expired(NOW + timedelta(minutes=10)) == 3
    assert stored_states(engine) == 1
    assert not any(store.consume(s) for s in old) and store.consume(fresh) is True


def test_the_purge_service_reports_what_it_removed(
    store: OnceOAuthStateStore, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    store.issue()
    store.issue()
    assert oauth_states.purge_expired_states(uow_factory(), now=NOW + timedelta(minutes=9)) == 0
    assert oauth_states.purge_expired_states(uow_factory(), now=NOW + timedelta(minutes=11)) == 2
    assert stored_states(engine) == 0


def test_the_heartbeat_purges_expired_states(stack: LocalStack) -> None:
    store = OnceOAuthStateStore(stack.services.engine, clock=lambda: START)
    abandoned = store.issue()
    report = stack.tick(START + timedelta(minutes=9))
    assert report.oauth_states_purged == 0 and "oauth-states" not in report.failures
    report = stack.tick(START + timedelta(minutes=11))
    assert report.oauth_states_purged == 1
    assert stored_states(stack.services.engine) == 0 and store.consume(abandoned) is False
