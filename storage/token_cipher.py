"""Slack tokens encrypted at rest (issue 15): Fernet under a list of keys, the first encrypting, every one decrypting.

``PARTNERPULSE_TOKEN_KEYS`` holds the keys, newest first. Rotating keys: put a new key first (``partnerpulse keys
new`` makes one), restart, re-encrypt what is stored (``partnerpulse keys rotate``), then drop the old key. No key,
plaintext or ciphertext ever appears in an exception, a repr or a log line.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenCipherError(Exception):
    """A key is not a Fernet key, or a stored value opens with none of the keys. The message names no secret."""


def new_key() -> str:
    """A fresh random Fernet key (32 bytes, url-safe base64), as ``PARTNERPULSE_TOKEN_KEYS`` takes it."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str) -> list[str]:
    """The keys of a comma-separated list (blanks around each ignored, empty entries dropped)."""
    return [key.strip() for key in text.split(",") if key.strip()]


def _fernet(key: str, position: int, count: int) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError):
        where = f"key {position} of {count}" if count > 1 else "the key"
        raise TokenCipherError(f"{where} is not a Fernet key (32 random bytes in url-safe base64)") from None


class TokenCipher:
    """Encrypts with the first key; decrypts with any of them (so stored tokens outlive a key rotation)."""

    __slots__ = ("_fernet",)

    def __init__(self, keys: Sequence[str]) -> None:
        """Raises ``TokenCipherError`` when ``keys`` is empty or one of them is not a Fernet key."""
        if isinstance(keys, str) or not keys:
            raise TokenCipherError("no token keys given: set at least one Fernet key")
        self._fernet = MultiFernet([_fernet(key, n, len(keys)) for n, key in enumerate(keys, start=1)])

    def __repr__(self) -> str:
        return "TokenCipher(<keys hidden>)"

    def encrypt(self, text: str) -> str:
        """``text`` encrypted with the first key (a different ciphertext each time)."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, text: str) -> str:
        """The plaintext of a value ``encrypt`` made with any of the keys.

        Raises:
            TokenCipherError: no key opens it (wrong keys, a plaintext stored before encryption, a damaged value).
        """
        try:
            return self._fernet.decrypt(text.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise TokenCipherError("a stored token opens with none of the token keys") from None

    def rotate(self, text: str) -> str:
        """A ciphertext made with any key, encrypted again with the first key.

        Raises:
            TokenCipherError: no key opens it.
        """
        try:
            return self._fernet.rotate(text.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise TokenCipherError("a stored token opens with none of the token keys") from None
