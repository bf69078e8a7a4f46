"""Typed button values / private_metadata, and settings from the environment."""

from __future__ import annotations

import pytest

from bot.blocks.issue_form_refs import IssueModalRef
from bot.blocks.metadata import ChannelRef, MetadataError, RoundRef, decode, encode
from bot.settings import Settings, SettingsError

BOT = "xox" + "b-1234_SECRETBOTTOKEN"
SIGNING = "signing-secret-value-abcdef"
KEY = "k" * 16 + "SECRETKEYVALUE-0123456789"
ENV = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "PARTNERPULSE_SECRET_KEY",
    "PARTNERPULSE_TIMEZONE",
    "DATABASE_URL",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def test_round_trip() -> None:
    for value, cls in ((RoundRef(42), RoundRef), (ChannelRef("T1", "C<!channel>"), ChannelRef)):
        raw = encode(value)
        assert decode(raw, cls) == value
    assert encode(RoundRef(1)) == '{"round_id":1}'


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "not json",
        "[]",
        "null",
        "42",
        '{"round_id":"5"}',
        '{"round_id":true}',
        '{"round_id":5.0}',
        "{}",
        '{"id":5}',
    ],
)
def test_decode_rejects_round_ref(raw: str | None) -> None:
    with pytest.raises(MetadataError):
        decode(raw, RoundRef)


@pytest.mark.parametrize(
    "raw", ['{"team_id":"T1"}', '{"team_id":1,"channel_id":"C1"}', '{"team_id":"T1","channel_id":false}']
)
def test_decode_rejects_channel_ref(raw: str) -> None:
    with pytest.raises(MetadataError):
        decode(raw, ChannelRef)


def test_bool_fields_and_defaults_for_fields_added_later() -> None:
    ref = IssueModalRef("T1", "C1", 7, "open", "U1", from_home=True)
    assert decode(encode(ref), IssueModalRef) == ref
    # A form opened before ``from_home`` existed still decodes, with the default.
    old = '{"channel_id":"C1","issue_id":7,"owner_id":"U1","status":"open","team_id":"T1"}'
    assert decode(old, IssueModalRef).from_home is False
    # A bool is not an int, an int is not a bool, and a required field is still required.
    for bad in (
        '{"channel_id":"C1","issue_id":7,"owner_id":"U1","status":"open","team_id":"T1","from_home":1}',
        '{"channel_id":"C1","issue_id":true,"owner_id":"U1","status":"open","team_id":"T1"}',
        '{"channel_id":"C1","owner_id":"U1","status":"open","team_id":"T1","from_home":false}',
    ):
        with pytest.raises(MetadataError):
            decode(bad, IssueModalRef)


def test_metadata_error_is_value_error() -> None:
    assert issubclass(MetadataError, ValueError)


# --- settings ---------------------------------------------------------------------------------------------


def _load(**overrides: object) -> Settings:
    return Settings.load(overrides, env_file=None)


def test_missing_required_settings_name_the_variable() -> None:
    settings = _load()
    for name, variable in (
        ("slack_bot_token", "SLACK_BOT_TOKEN"),
        ("slack_app_token", "SLACK_APP_TOKEN"),
        ("slack_signing_secret", "SLACK_SIGNING_SECRET"),
        ("secret_key", "PARTNERPULSE_SECRET_KEY"),
    ):
        with pytest.raises(SettingsError) as info:
            settings.require(name)
        message = str(info.value)
        assert variable in message and "\n" not in message


def test_require_passes_when_present() -> None:
    settings = _load(slack_bot_token=BOT, secret_key=KEY)
    settings.require("slack_bot_token", "secret_key")
    assert settings.secret("slack_bot_token") == BOT


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT)
    assert _load().secret("slack_bot_token") == BOT


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"slack_bot_token": "xox" + "p-user_token_123"}, "SLACK_BOT_TOKEN"),
        ({"slack_app_token": "xox" + "b-not_an_app_token"}, "SLACK_APP_TOKEN"),
        ({"secret_key": "short-key"}, "PARTNERPULSE_SECRET_KEY"),
        ({"default_timezone": "Mars/Olympus_Mons"}, "PARTNERPULSE_TIMEZONE"),
        ({"database_url": "mysql://x"}, "DATABASE_URL"),
    ],
)
def test_invalid_settings_are_one_clear_line(overrides: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.load(overrides, env_file=None)
    message = str(info.value)
    assert variable in message and "\n" not in message
    if "token" in variable.lower() or "key" in variable.lower():
        assert next(iter(overrides.values())) not in message


def test_invalid_timezone_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERPULSE_TIMEZONE", "Nowhere/Town")
    with pytest.raises(SettingsError, match="PARTNERPULSE_TIMEZONE"):
        _load()


def test_secrets_never_show_in_repr_or_str() -> None:
    settings = _load(
        slack_bot_token=BOT, slack_signing_secret=SIGNING, secret_key=KEY, slack_app_token="xa" + "pp-APPSECRET-1"
    )
    for shown in (repr(settings), str(settings), repr(settings.model_dump())):
        for secret in (BOT, SIGNING, KEY, "xa" + "pp-APPSECRET-1"):
            assert secret not in shown
    assert settings.secret("secret_key") == KEY and settings.secret("slack_signing_secret") == SIGNING


def test_defaults_and_url_normalisation() -> None:
    settings = _load(slack_api_url="http://127.0.0.1:9/api")
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.default_timezone == "UTC"
    assert settings.database_url.startswith("sqlite")
