"""The digest through the outbox, the Renderer and the sender, against the Slack sandbox.

Sending the digest records its chart (into the digest's thread) and one direct-message copy per subscribed lead
or sponsor of the installing workspace, in the same transaction; a copy that cannot be delivered is dropped
without pausing the partnership; a chart whose digest never went out is not uploaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import digest_requests, digest_schedule, outbox, partnership_setup
from bot.services.errors import NotAllowed, NotFound
from storage.models import Digest, Member, OutboxMessage, Partnership
from storage.uow import UnitOfWorkFactory
from tests.factories import setup_input
from tests.helpers import demo_channel
from tests.unit_support import SandboxEnv, configure_demo_partnership, demo_sandbox

#: Wednesday 2 Dec 2026, 10:00 in New York (the digest is Fridays 16:00 there, see ``setup_input``).
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
SIGNING_SECRET = "digest-delivery-signing-secret-0123456789"
BOT_TOKEN = "xox" + "b-digest_delivery_fake_token"


class Env(SandboxEnv):
    def subscribe(self, user_id: str) -> bool:
        w = self.world
        return digest_requests.set_digest_copy(
            self.uow_factory(), **demo_channel(w), user_id=user_id, subscribe=True, now=self.now
        )

    def post_now(self) -> digest_requests.DigestNow:
        w = self.world
        return digest_requests.post_now(self.uow_factory(), **demo_channel(w), actor=w.client_lead, now=self.now)

    def set_member(self, user_id: str, **values: Any) -> None:
        with self.uow_factory() as uow:
            member = uow.session.scalars(select(Member).where(Member.user_id == user_id)).one()
            for name, value in values.items():
                setattr(member, name, value)
            uow.commit()

    def rows(self, purpose: outbox.Purpose) -> list[tuple[str | None, str, str]]:
        """(user, channel, status) of the outbox rows of a purpose."""
        with self.uow_factory() as uow:
            rows = uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == purpose.value).order_by(OutboxMessage.id)
            ).all()
            return [(r.user_id, r.channel_id, r.status) for r in rows]


@pytest.fixture
def env(uow_factory: UnitOfWorkFactory) -> Iterator[Env]:
    with demo_sandbox(uow_factory, signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, now=NOW) as (sandbox, w):
        configure_demo_partnership(uow_factory, w, now=NOW, sponsors=True)
        e = Env(sandbox, w, uow_factory, now=NOW, render_at_now=True)
        e.sender.deliver_pending()  # the partnership menu
        yield e


def test_sending_the_digest_records_its_chart_and_copies_for_subscribed_leads_and_sponsors(env: Env) -> None:
    w = env.world
    assert env.subscribe(w.client_lead) and env.subscribe(w.client_sponsor)
    assert not env.subscribe(w.client_lead)  # asking twice changes nothing
    env.set_member(w.client_members[0], digest_copy=True)  # a member cannot subscribe; a stray flag sends nothing
    env.set_member(w.provider_lead, digest_copy=True)  # nor can the app message the other organisation's people
    assert env.post_now().queued
    report = env.sender.deliver_pending()
    assert report.sent == 5 and report.failed == report.retried == 0  # digest, its detail, chart, two copies
    assert env.rows(outbox.Purpose.DIGEST_COPY) == [
        (w.client_lead, w.client_lead, "sent"),
        (w.client_sponsor, w.client_sponsor, "sent"),
    ]
    with env.uow_factory() as uow:
        row = uow.session.scalars(select(Digest)).one()
        assert row.status == "sent" and row.sent_at == NOW and row.ends_at == NOW
    for user in (w.client_lead, w.client_sponsor):
        (copy,) = env.sandbox.messages(env.sandbox.dm_channel(user))
        assert copy["text"].startswith("Weekly digest for") and f"<#{w.channel}>" in str(copy["blocks"])
    (chart,) = [m for m in env.sandbox.messages(w.channel) if m.get("upload")]
    (posted,) = [m for m in env.sandbox.messages(w.channel) if str(m.get("text")).startswith("Weekly digest for")]
    assert chart["thread_ts"] == posted["ts"]
    (detail,) = [m for m in env.sandbox.messages(w.channel) if str(m.get("text")).startswith("Full detail")]
    assert detail["thread_ts"] == posted["ts"]


def test_an_undeliverable_copy_is_dropped_and_the_partnership_keeps_running(env: Env) -> None:
    w = env.world
    assert env.subscribe(w.client_sponsor)
    # A sponsor whose organisation is unknown: Slack refuses the direct message (channel_not_found).
    env.set_member(w.provider_sponsor, digest_copy=True, team_id=None)
    env.post_now()
    report = env.sender.deliver_pending()
    assert report.failed == 1 and report.errors == {"channel_not_found": 1}
    statuses = {user: status for user, _, status in env.rows(outbox.Purpose.DIGEST_COPY)}
    assert statuses == {w.client_sponsor: "sent", w.provider_sponsor: "failed"}
    with env.uow_factory() as uow:
        assert uow.session.scalars(select(Partnership)).one().status == "active"


def test_a_chart_whose_digest_was_never_posted_is_not_uploaded(env: Env) -> None:
    env.post_now()
    env.sandbox.fail_next("chat.postMessage", "internal_error")
    report = env.sender.deliver_pending()
    assert report.retried == 1 and env.rows(outbox.Purpose.DIGEST_CHART) == env.rows(outbox.Purpose.DIGEST_DETAIL) == []
    with env.uow_factory() as uow:
        digest_id = uow.session.scalars(select(Digest.id)).one()
    item = outbox.OutboxItem(
        id=0,
        dedupe_key=f"digest-chart:{digest_id}",
        workspace_id=1,
        partnership_id=1,
        purpose=outbox.Purpose.DIGEST_CHART,
        ref_id=digest_id,
        method="files.completeUploadExternal",
        channel_id=env.world.channel,
        user_id=None,
        attempts=1,
        claim_token="x",
    )
    assert env.sender.renderer.render(item) is None
    assert env.sandbox.files == {}
    # Nor is its detail posted as a reply to nothing.
    detail = replace(
        item, dedupe_key=f"digest-detail:{digest_id}", purpose=outbox.Purpose.DIGEST_DETAIL, method="chat.postMessage"
    )
    assert env.sender.renderer.render(detail) is None


def test_post_now_is_for_leads_and_once_per_week(env: Env) -> None:
    w = env.world
    with pytest.raises(NotAllowed):
        digest_requests.post_now(env.uow_factory(), **demo_channel(w), actor=w.client_sponsor, now=NOW)
    with pytest.raises(NotFound):
        digest_requests.post_now(env.uow_factory(), team_id=w.client_team, channel_id="C404", actor=w.client_lead, now=NOW)
    first = env.post_now()
    env.now = NOW + timedelta(hours=1)
    second = env.post_now()
    assert first.queued and not second.queued and second.week_start == first.week_start
    # The scheduled digest of the same week (Friday 16:00 in New York) finds it recorded and queues nothing.
    friday = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    assert digest_schedule.queue_due_digests(env.uow_factory, now=NOW) == 0  # computes the next digest time
    assert digest_schedule.queue_due_digests(env.uow_factory, now=friday) == 0
    assert len(env.rows(outbox.Purpose.DIGEST)) == 1


def test_subscribing_is_for_leads_and_sponsors_of_the_installing_workspace(env: Env) -> None:
    w = env.world
    with pytest.raises(NotAllowed, match="leads and executive sponsors"):
        env.subscribe(w.client_members[0])
    with pytest.raises(NotAllowed, match="only to people of a workspace that installed it"):
        env.subscribe(w.provider_lead)
    with pytest.raises(NotAllowed):
        env.subscribe("U0NOBODY")
    with pytest.raises(NotFound):
        digest_requests.set_digest_copy(
            env.uow_factory(), team_id=w.client_team, channel_id="C404", user_id=w.client_lead, subscribe=True, now=NOW
        )


def test_only_a_changed_digest_schedule_clears_the_next_digest_time(env: Env) -> None:
    w = env.world
    digest_schedule.queue_due_digests(env.uow_factory, now=NOW)

    def next_digest() -> datetime | None:
        with env.uow_factory() as uow:
            return uow.session.scalars(select(Partnership)).one().next_digest_at

    assert next_digest() is not None

    def save(**changes: Any) -> None:
        partnership_setup.configure_partnership(
            env.uow_factory(),
            **demo_channel(w),
            user_id=w.client_lead,
            data=setup_input(
                client_leads=(w.client_lead,),
                provider_leads=(w.provider_lead,),
                client_sponsors=(w.client_sponsor,),
                provider_sponsors=(w.provider_sponsor,),
                **changes,
            ),
            is_connect=True,
            channel_members=[],
            now=NOW,
        )

    save(name="Renamed desk")  # no schedule change: the next digest time stands
    assert next_digest() is not None
    save(digest_hour=8)
    assert next_digest() is None
    digest_schedule.queue_due_digests(env.uow_factory, now=NOW)
    assert next_digest() == datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # Friday 08:00 in New York
