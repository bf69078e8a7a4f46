"""Configuration from the environment and an optional ``.env`` file (pydantic-settings).

No other module reads ``os.environ``. Secrets are ``SecretStr``: they never show in reprs or logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: What each setting is, for the one-line messages shown when one is missing or wrong.
SETTING_HELP: dict[str, str] = {
    "slack_bot_token": "SLACK_BOT_TOKEN (the bot token from OAuth & Permissions, xoxb-...)",
    "slack_app_token": "SLACK_APP_TOKEN (an app-level token with connections:write, xapp-..., for Socket Mode)",
    "slack_signing_secret": "SLACK_SIGNING_SECRET (Basic Information -> Signing Secret, for HTTP mode)",
    "secret_key": "PARTNERPULSE_SECRET_KEY (at least 32 random characters; keys the anonymity hash)",
    "database_url": "DATABASE_URL (e.g. sqlite:///partnerpulse.db or postgresql://user@host/db)",
    "slack_api_url": "SLACK_API_URL (the Web API base URL, e.g. https://slack.com/api/)",
    "default_timezone": "PARTNERPULSE_TIMEZONE (an IANA time zone such as Europe/Berlin)",
}


class SettingsError(Exception):
    """A missing or invalid setting. ``str()`` is one line telling the operator what to set."""


class Settings(BaseSettings):
    """Everything PartnerPulse reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True, populate_by_name=True
    )

    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    secret_key: SecretStr | None = Field(default=None, validation_alias="PARTNERPULSE_SECRET_KEY")
    database_url: str = Field(default="sqlite:///partnerpulse.db", validation_alias="DATABASE_URL")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    default_timezone: str = Field(default="UTC", validation_alias="PARTNERPULSE_TIMEZONE")
    log_level: str = Field(default="INFO", validation_alias="PARTNERPULSE_LOG_LEVEL")
    heartbeat_seconds: int = Field(default=30, ge=1, le=3600, validation_alias="PARTNERPULSE_HEARTBEAT_SECONDS")
    send_concurrency: int = Field(default=8, ge=1, le=64, validation_alias="PARTNERPULSE_SEND_CONCURRENCY")
    worker_processes: int = Field(default=2, ge=0, le=32, validation_alias="PARTNERPULSE_WORKER_PROCESSES")
    worker_threads: int = Field(default=8, ge=1, le=128, validation_alias="PARTNERPULSE_WORKER_THREADS")
    worker_priority: Literal["idle", "low", "normal"] = Field(
        default="idle", validation_alias="PARTNERPULSE_WORKER_PRIORITY"
    )
    http_host: str = Field(default="0.0.0.0", validation_alias="PARTNERPULSE_HTTP_HOST")
    http_port: int = Field(default=3000, ge=0, le=65535, validation_alias=AliasChoices("PARTNERPULSE_HTTP_PORT", "PORT"))
    http_threads: int = Field(default=16, ge=1, le=256, validation_alias="PARTNERPULSE_HTTP_THREADS")

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("xoxb-", "xoxe.xoxb-")):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret_present(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_strength(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None, *, env_file: str | None = ".env") -> Settings:
        """Read settings, turning validation failures into one clear line.

        Raises:
            SettingsError: naming the variable to set and what is wrong with it.
        """
        try:
            return cls(_env_file=env_file, **dict(overrides or {}))  # type: ignore[call-arg]
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "?"
            name = _field_name(field)
            raise SettingsError(f"Invalid setting {SETTING_HELP.get(name, field)}: {first['msg']}") from None

    def require(self, *names: str) -> None:
        """Check that the settings a command needs are present.

        Raises:
            SettingsError: for the first missing one, saying what to set.
        """
        for name in names:
            if getattr(self, name) is None:
                raise SettingsError(f"Missing setting: set {SETTING_HELP[name]}.")

    def secret(self, name: str) -> str:
        """The plain value of a required secret (after ``require``)."""
        value = getattr(self, name)
        if value is None:
            raise SettingsError(f"Missing setting: set {SETTING_HELP[name]}.")
        return str(value.get_secret_value())


def _field_name(loc: str) -> str:
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        aliases = alias.choices if isinstance(alias, AliasChoices) else [alias]
        if loc == name or loc in aliases:
            return name
    return loc
