"""The one cleaning rule for a person's text (bot.text_hygiene): what goes, what stays."""

from __future__ import annotations

import json
import unicodedata

import pytest

from bot.text_hygiene import clean_text
from handlers.ui import actor_profile

C0_REMOVED = [chr(c) for c in range(0x00, 0x20) if c not in (0x09, 0x0A, 0x0D)]
C1_AND_DEL = [chr(c) for c in range(0x7F, 0xA0)]
BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)]


@pytest.mark.parametrize("char", C0_REMOVED + C1_AND_DEL + BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_each_control_and_bidi_formatting_character_is_removed(char: str) -> None:
    assert clean_text(f"a{char}b{char}") == "ab"


def test_the_lists_cover_what_the_brief_names() -> None:
    # 32 C0 codes less tab, newline and carriage return; DEL and the 32 C1 codes; 5 + 4 + 3 bidi characters.
    assert (len(C0_REMOVED), len(C1_AND_DEL), len(BIDI)) == (29, 33, 12)
    assert {"\x00", "\x01", "\x1b", "\x7f", "\x85", "\u202e", "\u2067"} <= set(C0_REMOVED + C1_AND_DEL + BIDI)


def test_newlines_and_tabs_stay_and_carriage_returns_become_newlines() -> None:
    assert clean_text("one\ttwo\nthree") == "one\ttwo\nthree"
    assert clean_text("a\r\nb\rc\n\rd") == "a\nb\nc\n\nd"


def test_a_lone_surrogate_from_a_json_escape_is_removed() -> None:
    text = json.loads('"broken \\ud800 pair"')
    assert clean_text(text) == "broken  pair"
    clean_text(text).encode("utf-8")  # would raise UnicodeEncodeError (as the database driver did) if one stayed


@pytest.mark.parametrize(
    "text",
    [
        "Crème brûlée à la française, Ærøskøbing, Straße",
        "Ünïcödé " + unicodedata.normalize("NFD", "é"),  # a combining accent stays attached
        "東京の月次報告 / 월간 보고서 / 月度报告",
        "שלום עולם",  # Hebrew letters themselves: direction comes from the letters, no override needed
        "مرحبا بالعالم",  # Arabic
        "می\u200cخواهم",  # Persian with a zero-width non-joiner, which is part of the spelling
        "👩\u200d👩\u200d👧 family, 👍🏽 thumbs, 🏳\ufe0f\u200d🌈 flag, 🇬🇧",  # ZWJ sequences, skin tone, VS16, flags
        "Tab\tand\nnewline, non-breaking\u00a0space",
        "<!channel> &amp; <https://evil|Open>",  # mention-shaped text is escaped on output, not here
    ],
)
def test_letters_of_every_script_emoji_and_joiners_survive(text: str) -> None:
    assert clean_text(text) == text


def test_cleaning_twice_changes_nothing_more() -> None:
    dirty = "\u202eT\x00i\x1bt\x7fl\x85e\u2067\r\n\tend"
    once = clean_text(dirty)
    assert once == "Title\n\tend"
    assert clean_text(once) == once


def test_the_acting_persons_name_from_a_payload_is_cleaned() -> None:
    """A person Slack's payload names (``user.name``) may be stored as a member (answering before their join event
    arrived): the name is cleaned like everything else a person chose."""
    body = {"user": {"id": "U1", "team_id": "T1", "name": "\u202emaya\x00.chen\x1b\u2067"}}
    assert actor_profile(body).display_name == "maya.chen"
    assert actor_profile({"user_id": "U2", "user_name": "dev\x7fon\x85"}).display_name == "devon"
