"""End to end through the sandbox: signed requests over HTTP to the real app, real database, real outbox."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from bot.services import partnerships, pulses
from bot.services.partnership_models import Side
from storage.models import Member, OutboxMessage, Partnership, PulseRound, Response
from tests.conftest import START
from tests.helpers import (
    answer_pulse,
    assert_comment_refused_in_the_form,
    demo_channel,
    latest_pulse,
    setup_partnership,
    wait_for,
)

PULSE_AT = START.replace(hour=14, minute=0)  # Monday 09:00 in New York (EST)


def _count(stack, model, *where) -> int:  # type: ignore[no-untyped-def]
    with stack.services.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_setup_records_partnership_sides_and_posts_menu(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    with stack.services.uow_factory() as uow:
        p = uow.session.scalars(select(Partnership)).one()
        assert p.is_connect and p.installing_side == "client" and p.timezone == "America/New_York"
        assert p.next_pulse_at == PULSE_AT
        sides = {m.user_id: (m.side, m.role) for m in uow.session.scalars(select(Member))}
    assert sides[w.client_lead] == ("client", "lead")
    assert sides[w.provider_lead] == ("provider", "lead")
    assert sides[w.provider_sponsor] == ("provider", "sponsor")
    # The provider member without a time zone in their external profile is still on their side.
    assert sides[w.user_without_tz][0] == "provider"
    texts = [m["text"] for m in stack.sandbox.messages(w.channel)]
    assert any("PartnerPulse set up for Northwind service desk" in t for t in texts)
    assert any("menu" in t for t in texts)
    assert stack.sandbox.calls_to("pins.add"), "the menu is pinned"
    assert stack.sandbox.violations == []


def test_full_round_answers_reminder_and_results(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    report = stack.tick(PULSE_AT)
    assert report.opened == 1 and report.delivery.sent == 1
    pulse = latest_pulse(stack)
    client = [w.client_lead, *w.client_members[:2]]
    provider = [w.provider_lead, *w.provider_members[:2]]
    for user in client:
        answer_pulse(stack, user, 2)
    for user in provider:  # external members click our buttons too
        answer_pulse(stack, user, 4)
    wait_for(lambda: _count(stack, Response) == 6, what="six responses")

    report = stack.tick(PULSE_AT + timedelta(hours=24))
    # Everyone in the channel with a side who has not answered: 12 people - 6 answered.
    assert report.reminders == 6 and report.delivery.sent == 6
    # Northwind's people (the app's own organisation) get a message from the app; Contoso's an ephemeral.
    ephemeral = {m["recipient"] for m in sb.ephemerals(w.channel) if "Reminder" in m.get("text", "")}
    direct = {u for u in w.all_users if any("Reminder" in m.get("text", "") for m in sb.messages(sb.dm_channel(u)))}
    reminded = ephemeral | direct
    assert reminded.isdisjoint(set(client + provider)) and len(reminded) == 6
    assert ephemeral == {u for u in reminded if u.startswith("U0P")} and direct == {
        u for u in reminded if u.startswith("U0C")
    }
    # A second tick does not remind again.
    assert stack.tick(PULSE_AT + timedelta(hours=30)).reminders == 0

    report = stack.tick(PULSE_AT + timedelta(hours=48))
    assert report.closed == 1
    results = [m for m in sb.messages(w.channel) if m["text"].startswith("Pulse results")]
    assert len(results) == 1
    body = json.dumps(results[0]["blocks"], ensure_ascii=False)
    # Every result names what was rated; the gap is provider − client.
    assert "client 2.0 · provider 4.0 · gap +2.0" in body
    # The pulse message was updated in place: no Answer button any more.
    updated = sb.message(w.channel, pulse["ts"])
    assert updated is not None and "pulse-answer" not in json.dumps(updated["blocks"])
    assert sb.violations == []


def test_side_below_threshold_is_withheld_with_its_comments(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    stack.tick(PULSE_AT)
    for user in [w.client_lead, *w.client_members[:2]]:
        answer_pulse(stack, user, 5)
    for user in [w.provider_lead, w.provider_members[0]]:  # only two: below the threshold of 3
        answer_pulse(stack, user, 1, {0: "secret provider complaint"})
    wait_for(lambda: _count(stack, Response) == 5, what="five responses")
    stack.tick(PULSE_AT + timedelta(hours=48))
    results = next(m for m in sb.messages(w.channel) if m["text"].startswith("Pulse results"))
    body = json.dumps(results["blocks"], ensure_ascii=False)
    assert "secret provider complaint" not in body
    assert "client 5.0 · provider withheld" in body
    assert "fewer than 3 people answered" in body


def test_comment_mention_injection_is_escaped_in_results(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    stack.tick(PULSE_AT)
    evil = "<!channel> <!here> <@U0PLEAD> <https://evil.example|Open survey> &amp;"
    for user in [w.client_lead, *w.client_members[:2]]:
        answer_pulse(stack, user, 3, {0: evil})
    wait_for(lambda: _count(stack, Response) == 3, what="three responses")
    stack.tick(PULSE_AT + timedelta(hours=48))
    results = next(m for m in sb.messages(w.channel) if m["text"].startswith("Pulse results"))
    body = json.dumps(results["blocks"])
    assert "&lt;!channel&gt;" in body and "&lt;@U0PLEAD&gt;" in body and "&lt;https://evil.example|Open survey&gt;" in body
    assert "<!channel>" not in body and "<@U0PLEAD>" not in body and "<https://evil" not in body
    assert "&amp;amp;" in body
    for call in sb.calls_to("chat.postMessage"):
        assert not call.args.get("link_names") and call.args.get("parse") != "full"


def test_answers_can_change_until_close_and_a_repeated_submission_counts_once(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    stack.tick(PULSE_AT)
    first = answer_pulse(stack, w.client_lead, 1)
    wait_for(lambda: _count(stack, Response) == 1, what="the first answers saved")
    # Slack retried the same submission (same view, same values): still one response.
    actor = stack.actor(w.client_lead)
    second = answer_pulse(stack, w.client_lead, 5)  # the modal is prefilled; the person changes their mind
    assert first["status"] == second["status"] == 200
    wait_for(lambda: _count(stack, Response) == 1, what="one response")
    view = second["view"]
    assert any("initial_option" in json.dumps(b) for b in view["blocks"]), "the modal shows the earlier answers"

    def scores() -> set[int]:
        with stack.services.uow_factory() as uow:
            return {a.score for a in uow.session.scalars(select(Response)).one().answers}

    # The second submission is saved after its ack: wait for it, then check nothing else changed.
    wait_for(lambda: scores() <= {5, 10}, what="the changed answers")
    assert _count(stack, Response) == 1
    del actor


def test_duplicate_delivery_of_one_submission_creates_one_response(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    stack.tick(PULSE_AT)
    actor = stack.actor(w.provider_members[0])
    actor.click(w.channel, latest_pulse(stack)["ts"], "pulse-answer")
    view = wait_for(
        lambda: [v for v in sb.open_views(w.provider_members[0]) if v.get("callback_id") == "pulse-answer-submit"]
    )[0]
    values = {b["block_id"]: "3" for b in view["blocks"] if b.get("block_id", "").startswith("score-")}
    # Deliver the identical payload twice, concurrently-ish, as a retrying network would.
    from bot.sandbox.block_input import build_view_state

    state = build_view_state(view, values)
    sb.set_view_state(view["id"], state)
    payload = {
        "type": "view_submission",
        "team": {"id": w.client_team, "domain": "northwind"},
        "user": {"id": w.provider_members[0], "username": "x", "name": "x", "team_id": w.provider_team},
        "api_app_id": sb.app_id,
        "token": sb.verification_token,
        "trigger_id": "1.2.3",
        "view": {**view, "state": {"values": state}},
        "response_urls": [],
        "is_enterprise_install": False,
    }
    from urllib.parse import urlencode

    from bot.sandbox.signed_requests import post_signed

    body = urlencode({"payload": json.dumps(payload)})
    for _ in range(2):
        r = post_signed(sb, body, "application/x-www-form-urlencoded", kind="view_submission", user_id=w.provider_members[0])
        assert r.status == 200
    wait_for(
        lambda: len([e for e in sb.ephemerals(w.channel) if "Thank you" in e.get("text", "")]) >= 2, what="both handled"
    )
    assert _count(stack, Response) == 1


def test_oversized_comment_is_refused_in_the_form_and_3000_round_trips(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    stack.tick(PULSE_AT)
    # Slack's client enforces max_length, but a forged or replayed request need not: the server checks too.
    assert_comment_refused_in_the_form(stack, w.client_lead, "x" * 3001)
    assert _count(stack, Response) == 0
    ok = answer_pulse(stack, w.client_lead, 3, {0: "é" * 3000})
    assert ok["status"] == 200
    wait_for(lambda: _count(stack, Response) == 1, what="the response")
    with stack.services.uow_factory() as uow:
        comments = [a.comment for a in uow.session.scalars(select(Response)).one().answers if a.comment]
    assert comments == ["é" * 3000]
    # The refusal was said once, in the form: no warning follows it (Bolt runs lazy functions even after errors).
    stack.app.listener_runner.listener_executor.submit(lambda: None).result()  # post-ack work has run
    notes = [str(m.get("text", "")) for m in stack.sandbox.ephemerals(w.channel, user=w.client_lead)]
    assert not any("3,000" in n for n in notes), notes


def test_answering_a_closed_round_says_so_and_stores_nothing(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    stack.tick(PULSE_AT)
    stack.tick(PULSE_AT + timedelta(hours=24))
    dm = sb.dm_channel(w.client_lead)
    reminder = next(m for m in sb.messages(dm) if "Reminder" in m.get("text", ""))
    stack.tick(PULSE_AT + timedelta(hours=48))
    # The reminder stays in the lead's messages after the close; its button must not accept answers any more.
    stack.actor(w.client_lead).click(dm, reminder["ts"], "pulse-answer")

    def closed_modal() -> bool:
        return any("has closed" in json.dumps(v.get("blocks")) for v in sb.open_views(w.client_lead))

    wait_for(closed_modal, what="a modal saying the round closed")
    assert _count(stack, Response) == 0


def test_round_open_then_resumed_after_pause_and_status(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    lead = stack.actor(w.client_lead)
    lead.slash_command("/partner", "pulse pause", w.channel)
    wait_for(lambda: any("paused" in str(p.body) for p in sb.response_url_posts), what="pause reply")
    assert stack.tick(PULSE_AT).opened == 0
    lead.slash_command("/partner", "pulse resume", w.channel)
    wait_for(lambda: any("back on" in str(p.body) for p in sb.response_url_posts), what="resume reply")
    lead.slash_command("/partner", "pulse now", w.channel)
    wait_for(lambda: any("Started pulse round 1" in str(p.body) for p in sb.response_url_posts), what="pulse now reply")
    assert latest_pulse(stack)
    lead.slash_command("/partner", "status", w.channel)
    wait_for(lambda: any("Open round:" in str(p.body) for p in sb.response_url_posts), what="status")
    status = partnerships.status(stack.services.uow_factory(), **demo_channel(w))
    assert status.members_by_side == {Side.CLIENT.value: 6, Side.PROVIDER.value: 6}
    assert status.open_round is not None


def test_member_joined_event_adds_member_once_even_when_retried(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    sb.add_user("U0PNEW1", w.provider_team, "lena.fischer", "Lena Fischer", tz="Europe/Berlin")
    sb.join(w.channel, "U0PNEW1")
    event = {
        "type": "member_joined_channel",
        "user": "U0PNEW1",
        "channel": w.channel,
        "channel_type": "C",
        "team": w.provider_team,
    }
    responses = [sb.event(event, event_id="Ev0001")] + [sb.event(event, event_id="Ev0001", retry_num=n) for n in (1, 2, 3)]
    assert [r.status for r in responses] == [200] * 4

    def lena() -> tuple[str | None, bool] | None:
        with stack.services.uow_factory() as uow:
            m = uow.members.get(1, "U0PNEW1")
            return (m.side, m.in_channel) if m else None

    # Recorded before the answer; the side follows from the profile, filled in just after it.
    wait_for(lambda: lena() == ("provider", True), what="the new member, on their side")
    with stack.services.uow_factory() as uow:
        from storage.models import ProcessedEvent

        assert uow.session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
    # The member left: no longer asked.
    sb.leave(w.channel, "U0PNEW1")
    sb.event({**event, "type": "member_left_channel"}, event_id="Ev0002")
    wait_for(lambda: lena() == ("provider", False), what="member left")


def test_unknown_event_type_is_acknowledged(stack) -> None:  # type: ignore[no-untyped-def]
    # Not subscribed, so Slack would not send it; an app answering 404 to anything it did not expect would
    # have its subscription disabled, so the catch-all acknowledges it.
    response = stack.sandbox.event(
        {"type": "reaction_added", "user": stack.world.client_lead, "reaction": "tada"}, force=True
    )
    assert response.status == 200


def test_results_and_pulse_outbox_rows_are_sent_once(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    stack.tick(PULSE_AT)
    stack.tick(PULSE_AT)  # the same instant again: nothing new
    stack.tick(PULSE_AT + timedelta(hours=48))
    stack.tick(PULSE_AT + timedelta(hours=49))
    with stack.services.uow_factory() as uow:
        rows = [(r.dedupe_key, r.status, r.error) for r in uow.session.scalars(select(OutboxMessage))]
        assert len(uow.session.scalars(select(PulseRound)).all()) == 1
    keys = [key for key, _, _ in rows]
    assert len(keys) == len(set(keys))
    assert all(status in ("sent", "cancelled") for _, status, _ in rows), rows
    pulses_posted = [
        m for m in stack.sandbox.messages(stack.world.channel) if "Partnership pulse" in json.dumps(m["blocks"])
    ]
    assert len(pulses_posted) == 1


def test_custom_question_joins_rotation(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    q = pulses.add_question(
        stack.services.uow_factory(),
        **demo_channel(w),
        actor=w.client_lead,
        dimension="trust",
        text_client="Contoso flags risks before we ask.",
        text_provider="We flag risks before Northwind asks.",
        now=START,
    )
    stack.tick(PULSE_AT)
    with stack.services.uow_factory() as uow:
        asked = [rq.question_id for rq in uow.session.scalars(select(PulseRound)).one().questions]
    assert q.id in asked
