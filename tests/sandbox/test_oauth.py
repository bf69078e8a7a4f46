"""OAuth v2 in the sandbox: the authorize page, oauth.v2.access (codes, refresh tokens), expiry, reinstall, auth.revoke."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from slack_sdk.errors import SlackApiError

from bot.sandbox import SlackSandbox, build_demo_world

from .oauth_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    authorize,
    code_from,
    error_of,
    exchange,
    install_by_oauth,
    redirect_query,
    refresh,
    web,
)
from .support import FakeClock

BOT_PREFIX = "xox" + "b-"
ROTATING_PREFIX = "xox" + "e.xox" + "b-1-"
REFRESH_PREFIX = "xox" + "e-1-"


@pytest.fixture
def rotating(clock: FakeClock) -> Iterator[SlackSandbox]:
    """A sandbox with token rotation on and tokens that last 100 seconds of its clock."""
    with SlackSandbox(clock=clock, token_rotation=True, token_lifetime_seconds=100) as sb:
        build_demo_world(sb)
        yield sb


def test_the_code_grant_installs_the_app_and_answers_slacks_shape(sandbox: SlackSandbox) -> None:
    build_demo_world(sandbox)
    status, location, _ = authorize(sandbox, team="T0PROVID", scope="chat:write,commands", state="st-1")
    assert status == 302
    assert location.startswith(REDIRECT_URI + "?")
    fields = redirect_query(location)
    assert fields["state"] == "st-1" and fields["code"]

    answer = exchange(sandbox, fields["code"]).data
    assert isinstance(answer, dict)
    token = answer.pop("access_token")
    assert answer == {
        "ok": True,
        "app_id": sandbox.app_id,
        "token_type": "bot",
        "scope": "chat:write,commands",
        "bot_user_id": "U0PROVIDBOT",
        "team": {"id": "T0PROVID", "name": "Contoso Services"},
        "enterprise": None,
        "is_enterprise_install": False,
        "authed_user": {"id": "U0PLEAD"},  # the first person of Contoso clicked Allow
    }
    assert token.startswith(BOT_PREFIX) and token != sandbox.bot_token
    who = web(sandbox, token).auth_test()
    assert (who["team_id"], who["user_id"]) == ("T0PROVID", "U0PROVIDBOT")
    assert sandbox.installed_teams() == ["T0CLIENT", "T0PROVID"]
    assert sandbox.installation_of("T0PROVID").installer_user_id == "U0PLEAD"


def test_tokens_are_unique_per_issue(sandbox: SlackSandbox) -> None:
    build_demo_world(sandbox)
    first = install_by_oauth(sandbox, "T0PROVID")["access_token"]
    second = install_by_oauth(sandbox, "T0PROVID")["access_token"]
    assert len({first, second, sandbox.bot_token}) == 3


def test_the_client_authenticates_by_form_fields_too(sandbox: SlackSandbox) -> None:
    build_demo_world(sandbox)
    code = code_from(sandbox, team="T0PROVID")
    body = urlencode({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code, "redirect_uri": REDIRECT_URI})
    request = urllib.request.Request(sandbox.api_url + "oauth.v2.access", data=body.encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as answer:
        assert json.loads(answer.read())["team"]["id"] == "T0PROVID"


@pytest.mark.parametrize(
    ("client_id", "client_secret", "error"),
    [("someone-else", CLIENT_SECRET, "invalid_client_id"), (CLIENT_ID, "not-the-secret", "bad_client_secret")],
)
def test_wrong_client_credentials_are_refused(sandbox: SlackSandbox, client_id: str, client_secret: str, error: str) -> None:
    build_demo_world(sandbox)
    code = code_from(sandbox, team="T0PROVID")
    assert error_of(lambda: exchange(sandbox, code, client_id=client_id, client_secret=client_secret)) == error
    assert sandbox.installed_teams() == ["T0CLIENT"]


def test_a_code_works_once_and_only_with_its_redirect_uri(sandbox: SlackSandbox) -> None:
    build_demo_world(sandbox)
    assert error_of(lambda: exchange(sandbox, "1.2.never-issued")) == "invalid_code"
    code = code_from(sandbox, team="T0PROVID")
    assert error_of(lambda: exchange(sandbox, code, redirect_uri="https://elsewhere.example/cb")) == "bad_redirect_uri"
    assert error_of(lambda: exchange(sandbox, code)) == "invalid_code"  # a code is used up by any exchange
    other = code_from(sandbox, team="T0PROVID")
    assert exchange(sandbox, other)["ok"]
    assert error_of(lambda: exchange(sandbox, other)) == "invalid_code"
    assert sandbox.oauth.code_exchanges == 1


def test_a_code_expires_after_ten_minutes_of_the_sandbox_clock(clock: FakeClock) -> None:
    with SlackSandbox(clock=clock) as sb:
        build_demo_world(sb)
        in_time, late = code_from(sb, team="T0PROVID"), code_from(sb, team="T0PROVID")
        clock.advance(600)
        assert exchange(sb, in_time)["ok"]  # 600 s old: still good
        clock.advance(1)
        assert error_of(lambda: exchange(sb, late)) == "invalid_code"  # 601 s old


def test_the_authorize_page_refuses_an_unknown_client_and_the_person_can_cancel(sandbox: SlackSandbox) -> None:
    build_demo_world(sandbox)
    status, location, page = authorize(sandbox, client_id="someone-else")
    assert (status, location) == (400, "") and "invalid_client_id" in page
    status, _, page = authorize(sandbox, scope="chat:write,channels:history")
    assert status == 400 and "channels:history" in page  # a scope the app does not request
    status, location, _ = authorize(sandbox, cancel="1", state="st-2")
    assert status == 302 and redirect_query(location) == {"error": "access_denied", "state": "st-2"}
    assert sandbox.deny_install(redirect_uri=REDIRECT_URI, state="s") == REDIRECT_URI + "?error=access_denied&state=s"
    direct = sandbox.approve_install("T0PROVID", redirect_uri=REDIRECT_URI, state="s", user_id="U0PSPON")
    assert exchange(sandbox, redirect_query(direct)["code"])["authed_user"] == {"id": "U0PSPON"}


def test_rotation_issues_expiring_tokens_and_single_use_refresh_tokens(rotating: SlackSandbox, clock: FakeClock) -> None:
    first = install_by_oauth(rotating, "T0PROVID")
    assert first["access_token"].startswith(ROTATING_PREFIX)
    assert first["refresh_token"].startswith(REFRESH_PREFIX)
    assert first["expires_in"] == 100
    client = web(rotating, first["access_token"])
    clock.advance(99)
    assert client.auth_test()["team_id"] == "T0PROVID"
    clock.advance(1)  # 100 s after the exchange
    assert error_of(client.auth_test) == "token_expired"
    assert error_of(lambda: client.chat_postMessage(channel="U0PLEAD", text="hi")) == "token_expired"

    renewed = refresh(rotating, first["refresh_token"])
    assert renewed["expires_in"] == 100 and renewed["bot_user_id"] == "U0PROVIDBOT"
    assert renewed["access_token"] != first["access_token"] and renewed["refresh_token"] != first["refresh_token"]
    assert web(rotating, renewed["access_token"]).auth_test()["team_id"] == "T0PROVID"
    assert error_of(lambda: refresh(rotating, first["refresh_token"])) == "invalid_refresh_token"  # used once
    assert error_of(lambda: refresh(rotating, REFRESH_PREFIX + "never-issued")) == "invalid_refresh_token"
    assert rotating.refreshes == 1
    clock.advance(100)
    assert error_of(web(rotating, renewed["access_token"]).auth_test) == "token_expired"


def test_recorded_oauth_calls_hold_no_secret(rotating: SlackSandbox) -> None:
    first = install_by_oauth(rotating, "T0PROVID")
    refresh(rotating, first["refresh_token"])
    recorded = json.dumps([(call.args, call.response) for call in rotating.calls_to("oauth.v2.access")])
    for secret in (CLIENT_SECRET, first["access_token"], first["refresh_token"]):
        assert secret not in recorded
    assert "[redacted]" in recorded and CLIENT_ID in recorded
    assert [call.team_id for call in rotating.calls_to("oauth.v2.access")] == ["T0PROVID", "T0PROVID"]


def test_a_reinstall_with_more_scopes_replaces_the_token_and_keeps_the_bot_user(sandbox: SlackSandbox) -> None:
    build_demo_world(sandbox)
    narrow = install_by_oauth(sandbox, "T0PROVID", scope="chat:write,commands")
    old = web(sandbox, narrow["access_token"])
    with pytest.raises(SlackApiError) as raised:
        old.users_info(user="U0PLEAD")
    assert raised.value.response["error"] == "missing_scope"
    assert raised.value.response["needed"] == "users:read"
    assert raised.value.response["provided"] == "chat:write,commands"

    wide = install_by_oauth(sandbox, "T0PROVID", scope="users:read")
    assert wide["bot_user_id"] == narrow["bot_user_id"] == "U0PROVIDBOT"
    assert wide["scope"] == "chat:write,commands,users:read"
    assert web(sandbox, wide["access_token"]).users_info(user="U0PLEAD")["user"]["id"] == "U0PLEAD"
    assert error_of(old.auth_test) == "invalid_auth"


def test_a_reinstall_into_the_default_team_by_oauth_keeps_its_bot(sandbox: SlackSandbox) -> None:
    world = build_demo_world(sandbox)
    answer = install_by_oauth(sandbox, world.client_team)
    assert answer["bot_user_id"] == world.bot_user
    assert sandbox.bot_token == answer["access_token"]
    assert web(sandbox, answer["access_token"]).auth_test()["user_id"] == world.bot_user


def test_auth_revoke_revokes_the_calling_token_only(sandbox: SlackSandbox) -> None:
    build_demo_world(sandbox)
    provider = web(sandbox, install_by_oauth(sandbox, "T0PROVID")["access_token"])
    assert provider.auth_revoke(test=True).data == {"ok": True, "revoked": False}
    assert provider.auth_test()["ok"]
    assert provider.auth_revoke().data == {"ok": True, "revoked": True}
    assert error_of(provider.auth_test) == "token_revoked"
    assert web(sandbox, sandbox.bot_token).auth_test()["team_id"] == "T0CLIENT"


def test_basic_auth_that_is_not_base64_is_not_a_client(sandbox: SlackSandbox) -> None:
    build_demo_world(sandbox)
    code = code_from(sandbox, team="T0PROVID")
    good = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    for header, error in (("Basic !!!", "invalid_client_id"), ("Basic " + good, None)):
        body = urlencode({"code": code, "redirect_uri": REDIRECT_URI}).encode()
        request = urllib.request.Request(sandbox.api_url + "oauth.v2.access", data=body, method="POST")
        request.add_header("Authorization", header)
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as answer:
            payload = json.loads(answer.read())
        assert payload.get("error") == error, payload


def test_the_apps_configured_redirect_url_is_used_when_the_authorize_url_names_none() -> None:
    configured = "https://partnerpulse.example/slack/"
    with SlackSandbox(oauth_redirect_url=configured) as sb:
        build_demo_world(sb)
        status, location, _ = authorize(sb, redirect_uri="", team="T0PROVID", state="s")
        assert status == 302 and location.startswith(configured + "?code=")
        # No redirect_uri at authorize time: the exchange needs none.
        assert exchange(sb, redirect_query(location)["code"], redirect_uri=None)["team"]["id"] == "T0PROVID"
        status, location, _ = authorize(sb, redirect_uri=configured + "oauth_redirect", team="T0PROVID")
        assert status == 302 and location.startswith(configured + "oauth_redirect?code=")
        status, _, page = authorize(sb, redirect_uri="https://evil.example/cb")
        assert status == 400 and "bad_redirect_uri" in page
