"""The WebClient, built once with retry handlers, and how Slack's error codes are treated."""

from __future__ import annotations

import logging
from enum import Enum

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

logger = logging.getLogger(__name__)

#: The ack window is 3 s; a Web API call that hangs for the SDK's default 30 s would hold a worker thread.
CLIENT_TIMEOUT_SECONDS = 10


def make_web_client(token: str | None, base_url: str, *, rate_limit_retries: int = 3) -> WebClient:
    """A WebClient that waits out 429s (``Retry-After``), and retries connection resets and 5xx answers."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=CLIENT_TIMEOUT_SECONDS,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


#: Calls whose fields or answers are secrets (OAuth's code exchange, a token refresh) log through this logger, never
#: at DEBUG: slack_sdk logs a call's fields and Slack's whole answer there (the client secret, the new tokens).
SECRET_CALLS_LOGGER = logging.getLogger(__name__ + ".secret_calls")
SECRET_CALLS_LOGGER.setLevel(logging.INFO)


def make_secret_calls_client(base_url: str) -> WebClient:
    """A WebClient for OAuth's calls (``oauth.v2.access``): quiet at DEBUG, and without retries, since a code or a
    refresh token works once and a retry after a lost answer would spend it twice."""
    return WebClient(base_url=base_url, timeout=CLIENT_TIMEOUT_SECONDS, retry_handlers=[], logger=SECRET_CALLS_LOGGER)


class ErrorKind(Enum):
    """What a Slack error means for PartnerPulse."""

    CHANNEL_GONE = "channel"  # pause this partnership
    AUTH = "auth"  # stop sending for this workspace
    RATE_LIMITED = "rate"  # wait and retry
    RECIPIENT_GONE = "recipient"  # drop this one message
    OTHER = "other"  # retry a few times, then give up on this message


_KINDS = {
    "channel_not_found": ErrorKind.CHANNEL_GONE,
    "is_archived": ErrorKind.CHANNEL_GONE,
    "not_in_channel": ErrorKind.CHANNEL_GONE,
    "invalid_auth": ErrorKind.AUTH,
    "account_inactive": ErrorKind.AUTH,
    "token_revoked": ErrorKind.AUTH,
    "token_expired": ErrorKind.AUTH,
    "not_authed": ErrorKind.AUTH,
    "ratelimited": ErrorKind.RATE_LIMITED,
    "user_not_in_channel": ErrorKind.RECIPIENT_GONE,
    "user_not_found": ErrorKind.RECIPIENT_GONE,
    "message_not_found": ErrorKind.RECIPIENT_GONE,
    "cant_update_message": ErrorKind.RECIPIENT_GONE,
}


def error_code(exc: SlackApiError) -> str:
    """Slack's error code from an exception (``unknown`` if the body has none)."""
    try:
        return str(exc.response.get("error") or "unknown")
    except Exception:  # noqa: BLE001 - a malformed body must not hide the original failure
        return "unknown"


def classify(code: str) -> ErrorKind:
    return _KINDS.get(code, ErrorKind.OTHER)


def retry_after_seconds(exc: SlackApiError, default: float = 1.0) -> float:
    """``Retry-After`` of a 429, in seconds."""
    headers = getattr(exc.response, "headers", {}) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                return default
    return default
