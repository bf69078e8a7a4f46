"""The token keys' commands (issue 15): ``keys new`` prints a fresh key, ``keys rotate`` re-encrypts every stored
token with the first key of ``PARTNERPULSE_TOKEN_KEYS``.

Rotating: put a new key first in the list (keep the old ones after it), restart, run ``keys rotate``; then the old
keys can go. Neither command prints or logs a token, and ``keys rotate`` prints no key.
"""

from __future__ import annotations

import argparse

from bot.cli_checks import CommandFailed, database_at_head
from bot.settings import Settings


def cmd_keys_new(settings: Settings, args: argparse.Namespace) -> int:
    from storage.token_cipher import new_key

    print(new_key())
    return 0


def cmd_keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    from storage.installation_store import reencrypt_tokens
    from storage.token_cipher import TokenCipherError

    with database_at_head(settings, "keys rotate") as engine:
        try:
            count = reencrypt_tokens(engine, settings.token_cipher())
        except TokenCipherError as exc:
            raise CommandFailed(
                f"{exc}; nothing was changed (is a key missing from PARTNERPULSE_TOKEN_KEYS?)", "keys rotate"
            ) from None
    print(f"re-encrypted {count} stored token(s) with the first key")
    return 0
