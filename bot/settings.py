"""Configuration from the environment and an optional ``.env`` file (pydantic-settings).

No other module reads ``os.environ``. Secrets are ``SecretStr``: they never show in reprs or logs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.token_cipher import TokenCipher, TokenCipherError, parse_keys

#: What each setting is, for the one-line messages shown when one is missing or wrong.
SETTING_HELP: dict[str, str] = {
    "slack_bot_token": "SLACK_BOT_TOKEN (the bot token from OAuth & Permissions, xoxb-...)",
    "slack_app_token": "SLACK_APP_TOKEN (an app-level token with connections:write, xapp-..., for Socket Mode)",
    "slack_signing_secret": "SLACK_SIGNING_SECRET (Basic Information -> Signing Secret, for HTTP mode)",
    "secret_key": "PARTNERPULSE_SECRET_KEY (at least 32 random characters; keys the anonymity hash)",
    "database_url": "DATABASE_URL (e.g. sqlite:///partnerpulse.db or postgresql://user@host/db)",
    "slack_api_url": "SLACK_API_URL (the Web API base URL, e.g. https://slack.com/api/)",
    "default_timezone": "PARTNERPULSE_TIMEZONE (an IANA time zone such as Europe/Berlin)",
    "log_level": "PARTNERPULSE_LOG_LEVEL (DEBUG, INFO, WARNING or ERROR)",
    "heartbeat_seconds": "PARTNERPULSE_HEARTBEAT_SECONDS (seconds between heartbeats, 1 to 3600)",
    "send_concurrency": "PARTNERPULSE_SEND_CONCURRENCY (channels sent to in parallel, 1 to 64)",
    "worker_processes": "PARTNERPULSE_WORKER_PROCESSES (worker processes, 0 to 32)",
    "worker_threads": "PARTNERPULSE_WORKER_THREADS (threads per worker process, 1 to 128)",
    "worker_priority": "PARTNERPULSE_WORKER_PRIORITY (idle, low or normal)",
    "http_host": "PARTNERPULSE_HTTP_HOST (the address to bind, e.g. 0.0.0.0)",
    "http_port": "PARTNERPULSE_HTTP_PORT or PORT (the port to serve HTTP on, 0 to 65535)",
    "http_threads": "PARTNERPULSE_HTTP_THREADS (HTTP server threads, 1 to 256)",
    "slack_client_id": "SLACK_CLIENT_ID (Basic Information -> App Credentials -> Client ID, to install by OAuth)",
    "slack_client_secret": "SLACK_CLIENT_SECRET (Basic Information -> App Credentials -> Client Secret)",
    "token_keys": "PARTNERPULSE_TOKEN_KEYS (comma-separated Fernet keys encrypting stored tokens, newest first; "
    "`partnerpulse keys new` makes one)",
    "oauth_redirect_url": "SLACK_REDIRECT_URI (the https URL Slack sends an installer back to, ending /slack/oauth_redirect)",
    "token_refresh_minutes": "PARTNERPULSE_TOKEN_REFRESH_MINUTES (refresh a rotating bot token expiring within this "
    "many minutes, 5 to 660: Slack's tokens last 12 hours, so a longer window would refresh at every use)",
}

#: What installing by OAuth needs together: set one of the first two and all three are required.
OAUTH_SETTINGS = ("slack_client_id", "slack_client_secret", "token_keys")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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
    # Installing by OAuth in many workspaces (issue 15); unset: one workspace, with SLACK_BOT_TOKEN.
    slack_client_id: str | None = Field(default=None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    token_keys: SecretStr | None = Field(default=None, validation_alias="PARTNERPULSE_TOKEN_KEYS")
    oauth_redirect_url: str | None = Field(default=None, validation_alias="SLACK_REDIRECT_URI")
    token_refresh_minutes: int = Field(default=120, ge=5, le=660, validation_alias="PARTNERPULSE_TOKEN_REFRESH_MINUTES")

    @field_validator(
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "secret_key",
        "slack_client_id",
        "slack_client_secret",
        "token_keys",
        "oauth_redirect_url",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: Any) -> Any:
        # ``SLACK_APP_TOKEN=`` (as in .env.example) means "not set", not "set to an invalid empty token". Other
        # settings stay strict: an empty DATABASE_URL is an error, never silently the SQLite default.
        if isinstance(value, str) and not value.strip():
            return None
        return value

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

    @field_validator("token_keys")
    @classmethod
    def _token_keys_are_fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            TokenCipher(parse_keys(value.get_secret_value()))
        except TokenCipherError as exc:  # its message names a key by its place in the list, never by its value
            raise ValueError(str(exc)) from None
        return value

    @field_validator("oauth_redirect_url")
    @classmethod
    def _redirect_url_shape(cls, value: str | None) -> str | None:
        # Slack sends installers only to https URLs; http is for a developer's own machine.
        local = value is not None and value.startswith("http://") and urlsplit(value).hostname in ("127.0.0.1", "localhost")
        if value is not None and not value.startswith("https://") and not local:
            raise ValueError("must be an https:// URL (http:// only on localhost or 127.0.0.1)")
        return value

    @property
    def oauth_enabled(self) -> bool:
        """Whether the app is installed by OAuth in many workspaces (client id and secret set)."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    def token_cipher(self) -> TokenCipher:
        """The cipher of the stored tokens (after ``require("token_keys")``)."""
        return TokenCipher(parse_keys(self.secret("token_keys")))

    @field_validator("default_timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level_known(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}")
        return value.upper()

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
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        env_file: str | None = ".env",
        require: Collection[str] = (),
    ) -> Settings:
        """Read settings and check that those in ``require`` are present.

        Every problem is reported at once: all invalid settings and all missing required ones, in one line.

        Raises:
            SettingsError: naming each variable to set and what is wrong with it.
        """
        values = dict(overrides or {})
        try:
            settings = cls(_env_file=env_file, **values)  # type: ignore[call-arg]
        except ValidationError as exc:
            invalid: dict[str, str] = {}
            for error in exc.errors():
                name = _field_name(str(error["loc"][0])) if error["loc"] else "?"
                invalid.setdefault(name, str(error["msg"]).removeprefix("Value error, "))
            # Which required settings are missing, too: read again with the invalid ones at their (valid) defaults.
            rest = _with_defaults(cls, env_file, values, invalid)
            needed = rest.needed(require) if rest is not None else []
            missing = [n for n in needed if n not in invalid and getattr(rest, n) is None]
            raise SettingsError(_problems(missing, invalid)) from None
        settings.require(*settings.needed(require))
        return settings

    def needed(self, names: Collection[str]) -> list[str]:
        """The settings a command needing ``names`` needs in this mode: OAuth mode needs no static bot token (each
        workspace's comes from its installation) but its client id, secret and token keys together."""
        oauth = self.oauth_enabled
        return list(dict.fromkeys([*(n for n in names if not (oauth and n == "slack_bot_token")), *self.oauth_needs()]))

    def oauth_needs(self) -> tuple[str, ...]:
        """The settings installing by OAuth needs, when one of its client id and secret is set (else none)."""
        return OAUTH_SETTINGS if self.slack_client_id is not None or self.slack_client_secret is not None else ()

    def require(self, *names: str) -> None:
        """Check that the settings a command needs are present.

        Raises:
            SettingsError: naming every missing one, saying what to set.
        """
        missing = [name for name in dict.fromkeys(names) if getattr(self, name) is None]
        if missing:
            raise SettingsError(_problems(missing, {}))

    def secret(self, name: str) -> str:
        """The plain value of a required secret (after ``require``)."""
        value = getattr(self, name)
        if value is None:
            raise SettingsError(f"Missing setting: set {SETTING_HELP[name]}.")
        return str(value.get_secret_value())


