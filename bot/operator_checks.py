"""Start-up checks for the command line: is the database there, does Slack answer and accept the token?

Each check fails with an :class:`OperatorError` whose ``str()`` is one plain line for the operator (no traceback,
no retry logs, never a password), so ``partnerpulse`` can print it and exit with code 2 before starting anything.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import socket
import ssl
from urllib.error import URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.slack_client import CLIENT_TIMEOUT_SECONDS, ErrorKind, classify, error_code
from storage.db import normalise_url

#: How long a start-up check waits for the database or Slack to answer before saying it cannot reach it.
CHECK_TIMEOUT_SECONDS = CLIENT_TIMEOUT_SECONDS


class OperatorError(Exception):
    """Something the operator must fix before the command can run. ``str()`` is one line."""


def shown_url(url: str) -> str:
    """A database URL fit to print: the password (if any) replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "DATABASE_URL (not a valid database URL)"


def check_database(url: str, *, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """Open one connection to the database at ``url`` and close it.

    Raises:
        OperatorError: the URL is malformed, a SQLite file's folder does not exist, or the database cannot be
            reached or opened (refused, unknown host, timeout, authentication, no such database).
    """
    shown = shown_url(url)
    try:
        parsed = make_url(normalise_url(url))
    except (ArgumentError, ValueError):
        raise OperatorError(
            "DATABASE_URL is not a valid database URL: use e.g. sqlite:///partnerpulse.db or postgresql://user@host/db"
        ) from None
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite and (folder := _missing_sqlite_folder(parsed)) is not None:
        raise OperatorError(f"cannot open the database at {shown} (folder {folder} does not exist)")
    connect_args: dict[str, object] = {} if sqlite else {"connect_timeout": max(1, round(timeout))}
    try:
        engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    except (ArgumentError, ImportError) as exc:
        raise OperatorError(f"cannot use the database at {shown} ({exc})") from None
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        verb = "open" if sqlite else "reach"
        raise OperatorError(f"cannot {verb} the database at {shown} ({_database_reason(exc, parsed)})") from None
    finally:
        engine.dispose()


def _missing_sqlite_folder(url: URL) -> str | None:
    """The folder of a SQLite file that does not exist (None for in-memory databases and existing folders)."""
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    folder = os.path.dirname(os.path.abspath(path))
    return None if os.path.isdir(folder) else folder


def _database_reason(exc: SQLAlchemyError, url: URL) -> str:
    """The driver's own words, shortened to their first line (``connection refused``, ``timeout expired``...)."""
    raw = str(getattr(exc, "orig", None) or exc).strip()
    text = raw.splitlines()[0] if raw else ""
    text = re.sub(r"^.*failed: ", "", text)  # psycopg: 'connection failed: connection to server at ... failed: X'
    text = re.sub(r"^(FATAL|ERROR):\s*", "", text)
    text = re.sub(r"\[Errno -?\d+\]\s*", "", text).strip()
    if url.password:
        text = text.replace(str(url.password), "***")
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text or type(exc).__name__


def check_slack(token: str, api_url: str, *, timeout: float = CHECK_TIMEOUT_SECONDS) -> None:
    """One ``auth.test`` call, with no connection retries or log lines, telling "cannot reach" from "rejected".

    Raises:
        OperatorError: Slack could not be reached (DNS, refused, timeout, TLS), rejected the token, or answered
            with another error.
    """
    # No connection or server-error retries (they would only delay the one line, with log lines); a 429 is waited out
    # once, since it says nothing about the token or the network.
    client = WebClient(
        token=token,
        base_url=api_url,
        timeout=int(max(1, timeout)),
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
        logger=_quiet(),
    )
    try:
        client.auth_test()
    except SlackApiError as exc:
        code = error_code(exc)
        if classify(code) is ErrorKind.AUTH:
            raise OperatorError(f"Slack rejected SLACK_BOT_TOKEN ({code}) at {api_url}: check the token") from None
        status = getattr(exc.response, "status_code", None)
        if isinstance(status, int) and status >= 500:
            raise OperatorError(f"cannot reach Slack at {api_url} (it answered HTTP {status}; try again later)") from None
        if not re.fullmatch(r"[a-z0-9_.]+", code):  # not a Web API answer at all (e.g. a web page's 404)
            raise OperatorError(f"{api_url} gave no Slack Web API answer (HTTP {status}): check SLACK_API_URL") from None
        raise OperatorError(f"Slack at {api_url} answered auth.test with an error ({code}, HTTP {status})") from None
    except (URLError, OSError, http.client.HTTPException) as exc:
        raise OperatorError(f"cannot reach Slack at {api_url} ({_network_reason(exc, api_url, timeout)})") from None


def _network_reason(exc: BaseException, api_url: str, timeout: float) -> str:
    reason: object = exc.reason if isinstance(exc, URLError) else exc
    host = urlsplit(api_url).hostname or api_url
    if isinstance(reason, socket.gaierror):
        return f"cannot resolve the host name {host}"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {reason.reason or reason}"
    if isinstance(reason, ConnectionResetError):
        return "connection reset"
    if isinstance(reason, http.client.HTTPException):
        return f"bad HTTP answer: {reason or type(reason).__name__}"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[0].lower() + reason.strerror[1:]
    return str(reason) or type(reason).__name__


def _quiet() -> logging.Logger:
    """A logger for the check's client that prints nothing: the check reports its failure itself, in one line."""
    quiet = logging.getLogger(f"{__name__}.slack")
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    return quiet
