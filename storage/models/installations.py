"""A distributed app's installations (issue 15): each workspace's OAuth installation, its bot, and the OAuth
``state`` values handed to Slack while an install is under way.

The tables carry slack_sdk's own column names and index names (``slack_sdk.oauth.installation_store.sqlalchemy``
and ``state_store.sqlalchemy``), so its stores' queries run on them; every token column (bot, user, refresh tokens
and the incoming webhook's URL) is ``Text``: it holds ciphertext (``storage.token_cipher``), longer than slack_sdk's
200 characters. Times are UTC-aware as everywhere else in the schema; ``storage.installation_store`` converts.
A reinstall (more scopes, a rotated token) adds a row: the newest by ``installed_at`` is the one in use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.models.columns import PrimaryId


class SlackInstallation(Base):
    """One completed OAuth install of the app: who installed it where, with which scopes and (encrypted) tokens."""

    __tablename__ = "slack_installations"
    __table_args__ = (Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),)

    id: Mapped[PrimaryId]
    client_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    enterprise_url: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(String(32))
    team_name: Mapped[str | None] = mapped_column(String(200))
    bot_token: Mapped[str | None] = mapped_column(Text)
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_scopes: Mapped[str | None] = mapped_column(String(1000))
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)
    bot_token_expires_at: Mapped[datetime | None]
    user_id: Mapped[str] = mapped_column(String(32))
    user_token: Mapped[str | None] = mapped_column(Text)
    user_scopes: Mapped[str | None] = mapped_column(String(1000))
    user_refresh_token: Mapped[str | None] = mapped_column(Text)
    user_token_expires_at: Mapped[datetime | None]
    incoming_webhook_url: Mapped[str | None] = mapped_column(Text)
    incoming_webhook_channel: Mapped[str | None] = mapped_column(String(200))
    incoming_webhook_channel_id: Mapped[str | None] = mapped_column(String(200))
    incoming_webhook_configuration_url: Mapped[str | None] = mapped_column(String(200))
    is_enterprise_install: Mapped[bool] = mapped_column(default=False, server_default=false())
    token_type: Mapped[str | None] = mapped_column(String(32))
    installed_at: Mapped[datetime]


class SlackBot(Base):
    """The app's bot in a workspace as one install (or one token refresh) left it; the newest row is in use."""

    __tablename__ = "slack_bots"
    __table_args__ = (Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),)

    id: Mapped[PrimaryId]
    client_id: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    enterprise_name: Mapped[str | None] = mapped_column(String(200))
    team_id: Mapped[str | None] = mapped_column(String(32))
    team_name: Mapped[str | None] = mapped_column(String(200))
    bot_token: Mapped[str | None] = mapped_column(Text)
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_scopes: Mapped[str | None] = mapped_column(String(1000))
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)
    bot_token_expires_at: Mapped[datetime | None]
    is_enterprise_install: Mapped[bool] = mapped_column(default=False, server_default=false())
    installed_at: Mapped[datetime]


class SlackOAuthState(Base):
    """An OAuth ``state`` handed to Slack at the start of an install: good once, until ``expire_at``."""

    __tablename__ = "slack_oauth_states"
    __table_args__ = (UniqueConstraint("state"),)

    id: Mapped[PrimaryId]
    state: Mapped[str] = mapped_column(String(200))
    expire_at: Mapped[datetime] = mapped_column(index=True)
