"""Helpers for the OAuth and installation tests: the authorize page over HTTP, the code exchange with slack_sdk."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.sandbox import SlackSandbox

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
REDIRECT_URI = "https://partnerpulse.example/slack/oauth_redirect"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the test reads the 302's Location itself, as the browser would follow it to the app


def authorize(sandbox: SlackSandbox, **query: str) -> tuple[int, str, str]:
    """GET /oauth/v2/authorize: (status, Location header, body); ``client_id`` and ``redirect_uri`` by default."""
    fields = {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, **query}
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{sandbox.base_url}oauth/v2/authorize?{urlencode(fields)}", timeout=10) as answer:
            return int(answer.status), answer.headers.get("Location", ""), answer.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.headers.get("Location", ""), error.read().decode()


def redirect_query(location: str) -> dict[str, str]:
    """The query fields of a redirect URL."""
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def code_from(sandbox: SlackSandbox, **query: str) -> str:
    """A code issued by the authorize page (the person clicked Allow)."""
    status, location, _ = authorize(sandbox, **query)
    assert status == 302, status
    return redirect_query(location)["code"]


def exchange(sandbox: SlackSandbox, code: str, **extra: Any) -> SlackResponse:
    """oauth.v2.access with the code, as the product calls it (client credentials by HTTP Basic auth)."""
    client = WebClient(base_url=sandbox.api_url, timeout=10)
    fields: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT_URI}
    return client.oauth_v2_access(**{**fields, **extra}, code=code)


def install_by_oauth(sandbox: SlackSandbox, team_id: str, scope: str | None = None) -> SlackResponse:
    """The whole OAuth flow for ``team_id``: authorize page, then the code exchange."""
    query = {"team": team_id, **({"scope": scope} if scope is not None else {})}
    return exchange(sandbox, code_from(sandbox, **query))


def refresh(sandbox: SlackSandbox, refresh_token: str) -> SlackResponse:
    """oauth.v2.access with grant_type=refresh_token."""
    client = WebClient(base_url=sandbox.api_url, timeout=10)
    return client.oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, grant_type="refresh_token", refresh_token=refresh_token
    )


def web(sandbox: SlackSandbox, token: str) -> WebClient:
    """A WebClient with this token."""
    return WebClient(token=token, base_url=sandbox.api_url, timeout=10)


def error_of(call: Callable[..., object], **kwargs: Any) -> str:
    """The Slack error code ``call(**kwargs)`` fails with."""
    with pytest.raises(SlackApiError) as raised:
        call(**kwargs)
    return str(raised.value.response["error"])
