"""Bolt's OAuth callback over PartnerPulse's stores (issue 15, check 23), against the sandbox's authorize page and
oauth.v2.access: a missing, foreign-cookie, expired or reused state is refused; two callbacks racing with one state
make exactly one installation; the installation Bolt builds is saved encrypted and its token works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from sqlalchemy import Engine, func, select

from bot.sandbox import SlackSandbox, build_demo_world
from storage.installation_store import EncryptedInstallationStore, OnceOAuthStateStore
from storage.models import SlackInstallation
from storage.token_cipher import TokenCipher, new_key
from tests.helpers import all_at_once
from tests.sandbox.oauth_support import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, redirect_query, web

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
COOKIE = "slack-app-oauth-state"
TEAM = "T0PROVID"
TOKEN_SHAPES = re.compile("xox" + "[bpe]-|xox" + "e|xa" + "pp-")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox() as sb:
        build_demo_world(sb)
        yield sb


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(engine: Engine) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=TokenCipher([new_key()]))


@pytest.fixture
def flow(sandbox: SlackSandbox, store: EncryptedInstallationStore, engine: Engine, clock: Clock) -> OAuthFlow:
    settings = OAuthSettings(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=["commands", "chat:write"],
        redirect_uri=REDIRECT_URI,
        installation_store=store,
        state_store=OnceOAuthStateStore(engine, clock=clock),
    )
    return OAuthFlow(client=WebClient(base_url=sandbox.api_url, timeout=10), settings=settings)


def callback(sandbox: SlackSandbox, flow: OAuthFlow, state: str | None, cookie: str | None) -> BoltResponse:
    """The person clicked Allow; their browser comes back with Slack's code, ``state`` and the ``cookie`` it holds."""
    location = sandbox.approve_install(TEAM, redirect_uri=REDIRECT_URI, scope="commands,chat:write")
    query = {"code": redirect_query(location)["code"]}
    if state is not None:
        query["state"] = state
    headers = {"cookie": f"{COOKIE}={cookie}"} if cookie is not None else {}
    return flow.handle_callback(BoltRequest(body="", query=query, headers=headers))


def installations(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(SlackInstallation)).scalar_one())


def test_a_callback_with_its_state_installs_the_app_encrypted(
    sandbox: SlackSandbox, flow: OAuthFlow, store: EncryptedInstallationStore, engine: Engine
) -> None:
    state = flow.issue_new_state(BoltRequest(body=""))
    answer = callback(sandbox, flow, state, state)
    assert answer.status == 200, answer.body
    bot = store.find_bot(enterprise_id=None, team_id=TEAM)
    assert bot is not None and bot.bot_user_id == "U0PROVIDBOT" and bot.bot_scopes == ["commands", "chat:write"]
    assert web(sandbox, bot.bot_token or "").auth_test()["team_id"] == TEAM
    with engine.connect() as conn:
        stored = conn.execute(select(SlackInstallation.bot_token, SlackInstallation.user_id)).one()
    assert not TOKEN_SHAPES.search(stored.bot_token) and stored.user_id == "U0PLEAD"


@pytest.mark.parametrize(
    ("state", "cookie", "status", "reason"),
    [
        (None, None, 400, "invalid_browser"),  # no state at all
        ("issued", "another-state", 400, "invalid_browser"),  # the state is not this browser's
        ("issued", None, 400, "invalid_browser"),  # no cookie
        ("forged", "forged", 401, "invalid_state"),  # never issued here
    ],
    ids=["missing", "foreign-cookie", "no-cookie", "never-issued"],
)
def test_a_callback_without_its_own_state_is_refused(
    sandbox: SlackSandbox, flow: OAuthFlow, engine: Engine, state: str | None, cookie: str | None, status: int, reason: str
) -> None:
    issued = flow.issue_new_state(BoltRequest(body=""))
    answer = callback(sandbox, flow, issued if state == "issued" else state, cookie)
    assert answer.status == status and reason in answer.body
    assert installations(engine) == 0


def test_an_expired_or_reused_state_is_refused(sandbox: SlackSandbox, flow: OAuthFlow, engine: Engine, clock: Clock) -> None:
    used, late = flow.issue_new_state(BoltRequest(body="")), flow.issue_new_state(BoltRequest(body=""))
    assert callback(sandbox, flow, used, used).status == 200
    again = callback(sandbox, flow, used, used)
    assert again.status == 401 and "invalid_state" in again.body
    clock.now = NOW + timedelta(seconds=601)
    expired = callback(sandbox, flow, late, late)
    assert expired.status == 401 and "invalid_state" in expired.body
    assert installations(engine) == 1


def test_two_callbacks_racing_with_one_state_make_one_installation(
    sandbox: SlackSandbox, flow: OAuthFlow, engine: Engine
) -> None:
    state = flow.issue_new_state(BoltRequest(body=""))
    statuses = sorted(answer.status for answer in all_at_once(4, lambda: callback(sandbox, flow, state, state)))
    assert statuses == [200, 401, 401, 401]
    assert installations(engine) == 1
