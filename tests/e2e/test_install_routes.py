"""The install's web pages over HTTP in OAuth mode (check 23 through the real routes): the install page says what
the app does and links the privacy note; a callback whose state is missing, foreign, reused or cancelled installs
nothing and says why; the privacy note is served in both modes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from html import unescape

import pytest

from bot.harness import LocalStack, get_page, install_through_browser
from tests.oauth_support import Later, start_oauth_stack

SCOPES = ("commands", "chat:write", "channels:read", "groups:read", "users:read", "pins:write", "files:write")


@pytest.fixture
def oauth(database_url: str) -> Iterator[LocalStack]:
    with closing(start_oauth_stack(database_url, Later())) as stack:
        yield stack


def _installed_teams(stack: LocalStack) -> list[str]:
    store = stack.services.oauth.installation_store if stack.services.oauth else None
    assert store is not None
    return [t for t in (stack.world.client_team, stack.world.provider_team) if store.find_bot(enterprise_id=None, team_id=t)]


def test_the_install_page_says_what_the_app_does_and_links_the_privacy_note(oauth: LocalStack) -> None:
    status, headers, page = get_page(f"{oauth.base_url}/slack/install")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "outsourcing client and its service provider" in page
    assert '<a href="/privacy">privacy note</a>' in page
    for scope in SCOPES:
        assert f"<code>{scope}</code>" in page
    assert "slack-app-oauth-state=" in headers["Set-Cookie"]
    status, _, privacy = get_page(f"{oauth.base_url}/privacy")
    assert status == 200 and "encrypted" in privacy and "Uninstalling" in privacy


def test_a_callback_without_a_valid_state_installs_nothing_and_says_why(oauth: LocalStack) -> None:
    base, sb, w = oauth.base_url, oauth.sandbox, oauth.world
    _, headers, page = get_page(f"{base}/slack/install")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    authorize = unescape(re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page).group(1))  # type: ignore[union-attr]
    state = re.search(r"state=([^&]+)", authorize).group(1)  # type: ignore[union-attr]
    redirect = f"{base}/slack/oauth_redirect"
    cases = {
        "no state": (f"{redirect}?code=x", cookie, 400),  # Bolt checks the browser's cookie before the state
        "another browser": (f"{redirect}?code=x&state={state}", "", 400),
        "a state never issued": (f"{redirect}?code=x&state=forged", "slack-app-oauth-state=forged", 401),
    }
    for case, (url, with_cookie, expected) in cases.items():
        status, _, answer = get_page(url, with_cookie)
        assert status == expected and "PartnerPulse was not installed" in answer, case
    # The person clicks Cancel on Slack's page.
    status, _, answer = get_page(sb.deny_install(redirect_uri=redirect, state=state), cookie)
    assert "cancelled" in answer
    assert _installed_teams(oauth) == []
    # The same state used twice: the first callback installs, the second is refused.
    first = sb.approve_install(w.client_team, redirect_uri=redirect, state=state)
    assert "is installed in" in get_page(first, cookie)[2]
    again = sb.approve_install(w.provider_team, redirect_uri=redirect, state=state)
    status, _, answer = get_page(again, cookie)
    assert status == 401 and "expired or was already used" in answer
    assert _installed_teams(oauth) == [w.client_team]


def test_an_install_through_the_browser_records_the_workspace(oauth: LocalStack) -> None:
    page = install_through_browser(oauth.base_url, team_id=oauth.world.provider_team)
    assert "PartnerPulse is installed in Contoso Services" in page
    assert _installed_teams(oauth) == [oauth.world.provider_team]
    with oauth.services.uow_factory() as uow:
        ws = uow.workspaces.get_by_team(oauth.world.provider_team)
        assert ws is not None and ws.sending_enabled and ws.uninstalled_at is None
