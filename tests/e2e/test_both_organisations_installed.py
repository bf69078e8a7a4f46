"""Issue 15's story in the sandbox: both organisations install PartnerPulse through the real OAuth routes; each side's
lead runs ``/partner`` from their own workspace; an escalation nudge and a digest copy reach a person of each
organisation through that organisation's own installation; a rotating token is refreshed during scheduled work; an
uninstall pauses that side cleanly (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.harness import SANDBOX_SECRET_KEY, LocalStack
from bot.services import partnerships
from bot.workers import WorkerPool, use_worker_pool
from storage.models import Partnership
from tests.conftest import START
from tests.helpers import (
    ISSUE_CALLBACK,
    card,
    issue_values,
    log_issue,
    new_view,
    partner_command,
    reply_texts,
    setup_partnership,
    view_ids,
    wait_for,
)
from tests.oauth_support import Later, install_both, start_oauth_stack


@pytest.fixture
def later() -> Later:
    return Later()


@pytest.fixture
def both(database_url: str, later: Later) -> Iterator[LocalStack]:
    """The bot as a distributed app with rotating tokens, both organisations installed by their leads."""
    with closing(start_oauth_stack(database_url, later)) as stack:
        install_both(stack)
        yield stack


def _at(days: int, hour: int, minute: int = 0) -> datetime:
    """``days`` after Monday 30 Nov 2026, at ``hour``:``minute`` UTC (New York is 5 hours behind)."""
    return START.replace(hour=hour, minute=minute) + timedelta(days=days)


def _calls_to(stack: LocalStack, channel: str, method: str = "chat.postMessage") -> list[Any]:
    return [c for c in stack.sandbox.calls if c.method == method and c.args.get("channel") == channel and c.ok]


def test_both_leads_use_partner_from_their_own_workspace_on_one_partnership(both: LocalStack) -> None:
    w, sb = both.world, both.sandbox
    setup_partnership(both)
    for lead, team in ((w.client_lead, w.client_team), (w.provider_lead, w.provider_team)):
        before = len(reply_texts(both))
        response = partner_command(both, lead, "status")
        assert response.status == 200
        status = wait_for(lambda before=before: reply_texts(both)[before:], what=f"{lead}'s status")
        assert "Northwind service desk" in " ".join(status), status
        # The command came from the lead's own workspace (Slack offers /partner only where the app is installed).
        assert sb.home_team(lead) == team
    # One partnership, whichever workspace asked.
    with both.services.uow_factory() as uow:
        assert uow.partnerships.count_by(Partnership.channel_id) == {w.channel: 1}
    # The provider's lead opens the Home tab in their own workspace: it lists the partnership, published by their app.
    assert sb.home_opened(w.provider_lead).status == 200
    home = wait_for(lambda: sb.home_view(w.provider_lead), what="the provider lead's Home tab")
    assert "Northwind service desk" in json.dumps(home)
    [publish] = [c for c in sb.calls if c.method == "views.publish" and c.args.get("user_id") == w.provider_lead]
    assert publish.team_id == w.provider_team
    ids = {
        team: partnerships.get_partnership(both.services.uow_factory(), team_id=team, channel_id=w.channel)
        for team in (w.client_team, w.provider_team)
    }
    assert ids[w.client_team] is not None and ids[w.provider_team] is not None
    assert ids[w.client_team].id == ids[w.provider_team].id
    assert sb.violations == []


def test_a_nudge_and_a_digest_copy_reach_each_organisation_through_its_own_installation(both: LocalStack) -> None:
    w, sb = both.world, both.sandbox
    setup_partnership(both)
    client_owner, provider_owner = w.client_members[1], w.provider_members[0]
    log_issue(both, w.client_members[0], "Invoices late", severity="S1", owning_side="client", owner_id=client_owner)
    log_issue(both, w.client_members[0], "Tickets reopened", severity="S1", owner_id=provider_owner)
    # S1: acknowledge within 1 working hour. Logged before 09:00 New York, so level 1 is due at 10:00 (15:00 UTC).
    assert both.tick(_at(0, 15, 0)).escalations == 2
    for owner, team in ((client_owner, w.client_team), (provider_owner, w.provider_team)):
        dm = sb.dm_channel(owner)
        nudges = wait_for(
            lambda dm=dm: [m for m in sb.messages(dm) if "is waiting for you" in m.get("text", "")], what="the nudge"
        )
        assert len(nudges) == 1 and not nudges[0].get("is_ephemeral")
        [call] = [c for c in _calls_to(both, owner) if "is waiting for you" in json.dumps(c.args)]
        assert call.team_id == team  # sent with the owner's own organisation's bot token
    assert sb.ephemerals(w.channel, user=provider_owner) == []  # no longer an ephemeral for the other side

    for lead in (w.client_lead, w.provider_lead):
        partner_command(both, lead, "digest subscribe")
    wait_for(lambda: sum("You will get a copy" in t for t in reply_texts(both)) == 2, what="both subscriptions")
    partner_command(both, w.client_lead, "digest now")
    for lead, team in ((w.client_lead, w.client_team), (w.provider_lead, w.provider_team)):
        copies = wait_for(lambda lead=lead: _calls_to(both, lead), what=f"{lead}'s copy")
        assert [c.team_id for c in copies] == [team]
        assert "Your copy of the digest" in json.dumps(copies[0].args)
    assert sb.violations == []


def test_a_token_about_to_expire_is_refreshed_once_by_scheduled_work_before_it_posts(both: LocalStack, later: Later) -> None:
    w, sb = both.world, both.sandbox
    setup_partnership(both)
    refreshed_before = sb.refreshes
    posts_before = len(_calls_to(both, w.channel))
    # Ten and a half hours later, the client's token (12 hours) expires within PartnerPulse's 2-hour window.
    later.advance(timedelta(hours=10, minutes=30))
    both.tick(_at(0, 14, 0))  # Monday 09:00 New York: the weekly pulse opens and is posted
    posts = _calls_to(both, w.channel)[posts_before:]
    assert posts and all(c.team_id == w.client_team for c in posts)
    assert sb.refreshes == refreshed_before + 1  # the client's token, once, before the post
    # The token it posted with was the new one: the old one still works for 1.5 hours, so check Slack's record.
    assert sb.installation_of(w.client_team).expires_at is not None
    assert sb.installation_of(w.client_team).expires_at > later.monotonic() + timedelta(hours=11).total_seconds()
    assert sb.violations == []


def test_uninstalling_pauses_that_side_cleanly(both: LocalStack, caplog: pytest.LogCaptureFixture) -> None:
    w, sb = both.world, both.sandbox
    setup_partnership(both)
    store = both.services.oauth.installation_store if both.services.oauth else None
    assert store is not None and store.find_bot(enterprise_id=None, team_id=w.provider_team) is not None
    caplog.set_level(logging.INFO)
    # The provider's organisation uninstalls: its tokens are gone, the partnership (the client's) goes on, and the
    # provider's people are reached as before only one side had installed: an ephemeral through the client's app.
    uninstalled_at = len(sb.calls)
    assert sb.uninstall(w.provider_team).status == 200
    wait_for(lambda: store.find_bot(enterprise_id=None, team_id=w.provider_team) is None, what="the tokens deleted")
    p = partnerships.get_partnership(both.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
    assert p is not None and p.status == "active"
    assert partnerships.get_partnership(both.services.uow_factory(), team_id=w.provider_team, channel_id=w.channel) is None
    owner = w.provider_members[0]
    log_issue(both, w.client_members[0], "Tickets reopened", severity="S1", owner_id=owner)
    assert both.tick(_at(0, 15, 0)).escalations == 1
    nudge = wait_for(lambda: sb.ephemerals(w.channel, user=owner), what="the nudge as an ephemeral")
    assert "is waiting for you" in nudge[0]["text"]
    assert [c.method for c in sb.calls[uninstalled_at:] if c.team_id == w.provider_team] == []
    # The client's organisation uninstalls: its partnership pauses, one line says so, nothing is posted after.
    assert sb.uninstall(w.client_team).status == 200

    def paused() -> bool:
        found = partnerships.get_partnership(both.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
        return found is not None and found.status == "paused"

    wait_for(paused, what="the partnership paused")
    assert any(w.client_team in r.getMessage() and "1 partnership(s) paused" in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]
    calls_before = len(sb.calls)
    both.tick(_at(7, 14, 0))  # a week later: the pulse would be due
    assert [c.method for c in sb.calls[calls_before:] if c.method.startswith("chat.")] == []
    assert sb.violations == []


def test_a_worker_process_carries_out_a_command_from_the_other_workspace_with_that_workspaces_installation(
    both: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production's path: the serving process acknowledges, a worker process runs the rest with its own app, which
    authorizes the request with the provider's installation read from the database (no token in its settings)."""
    w, settings = both.world, both.settings
    setup_partnership(both)
    for name, value in {
        "SLACK_CLIENT_ID": str(settings.slack_client_id),
        "SLACK_CLIENT_SECRET": settings.secret("slack_client_secret"),
        "PARTNERPULSE_TOKEN_KEYS": settings.secret("token_keys"),
        "SLACK_SIGNING_SECRET": both.sandbox.signing_secret,
        "SLACK_API_URL": both.sandbox.api_url,
        "PARTNERPULSE_SECRET_KEY": SANDBOX_SECRET_KEY,
        "DATABASE_URL": settings.database_url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    pool = WorkerPool(1, threads=2, log_level="WARNING").start()
    try:
        use_worker_pool(both.app, pool)
        assert pool.wait_ready(0)
        before = len(reply_texts(both))
        assert partner_command(both, w.provider_lead, "status").status == 200
        replies = wait_for(lambda: reply_texts(both)[before:], what="the status, from the worker")
        assert "Northwind service desk" in " ".join(replies)
    finally:
        pool.close()


def test_a_refresh_slack_refuses_asks_for_a_reinstall_and_that_sides_people_are_reached_another_way_meanwhile(
    both: LocalStack, later: Later, caplog: pytest.LogCaptureFixture
) -> None:
    w, sb = both.world, both.sandbox
    setup_partnership(both)
    caplog.set_level(logging.INFO)
    # Something outside PartnerPulse spends the provider's refresh token (each works once): Slack will refuse ours.
    spent = WebClient(base_url=sb.api_url).oauth_v2_access(
        client_id=str(both.settings.slack_client_id),
        client_secret=both.settings.secret("slack_client_secret"),
        grant_type="refresh_token",
        refresh_token=str(sb.installation_of(w.provider_team).refresh_token),
    )
    assert spent["ok"]
    later.advance(timedelta(hours=10, minutes=30))  # both tokens now expire within the refresh window
    owner = w.provider_members[0]
    log_issue(both, w.client_members[0], "Tickets reopened", severity="S1", owner_id=owner)
    assert both.tick(_at(0, 15, 0)).escalations == 1
    assert sb.ephemerals(w.channel, user=owner) == []  # the provider's app failed; the nudge waits for the next beat
    both.tick(_at(0, 15, 1))
    # The owner's nudge could not go through the provider's app: it reached them as an ephemeral through the client's.
    nudge = wait_for(lambda: sb.ephemerals(w.channel, user=owner), what="the nudge, another way")
    assert "is waiting for you" in nudge[0]["text"]
    with both.services.uow_factory() as uow:
        ws = uow.workspaces.get_by_team(w.provider_team)
        assert ws is not None and ws.needs_reinstall_at is not None
    assert any(w.provider_team in r.getMessage() and "reinstall" in r.getMessage() for r in caplog.records)
    # The provider's leads are told, in the shared channel, by the client's installation (their own cannot).
    notice = wait_for(
        lambda: [m for m in sb.ephemerals(w.channel, user=w.provider_lead) if "install PartnerPulse again" in m["text"]],
        what="the provider lead's notice",
    )
    assert len(notice) == 1 and "Contoso Services" in notice[0]["text"]
    both.tick(_at(0, 15, 2))  # told once
    assert len([m for m in sb.ephemerals(w.channel, user=w.provider_lead) if "install PartnerPulse again" in m["text"]]) == 1
    assert [m for m in sb.ephemerals(w.channel, user=w.client_lead) if "install PartnerPulse again" in m["text"]] == []
    # The provider's lead is told at once, in Slack, what to do when they use the app.
    before = len(reply_texts(both))
    assert partner_command(both, w.provider_lead, "status").status == 200
    told = wait_for(lambda: reply_texts(both)[before:], what="the provider lead told")
    assert "needs to be installed again" in " ".join(told)
    # Installing again mends it: the provider's people use /partner and are messaged through their own app again.
    assert "is installed in Contoso Services" in both.install(w.provider_team, user_id=w.provider_lead)
    before = len(reply_texts(both))
    partner_command(both, w.provider_lead, "status")
    assert "Northwind service desk" in " ".join(wait_for(lambda: reply_texts(both)[before:], what="the status"))
    assert sb.violations == []


def test_the_other_organisations_person_logs_an_issue_with_the_shortcut_from_their_own_workspace(both: LocalStack) -> None:
    w, sb = both.world, both.sandbox
    setup_partnership(both)
    reporter = w.provider_members[0]
    ts = sb.user_message(w.channel, w.client_members[0], "The VPN drops every afternoon")
    before, calls = view_ids(both), len(sb.calls)
    assert both.actor(reporter).message_shortcut("log-partnership-issue", w.channel, ts).status == 200
    view = new_view(both, reporter, ISSUE_CALLBACK, before)
    # Opened by the provider's own app: the request came from the provider's workspace and was authorized there.
    opened = [c.team_id for c in sb.calls[calls:] if c.method in ("views.open", "views.update") and c.ok]
    assert opened and set(opened) == {w.provider_team}
    values = issue_values(both)
    del values["title"], values["details"]
    assert both.actor(reporter).submit_view(view["id"], values).status == 200
    the_card = card(both, 1)
    assert "The VPN drops every afternoon" in json.dumps(the_card["blocks"])
    assert sb.violations == []
