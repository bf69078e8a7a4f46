"""Rotating bot tokens refreshed outside Slack's requests (issue 15, check 25), against the sandbox's oauth.v2.access.

The app is installed by OAuth in the sandbox with token rotation on (tokens last 12 hours there), and the install
is saved as the product saves it. ``BotTokens``' clock is moved instead of the sandbox's: 11 hours after the install
the token expires within the 120-minute window, so it is refreshed first.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import Engine

from bot.sandbox import SlackSandbox, build_demo_world
from bot.services.installs import workspace_installed
from bot.token_rotation import BotTokens, NeedsReinstall, NotInstalled, TokenRefreshFailed
from storage.db import make_engine, make_session_factory
from storage.installation_store import EncryptedInstallationStore
from storage.models import Workspace
from storage.token_cipher import TokenCipher, new_key
from storage.uow import UnitOfWorkFactory
from tests.helpers import all_at_once
from tests.sandbox.oauth_support import CLIENT_ID, CLIENT_SECRET, install_by_oauth, refresh, web

TEAM = "T0PROVID"
INSTALLED = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
#: 11 hours after the install: the 12-hour token expires in 60 minutes, inside the 120-minute window.
EXPIRING = INSTALLED + timedelta(hours=11)
KEY = new_key()
TOKEN_SHAPES = re.compile("xox" + "[bpe]-|xox" + "e|xa" + "pp-")


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox(token_rotation=True, token_lifetime_seconds=12 * 3600) as sb:
        build_demo_world(sb)
        yield sb


def make_store(engine: Engine, key: str = KEY) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=TokenCipher([key]))


def bot_tokens(engine: Engine, sandbox_api_url: str, at: datetime, key: str = KEY) -> BotTokens:
    return BotTokens(
        make_store(engine, key),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        api_url=sandbox_api_url,
        refresh_before=timedelta(minutes=120),
        clock=lambda: at,
    )


def install(
    sandbox: SlackSandbox, engine: Engine, team_id: str = TEAM, *, workspace: bool = True, at: datetime = INSTALLED
) -> dict[str, Any]:
    """Install the app in ``team_id`` by OAuth and save the install (and, with ``workspace``, the workspace's row) as
    the product does; Slack's answer."""
    answer = install_by_oauth(sandbox, team_id).data
    assert isinstance(answer, dict) and answer["expires_in"] == 12 * 3600
    if workspace:
        uow = UnitOfWorkFactory(make_session_factory(engine))()
        workspace_installed(uow, team_id=team_id, name=answer["team"]["name"], bot_user_id=answer["bot_user_id"], now=at)
    make_store(engine).save(
        Installation(
            app_id=answer["app_id"],
            enterprise_id=None,
            team_id=answer["team"]["id"],
            team_name=answer["team"]["name"],
            bot_token=answer["access_token"],
            bot_user_id=answer["bot_user_id"],
            bot_scopes=answer["scope"],
            bot_refresh_token=answer["refresh_token"],
            bot_token_expires_at=int(at.timestamp()) + answer["expires_in"],
            user_id=answer["authed_user"]["id"],
            token_type="bot",
            installed_at=at.timestamp(),
        )
    )
    return answer


def refresh_calls(sandbox: SlackSandbox) -> int:
    return sum(1 for call in sandbox.calls_to("oauth.v2.access") if call.args.get("grant_type") == "refresh_token")


def test_a_token_expiring_within_the_window_is_refreshed_before_use(
    sandbox: SlackSandbox, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    installed = install(sandbox, engine)
    tokens = bot_tokens(engine, sandbox.api_url, EXPIRING)
    caplog.set_level(logging.DEBUG)
    token = tokens.token_for(TEAM)
    assert token != installed["access_token"] and refresh_calls(sandbox) == 1
    assert "bot token refreshed" in caplog.text, "the refresh is logged"
    assert not TOKEN_SHAPES.search(caplog.text) and CLIENT_SECRET not in caplog.text, "even at DEBUG, no secret"
    assert web(sandbox, token).auth_test()["team_id"] == TEAM
    stored = make_store(engine).find_bot(enterprise_id=None, team_id=TEAM)
    assert stored is not None and stored.bot_token == token
    assert stored.bot_refresh_token not in (None, installed["refresh_token"]), "the new refresh token is kept"
    # Refreshed at EXPIRING for another 12 hours.
    assert stored.bot_token_expires_at == int(EXPIRING.timestamp()) + 12 * 3600
    found = make_store(engine).find_installation(enterprise_id=None, team_id=TEAM)
    assert found is not None and (found.bot_token, found.bot_refresh_token) == (token, stored.bot_refresh_token)
    assert tokens.token_for(TEAM) == token and refresh_calls(sandbox) == 1, "fresh now: used as it is"
    later = bot_tokens(engine, sandbox.api_url, EXPIRING + timedelta(hours=1))
    assert later.token_for(TEAM) == token and refresh_calls(sandbox) == 1, "another process reads the new token"


def test_a_token_far_from_expiry_is_not_refreshed_and_is_kept_in_memory(
    sandbox: SlackSandbox, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = install(sandbox, engine)
    tokens = bot_tokens(engine, sandbox.api_url, INSTALLED + timedelta(hours=9, minutes=59))
    store = tokens._store
    reads: list[str] = []
    find_bot = store.find_bot

    def counting_find_bot(**kwargs: Any) -> Any:
        reads.append(kwargs["team_id"])
        return find_bot(**kwargs)

    monkeypatch.setattr(store, "find_bot", counting_find_bot)
    assert [tokens.token_for(TEAM) for _ in range(3)] == [installed["access_token"]] * 3
    assert refresh_calls(sandbox) == 0 and reads == [TEAM], "read once, then from memory"
    tokens.forget(TEAM)
    assert tokens.token_for(TEAM) == installed["access_token"] and reads == [TEAM, TEAM]


def test_two_threads_refreshing_at_once_call_slack_once(sandbox: SlackSandbox, engine: Engine) -> None:
    installed = install(sandbox, engine)
    # The refresh answers slowly: the other threads reach the lock while the first holds it.
    sandbox.faults.delay_next("oauth.v2.access", 0.3, 1)
    workers = [bot_tokens(engine, sandbox.api_url, EXPIRING) for _ in range(4)]
    turn = iter(workers)
    results = all_at_once(4, lambda: next(turn).token_for(TEAM))
    assert refresh_calls(sandbox) == 1
    assert len(set(results)) == 1 and results[0] != installed["access_token"]
    assert web(sandbox, results[0]).auth_test()["ok"]


def _token_in_a_process(database_url: str, api_url: str, key: str, start: Any, answers: Any) -> None:
    """Another process's token lookup (spawned: it shares the database, the sandbox and the key, nothing else)."""
    engine = make_engine(database_url)
    try:
        tokens = bot_tokens(engine, api_url, EXPIRING, key)
        start.wait(timeout=60)
        answers.put(tokens.token_for(TEAM))
    except Exception as exc:  # noqa: BLE001 - handed to the test
        answers.put(f"failed: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_processes_refreshing_at_once_call_slack_once(sandbox: SlackSandbox, engine: Engine, database_url: str) -> None:
    install(sandbox, engine)
    sandbox.faults.delay_next("oauth.v2.access", 0.3, 1)
    spawn = multiprocessing.get_context("spawn")
    start, answers = spawn.Barrier(2), spawn.Queue()
    processes = [
        spawn.Process(target=_token_in_a_process, args=(database_url, sandbox.api_url, KEY, start, answers))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    results = [answers.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert not any(str(r).startswith("failed") for r in results), results
    assert refresh_calls(sandbox) == 1 and len(set(results)) == 1


def test_a_refused_refresh_marks_the_workspace_and_holds_its_sending(
    sandbox: SlackSandbox, engine: Engine, uow_factory: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    installed = install(sandbox, engine)
    refresh(sandbox, installed["refresh_token"])  # spent elsewhere: the stored refresh token no longer works
    tokens = bot_tokens(engine, sandbox.api_url, EXPIRING)
    caplog.set_level(logging.INFO)
    with pytest.raises(NeedsReinstall, match=f"workspace {TEAM}: .*install the app again"):
        tokens.token_for(TEAM)
    assert refresh_calls(sandbox) == 2, "the spending one and ours"
    with uow_factory() as uow:
        ws = uow.workspaces.get_by_team(TEAM)
        assert ws is not None
        assert (ws.needs_reinstall_at, ws.sending_enabled, ws.auth_recheck_at) == (EXPIRING, False, None)
        assert ws.disabled_reason == "needs reinstalling: Slack answered invalid_refresh_token to a token refresh"
        assert uow.outbox.held_workspaces_due(EXPIRING + timedelta(days=1)) == [], "no auth.test re-check mends it"
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in errors] == [("bot.token_rotation", "ERROR")]
    assert errors[0].getMessage().startswith(f"workspace {TEAM} needs reinstalling: Slack answered invalid_refresh_token")
    assert not TOKEN_SHAPES.search(caplog.text)
    later = bot_tokens(engine, sandbox.api_url, EXPIRING + timedelta(minutes=5))
    with pytest.raises(NeedsReinstall, match="waits for the app to be installed again"):
        later.token_for(TEAM)
    assert refresh_calls(sandbox) == 2, "Slack is not asked again until a reinstall"
    with uow_factory() as uow:
        ws = uow.workspaces.get_by_team(TEAM)
        assert ws is not None and ws.needs_reinstall_at == EXPIRING, "marked once, when it happened"
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1, "and logged once"
    reinstalled_at = EXPIRING + timedelta(hours=1)
    again = install(sandbox, engine, at=reinstalled_at)
    assert bot_tokens(engine, sandbox.api_url, reinstalled_at).token_for(TEAM) == again["access_token"]
    # The reinstalled token refreshes as any other, whether or not the install cleared the workspace's mark.
    renewed = bot_tokens(engine, sandbox.api_url, reinstalled_at + timedelta(hours=11)).token_for(TEAM)
    assert renewed != again["access_token"] and refresh_calls(sandbox) == 3


def test_slack_unreachable_for_a_token_not_yet_expired_hands_out_the_current_one(
    sandbox: SlackSandbox, engine: Engine
) -> None:
    installed = install(sandbox, engine)
    sandbox.faults.fail_next("oauth.v2.access", "service_unavailable", 1)
    tokens = bot_tokens(engine, sandbox.api_url, EXPIRING)
    assert tokens.token_for(TEAM) == installed["access_token"]
    token = tokens.token_for(TEAM)  # the next call tries again, and succeeds
    assert token != installed["access_token"] and refresh_calls(sandbox) == 2


def test_an_expired_token_slack_cannot_refresh_now_is_unavailable_until_it_can(
    sandbox: SlackSandbox, engine: Engine
) -> None:
    install(sandbox, engine)
    sandbox.faults.fail_next("oauth.v2.access", "service_unavailable", 1)
    tokens = bot_tokens(engine, sandbox.api_url, INSTALLED + timedelta(hours=12, minutes=1))
    with pytest.raises(TokenRefreshFailed, match=r"expired and could not be refreshed \(service_unavailable\)") as info:
        tokens.token_for(TEAM)
    assert info.value.code == "token_refresh_failed" and not TOKEN_SHAPES.search(str(info.value))
    assert web(sandbox, tokens.token_for(TEAM)).auth_test()["ok"], "the next lookup refreshes it"


def test_a_workspace_without_an_install_is_not_installed(sandbox: SlackSandbox, engine: Engine) -> None:
    install(sandbox, engine)
    tokens = bot_tokens(engine, sandbox.api_url, EXPIRING)
    with pytest.raises(NotInstalled, match="T0ELSEWHERE") as info:
        tokens.token_for("T0ELSEWHERE")
    assert (info.value.code, info.value.team_id, isinstance(info.value, LookupError)) == (
        "not_installed",
        "T0ELSEWHERE",
        True,
    )
    make_store(engine).delete_bot(enterprise_id=None, team_id=TEAM)
    with pytest.raises(NotInstalled):
        bot_tokens(engine, sandbox.api_url, INSTALLED).token_for(TEAM)


def test_the_refresh_creates_the_workspace_row_it_locks(
    sandbox: SlackSandbox, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    install(sandbox, engine, workspace=False)
    bot_tokens(engine, sandbox.api_url, EXPIRING).token_for(TEAM)
    with uow_factory() as uow:
        ws = uow.workspaces.get_by_team(TEAM)
        assert isinstance(ws, Workspace) and (ws.name, ws.created_at, ws.sending_enabled) == (
            "Contoso Services",
            EXPIRING,
            True,
        )
