"""``build_digests`` (many partnerships read together) gives exactly the digests ``build_digest`` gives one by one.

The batched reads filter one set of rows per batch by each partnership's own week, so a partnership on another
schedule or in another time zone, a withheld side, comments, issues and actions must all come out the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.delivery.renderer import Renderer
from bot.services import digest, digest_schedule, issue_lifecycle, outbox
from bot.services.issue_models import ActionStatus
from bot.services.outbox import OutboxItem
from bot.services.partnership_models import Side
from storage.models import Digest, Partnership
from storage.repositories.digests import DigestBatchQueries
from storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.factories import Answered, IssueWorld, add_closed_round, answers_for, make_issue_world
from tests.unit.test_digest import DIGEST_AT, START, _seed_history
from tests.unit_support import create_action_in, log_issue_in, set_action_status_in

C, P = Side.CLIENT, Side.PROVIDER


@pytest.fixture
def worlds(uow_factory: UnitOfWorkFactory) -> tuple[IssueWorld, IssueWorld]:
    """Two partnerships with their history seeded: the digest test's, and a second one with a Kolkata schedule."""
    first = make_issue_world(uow_factory, now=START)
    second = make_issue_world(uow_factory, now=START, channel_id="C200", name="Kolkata desk")
    with uow_factory() as uow:  # another schedule in another zone: Mondays 09:00 in Kolkata
        p = uow.session.get(Partnership, second.partnership_id)
        assert p is not None
        p.timezone, p.digest_weekday, p.digest_hour, p.digest_minute = "Asia/Kolkata", 0, 9, 0
        uow.commit()
    _seed_history(first)
    _seed_second(second)
    return first, second


def _log_and_resolve(
    world: IssueWorld, reporter: str, title: str, severity: str, logged_at: datetime, resolved_at: datetime
) -> None:
    """An issue the reporter logs and UC1 resolves, at the given UTC times (naive here)."""
    logged = log_issue_in(
        world, key=title, now=logged_at.replace(tzinfo=UTC), actor=reporter, title=title, severity=severity
    )
    issue_lifecycle.resolve(
        world.uow_factory(),
        channel_id=world.channel_id,
        issue_id=logged.issue.id,
        actor="UC1",
        now=resolved_at.replace(tzinfo=UTC),
    )


def _seed_second(world: IssueWorld) -> None:
    for k, at in enumerate((datetime(2026, 12, 4, 6, 0, tzinfo=UTC), datetime(2026, 12, 6, 3, 0, tzinfo=UTC))):
        answered = answers_for(C, {"trust": [4, 5, 3 + k]}) + answers_for(P, {"trust": [2, 3, 4]})
        answered[0] = Answered(C, "C1", answered[0].scores, {"trust": f"Release {k} slipped again, blocked on access"})
        add_closed_round(
            world.uow_factory, partnership_id=world.partnership_id, closed_at=at, answers=answered, asked=(5, 4)
        )
    _log_and_resolve(world, "UC1", "Access to staging", "S2", datetime(2026, 12, 3, 15), datetime(2026, 12, 5, 15))
    # new in the week, resolved only after it: "new" by its creation time alone
    _log_and_resolve(world, "UP1", "Invoice mismatch", "S3", datetime(2026, 12, 4, 9), datetime(2026, 12, 8, 15))
    for title, owner, due in (("Runbook", "UP1", date(2026, 12, 2)), ("Checklist", "UC2", date(2026, 12, 20))):
        created = create_action_in(
            world,
            key=title,
            now=datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
            actor="UCL",
            title=title,
            owner_id=owner,
            due_on=due,
        )
        if title == "Checklist":
            done_at = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
            set_action_status_in(world, created.id, ActionStatus.DONE, actor="UCL", now=done_at)


def _queued_digest(uow: UnitOfWork, p: Partnership, ends_at: datetime, now: datetime) -> Digest:
    """A queued digest row of the partnership's week that ends at ``ends_at``, flushed (it has its id)."""
    row = Digest(
        partnership_id=p.id,
        week_start=digest_schedule.week_start_of(ends_at, p.timezone),
        ends_at=ends_at,
        status="queued",
        created_at=now,
    )
    uow.session.add(row)
    uow.session.flush()
    return row


def _one_by_one(world: IssueWorld, ids: list[int], now: datetime) -> list[object]:
    return [digest.build_digest(world.uow_factory(), partnership_id=pid, week_start=None, now=now) for pid in ids]


