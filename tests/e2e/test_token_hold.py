"""A rejected token holds the workspace's sending, is checked again with backoff, and sending resumes by itself;
meanwhile a person who asks for a message is told it waits, and why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.container import build_services
from bot.harness import LocalStack
from bot.services import installs, outbox_hold
from storage.models import Workspace
from storage.uow import UnitOfWorkFactory
from tests.conftest import START
from tests.helpers import menus_posted, reply_texts, setup_partnership, wait_for

WAITING = "PartnerPulse cannot post to Slack right now (the token was rejected)"


def _pulses(stack: LocalStack) -> int:
    return sum("pulse-answer" in str(m.get("blocks")) for m in stack.sandbox.messages(stack.world.channel))


@pytest.mark.fault
@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "account_inactive"])
def test_a_passing_token_error_holds_sending_tells_people_and_resumes_by_itself(stack: LocalStack, error: str) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    lead = stack.actor(w.client_lead)
    menus_before = menus_posted(stack)
    sb.revoke_token(error)

    lead.slash_command("/partner", "pulse now", w.channel)
    wait_for(lambda: any(WAITING in r for r in reply_texts(stack)), what="the pulse-now reply saying it waits")
    lead.slash_command("/partner", "menu", w.channel)
    wait_for(lambda: sum(WAITING in r for r in reply_texts(stack)) == 2, what="the menu reply saying it waits")
    replies = reply_texts(stack)
    assert not any("Started pulse round" in r or "Posted the partnership menu" in r for r in replies), replies
    assert any("your round is saved" in r and "Pulse round 1 is open until" in r for r in replies)
    assert any("the menu is saved" in r for r in replies)
    assert _pulses(stack) == 0

    # Re-checked with backoff: the first re-check is due 30 s after the hold, the next one a minute after that.
    calls = len(sb.calls)
    stack.tick(START + timedelta(seconds=10))
    assert sb.calls_to("auth.test")[calls:] == [] and len(sb.calls) == calls, "before the first re-check: nothing"
    stack.tick(START + timedelta(seconds=40))
    assert [c.method for c in sb.calls[calls:]] == ["auth.test"], "one re-check, and nothing sent"
    calls = len(sb.calls)
    stack.tick(START + timedelta(seconds=90))
    assert len(sb.calls) == calls, "the next re-check waits a minute"

    # The token works again: the next due re-check resumes sending, and what waited arrives once.
    sb.restore_token()
    report = stack.tick(START + timedelta(seconds=100))
    assert report.delivery.sent >= 2
    assert _pulses(stack) == 1 and menus_posted(stack) == menus_before + 1
    assert outbox_hold.sending_held(stack.services.uow_factory(), team_id=w.client_team) is None
    stack.tick(START + timedelta(minutes=5))
    assert _pulses(stack) == 1 and menus_posted(stack) == menus_before + 1, "nothing posted twice"

    # Sending again: the confirmation is the usual one.
    lead.slash_command("/partner", "menu", w.channel)
    wait_for(lambda: any("Posted the partnership menu" in r for r in reply_texts(stack)), what="the usual reply")


def test_token_rechecks_back_off_and_cap(uow_factory: UnitOfWorkFactory) -> None:
    ws_id = installs.workspace_installed(uow_factory(), team_id="T1", name="t", bot_user_id="U0BOT", now=START).workspace_id
    assert outbox_hold.sending_held(uow_factory(), team_id="T1") is None
    assert outbox_hold.hold_sending(uow_factory(), workspace_id=ws_id, error="invalid_auth", now=START)
    assert not outbox_hold.hold_sending(uow_factory(), workspace_id=ws_id, error="invalid_auth", now=START)
    held = outbox_hold.sending_held(uow_factory(), team_id="T1")
    assert held is not None and held.reason == "Slack answered invalid_auth"

    now, waits = START, []
    assert outbox_hold.claim_rechecks(uow_factory(), now=now + timedelta(seconds=29)) == []
    for _ in range(7):
        with uow_factory() as uow:
            due = uow.session.scalars(select(Workspace.auth_recheck_at)).one()
        assert due is not None
        waits.append(int((due - now).total_seconds()))
        now = due
        (check,) = outbox_hold.claim_rechecks(uow_factory(), now=now)
        assert outbox_hold.claim_rechecks(uow_factory(), now=now) == [], "claimed: another sender does not check too"
        outbox_hold.token_still_rejected(uow_factory(), workspace_id=check.workspace_id, error="invalid_auth", now=now)
    assert waits == [30, 60, 120, 300, 600, 600, 600]
    outbox_hold.token_accepted(uow_factory(), workspace_id=ws_id)
    assert outbox_hold.sending_held(uow_factory(), team_id="T1") is None


#: When each re-check falls due after a hold at START, in seconds, worked out from RECHECK_BACKOFF (30 s, 1, 2, 5,
#: then 10 minutes): 30, 30+60, 90+120, 210+300, then 600 more for each of the other eight. The 12th is at 88.5 min.
RECHECKS_AT = (30, 90, 210, 510, 1110, 1710, 2310, 2910, 3510, 4110, 4710, 5310)


@pytest.mark.fault
def test_rechecks_stop_after_the_limit_and_a_start_whose_token_works_resumes_sending(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    menus_before = menus_posted(stack)
    sb.revoke_token("invalid_auth")
    stack.actor(w.client_lead).slash_command("/partner", "menu", w.channel)
    wait_for(lambda: any(WAITING in r for r in reply_texts(stack)), what="the menu reply saying it waits")
    stack.settle()
    assert len(RECHECKS_AT) == outbox_hold.RECHECK_LIMIT

    started = len(sb.calls_to("auth.test"))  # the start's own check
    for number, seconds in enumerate(RECHECKS_AT, start=1):
        stack.tick(START + timedelta(seconds=seconds - 1))
        assert len(sb.calls_to("auth.test")) - started == number - 1, f"re-check {number} is not due a second before"
        stack.tick(START + timedelta(seconds=seconds))
        assert len(sb.calls_to("auth.test")) - started == number, f"re-check {number} at {seconds} s"

    # The 12th failed: the operator is told once what to do, and nothing asks Slack again, however long it waits.
    (line,) = [r.getMessage() for r in caplog.records if r.name == outbox_hold.logger.name and "reinstall" in r.getMessage()]
    assert line == (
        f"workspace {w.client_team} needs reinstalling (Slack answered invalid_auth to 12 token re-checks; re-checks "
        f"stopped): {outbox_hold.REINSTALL_ADVICE}"
    )
    calls = len(sb.calls)
    for later in (timedelta(hours=2), timedelta(days=1), timedelta(days=8)):
        stack.tick(START + later)
    assert len(sb.calls) == calls, [c.method for c in sb.calls[calls:]]
    held = outbox_hold.sending_held(stack.services.uow_factory(), team_id=w.client_team)
    assert held is not None and held.needs_reinstall and held.next_check_at is None
    assert menus_posted(stack) == menus_before, "the menu waits in the outbox"
    # A lead who asks for the menu now is told it waits for a reinstall, not for a check that will not come.
    stack.actor(w.client_lead).slash_command("/partner", "menu", w.channel)
    wait_for(
        lambda: any("will be posted once PartnerPulse is reinstalled" in r for r in reply_texts(stack)),
        what="the reply saying the menu waits for a reinstall",
    )
    stack.settle()

    # The operator fixed the token and restarted: the start's auth.test passes and sending resumes.
    sb.restore_token()
    restarted = build_services(stack.settings, client=stack.services.client, clock=lambda: START + timedelta(days=8))
    restarted.engine.dispose()
    assert outbox_hold.sending_held(stack.services.uow_factory(), team_id=w.client_team) is None
    stack.tick(START + timedelta(days=8, seconds=1))
    assert menus_posted(stack) == menus_before + 2, "what waited (two menus) is posted once"


def test_a_recheck_that_cannot_reach_slack_waits_the_longest_step_and_does_not_count(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ws_id = installs.workspace_installed(uow_factory(), team_id="T1", name="t", bot_user_id="U0BOT", now=START).workspace_id
    outbox_hold.hold_sending(uow_factory(), workspace_id=ws_id, error="invalid_auth", now=START)
    now = START
    for _ in range(outbox_hold.RECHECK_LIMIT + 3):  # Slack unreachable for longer than the limit: still checked
        now += timedelta(minutes=10)
        (check,) = outbox_hold.claim_rechecks(uow_factory(), now=now)
        assert not outbox_hold.token_still_rejected(uow_factory(), workspace_id=check.workspace_id, error=None, now=now)
    with uow_factory() as uow:
        ws = uow.workspaces.get(ws_id)
        assert ws is not None
        assert (ws.auth_failures, ws.auth_recheck_at, ws.disabled_reason) == (
            0,
            now + timedelta(minutes=10),
            "Slack answered invalid_auth",
        )
    # Then Slack answers: eleven token errors back off, the twelfth stops the checks.
    for number in range(1, outbox_hold.RECHECK_LIMIT + 1):
        now += timedelta(minutes=10)
        (check,) = outbox_hold.claim_rechecks(uow_factory(), now=now)
        gave_up = outbox_hold.token_still_rejected(uow_factory(), workspace_id=ws_id, error="account_inactive", now=now)
        assert gave_up is (number == outbox_hold.RECHECK_LIMIT)
    assert outbox_hold.claim_rechecks(uow_factory(), now=now + timedelta(days=365)) == []
    held = outbox_hold.sending_held(uow_factory(), team_id="T1")
    assert held is not None and held.needs_reinstall
    assert held.reason == "needs reinstalling: Slack answered account_inactive to 12 token re-checks"


def test_a_long_token_error_is_kept_cut_to_the_reason_column(uow_factory: UnitOfWorkFactory) -> None:
    error = "x" * 250
    ws_id = installs.workspace_installed(uow_factory(), team_id="T1", name="t", bot_user_id="U0BOT", now=START).workspace_id
    outbox_hold.hold_sending(uow_factory(), workspace_id=ws_id, error=error, now=START)
    held = outbox_hold.sending_held(uow_factory(), team_id="T1")
    assert held is not None and held.reason == "Slack answered " + "x" * 185
    now = START + timedelta(minutes=1)
    (check,) = outbox_hold.claim_rechecks(uow_factory(), now=now)
    outbox_hold.token_still_rejected(uow_factory(), workspace_id=check.workspace_id, error="y" * 250, now=now)
    held = outbox_hold.sending_held(uow_factory(), team_id="T1")
    assert held is not None and held.reason == "Slack answered " + "y" * 185
