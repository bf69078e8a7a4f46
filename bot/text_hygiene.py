"""What a person typed, cleaned once on the way in: the one rule for text that comes from Slack.

The Slack edge (``handlers/``: form values, command text, a message shortcut's text, the acting person's name, and
``bot/directory.py`` for names from users.info) passes every piece of a person's text through ``clean_text`` before
anything checks, stores or renders it, so services and storage only ever see clean text.

Removed: NUL and the other C0 and C1 control characters and DEL (except newline and tab), the bidirectional
embeddings, overrides and isolates and the direction marks (they can make a message read other than it is, e.g.
``U+202E`` reversing what follows), and lone surrogates (not encodable as UTF-8). ``\\r\\n`` and ``\\r`` become
``\\n``. Everything else stays: letters of every script, right-to-left text itself, emoji and their joiners.
"""

from __future__ import annotations

import re

#: The bidirectional formatting characters: embeddings and overrides (U+202A–U+202E), isolates (U+2066–U+2069),
#: the left-to-right and right-to-left marks (U+200E, U+200F) and the Arabic letter mark (U+061C).
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
#: C0 controls but tab (U+0009) and newline (U+000A), DEL, C1 controls; carriage returns are handled before.
CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
#: Lone UTF-16 surrogates can arrive through JSON ``\\ud800`` escapes; no database or Slack can store them.
SURROGATES = "\ud800-\udfff"

_REMOVED = re.compile(f"[{CONTROLS}{BIDI_CONTROLS}{SURROGATES}]")
_LINE_BREAK = re.compile(r"\r\n?")


def clean_text(text: str) -> str:
    """``text`` without control and bidirectional formatting characters; newlines (normalised) and tabs kept."""
    return _REMOVED.sub("", _LINE_BREAK.sub("\n", text))