@pytest.mark.parametrize("batch", [1, 2, 200])
@pytest.mark.parametrize(
    "now",
    [DIGEST_AT, DIGEST_AT + timedelta(days=3), datetime(2026, 12, 7, 4, 0, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)],
)
def test_batched_digests_equal_the_digests_built_one_by_one(
    worlds: tuple[IssueWorld, IssueWorld], batch: int, now: datetime
) -> None:
    first, second = worlds
    ids = [second.partnership_id, first.partnership_id]
    expected = _one_by_one(first, ids, now)
    got = digest.build_digests(first.uow_factory(), partnership_ids=[*ids, 9999], now=now, batch=batch)
    assert got == expected  # the unknown id is left out; order is the order asked


def test_the_seeded_week_has_what_the_comparison_relies_on(worlds: tuple[IssueWorld, IssueWorld]) -> None:
    """Guard for the test above: the digests it compares are not empty (comments, issues, actions, a gap)."""
    first, second = worlds
    view_first, view_second = digest.build_digests(
        first.uow_factory(), partnership_ids=[first.partnership_id, second.partnership_id], now=DIGEST_AT
    )
    assert view_first.sides[0].comments and view_first.gaps
    assert view_second.week_start == date(2026, 11, 30)  # Monday in Kolkata
    assert view_second.sides[0].comments and [i.title for i in view_second.issues.resolved] == ["Access to staging"]
    assert [i.title for i in view_second.issues.new] == ["Access to staging", "Invoice mismatch"]
    assert [a.title for a in view_second.actions.overdue] == ["Runbook"]
    assert [a.title for a in view_second.actions.done] == ["Checklist"]


def test_batch_reads_refuse_a_window_they_did_not_read(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory().read_only() as uow:
        q = DigestBatchQueries(
            uow.session, [1], start=datetime(2026, 12, 1, tzinfo=UTC), end=datetime(2026, 12, 8, tzinfo=UTC)
        )
        with pytest.raises(ValueError):
            q.rounds(1, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 8, tzinfo=UTC))
        assert q.rounds(1, datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 8, tzinfo=UTC)) == []


@pytest.mark.parametrize("batch", [1, 3, 200])
def test_queued_digests_built_together_equal_each_built_alone(worlds: tuple[IssueWorld, IssueWorld], batch: int) -> None:
    """What the sender renders for a claimed batch (``digests_for``) is what ``digest_for`` gives row by row, for rows
    of different partnerships, schedules and weeks (a week left queued since before the latest one included)."""
    first, second = worlds
    now = DIGEST_AT + timedelta(days=8)
    ids: list[int] = []
    with first.uow_factory() as uow:
        for pid in (first.partnership_id, second.partnership_id):
            p = uow.session.get(Partnership, pid)
            assert p is not None
            latest = digest_schedule.latest_digest_time(p, now)
            for ends_at in (latest, digest_schedule.shift_local(latest, p.timezone, days=-7)):
                ids.append(_queued_digest(uow, p, ends_at, now).id)
        uow.commit()
    alone = {i: digest.digest_for(first.uow_factory(), digest_id=i, now=now) for i in ids}
    together = digest.digests_for(first.uow_factory(), digest_ids=[*ids, 9999], now=now, batch=batch)
    assert together == alone  # the unknown row is left out
    assert len({view.week_start for view in together.values()}) == 4  # two weeks each, two schedules
    assert any(view.sides[0].comments for view in together.values())


def test_the_renderer_builds_a_claimed_batch_of_digests_together(
    worlds: tuple[IssueWorld, IssueWorld], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender hands each claimed batch to ``Renderer.prepare``: the digests in it are rendered from one batched
    build, not one ``digest_for`` (a dozen statements) each; a digest outside the batch is still built alone."""
    first, second = worlds
    now = DIGEST_AT + timedelta(hours=1)
    items: list[OutboxItem] = []
    with first.uow_factory() as uow:
        for n, pid in enumerate((first.partnership_id, second.partnership_id)):
            p = uow.session.get(Partnership, pid)
            assert p is not None
            ends_at = digest_schedule.latest_digest_time(p, now)
            row = _queued_digest(uow, p, ends_at, now)
            purpose = outbox.Purpose.DIGEST
            items.append(
                OutboxItem(
                    n, f"digest:{pid}", p.workspace_id, pid, purpose, row.id, "chat.postMessage", p.channel_id, None, 1, "t"
                )
            )
        uow.commit()
    renderer = Renderer(first.uow_factory, "k" * 40, clock=lambda: now)
    alone = [renderer.render(item) for item in items]
    renderer.prepare(items)

    def built_alone(*args: object, **kwargs: object) -> None:
        raise AssertionError("a digest of the prepared batch was built on its own")

    monkeypatch.setattr(digest, "digest_for", built_alone)
    together = [renderer.render(item) for item in items]
    assert together == alone and all(r is not None and r.messages for r in together)
    renderer.prepare(items[:1])  # a batch with one digest: nothing to gain, so nothing is prepared
    with pytest.raises(AssertionError, match="built on its own"):
        renderer.render(items[0])
