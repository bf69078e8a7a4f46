"""Member events with the database down are not acknowledged, so Slack retries them; a lost event is made up when
the next round opens (issue 13, item 4)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storage.db import make_engine, make_session_factory
from storage.models import Member, ProcessedEvent
from tests.conftest import START
from tests.helpers import setup_partnership, wait_for

PULSE_AT = START.replace(hour=14, minute=0)
NEW = "U0PNEW1"


@contextmanager
def database_down(stack: Any, tmp_path: Path) -> Iterator[None]:
    """Every new unit of work fails to connect, as with the database stopped; restored on exit."""
    factory = stack.services.uow_factory
    working = factory.session_factory
    engine = make_engine(f"sqlite:///{tmp_path}/missing-directory/down.db")
    factory.session_factory = make_session_factory(engine)
    try:
        yield
    finally:
        factory.session_factory = working
        engine.dispose()


def _member(stack: Any, user_id: str) -> tuple[str | None, bool] | None:
    with stack.services.uow_factory() as uow:
        m = uow.session.scalars(select(Member).where(Member.user_id == user_id)).first()
        return (m.side, m.in_channel) if m else None


def _event(stack: Any) -> dict[str, Any]:
    w = stack.world
    return {"type": "member_joined_channel", "user": NEW, "channel": w.channel, "channel_type": "C", "team": w.provider_team}


def test_a_join_the_database_could_not_record_is_not_acknowledged_and_its_retry_is_recorded_once(
    stack: Any, tmp_path: Path
) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    sb.add_user(NEW, w.provider_team, "lena.fischer", "Lena Fischer", tz="Europe/Berlin")
    sb.join(w.channel, NEW)
    with database_down(stack, tmp_path):
        first = sb.event(_event(stack), event_id="EvDown1")
        stack.settle()
    assert first.status >= 500, "Slack retries only what did not get a 2xx"
    assert _member(stack, NEW) is None
    retries = [sb.event(_event(stack), event_id="EvDown1", retry_num=n) for n in (1, 2)]
    assert [r.status for r in retries] == [200, 200]
    # Recorded before the answer; the side follows from the profile, filled in just after it.
    wait_for(lambda: _member(stack, NEW) == ("provider", True), what="the member, on their side")
    with stack.services.uow_factory() as uow:
        count = select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id == "EvDown1")
        assert uow.session.scalar(count) == 1
        assert uow.session.scalar(select(func.count()).select_from(Member).where(Member.user_id == NEW)) == 1


def test_a_member_whose_events_were_lost_is_asked_when_the_next_round_opens(stack: Any) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    sb.add_user(NEW, w.provider_team, "lena.fischer", "Lena Fischer", tz="Europe/Berlin")
    sb.join(w.channel, NEW)  # no event reaches the bot
    gone = w.client_members[0]
    sb.leave(w.channel, gone)
    assert _member(stack, NEW) is None and _member(stack, gone) == ("client", True)
    assert stack.tick(PULSE_AT).opened == 1
    assert _member(stack, NEW) == ("provider", True)
    assert _member(stack, gone) == ("client", False)
