"""Fault: the PostgreSQL server stops while ``partnerpulse serve`` runs (people answering a pulse, joining the
channel, logging an issue), then starts again. Its own throwaway cluster, never the shared server.

Nothing is lost: each person is either stored or told their answers were not saved (and nobody told "recorded" is
missing); member events answered 500 during the outage are retried by Slack (the sandbox, on a shortened schedule)
and recorded once; the server recovers without a restart (stale pooled connections are dropped); the heartbeat's
scheduled work resumes; nothing is posted twice; no log line shows a bound value.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.harness import SANDBOX_SECRET_KEY, LocalStack, start_local_stack
from bot.services.anonymity import respondent_hash
from storage import migrate
from storage.models import Issue, Member, Partnership, PulseRound, Response
from tests.helpers import (
    ANSWER_CALLBACK,
    ISSUE_CALLBACK,
    issue_values,
    latest_pulse,
    new_view,
    setup_partnership,
    view_ids,
    wait_for,
)
from tests.pg_cluster import ThrowawayCluster, find_binaries
from tests.serve_process import ServeProcess, serving

pytestmark = [pytest.mark.fault, pytest.mark.slow]

#: Slack retries at once, after 1 and after 5 minutes; the sandbox's schedule here is shortened to seconds.
RETRY_DELAYS = (0.0, 4.0, 12.0)
NEW_MEMBERS = ("U0PNEW1", "U0PNEW2")
SECRET_TEXT = "bound-value-never-logged"
#: What the heartbeat logs after a beat in which some step failed.
BEAT_FAILED = "steps that failed"


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    found = find_binaries()
    if isinstance(found, str):
        pytest.skip(found)
    made = ThrowawayCluster(*found)
    try:
        made.create()
        migrate.upgrade(made.url)
        yield made
    finally:
        made.remove()


@pytest.fixture
def pg_stack(cluster: ThrowawayCluster) -> Iterator[LocalStack]:
    """The sandbox and its demo world, and a unit of work on the cluster for the test's own reads."""
    with closing(start_local_stack(database_url=cluster.url, start=datetime.now(UTC))) as s:
        s.sandbox.event_retry_delays = RETRY_DELAYS
        yield s


def _set(stack: LocalStack, statement: Any) -> None:
    with stack.services.uow_factory() as uow:
        uow.session.execute(statement)
        uow.commit()


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(m) for m in messages]


def _open_answer_form(stack: LocalStack, user_id: str, pulse: dict[str, Any]) -> dict[str, Any]:
    before = view_ids(stack)
    stack.actor(user_id).click(stack.world.channel, pulse["ts"], "pulse-answer")
    view = new_view(stack, user_id, ANSWER_CALLBACK, before)
    # The loading modal is updated in place to the form: wait for its questions.
    return wait_for(
        lambda: next((v for v in stack.sandbox.open_views(user_id) if v["id"] == view["id"] and _scores(v)), None),
        what=f"the answer form's questions for {user_id}",
    )


