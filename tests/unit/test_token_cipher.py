"""Tokens encrypted at rest (issue 15): the cipher under a list of keys, and the OAuth settings that configure it.

No key, plaintext or ciphertext may appear in an error message or a repr: each test that provokes one checks.
"""

from __future__ import annotations

import os

import pytest

from bot.settings import Settings, SettingsError
from storage.token_cipher import TokenCipher, TokenCipherError, new_key, parse_keys

BOT_TOKEN = "xox" + "b-1111-2222-cipher-test"


@pytest.fixture(autouse=True)
def no_settings_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PARTNERPULSE_")):
            monkeypatch.delenv(name)


def test_a_token_round_trips_and_each_encryption_differs() -> None:
    cipher = TokenCipher([new_key()])
    first, second = cipher.encrypt(BOT_TOKEN), cipher.encrypt(BOT_TOKEN)
    assert first != second, "Fernet takes a random IV each time"
    assert BOT_TOKEN not in first and "xox" not in first
    assert cipher.decrypt(first) == cipher.decrypt(second) == BOT_TOKEN


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = new_key(), new_key()
    stored = TokenCipher([old]).encrypt(BOT_TOKEN)
    both = TokenCipher([new, old])
    assert both.decrypt(stored) == BOT_TOKEN, "a token stored under the old key still opens"
    rotated = both.rotate(stored)
    assert TokenCipher([new]).decrypt(rotated) == BOT_TOKEN, "rotated: the new key alone opens it"
    with pytest.raises(TokenCipherError):
        TokenCipher([old]).decrypt(rotated)
    assert TokenCipher([new]).decrypt(both.encrypt(BOT_TOKEN)) == BOT_TOKEN, "new tokens go under the first key"


def test_a_ciphertext_no_key_opens_is_an_error_naming_no_secret() -> None:
    key, other = new_key(), new_key()
    stored = TokenCipher([key]).encrypt(BOT_TOKEN)
    for wrong in (lambda: TokenCipher([other]).decrypt(stored), lambda: TokenCipher([other]).rotate(stored)):
        with pytest.raises(TokenCipherError) as info:
            wrong()
        message = str(info.value)
        assert message == "a stored token opens with none of the token keys"
        assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(TokenCipherError):
        TokenCipher([key]).decrypt(BOT_TOKEN)  # a plaintext is not a ciphertext


def test_a_bad_key_is_named_by_its_place_never_by_its_value() -> None:
    good, bad = new_key(), "not-a-fernet-key-but-a-secret-all-the-same"
    with pytest.raises(TokenCipherError) as info:
        TokenCipher([good, bad])
    assert str(info.value) == "key 2 of 2 is not a Fernet key (32 random bytes in url-safe base64)"
    with pytest.raises(TokenCipherError, match=r"^the key is not a Fernet key"):
        TokenCipher([bad])
    with pytest.raises(TokenCipherError, match="no token keys"):
        TokenCipher([])
    cipher = TokenCipher([good])
    assert good not in repr(cipher) and repr(cipher) == "TokenCipher(<keys hidden>)"


def test_keys_are_read_from_a_comma_separated_list() -> None:
    a, b = new_key(), new_key()
    assert parse_keys(f" {a} ,{b},, ") == [a, b]
    assert len(a) == 44, "32 bytes in base64: 44 characters"


# --- the settings -----------------------------------------------------------------------------------------------


def _load(**values: str) -> Settings:
    return Settings.load(values, env_file=None)


def test_single_workspace_mode_needs_no_oauth_settings() -> None:
    settings = _load(SLACK_BOT_TOKEN=BOT_TOKEN)
    assert not settings.oauth_enabled and settings.oauth_needs() == ()
    assert settings.token_refresh_minutes == 120


def test_oauth_needs_client_id_secret_and_token_keys_named_in_one_line() -> None:
    secret = "client-secret-not-to-be-echoed"
    with pytest.raises(SettingsError) as info:
        _load(SLACK_CLIENT_SECRET=secret)
    message = str(info.value)
    assert message.startswith("Missing settings: set SLACK_CLIENT_ID (") and "PARTNERPULSE_TOKEN_KEYS (" in message
    assert "SLACK_CLIENT_SECRET (" not in message and secret not in message and "\n" not in message
    with pytest.raises(SettingsError, match=r"^Missing settings: set SLACK_CLIENT_SECRET \(.*PARTNERPULSE_TOKEN_KEYS \("):
        _load(SLACK_CLIENT_ID="123.456")
    settings = _load(SLACK_CLIENT_ID="123.456", SLACK_CLIENT_SECRET=secret, PARTNERPULSE_TOKEN_KEYS=new_key())
    assert settings.oauth_enabled and secret not in repr(settings)
    assert settings.token_cipher().decrypt(settings.token_cipher().encrypt(BOT_TOKEN)) == BOT_TOKEN


def test_a_bad_token_key_is_reported_without_echoing_any_key() -> None:
    good, bad = new_key(), "AAAA-secret-looking-but-not-a-key"
    with pytest.raises(SettingsError) as info:
        _load(SLACK_CLIENT_ID="1.2", SLACK_CLIENT_SECRET="s3cr3t-value", PARTNERPULSE_TOKEN_KEYS=f"{good},{bad}")
    message = str(info.value)
    assert message.startswith("Invalid setting PARTNERPULSE_TOKEN_KEYS (")
    assert message.endswith(": key 2 of 2 is not a Fernet key (32 random bytes in url-safe base64).")
    assert good not in message and bad not in message and "s3cr3t-value" not in message


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"SLACK_REDIRECT_URI": "http://example.com/slack/oauth_redirect"}, "must be an https:// URL"),
        ({"SLACK_REDIRECT_URI": "http://localhost.example.com/slack/oauth_redirect"}, "must be an https:// URL"),
        ({"PARTNERPULSE_TOKEN_REFRESH_MINUTES": "4"}, "greater than or equal to 5"),
        ({"PARTNERPULSE_TOKEN_REFRESH_MINUTES": "661"}, "less than or equal to 660"),
    ],
)
def test_redirect_url_and_refresh_window_are_checked(values: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError, match=expected):
        _load(**values)


def test_a_redirect_url_on_this_machine_may_be_http() -> None:
    for url in ("https://pp.example/slack/oauth_redirect", "http://127.0.0.1:3000/slack/oauth_redirect"):
        assert _load(SLACK_REDIRECT_URI=url).oauth_redirect_url == url


def test_blank_oauth_settings_mean_unset() -> None:
    settings = _load(SLACK_CLIENT_ID=" ", SLACK_CLIENT_SECRET="", PARTNERPULSE_TOKEN_KEYS="", SLACK_REDIRECT_URI="")
    assert not settings.oauth_enabled and settings.token_keys is None and settings.oauth_redirect_url is None
