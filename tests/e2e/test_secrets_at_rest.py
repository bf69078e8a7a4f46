"""Secrets at rest and in logs (check 26), in both modes.

Single-workspace mode: the bot token, the signing secret and the anonymity key live in the settings alone
(``SecretStr``). OAuth mode: both organisations install through ``/slack/install``, their rotating tokens are stored
encrypted and refreshed once. After a full flow (setup, a member event, a pulse round answered, reminded and closed,
an issue logged and escalated, the digest) with every logger at DEBUG, neither the captured logs nor a dump of the
whole database hold any secret, nor anything token-shaped.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta

import pytest
from sqlalchemy import MetaData, func, select

from bot.harness import LocalStack
from storage.models import SlackBot
from tests.conftest import START
from tests.helpers import answer_pulse, log_issue, setup_partnership, wait_for
from tests.oauth_support import Later, install_both, start_oauth_stack

PULSE_AT = START.replace(hour=14, minute=0)
#: Slack's token prefixes (bot, user, app-level, refresh/rotating), written so that this file holds none.
TOKEN_SHAPES = re.compile("xox" + "[bpe]-|xox" + "e|xa" + "pp-")


@pytest.fixture(autouse=True)
def every_log_record(caplog: pytest.LogCaptureFixture) -> None:
    """DEBUG for every logger, set before the stack's app is built (Bolt copies the root level into its loggers)."""
    caplog.set_level(logging.DEBUG)


def _full_flow(stack: LocalStack) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    sb.add_user("U0PNEW26", w.provider_team, "new.member", "New Member", tz="Europe/Berlin")
    assert sb.member_joined(w.channel, "U0PNEW26").status == 200
    assert stack.tick(PULSE_AT).opened == 1
    for person in (w.client_members[0], w.provider_members[0]):
        answer_pulse(stack, person, 4, {0: "Good week, thanks."})
    stack.tick(PULSE_AT + timedelta(hours=24, minutes=1))  # the reminder
    stack.tick(PULSE_AT + timedelta(hours=48, minutes=1))  # the close and the results
    log_issue(stack, w.client_lead, "Invoices arrive late")
    stack.tick(PULSE_AT + timedelta(days=6))  # escalations due, the weekly digest
    stack.settle()
    wait_for(lambda: sb.calls_to("chat.update"), what="the closed round's update")


def _secrets(stack: LocalStack) -> dict[str, str]:
    s = stack.settings
    names = ("slack_signing_secret", "secret_key")
    names += ("slack_client_secret", "token_keys") if s.oauth_enabled else ("slack_bot_token",)
    return {name: s.secret(name) for name in names}


def _database_text(stack: LocalStack) -> str:
    """Every row of every table the database holds (reflected: also tables outside the models), as text; on SQLite
    also the file's full SQL dump."""
    engine = stack.services.engine
    tables = MetaData()
    tables.reflect(bind=engine)
    assert len(tables.tables) > 10, sorted(tables.tables)
    parts: list[str] = []
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            parts.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    if engine.dialect.name == "sqlite":
        raw = sqlite3.connect(str(engine.url.database))
        try:
            parts.extend(raw.iterdump())
        finally:
            raw.close()
    return "\n".join(parts)


def test_26_no_secret_or_token_shaped_string_in_the_logs_or_the_database_after_a_full_flow(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # again: pytest resets the capture handler's level when the test's call begins
    _full_flow(stack)
    stored = _database_text(stack)
    assert "Invoices arrive late" in stored, "the flow wrote its rows"
    # Slack's SDK logs each request at DEBUG (with its Authorization header redacted): those lines were captured.
    assert any(r.name.startswith("slack_sdk") and r.levelno == logging.DEBUG for r in caplog.records)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    assert len(caplog.records) > 100, "the flow logged at DEBUG"
    for where, text in (("logs", logged), ("database", stored)):
        for name, secret in _secrets(stack).items():
            assert secret not in text, f"{name} in the {where}"
        found = TOKEN_SHAPES.findall(text)
        assert not found, f"token-shaped strings in the {where}: {found[:3]}"


@pytest.fixture
def oauth_stack(database_url: str) -> Iterator[tuple[LocalStack, Later]]:
    later = Later()
    with closing(start_oauth_stack(database_url, later)) as stack:
        yield stack, later


def test_26_oauth_tokens_are_encrypted_at_rest_and_never_logged_through_install_refresh_and_a_full_flow(
    oauth_stack: tuple[LocalStack, Later], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stack, ahead = oauth_stack
    w, sb = stack.world, stack.sandbox
    install_both(stack)
    issued = [sb.installation_of(team) for team in (w.client_team, w.provider_team)]
    ahead.advance(timedelta(hours=11))  # both tokens now expire within the refresh window: the flow refreshes them
    refreshes = sb.refreshes
    _full_flow(stack)
    assert sb.refreshes >= refreshes + 1
    current = [sb.installation_of(team) for team in (w.client_team, w.provider_team)]
    tokens = {i.bot_token for i in issued + current} | {i.refresh_token or "" for i in issued + current} - {""}
    assert len(tokens) >= 5, "two installs' tokens and refresh tokens, and at least one refresh's"
    stored = _database_text(stack)
    assert "Invoices arrive late" in stored, "the flow wrote its rows"
    with stack.services.engine.connect() as conn:
        bots = conn.execute(select(func.count()).select_from(SlackBot.__table__)).scalar_one()
    assert bots == 2, "each organisation's install is stored (a refresh updates its row)"
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    assert any(r.name.startswith("slack_sdk") and r.levelno == logging.DEBUG for r in caplog.records)
    for where, text in (("logs", logged), ("database", stored)):
        for token in tokens:
            assert token not in text, f"a Slack token in the {where}"
        for name, secret in _secrets(stack).items():
            assert secret not in text, f"{name} in the {where}"
        found = TOKEN_SHAPES.findall(text)
        assert not found, f"token-shaped strings in the {where}: {found[:3]}"
