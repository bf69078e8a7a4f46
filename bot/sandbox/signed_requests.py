"""Requests the sandbox sends to the bot: signed like Slack, timed and recorded as deliveries.

:func:`post_signed` signs a body with the app's signing secret as Slack does
(``v0=HMAC-SHA256(secret, "v0:<ts>:<body>")``), POSTs it to ``sandbox.bot_endpoint`` and returns the
bot's answer; :func:`deliver_event` wraps an event in the Events API's ``event_callback`` envelope first.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from slack_sdk.signature import SignatureVerifier

from .models import ActorError, ActorResponse, Delivery, SandboxError

if TYPE_CHECKING:
    from .server import SlackSandbox

Json = dict[str, Any]

REQUEST_TIMEOUT = 10.0


class Signing(TypedDict, total=False):
    """How a request to the bot is signed, for tests of the bot's checks; by default as Slack signs it.

    ``timestamp``: the ``X-Slack-Request-Timestamp`` (default: now); ``signature``: the ``X-Slack-Signature``
    (default: the right one for the body and timestamp); ``headers``: extra headers, set last.
    """

    timestamp: int | str | None
    signature: str | None
    headers: Mapping[str, str] | None


def _opener() -> urllib.request.OpenerDirector:
    # The bot listens on localhost: never route through a proxy from the environment.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_signed(
    sandbox: SlackSandbox,
    body: str,
    content_type: str,
    *,
    kind: str,
    user_id: str | None,
    event_id: str | None = None,
    retry_num: int | None = None,
    **signing: Unpack[Signing],
) -> ActorResponse:
    """Sign ``body`` like Slack and POST it to the bot; returns the bot's answer."""
    if not sandbox.bot_endpoint:
        raise ActorError("sandbox.bot_endpoint is not set: point it at the bot's /slack/events URL")
    # Bolt checks the timestamp against the real clock, so sign with real time even if the sandbox's is fake.
    timestamp = signing.get("timestamp")
    stamp = str(timestamp) if timestamp is not None else str(int(time.time()))
    signature = signing.get("signature")
    if signature is None:
        signature = SignatureVerifier(sandbox.signing_secret).generate_signature(timestamp=stamp, body=body) or ""
    request_headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    request_headers.update(signing.get("headers") or {})
    request = urllib.request.Request(sandbox.bot_endpoint, data=body.encode("utf-8"), headers=request_headers, method="POST")
    started = time.monotonic()
    try:
        with _opener().open(request, timeout=REQUEST_TIMEOUT) as answer:
            status = int(answer.status)
            text = answer.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        status = int(error.code)
        text = error.read().decode("utf-8", errors="replace")
    elapsed = time.monotonic() - started
    parsed: Json | None = None
    if text.strip():
        try:
            decoded = json.loads(text)
            parsed = decoded if isinstance(decoded, dict) else None
        except json.JSONDecodeError:
            parsed = None
    sandbox.record_delivery(
        Delivery(kind=kind, user_id=user_id, status=status, elapsed=elapsed, event_id=event_id, retry_num=retry_num)
    )
    return ActorResponse(status=status, body=text, json=parsed, elapsed=elapsed)


def deliver_event(
    sandbox: SlackSandbox,
    event: Json,
    *,
    event_id: str | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    force: bool = False,
    context: tuple[str, str] | None = None,
    **signing: Unpack[Signing],
) -> ActorResponse:
    """Wrap ``event`` in Slack's ``event_callback`` envelope, sign it and POST it to the bot.

    ``context``: the (team id, bot user id) of the installation it is delivered for (default: the one
    :meth:`~bot.sandbox.app_lifecycle.AppLifecycle.event_context` picks).
    """
    team_id, bot_user = context if context is not None else sandbox.event_context(event)
    kind = str(event.get("type", ""))
    if not force and kind not in sandbox.manifest.bot_events:
        raise ActorError(f"{kind!r} is not in app_manifest.yml's bot_events; Slack would not deliver it")
    inner = dict(event)
    inner.setdefault("event_ts", f"{time.time():.6f}")
    eid = event_id or sandbox.new_event_id()
    shared = False
    channel = inner.get("channel")
    if isinstance(channel, str):
        try:
            shared = sandbox.snapshot_channel(channel).is_ext_shared
        except SandboxError:
            shared = False
    envelope: Json = {
        "token": sandbox.verification_token,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": sandbox.app_id,
        "event": inner,
        "type": "event_callback",
        "event_id": eid,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": shared,
        "event_context": f"4-sandbox-{eid}",
    }
    extra = dict(signing.get("headers") or {})
    if retry_num is not None:
        extra.setdefault("X-Slack-Retry-Num", str(retry_num))
        extra.setdefault("X-Slack-Retry-Reason", retry_reason)
    signing["headers"] = extra
    return post_signed(
        sandbox,
        json.dumps(envelope),
        "application/json",
        kind=f"event:{kind}",
        user_id=None,
        event_id=eid,
        retry_num=retry_num,
        **signing,
    )
