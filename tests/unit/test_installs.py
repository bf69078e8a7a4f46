"""The install lifecycle (``bot.services.installs``): an uninstall pauses a workspace's active partnerships and holds
its sending with no re-checks, once; a reinstall resumes exactly what the uninstall paused; a workspace that needs
reinstalling is held until then."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.services import installs, outbox_hold, outbox_sending, partnerships
from bot.services.operator import list_workspaces
from storage.models import OutboxMessage, held_for_reinstall, held_without_rechecks
from storage.uow import UnitOfWorkFactory
from tests.factories import make_issue_world

#: A Wednesday afternoon; the partnerships pulse Mondays 09:00 New York (14:00 UTC in December).
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
TEAM = "TCLIENT"


def _world(uow_factory: UnitOfWorkFactory) -> dict[str, int]:
    """Four partnerships of TCLIENT: two active, one a lead paused, one paused because Slack closed its channel."""
    ids = {c: make_issue_world(uow_factory, now=NOW, channel_id=c).partnership_id for c in ("C1", "C2", "C3", "C4")}
    partnerships.set_paused(uow_factory(), team_id=TEAM, channel_id="C3", actor="UCL", paused=True, now=NOW)
    partnerships.pause_for_slack_error(uow_factory(), partnership_id=ids["C4"], error="channel_not_found", now=NOW)
    return ids


def _state(uow_factory: UnitOfWorkFactory, pid: int) -> tuple[str, str | None, datetime | None]:
    p = partnerships.get_partnership_by_id(uow_factory(), partnership_id=pid)
    assert p is not None
    return p.status, p.pause_reason, p.next_pulse_at


def test_uninstall_pauses_the_active_partnerships_once_and_holds_sending_without_rechecks(
    uow_factory: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _world(uow_factory)
    partnerships.request_menu(uow_factory(), team_id=TEAM, channel_id="C1", request_key="r1", now=NOW)
    caplog.clear()  # the world's install was logged too

    with caplog.at_level(logging.INFO, logger="bot.services.installs"):
        result = installs.workspace_uninstalled(uow_factory(), team_id=TEAM, why="app_uninstalled", now=NOW)
    assert result == installs.UninstallResult(team_id=TEAM, changed=True, paused=2)
    warnings = [r.getMessage() for r in caplog.records if r.name == installs.logger.name]
    assert warnings == [
        "workspace TCLIENT: Slack sent app_uninstalled; sending held and 2 partnership(s) paused until PartnerPulse "
        "is reinstalled"
    ]
    assert [_state(uow_factory, ids[c])[:2] for c in ("C1", "C2")] == [("paused", installs.UNINSTALLED)] * 2
    assert _state(uow_factory, ids["C3"])[1] == "paused by a lead"
    assert _state(uow_factory, ids["C4"])[1] == "Slack answered channel_not_found"

    held = outbox_hold.sending_held(uow_factory(), team_id=TEAM)
    assert held is not None and held.needs_reinstall and held.next_check_at is None
    assert held.reason == "PartnerPulse was uninstalled (app_uninstalled)"
    # Never re-checked: the token of an uninstalled app cannot come back by itself.
    assert outbox_hold.claim_rechecks(uow_factory(), now=NOW + timedelta(days=30)) == []
    # The queued menu (and the setups' messages) wait in the outbox: not sent, not lost.
    assert outbox_sending.claim(uow_factory(), now=NOW + timedelta(days=1), limit=100) == []

    # Slack sends tokens_revoked with an uninstall, and may deliver either again: nothing changes, said at info.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.services.installs"):
        again = installs.workspace_uninstalled(uow_factory(), team_id=TEAM, why="tokens_revoked", now=NOW + timedelta(1))
    assert again == installs.UninstallResult(team_id=TEAM, changed=False, paused=0)
    assert [r.levelno for r in caplog.records if r.name == installs.logger.name] == [logging.INFO]
    (ws,) = list_workspaces(uow_factory)
    assert (ws.state, ws.since, ws.partnerships, ws.paused) == ("uninstalled", NOW, 4, 4)
    assert "reinstall PartnerPulse" in ws.advice


def test_an_uninstall_of_an_unknown_team_changes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    result = installs.workspace_uninstalled(uow_factory(), team_id="TNOBODY", why="tokens_revoked", now=NOW)
    assert result == installs.UninstallResult(team_id="TNOBODY", changed=False, paused=0)
    assert list_workspaces(uow_factory) == ()


def test_reinstall_resumes_only_what_the_uninstall_paused(uow_factory: UnitOfWorkFactory) -> None:
    ids = _world(uow_factory)
    partnerships.request_menu(uow_factory(), team_id=TEAM, channel_id="C1", request_key="r1", now=NOW)
    installs.workspace_uninstalled(uow_factory(), team_id=TEAM, why="app_uninstalled", now=NOW)

    later = NOW + timedelta(hours=2)  # Wednesday 17:00 UTC: the next Monday 09:00 New York is 7 December, 14:00 UTC
    result = installs.workspace_installed(uow_factory(), team_id=TEAM, name="Northwind 2", bot_user_id="UBOT2", now=later)
    assert result.resumed == 2
    monday = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    assert [_state(uow_factory, ids[c]) for c in ("C1", "C2")] == [("active", None, monday)] * 2
    assert _state(uow_factory, ids["C3"])[:2] == ("paused", "paused by a lead"), "a lead's pause stays"
    assert _state(uow_factory, ids["C4"])[:2] == ("paused", "Slack answered channel_not_found")
    assert outbox_hold.sending_held(uow_factory(), team_id=TEAM) is None
    (ws,) = list_workspaces(uow_factory)
    assert (ws.name, ws.state, ws.since, ws.paused, ws.advice) == ("Northwind 2", "sending", None, 2, "")
    # What waited goes out now: the resumed partnerships' messages (their setup's, and the menu), no other's.
    waited = outbox_sending.claim(uow_factory(), now=later, limit=100)
    assert {item.partnership_id for item in waited} == {ids["C1"], ids["C2"]}
    assert f"menu:{ids['C1']}:r1" in {item.dedupe_key for item in waited}

    # Installed again (the OAuth flow repeated): nothing more to resume.
    again = installs.workspace_installed(uow_factory(), team_id=TEAM, name="Northwind 2", bot_user_id="UBOT2", now=later)
    assert again == installs.InstallResult(workspace_id=result.workspace_id, resumed=0)


def test_needs_reinstall_holds_without_rechecks_until_installed(
    uow_factory: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _world(uow_factory)
    with caplog.at_level(logging.ERROR, logger="bot.services.outbox_hold"):
        assert installs.needs_reinstall(uow_factory(), team_id=TEAM, reason="invalid_refresh_token", now=NOW)
        assert not installs.needs_reinstall(uow_factory(), team_id=TEAM, reason="invalid_refresh_token", now=NOW)
    (line,) = [r.getMessage() for r in caplog.records if r.name == outbox_hold.logger.name]
    assert line.startswith("workspace TCLIENT needs reinstalling (invalid_refresh_token): reinstall PartnerPulse")
    assert outbox_hold.claim_rechecks(uow_factory(), now=NOW + timedelta(days=1)) == []
    (ws,) = list_workspaces(uow_factory)
    assert (ws.state, ws.since, ws.reason) == ("needs reinstalling", NOW, "needs reinstalling: invalid_refresh_token")
    # The partnerships were not paused, but their messages wait for the workspace.
    assert _state(uow_factory, ids["C1"])[0] == "active"
    assert outbox_sending.claim(uow_factory(), now=NOW + timedelta(days=1), limit=100) == []
    # Installed: nothing to resume, sending resumes.
    assert installs.workspace_installed(uow_factory(), team_id=TEAM, name="n", bot_user_id="UBOT", now=NOW).resumed == 0
    assert outbox_hold.sending_held(uow_factory(), team_id=TEAM) is None
    assert {item.partnership_id for item in outbox_sending.claim(uow_factory(), now=NOW, limit=100)} == {
        ids["C1"],
        ids["C2"],
    }
    assert not installs.needs_reinstall(uow_factory(), team_id="TNOBODY", reason="x", now=NOW)


def test_the_operator_sees_which_workspaces_need_reinstalling(
    uow_factory: UnitOfWorkFactory, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _world(uow_factory)
    installs.workspace_installed(uow_factory(), team_id="TOTHER", name="Fabrikam", bot_user_id="UB2", now=NOW)
    installs.workspace_uninstalled(uow_factory(), team_id=TEAM, why="tokens_revoked", now=NOW)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PARTNERPULSE_LOG_LEVEL", "WARNING")

    assert main(["workspaces"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert [line.split()[0] for line in out.splitlines()] == ["TEAM", TEAM, "TOTHER", TEAM + ":"]
    header, client, other, advice = out.splitlines()
    assert client.split()[:5] == [TEAM, "Northwind", "uninstalled", "2026-12-02T15:00:00Z", "4"]
    assert client.split()[5] == "4" and client.endswith("PartnerPulse was uninstalled (tokens_revoked)")
    assert other.split() == ["TOTHER", "Fabrikam", "sending", "-", "0", "0", "-"]
    assert advice == f"{TEAM}: {outbox_hold.REINSTALL_ADVICE}"

    # `partnerships` says so too, on stderr, below its usual table.
    assert main(["partnerships"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("ID") and err == f"partnerpulse: workspace {TEAM} is uninstalled: {outbox_hold.REINSTALL_ADVICE}\n"


def test_the_leads_of_an_organisation_that_must_reinstall_are_told_once_where_another_installation_reaches_them(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ids = _world(uow_factory)  # the client's workspace (TCLIENT) holds the partnerships; UPL leads for the provider
    installs.workspace_installed(uow_factory(), team_id="TPROV", name="Contoso", bot_user_id="UPBOT", now=NOW)
    assert installs.queue_reinstall_notices(uow_factory(), now=NOW) == 0  # nobody waits for a reinstall
    assert installs.needs_reinstall(uow_factory(), team_id="TPROV", reason="Slack answered invalid_refresh_token", now=NOW)
    # The provider's lead, in each active partnership of the client's workspace (C1, C2; C3 and C4 are paused).
    assert installs.queue_reinstall_notices(uow_factory(), now=NOW) == 2
    assert installs.queue_reinstall_notices(uow_factory(), now=NOW) == 0  # once per refusal
    with uow_factory() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "reinstall-needed")).all()
        assert sorted((m.partnership_id, m.user_id, m.channel_id) for m in rows) == [
            (ids["C1"], "UPL", "C1"),
            (ids["C2"], "UPL", "C2"),
        ]
    # The workspace holding the partnerships needs reinstalling: nothing can reach its people there, nobody is told.
    assert installs.needs_reinstall(uow_factory(), team_id=TEAM, reason="Slack answered invalid_refresh_token", now=NOW)
    assert installs.queue_reinstall_notices(uow_factory(), now=NOW) == 0


def test_the_held_columns_cut_the_reason_and_plan_no_recheck() -> None:
    assert held_without_rechecks("uninstalled") == {
        "sending_enabled": False,
        "disabled_reason": "uninstalled",
        "auth_recheck_at": None,
    }
    assert held_for_reinstall("r" * 200, NOW) == {
        "sending_enabled": False,
        "disabled_reason": "needs reinstalling: " + "r" * 180,
        "auth_recheck_at": None,
        "needs_reinstall_at": NOW,
    }
