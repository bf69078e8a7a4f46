"""The installation store (issue 15): tokens encrypted at rest, the newest install used, saves inside a caller's
transaction, and ``partnerpulse keys`` re-encrypting them (checks 24 and 26)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import Engine, MetaData, select

from bot.cli import main
from storage.installation_store import EncryptedInstallationStore
from storage.token_cipher import TokenCipher, new_key

CLIENT_ID = "1111.2222"
TEAM = "T0INSTALL"
#: With microseconds, as Bolt stamps an install (time.time()): a refreshed bot must still find its install.
INSTALLED = datetime(2026, 12, 1, 9, 0, 0, 123457, tzinfo=UTC)
#: Slack's token prefixes, written so that this file holds none.
TOKEN_SHAPES = re.compile("xox" + "[bpe]-|xox" + "e|xa" + "pp-")
WEBHOOK = "https://hooks.slack.com/services/T0INSTALL/B0HOOK/" + "webhook-secret-part"
KEY = new_key()


def bot_token(n: int) -> str:
    return "xox" + "e.xox" + f"b-1-install-{n}"


def installation(n: int, *, at: datetime = INSTALLED, scopes: str = "chat:write", team: str = TEAM) -> Installation:
    """The ``n``th install of the app in ``team``: its tokens all name ``n``."""
    return Installation(
        app_id="A0APP",
        enterprise_id=None,
        team_id=team,
        team_name="Northwind",
        bot_token=bot_token(n),
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_scopes=scopes,
        bot_refresh_token="xox" + f"e-1-refresh-{n}",
        bot_token_expires_at=int((at + timedelta(hours=12)).timestamp()),
        user_id="U0INSTALLER",
        user_token="xox" + f"p-user-{n}",
        user_scopes="identify",
        user_refresh_token="xox" + f"e-1-user-refresh-{n}",
        incoming_webhook_url=WEBHOOK,
        incoming_webhook_channel="#general",
        incoming_webhook_channel_id="C0GENERAL",
        installed_at=at.timestamp(),
    )


@pytest.fixture
def store(engine: Engine) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=TokenCipher([KEY]))


def raw_rows(engine: Engine) -> str:
    """Every stored row of the installation tables, as the database holds it (reflected, no decryption)."""
    tables = MetaData()
    tables.reflect(bind=engine, only=["slack_installations", "slack_bots"])
    with engine.connect() as conn:
        return "\n".join(str(row) for table in tables.sorted_tables for row in conn.execute(select(table)).all())


def test_tokens_are_stored_encrypted_and_found_decrypted(store: EncryptedInstallationStore, engine: Engine) -> None:
    store.save(installation(1))
    dump = raw_rows(engine)
    assert dump.count("Northwind") == 2, "one installation row and one bot row"
    assert not TOKEN_SHAPES.search(dump), "no token-shaped text at rest"
    assert "webhook-secret-part" not in dump and "hooks.slack.com" not in dump
    found = store.find_installation(enterprise_id=None, team_id=TEAM)
    assert found is not None
    assert (found.bot_token, found.bot_refresh_token) == (bot_token(1), "xox" + "e-1-refresh-1")
    assert (found.user_token, found.user_refresh_token) == ("xox" + "p-user-1", "xox" + "e-1-user-refresh-1")
    assert found.incoming_webhook_url == WEBHOOK and found.installed_at == INSTALLED.timestamp()
    assert found.bot_token_expires_at == int(INSTALLED.timestamp()) + 12 * 3600
    bot = store.find_bot(enterprise_id=None, team_id=TEAM)
    assert bot is not None and (bot.bot_token, bot.bot_scopes) == (bot_token(1), ["chat:write"])
    other_key = EncryptedInstallationStore(client_id=CLIENT_ID, engine=engine, cipher=TokenCipher([new_key()]))
    with pytest.raises(Exception, match="opens with none of the token keys"):
        other_key.find_bot(enterprise_id=None, team_id=TEAM)


def test_a_reinstall_with_more_scopes_is_used_from_then_on(store: EncryptedInstallationStore) -> None:
    later = INSTALLED + timedelta(days=3)
    # Saved newest first: the one in use is the newest by installed_at, not the last written.
    store.save(installation(2, at=later, scopes="chat:write,users:read,channels:read"))
    store.save(installation(1))
    bot = store.find_bot(enterprise_id=None, team_id=TEAM)
    assert bot is not None and bot.bot_token == bot_token(2)
    assert bot.bot_scopes == ["chat:write", "users:read", "channels:read"]
    found = store.find_installation(enterprise_id=None, team_id=TEAM)
    assert found is not None and found.bot_token == bot_token(2) and found.installed_at == later.timestamp()
    mine = store.find_installation(enterprise_id=None, team_id=TEAM, user_id="U0INSTALLER")
    assert mine is not None and mine.user_token == "xox" + "p-user-2"
    assert store.find_bot(enterprise_id=None, team_id="T0ELSEWHERE") is None


def test_saving_the_same_install_again_updates_it(store: EncryptedInstallationStore, engine: Engine) -> None:
    store.save(installation(1))
    store.save(installation(3))  # same workspace and installed_at: the same install, told again
    with engine.connect() as conn:
        counts = [conn.execute(select(table.c.id)).all() for table in (store.installations, store.bots)]
    assert [len(rows) for rows in counts] == [1, 1]
    bot = store.find_bot(enterprise_id=None, team_id=TEAM)
    assert bot is not None and bot.bot_token == bot_token(3)


def test_delete_bot_and_installation(store: EncryptedInstallationStore) -> None:
    store.save(installation(1))
    store.save(installation(1, team="T0OTHER"))
    store.delete_bot(enterprise_id=None, team_id=TEAM)
    store.delete_installation(enterprise_id=None, team_id=TEAM)
    assert store.find_bot(enterprise_id=None, team_id=TEAM) is None
    assert store.find_installation(enterprise_id=None, team_id=TEAM) is None
    assert store.find_bot(enterprise_id=None, team_id="T0OTHER") is not None, "another workspace keeps its install"


def test_a_bot_saved_in_a_callers_transaction_commits_with_it(store: EncryptedInstallationStore, engine: Engine) -> None:
    store.save(installation(1))
    bot = store.find_bot(enterprise_id=None, team_id=TEAM)
    assert bot is not None
    bot.bot_token, bot.bot_refresh_token = bot_token(9), "xox" + "e-1-refresh-9"

    class Undo(Exception):
        pass

    with pytest.raises(Undo), engine.begin() as conn:
        store.save_bot_in(conn, bot)
        inside = store.find_bot_in(conn, enterprise_id=None, team_id=TEAM)
        assert inside is not None and inside.bot_token == bot_token(9)
        raise Undo
    kept = store.find_bot(enterprise_id=None, team_id=TEAM)
    assert kept is not None and kept.bot_token == bot_token(1), "rolled back with the caller's transaction"

    with engine.begin() as conn:
        store.save_bot_in(conn, bot)
    found = store.find_installation(enterprise_id=None, team_id=TEAM)
    assert found is not None and (found.bot_token, found.bot_refresh_token) == (bot_token(9), "xox" + "e-1-refresh-9")
    assert found.user_token == "xox" + "p-user-1", "the installation's other tokens stay"
    assert not TOKEN_SHAPES.search(raw_rows(engine))


# --- partnerpulse keys ------------------------------------------------------------------------------------------


@pytest.fixture
def cli_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> pytest.MonkeyPatch:
    """Only the database's settings (no PartnerPulse variable of the machine, no ``.env``); set more on it."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PARTNERPULSE_", "DATABASE_URL", "PORT")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PARTNERPULSE_LOG_LEVEL", "WARNING")
    return monkeypatch