def _scores(view: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for block in view.get("blocks") or []:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith("score-"):
            values[block_id] = "8" if block["element"]["type"] == "static_select" else "4"
    return values


def _told_not_saved(stack: LocalStack, user_id: str) -> bool:
    sb = stack.sandbox
    return any("were not saved" in t for t in _texts(sb.messages(sb.dm_channel(user_id)) + sb.ephemerals(user=user_id)))


def _told_recorded(stack: LocalStack, user_id: str) -> bool:
    return any("are recorded" in t for t in _texts(stack.sandbox.ephemerals(user=user_id)))


def _stored(stack: LocalStack, partnership_id: int, user_id: str) -> bool:
    wanted = respondent_hash(SANDBOX_SECRET_KEY, partnership_id, user_id)
    with stack.services.uow_factory() as uow:
        return uow.session.scalar(select(Response.id).where(Response.respondent_hash == wanted)) is not None


def _channel_count(stack: LocalStack, marker: str) -> int:
    return sum(1 for m in stack.sandbox.messages(stack.world.channel) if marker in json.dumps(m.get("blocks")))


def _recorded_members(stack: LocalStack) -> dict[str, int]:
    with stack.services.uow_factory() as uow:
        rows = uow.session.scalars(select(Member).where(Member.user_id.in_(NEW_MEMBERS), Member.in_channel)).all()
        counts: dict[str, int] = {}
        for m in rows:
            counts[m.user_id] = counts.get(m.user_id, 0) + 1
        return counts


def _start_round(stack: LocalStack, serve: ServeProcess) -> tuple[int, dict[str, Any]]:
    setup_partnership(stack)
    _set(stack, update(Partnership).values(next_pulse_at=datetime.now(UTC) - timedelta(seconds=1)))
    wait_for(lambda: _channel_count(stack, "pulse-answer") == 1, what="the heartbeat to post the pulse")
    with stack.services.uow_factory() as uow:
        partnership_id = uow.session.scalars(select(Partnership.id)).one()
    return partnership_id, latest_pulse(stack)


def test_a_database_restart_while_serving_loses_no_answer_and_no_event(
    pg_stack: LocalStack, cluster: ThrowawayCluster, tmp_path: Path
) -> None:
    stack, sb, w = pg_stack, pg_stack.sandbox, pg_stack.world
    during, after = list(w.client_members[:2] + w.provider_members[:2]), list(w.client_members[2:])
    issue_author = w.client_lead
    for user_id in NEW_MEMBERS:
        sb.add_user(user_id, w.provider_team, user_id.lower(), f"New {user_id}", tz="Europe/Berlin")
    with serving(sb, cluster.url, tmp_path, {"PARTNERPULSE_HEARTBEAT_SECONDS": "1"}) as serve:
        sb.bot_endpoint = serve.url
        partnership_id, pulse = _start_round(stack, serve)
        forms = {user_id: _open_answer_form(stack, user_id, pulse) for user_id in during}
        before = view_ids(stack)
        assert stack.actor(issue_author).slash_command("/partner", "issue", w.channel).status == 200
        issue_form = new_view(stack, issue_author, ISSUE_CALLBACK, before)

        down_at = time.monotonic()
        failed_beats = serve.output().count(BEAT_FAILED)
        cluster.stop("fast")
        acks = [stack.actor(u).submit_view(forms[u]["id"], _scores(forms[u])).status for u in during]
        joins = [sb.member_joined(w.channel, user_id).status for user_id in NEW_MEMBERS]
        logged = stack.actor(issue_author).submit_view(issue_form["id"], issue_values(stack, details=SECRET_TEXT))
        # Every person hears what happened before the database is back.
        wait_for(lambda: all(_told_not_saved(stack, u) for u in during), what="each person told 'not saved'")
        wait_for(lambda: _told_not_saved(stack, issue_author), what="the issue's author told 'not saved'")
        # The outage spans at least two heartbeats that could not reach the database.
        wait_for(lambda: serve.output().count(BEAT_FAILED) >= failed_beats + 2, what="two failed heartbeats")
        cluster.start()
        outage = time.monotonic() - down_at

        # No restart of serve: the next requests find fresh connections.
        for user_id in after:
            form = _open_answer_form(stack, user_id, pulse)
            assert stack.actor(user_id).submit_view(form["id"], _scores(form)).status == 200
        wait_for(lambda: all(_told_recorded(stack, u) for u in after), what="each person after told 'recorded'")
        assert sb.event_retries.wait_idle(sum(RETRY_DELAYS) + 30), "Slack's retries still pending"
        # Scheduled work resumes: the heartbeat closes the round and posts its results, once.
        _set(stack, update(PulseRound).values(closes_at=datetime.now(UTC) - timedelta(seconds=1)))
        wait_for(lambda: _channel_count(stack, "Pulse results") == 1, what="the heartbeat to post the results")
        stack.settle()
        log = serve.output()

    answered = during + after
    told_recorded = [u for u in answered if _told_recorded(stack, u)]
    told_not_saved = [u for u in answered if _told_not_saved(stack, u)]
    stored = [u for u in answered if _stored(stack, partnership_id, u)]
    lost = [u for u in answered if u not in stored and u not in told_not_saved]
    event_deliveries = [d for d in sb.deliveries if d.kind == "event:member_joined_channel"]
    retried = [d for d in event_deliveries if d.retry_num is not None]
    print(
        f"database outage of {outage:.1f} s: {len(answered)} answers ({len(during)} during the outage), "
        f"{len(stored)} stored, {len(told_not_saved)} told not saved, {len(lost)} lost; "
        f"{len(NEW_MEMBERS)} joins answered {joins}, {len(retried)} retries by Slack, members recorded "
        f"{_recorded_members(stack)}"
    )
    assert lost == []
    assert set(told_recorded) <= set(stored), "a person told 'recorded' is stored"
    assert set(stored) == set(after) and set(told_not_saved) == set(during)
    assert all(status == 200 for status in acks), "the form closes at once; the outcome reaches the person after"
    assert logged.status == 200
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(Issue)).all() == [], "told 'not saved', and indeed not saved"
    # 0 events lost: each join got a 5xx, was retried by Slack and recorded exactly once.
    assert all(status >= 500 for status in joins)
    assert {d.event_id for d in retried} == {d.event_id for d in event_deliveries if d.retry_num is None}
    assert _recorded_members(stack) == dict.fromkeys(NEW_MEMBERS, 1)
    # Nothing posted twice: one pulse, one set of results, and no channel message sent twice.
    posts = [
        json.dumps(c.args, sort_keys=True) for c in sb.calls_to("chat.postMessage") if c.args.get("channel") == w.channel
    ]
    assert sum("pulse-answer" in p for p in posts) == 1
    assert sum("Pulse results" in p for p in posts) == 1
    assert len(posts) == len(set(posts)), "a message was posted twice"
    assert sb.violations == []
    assert SECRET_TEXT not in log and "[parameters:" not in log, "an error log showed bound values"
