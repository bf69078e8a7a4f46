"""Respondent hashing and the anonymity threshold."""

from __future__ import annotations

import pytest

from bot.services.anonymity import MIN_THRESHOLD, meets_threshold, respondent_hash

KEY = "a" * 40


def test_hash_is_deterministic_and_opaque() -> None:
    h = respondent_hash(KEY, 1, "U0123ABCD")
    assert h == respondent_hash(KEY, 1, "U0123ABCD")
    assert "U0123ABCD" not in h and "u0123abcd" not in h.lower()
    assert len(h) == 64 and all(c in "0123456789abcdef" for c in h)


def test_hash_differs_per_partnership_user_and_key() -> None:
    base = respondent_hash(KEY, 1, "U1")
    assert base != respondent_hash(KEY, 2, "U1")
    assert base != respondent_hash(KEY, 1, "U2")
    assert base != respondent_hash("b" * 40, 1, "U1")
    # The separator keeps partnership 1 / user "2U" apart from partnership 12 / user "U".
    assert respondent_hash(KEY, 1, "2U") != respondent_hash(KEY, 12, "U")


@pytest.mark.parametrize("threshold", [0, 1, 2, 3])
def test_threshold_never_below_three(threshold: int) -> None:
    assert MIN_THRESHOLD == 3
    assert not meets_threshold(0, threshold)
    assert not meets_threshold(2, threshold)
    assert meets_threshold(3, threshold)


def test_higher_threshold_applies() -> None:
    assert not meets_threshold(4, 5)
    assert meets_threshold(5, 5)
    assert meets_threshold(50, 5)
