"""Outbox leases: a sender never sends a row another sender took over, and keeps its lease through a long batch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery.renderer import Renderer
from bot.delivery.sender import OutboxSender
from bot.harness import LocalStack
from bot.services import outbox_sending
from bot.services.outbox import OutboxItem
from storage.models import OutboxMessage
from tests.conftest import START
from tests.outbox_support import posted, queue_notices


def test_a_row_reclaimed_by_another_sender_is_not_sent_by_the_first(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["lease one", "lease two", "lease three"]
    queue_notices(stack, texts)
    sender = stack.services.sender
    real_render = sender.renderer.render
    reclaimed: list[OutboxItem] = []

    def render_then_lose_the_lease(item: OutboxItem):  # type: ignore[no-untyped-def]
        if not reclaimed:
            # Sender A stalled past its lease (a long paced batch, a stopped VM): sender B claims the rows.
            later = START + outbox_sending.LEASE + timedelta(seconds=1)
            reclaimed.extend(outbox_sending.claim(stack.services.uow_factory(), now=later, limit=10))
        return real_render(item)

    monkeypatch.setattr(sender.renderer, "render", render_then_lose_the_lease)
    report = sender.deliver_pending()
    assert len(reclaimed) == 3
    assert report.sent == 0 and report.taken_over == 3
    assert [posted(stack, t) for t in texts] == [0, 0, 0], "A must not send what B now holds"
    with stack.services.uow_factory() as uow:
        rows = uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert {(r.status, r.claim_token) for r in rows} == {("sending", reclaimed[0].claim_token)}


def test_a_long_batch_keeps_its_lease_so_no_other_sender_doubles_it(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["long one", "long two", "long three"]
    queue_notices(stack, texts)
    services = stack.services
    # Sender A renews its batch's lease before every call (as it does every RENEW_EVERY seconds in production).
    a = OutboxSender(
        uow_factory=services.uow_factory,
        clients=services.clients,
        renderer=Renderer(services.uow_factory, services.secret_key, clock=stack.clock),
        clock=stack.clock,
        renew_every=0.0,
    )
    # Sender B: another heartbeat, or a click calling deliver_pending, whose clock is past A's first lease.
    b_now = START + outbox_sending.LEASE + timedelta(seconds=1)
    b = OutboxSender(
        uow_factory=services.uow_factory,
        clients=services.clients,
        renderer=Renderer(services.uow_factory, services.secret_key, clock=lambda: b_now),
        clock=lambda: b_now,
    )
    real_render = a.renderer.render
    b_reports = []

    def slow_batch(item: OutboxItem):  # type: ignore[no-untyped-def]
        if item.extra and item.extra["text"] == "long two":
            stack.clock.set(START + outbox_sending.LEASE - timedelta(seconds=5))  # the batch has been slow
        if item.extra and item.extra["text"] == "long three":
            b_reports.append(b.deliver_pending())
        return real_render(item)

    monkeypatch.setattr(a.renderer, "render", slow_batch)
    report = a.deliver_pending()
    assert report.sent == 3
    assert b_reports and b_reports[0].sent == 0, "B found nothing to claim: A's lease was renewed"
    assert [posted(stack, t) for t in texts] == [1, 1, 1]