@pytest.fixture
def keys_rotate(
    cli_environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], tuple[int, str, str]]:
    """``partnerpulse keys rotate`` with PARTNERPULSE_TOKEN_KEYS set to its argument: (exit code, stdout, stderr)."""

    def run(keys: str) -> tuple[int, str, str]:
        cli_environment.setenv("PARTNERPULSE_TOKEN_KEYS", keys)
        code = main(["keys", "rotate"])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_keys_rotate_reencrypts_every_token_with_the_first_key(
    store: EncryptedInstallationStore, keys_rotate: Callable[[str], tuple[int, str, str]]
) -> None:
    store.save(installation(1))
    store.save(installation(2, at=INSTALLED + timedelta(days=1)))
    newer = new_key()
    # Two installs: 5 secrets on each installation row (bot, bot refresh, user, user refresh, webhook), 2 on each bot.
    assert keys_rotate(f"{newer},{KEY}") == (0, "re-encrypted 14 stored token(s) with the first key\n", "")
    only_new = EncryptedInstallationStore(client_id=CLIENT_ID, engine=store.engine, cipher=TokenCipher([newer]))
    found = only_new.find_installation(enterprise_id=None, team_id=TEAM)
    assert found is not None and (found.bot_token, found.incoming_webhook_url) == (bot_token(2), WEBHOOK)
    with pytest.raises(Exception, match="opens with none"):
        store.find_bot(enterprise_id=None, team_id=TEAM)  # the old key alone no longer opens them


def test_keys_rotate_without_the_old_key_changes_nothing(
    store: EncryptedInstallationStore, keys_rotate: Callable[[str], tuple[int, str, str]]
) -> None:
    store.save(installation(1))
    before = raw_rows(store.engine)
    stranger = new_key()
    code, out, err = keys_rotate(stranger)
    assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1
    assert err.startswith("partnerpulse keys rotate: a stored token opens with none of the token keys; nothing was changed")
    assert stranger not in err and KEY not in err
    assert raw_rows(store.engine) == before


def test_keys_new_prints_a_key_the_cipher_takes(
    cli_environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "new"]) == 0
    key = capsys.readouterr().out.strip()
    assert len(key) == 44 and TokenCipher([key]).decrypt(TokenCipher([key]).encrypt("x")) == "x"
    assert main(["keys", "new"]) == 0
    assert capsys.readouterr().out.strip() != key


def test_keys_rotate_needs_the_keys(cli_environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "rotate"]) == 2
    assert capsys.readouterr().err.startswith("partnerpulse: Missing setting: set PARTNERPULSE_TOKEN_KEYS (")
