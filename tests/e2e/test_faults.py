"""Bad input and faults: each gives the user a clear answer and loses or doubles no data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.services import outbox_sending
from storage.models import OutboxMessage, Partnership, PulseRound, Workspace
from tests.conftest import START
from tests.helpers import open_view, setup_partnership, wait_for
from tests.serve_process import sandbox_env, start_serve, wait_listening

PULSE_AT = START.replace(hour=14, minute=0)


def _replies(stack) -> list[str]:  # type: ignore[no-untyped-def]
    return [json.dumps(p.body) for p in stack.sandbox.response_url_posts]


def _rounds(stack) -> int:  # type: ignore[no-untyped-def]
    with stack.services.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(PulseRound)) or 0)


def test_forged_signature_and_stale_timestamp_are_rejected_without_side_effects(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    sb.clear_calls()
    lead = stack.actor(w.client_lead)
    forged = lead.slash_command("/partner", "pulse now", w.channel, signature="v0=" + "0" * 64)
    stale = lead.slash_command("/partner", "pulse now", w.channel, timestamp=int(time.time()) - 360)
    future = lead.slash_command("/partner", "pulse now", w.channel, timestamp=int(time.time()) + 360)
    garbage = lead.slash_command("/partner", "pulse now", w.channel, timestamp="abc")
    assert forged.status == stale.status == future.status == 401
    assert garbage.status >= 400
    stack.settle()
    assert sb.calls == [] and _rounds(stack) == 0 and sb.response_url_posts == []
    # A correctly signed request just inside the window still works.
    ok = lead.slash_command("/partner", "pulse now", w.channel, timestamp=int(time.time()) - 290)
    assert ok.status == 200
    wait_for(lambda: _rounds(stack) == 1, what="the round")


def test_unknown_and_malformed_commands_get_usage_and_change_nothing(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    lead = stack.actor(w.client_lead)
    r = lead.slash_command("/partner", "<!channel> frobnicate", w.channel)
    assert r.status == 200 and "I don't know" in r.body and "<!channel>" not in r.body and "&lt;!channel&gt;" in r.body
    r = lead.slash_command("/partner", "pulse", w.channel)
    assert "Usage" in r.body and "pulse now" in r.body
    r = lead.slash_command("/partner", "side dana client", w.channel)
    assert "Usage" in r.body
    r = lead.slash_command("/partner", "x" * 5000, w.channel)
    assert r.status == 200 and "I don't know" in r.body
    assert _rounds(stack) == 0


def test_non_lead_cannot_change_configuration(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    member = stack.actor(w.client_members[0])
    member.slash_command("/partner", "pulse now", w.channel)
    member.slash_command("/partner", "pulse pause", w.channel)
    member.slash_command("/partner", f"side <@{w.client_lead}> provider", w.channel)
    wait_for(lambda: sum("Only the partnership" in r for r in _replies(stack)) == 3, what="three refusals")
    member.slash_command("/partner", "setup", w.channel)

    def refused_modal() -> bool:
        return any("Only the partnership" in json.dumps(v.get("blocks")) for v in sb.open_views(w.client_members[0]))

    wait_for(refused_modal, what="a modal refusing setup")
    with stack.services.uow_factory() as uow:
        p = uow.session.scalars(select(Partnership)).one()
        assert p.status == "active"
        assert uow.members.get(p.id, w.client_lead).side == "client"  # type: ignore[union-attr]
    assert _rounds(stack) == 0
    # An external member (who cannot run the command) clicking the lead-only menu button is refused too.
    menu = next(m for m in sb.messages(w.channel) if "menu-pulse-now" in json.dumps(m.get("blocks")))
    stack.actor(w.provider_members[0]).click(w.channel, menu["ts"], "menu-pulse-now")
    wait_for(lambda: sum("Only the partnership" in r for r in _replies(stack)) == 4, what="a refusal for the button")
    assert _rounds(stack) == 0


def test_setup_form_errors_show_in_the_form(stack) -> None:  # type: ignore[no-untyped-def]
    w = stack.world
    lead = stack.actor(w.client_lead)
    lead.slash_command("/partner", "setup", w.channel)
    view = open_view(stack, w.client_lead, "setup-submit")
    bad = lead.submit_view(view["id"], {"name": "NW", "client_org": "A", "provider_org": "B", "timezone": "Mars/Olympus"})
    assert bad.json and bad.json["response_action"] == "errors" and "timezone" in bad.json["errors"]
    bad = lead.submit_view(
        view["id"],
        {"name": "NW", "client_org": "A", "provider_org": "B", "timezone": "UTC", "client_leads": [w.client_members[0]]},
    )
    assert bad.json and "client_leads" in bad.json["errors"] and "yourself" in bad.json["errors"]["client_leads"]
    with stack.services.uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Partnership)) == 0


def test_ratelimited_then_success_sends_the_message_once(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    sb.ratelimit_next("chat.postMessage", retry_after=1, times=1)
    started = time.monotonic()
    report = stack.tick(PULSE_AT)
    assert report.delivery.sent == 1
    assert time.monotonic() - started >= 1.0, "the client waited for Retry-After"
    assert sb.ratelimited_count == 1
    pulses = [m for m in sb.messages(w.channel) if "pulse-answer" in json.dumps(m.get("blocks"))]
    assert len(pulses) == 1


def test_archived_channel_pauses_only_its_partnership(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    # A second partnership in the single-workspace channel, created through the service layer.
    with stack.services.uow_factory() as uow:
        joint = uow.session.scalars(select(Partnership)).one()
        joint_id = joint.id
    from tests.unit_support import second_partnership

    second_partnership(stack, channel_id=w.internal_channel)
    sb.archive_channel(w.channel)
    report = stack.tick(PULSE_AT)
    assert report.opened == 2
    assert report.delivery.errors.get("is_archived") == 1
    with stack.services.uow_factory() as uow:
        statuses = {p.channel_id: (p.status, p.pause_reason) for p in uow.session.scalars(select(Partnership))}
        pending = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.partnership_id == joint_id)).all()
        assert [r.status for r in pending if r.purpose == "pulse"] == ["pending"], "kept, not lost"
    assert statuses[w.channel] == ("paused", "Slack answered is_archived")
    assert statuses[w.internal_channel][0] == "active"
    assert any("pulse-answer" in json.dumps(m.get("blocks")) for m in sb.messages(w.internal_channel))
    # The heartbeat keeps beating and does not hammer the archived channel.
    calls = len(sb.calls_to("chat.postMessage"))
    stack.tick(PULSE_AT + timedelta(minutes=1))
    assert len(sb.calls_to("chat.postMessage")) == calls


def test_revoked_token_holds_sending_for_the_workspace_and_keeps_messages(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    sb = stack.sandbox
    sb.revoke_token()
    report = stack.tick(PULSE_AT)
    assert report.failures == [] and report.delivery.errors.get("invalid_auth") == 1
    with stack.services.uow_factory() as uow:
        ws = uow.session.scalars(select(Workspace)).one()
        assert not ws.sending_enabled and ws.disabled_reason == "Slack answered invalid_auth"
        assert [r.status for r in uow.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "pulse"))] == [
            "pending"
        ]
    calls = len(sb.calls)
    stack.tick(PULSE_AT + timedelta(minutes=1))
    assert [c.method for c in sb.calls[calls:]] == ["auth.test"], "the token is re-checked; nothing else is tried"
    # The token works again: the next due re-check resumes sending by itself, and the pulse goes out once.
    sb.restore_token()
    assert stack.tick(PULSE_AT + timedelta(minutes=2)).delivery.sent == 1


def test_process_killed_mid_send_is_resent_after_the_lease_not_lost(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    from bot.services import pulse_rounds

    pulse_rounds.open_due_rounds(stack.services.uow_factory, now=PULSE_AT)
    # A sender claims the row and dies before sending or recording anything.
    claimed = outbox_sending.claim(stack.services.uow_factory(), now=PULSE_AT, limit=10)
    assert [c.purpose.value for c in claimed] == ["pulse"]
    assert stack.tick(PULSE_AT + timedelta(minutes=1)).delivery.sent == 0, "still leased"
    assert stack.tick(PULSE_AT + timedelta(minutes=6)).delivery.sent == 1
    pulses_posted = [m for m in stack.sandbox.messages(stack.world.channel) if "pulse-answer" in json.dumps(m.get("blocks"))]
    assert len(pulses_posted) == 1
    # The dead sender's late outcome must not overwrite the new one.
    assert outbox_sending.mark_failed(stack.services.uow_factory(), claimed[0], error="late") is False


def test_expired_trigger_tells_the_user_to_try_again(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    stack.tick(PULSE_AT)
    pulse = next(m for m in sb.messages(w.channel) if "pulse-answer" in json.dumps(m.get("blocks")))
    sb.trigger_ttl = 0.0
    stack.actor(w.client_members[0]).click(w.channel, pulse["ts"], "pulse-answer")
    wait_for(lambda: any("took too long" in r for r in _replies(stack)), what="a try-again message")


def test_serve_subprocess_over_real_http(empty_database_url: str, tmp_path: Path) -> None:
    """``serve`` migrates an empty database at start, then answers over real HTTP."""
    from bot.harness import SANDBOX_BOT_TOKEN, SANDBOX_SIGNING_SECRET
    from bot.sandbox import SlackSandbox, build_demo_world

    sb = SlackSandbox(signing_secret=SANDBOX_SIGNING_SECRET, bot_token=SANDBOX_BOT_TOKEN).start()
    world = build_demo_world(sb)
    proc = start_serve(sandbox_env(sb, empty_database_url), tmp_path, "--no-heartbeat")
    try:
        url = wait_listening(proc, 30)
        sb.bot_endpoint = url
        health = json.loads(urllib.request.urlopen(url.replace("/slack/events", "/healthz"), timeout=5).read())
        assert health == {"ok": True}
        lead = sb.actor(world.client_lead)
        help_reply = lead.slash_command("/partner", "help", world.channel)
        assert help_reply.status == 200 and "/partner setup" in help_reply.body
        assert lead.slash_command("/partner", "help", world.channel, signature="v0=bad").status == 401
        lead.slash_command("/partner", "setup", world.channel)
        wait_for(lambda: any(v.get("callback_id") == "setup-submit" for v in sb.open_views(world.client_lead)))
        assert sb.violations == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        sb.stop()
    assert proc.returncode == 0


def test_missing_setting_stops_with_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERPULSE_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0]


def test_closing_the_loading_modal_early_is_not_an_error(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    stack.tick(PULSE_AT)
    pulse = next(m for m in sb.messages(w.channel) if "pulse-answer" in json.dumps(m.get("blocks")))
    sb.fail_next("views.update", error="not_found")  # the person closed the loading modal in the meantime
    stack.actor(w.client_members[0]).click(w.channel, pulse["ts"], "pulse-answer")
    wait_for(lambda: sb.calls_to("views.update"), what="the attempted update")
    stack.settle()
    assert not any("went wrong" in r for r in _replies(stack)), "no error shown for a modal the person closed"


def test_a_rendering_failure_is_retried_not_dropped(stack, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    renderer = stack.services.sender.renderer
    real_render = renderer.render
    calls = {"n": 0}

    def flaky(item):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real_render(item)

    monkeypatch.setattr(renderer, "render", flaky)
    first = stack.tick(PULSE_AT)
    assert first.delivery.sent == 0 and first.delivery.retried == 1
    later = stack.tick(PULSE_AT + timedelta(minutes=1))  # after the 30 s backoff
    assert later.delivery.sent == 1
    pulses_posted = [m for m in stack.sandbox.messages(stack.world.channel) if "pulse-answer" in json.dumps(m.get("blocks"))]
    assert len(pulses_posted) == 1
