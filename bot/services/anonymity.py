"""Keyed hashing of respondents: answers are stored against a hash, not the Slack user id."""

from __future__ import annotations

import hashlib
import hmac

#: The fewest respondents a side's results are ever shown for, whatever a partnership sets ("never lower").
#: The only place the number is written: services compare with it and pass it to the Block Kit builders.
MIN_THRESHOLD = 3


def respondent_hash(secret_key: str, partnership_id: int, user_id: str) -> str:
    """HMAC-SHA256 of the user within one partnership.

    Keyed, so nobody with only a database dump can test candidate user ids; scoped to the partnership, so
    the same person cannot be linked across partnerships.
    """
    message = f"{partnership_id}:{user_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def meets_threshold(respondents: int, threshold: int) -> bool:
    """Whether a side has enough respondents to show its results (never fewer than three)."""
    return respondents >= effective_threshold(threshold)


def effective_threshold(threshold: int) -> int:
    """The threshold actually applied: a partnership's own, but never below ``MIN_THRESHOLD``."""
    return max(threshold, MIN_THRESHOLD)
