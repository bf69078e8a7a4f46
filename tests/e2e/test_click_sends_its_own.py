"""A click sends only what its own request queued; everything else is the background sender's, fair across
partnerships; and a row a click queued goes once even when the background sender runs at the same moment."""

from __future__ import annotations

import contextvars
import threading
from datetime import datetime

import pytest
from sqlalchemy import select

from bot.delivery import sender as sender_module
from bot.delivery.sender import CLAIM_BATCH, DeliveryReport, OutboxSender
from bot.harness import LocalStack
from bot.services import partnership_setup, partnerships, pulse_rounds
from bot.services.outbox import OutboxItem
from storage import queued_outbox
from storage.models import OutboxMessage
from tests.factories import setup_input
from tests.helpers import demo_channel, setup_partnership, wait_for
from tests.outbox_support import pending_notice

OTHER = "C0OTHER"


def _other_partnership(stack: LocalStack) -> int:
    """Partnership B, in its own channel of the client's workspace, set up by the service (no request sends)."""
    w = stack.world
    lead, client, provider = w.client_members[3], w.client_members[1], w.client_members[2]
    stack.sandbox.add_channel(OTHER, "other", w.client_team, members=[w.bot_user, lead, client, provider])
    result = partnership_setup.configure_partnership(
        stack.services.uow_factory(),
        team_id=w.client_team,
        channel_id=OTHER,
        user_id=lead,
        data=setup_input(name="Other desk", client_leads=(lead,), client_members=(client,), provider_members=(provider,)),
        is_connect=False,
        channel_members=[stack.services.directory.profile(u) for u in (w.bot_user, lead, client, provider)],
        now=stack.clock(),
    )
    return result.partnership.id


def _queue(stack: LocalStack, partnership_id: int, channel_id: str, texts: list[str], at: datetime) -> None:
    """Notices of one partnership recorded straight into the outbox, in order."""
    with stack.services.uow_factory() as uow:
        workspace_id = uow.partnerships.get(partnership_id).workspace_id  # type: ignore[union-attr]
        for text in texts:
            uow.session.add(pending_notice(workspace_id, partnership_id, channel_id, text, at))
        uow.commit()


def _statuses(stack: LocalStack, partnership_id: int) -> dict[str, int]:
    with stack.services.uow_factory() as uow:
        rows = uow.session.scalars(select(OutboxMessage.status).where(OutboxMessage.partnership_id == partnership_id))
        counts: dict[str, int] = {}
        for status in rows:
            counts[status] = counts.get(status, 0) + 1
        return counts


def test_a_click_sends_what_it_queued_and_leaves_another_partnerships_round(stack: LocalStack) -> None:
    w = stack.world
    b = _other_partnership(stack)
    # B's round opens and 30 more of its messages wait; nobody runs the background sender.
    pulse_rounds.start_round_now(
        stack.services.uow_factory(), team_id=w.client_team, channel_id=OTHER, actor=w.client_members[3], now=stack.clock()
    )
    _queue(stack, b, OTHER, [f"B notice {i}" for i in range(30)], stack.clock())
    b_before = _statuses(stack, b)
    assert b_before.get("pending", 0) >= 31 and set(b_before) == {"pending"}

    # In A, the lead saves the setup form and then asks for the menu: each request posts what it queued.
    setup_partnership(stack)
    before = len(stack.sandbox.messages(w.channel))
    response = stack.actor(w.client_lead).slash_command("/partner", "menu", w.channel)
    assert response.status == 200
    wait_for(lambda: len(stack.sandbox.messages(w.channel)) == before + 1, what="A's menu")
    stack.settle()

    assert stack.sandbox.messages(OTHER) == [], "A's clicks must not post B's messages"
    assert _statuses(stack, b) == b_before, "B's rows are still all pending, for the background sender"
    # The background sender then sends B's: its round and its 30 notices, in the order queued.
    stack.tick(stack.clock())
    texts = [str(m.get("text")) for m in stack.sandbox.messages(OTHER)]
    notices = [t for t in texts if t.startswith("B notice")]
    assert notices == [f"B notice {i}" for i in range(30)]
    assert _statuses(stack, b).get("pending", 0) == 0


def test_the_background_sender_takes_every_partnership_into_its_first_batch(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A's 500-row round queued before B's one message: B's is in the first batch (fair turns), not behind A's."""
    setup_partnership(stack)
    w = stack.world
    a = partnerships.get_partnership(stack.services.uow_factory(), **demo_channel(w))
    assert a is not None
    b = _other_partnership(stack)
    stack.tick(stack.clock())  # what setting up queued is sent; the outbox is empty
    _queue(stack, a.id, w.channel, [f"A {i}" for i in range(CLAIM_BATCH)], stack.clock())
    _queue(stack, b, OTHER, ["B's one message"], stack.clock())

    batches: list[list[OutboxItem]] = []

    def record_batch(self: OutboxSender, items: list[OutboxItem]) -> DeliveryReport:
        batches.append(items)  # claimed, not sent: enough to see what the first batch holds
        return DeliveryReport()

    monkeypatch.setattr(sender_module.OutboxSender, "_send_batch", record_batch)
    stack.services.sender.deliver_pending()
    first = batches[0]
    assert len(first) == CLAIM_BATCH
    assert [i.extra["text"] for i in first if i.partnership_id == b and i.extra] == ["B's one message"]
    # A's share is the first 499 of its rows, in the order queued: its channel's order is kept.
    a_texts = [i.extra["text"] for i in first if i.partnership_id == a.id and i.extra]
    assert a_texts == [f"A {i}" for i in range(CLAIM_BATCH - 1)]


def _heartbeat(start: threading.Barrier, background: OutboxSender) -> None:
    start.wait()
    background.deliver_pending()


def test_a_row_a_click_queued_goes_once_while_the_background_sender_runs(stack: LocalStack) -> None:
    """The click's sender and a heartbeat reach for the same rows at the same moment: each row is sent once."""
    setup_partnership(stack)
    w = stack.world
    services = stack.services
    background = OutboxSender(
        uow_factory=services.uow_factory, clients=services.clients, renderer=services.sender.renderer, clock=stack.clock
    )
    for attempt in range(5):
        start = threading.Barrier(2)
        with queued_outbox.collecting():
            partnerships.request_menu(
                services.uow_factory(),
                **demo_channel(w),
                request_key=f"race-{attempt}",
                now=stack.clock(),
            )
            context = contextvars.copy_context()

            thread = threading.Thread(target=_heartbeat, args=(start, background))
            thread.start()
            start.wait()
            context.run(services.sender.deliver_queued)
            thread.join()
        with services.uow_factory() as uow:
            rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"%race-{attempt}%"))).all()
            assert [(r.status, r.attempts) for r in rows] == [("sent", 1)], "claimed once, sent once"
        # Each message names its outbox row in its metadata: Slack received this one once.
        assert sum(f"race-{attempt}" in str(m.get("metadata")) for m in stack.sandbox.messages(w.channel)) == 1