def _describe(name: str) -> str:
    """What a setting is, for messages: ``SETTING_HELP`` or, failing that, its environment variable."""
    if name in SETTING_HELP:
        return SETTING_HELP[name]
    return " or ".join(env_names(name)) if name in Settings.model_fields else name


def _problems(missing: Sequence[str], invalid: Mapping[str, str]) -> str:
    """One line naming every missing setting and every invalid one with what is wrong with it."""
    parts: list[str] = []
    if missing:
        noun = "setting" if len(missing) == 1 else "settings"
        parts.append(f"Missing {noun}: set " + ", ".join(_describe(name) for name in missing) + ".")
    if len(invalid) == 1:
        ((name, message),) = invalid.items()
        parts.append(f"Invalid setting {_describe(name)}: {message}.")
    elif invalid:
        parts.append("Invalid settings: " + "; ".join(f"{_describe(n)}: {m}" for n, m in invalid.items()) + ".")
    return " ".join(parts)


def _with_defaults(
    cls: type[Settings], env_file: str | None, values: Mapping[str, Any], invalid: Collection[str]
) -> Settings | None:
    """The settings read again with the invalid ones at their defaults (None if that still fails)."""
    defaults = {n: Settings.model_fields[n].default for n in invalid if n in Settings.model_fields}
    aliases = {alias for n in defaults for alias in env_names(n)}
    kept = {key: value for key, value in values.items() if key not in defaults and key not in aliases}
    try:
        return cls(_env_file=env_file, **kept, **defaults)  # type: ignore[call-arg]
    except ValidationError:
        return None


def env_names(name: str) -> list[str]:
    """The environment variables a setting is read from, preferred first (e.g. ``PARTNERPULSE_HTTP_PORT``, ``PORT``)."""
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [str(alias)] if alias else [name.upper()]


def _field_name(loc: str) -> str:
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        aliases = alias.choices if isinstance(alias, AliasChoices) else [alias]
        if loc == name or loc in aliases:
            return name
    return loc
