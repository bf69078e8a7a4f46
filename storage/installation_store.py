"""Each workspace's installation and bot, with their tokens encrypted at rest (issue 15).

``EncryptedInstallationStore`` is slack_sdk's ``SQLAlchemyInstallationStore`` (what Bolt's OAuth flow saves an
install into and finds a workspace's token in) on the tables migration 0013 creates, with every token and the
incoming webhook's URL stored as ciphertext (``storage.token_cipher``): a database dump shows no token. The newest
row by ``installed_at`` is the one in use, as in slack_sdk: a reinstall with more scopes wins from then on.

Lookups read without taking SQLite's write lock (they sit on the request path). ``find_bot_in`` and
``save_bot_in`` work inside a caller's transaction: the token refresh re-reads and saves a bot under the
workspace's lock (``storage.bot_refresh``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import ColumnElement, Connection, Engine, Table, and_, desc, select, update

from storage.base import Base
from storage.db import READ_ONLY
from storage.models import SlackBot, SlackInstallation
from storage.oauth_state_store import OnceOAuthStateStore
from storage.token_cipher import TokenCipher

#: The two stores Bolt's OAuth flow is given, importable together (the state store lives in its own module).
__all__ = ["EncryptedInstallationStore", "OnceOAuthStateStore", "reencrypt_tokens"]

#: The columns of a bot row holding a secret.
BOT_SECRETS = ("bot_token", "bot_refresh_token")
#: The columns of an installation row holding a secret (the webhook's URL is one: it lets anyone post).
INSTALLATION_SECRETS = (*BOT_SECRETS, "user_token", "user_refresh_token", "incoming_webhook_url")
#: What a refreshed bot changes in the installation it came from.
BOT_TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "bot_token_expires_at")


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's installation store with tokens encrypted by ``cipher``; the tables are the migrations'."""

    def __init__(self, *, client_id: str, engine: Engine, cipher: TokenCipher, logger: logging.Logger | None = None) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=logger or logging.getLogger(__name__))
        self.metadata = Base.metadata
        self.installations = cast(Table, SlackInstallation.__table__)
        self.bots = cast(Table, SlackBot.__table__)
        self.cipher = cipher

    def create_tables(self) -> None:
        raise NotImplementedError("the migrations create the installation tables: run `partnerpulse db upgrade`")

    # --- saving ---------------------------------------------------------------------------------------------

    def save(self, installation: Installation) -> None:
        """Store a completed install and its bot (one transaction): a new row, unless this very install (same
        workspace and ``installed_at``) is stored already, which is then updated."""
        with self.engine.begin() as conn:
            row = self._sealed(installation.to_dict(), self.installations, INSTALLATION_SECRETS)
            self._upsert(conn, self.installations, row)
            self.save_bot_in(conn, installation.to_bot())

    def save_bot(self, bot: Bot) -> None:
        with self.engine.begin() as conn:
            self.save_bot_in(conn, bot)

    def save_bot_in(self, conn: Connection, bot: Bot) -> None:
        """Store ``bot`` on the caller's connection (its transaction commits it). A bot of an install already stored
        (a refreshed token keeps ``installed_at``) updates that install's row and its installation's bot tokens, so
        ``find_installation`` never hands out a refresh token already spent."""
        row = self._sealed(bot.to_dict(), self.bots, BOT_SECRETS)
        self._upsert(conn, self.bots, row)
        c = self.installations.c
        conn.execute(
            update(self.installations)
            .where(self._same_install(self.installations, row), c.bot_id == row["bot_id"])
            .values({name: row[name] for name in BOT_TOKEN_FIELDS})
        )

    def _sealed(self, values: Mapping[str, Any], table: Table, secrets: Sequence[str]) -> dict[str, Any]:
        """The table's columns of ``values`` with the client id set and each secret encrypted."""
        row = {name: values.get(name) for name in table.c.keys() if name != "id"}
        row["client_id"] = self.client_id
        row["is_enterprise_install"] = bool(row.get("is_enterprise_install"))
        for name in secrets:
            if row.get(name) is not None:
                row[name] = self.cipher.encrypt(str(row[name]))
        return row

    def _same_install(self, table: Table, row: Mapping[str, Any]) -> ColumnElement[bool]:
        c = table.c
        return and_(
            c.client_id == self.client_id,
            c.enterprise_id == row.get("enterprise_id"),
            c.team_id == row.get("team_id"),
            c.installed_at == row["installed_at"],
        )

    def _upsert(self, conn: Connection, table: Table, row: dict[str, Any]) -> None:
        found = conn.execute(select(table.c.id).where(self._same_install(table, row)).limit(1)).scalar()
        if found is None:
            conn.execute(table.insert().values(row))
        else:
            conn.execute(table.update().where(table.c.id == found).values(row))

    # --- finding --------------------------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection for reading: no write lock on SQLite, a READ ONLY transaction on PostgreSQL."""
        with self.engine.connect() as conn:
            options: dict[str, Any] = {READ_ONLY: True}
            if conn.dialect.name == "postgresql":
                options["postgresql_readonly"] = True
            yield conn.execution_options(**options)

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        """The workspace's newest bot with a token (decrypted), or None."""
        with self._reading() as conn:
            return self.find_bot_in(
                conn, enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
            )

    def find_bot_in(
        self,
        conn: Connection,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """``find_bot`` on the caller's connection (under its lock, it sees what the lock holder saved)."""
        if is_enterprise_install or team_id is None:
            team_id = None
        c = self.bots.c
        query = (
            select(self.bots)
            .where(
                c.client_id == self.client_id,
                c.enterprise_id == enterprise_id,
                c.team_id == team_id,
                c.bot_token.is_not(None),
            )
            .order_by(desc(c.installed_at), desc(c.id))
            .limit(1)
        )
        row = conn.execute(query).mappings().first()
        return None if row is None else super().build_bot_entity(self._opened(row, BOT_SECRETS))

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's newest installation (``user_id``'s, if given), decrypted. As slack_sdk does, an
        installation without a bot token, or a user's, carries the workspace's newest bot token."""
        if is_enterprise_install or team_id is None:
            team_id = None
        c = self.installations.c
        criteria = [c.client_id == self.client_id, c.enterprise_id == enterprise_id, c.team_id == team_id]
        if user_id is not None:
            criteria.append(c.user_id == user_id)
        query = select(self.installations).where(*criteria).order_by(desc(c.installed_at), desc(c.id)).limit(1)
        with self._reading() as conn:
            row = conn.execute(query).mappings().first()
            if row is None:
                return None
            installation = super().build_installation_entity(self._opened(row, INSTALLATION_SECRETS))
            if user_id is None and installation.bot_token is not None:
                return installation
            bot = self.find_bot_in(
                conn, enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
            )
        if bot is not None and bot.bot_token != installation.bot_token:
            installation.bot_id, installation.bot_user_id = bot.bot_id, bot.bot_user_id
            installation.bot_token, installation.bot_scopes = bot.bot_token, bot.bot_scopes
            installation.bot_refresh_token = bot.bot_refresh_token
            installation.bot_token_expires_at = bot.bot_token_expires_at
        return installation

    def _opened(self, row: Any, secrets: Sequence[str]) -> dict[str, Any]:
        """The row with each secret decrypted (``TokenCipherError`` if no key opens one)."""
        opened = dict(row)
        for name in secrets:
            if opened.get(name) is not None:
                opened[name] = self.cipher.decrypt(opened[name])
        return opened


def reencrypt_tokens(engine: Engine, cipher: TokenCipher) -> int:
    """Encrypt every stored secret again with the first key (after a new key was put first), in one transaction;
    how many values were re-encrypted. ``TokenCipherError`` (nothing changed) if one opens with none of the keys."""
    count = 0
    with engine.begin() as conn:
        for model, secrets in ((SlackInstallation, INSTALLATION_SECRETS), (SlackBot, BOT_SECRETS)):
            table = cast(Table, model.__table__)
            columns = [table.c[name] for name in secrets]
            for row in conn.execute(select(table.c.id, *columns)).mappings().all():
                values = {name: cipher.rotate(row[name]) for name in secrets if row[name] is not None}
                if values:
                    conn.execute(table.update().where(table.c.id == row["id"]).values(values))
                    count += len(values)
    return count
