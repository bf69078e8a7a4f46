"""Making user text safe and short enough for Block Kit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SECTION_TEXT_MAX = 3000
CONTEXT_TEXT_MAX = 2000
HEADER_MAX = 150
FALLBACK_TEXT_MAX = 3000


def escape(text: str) -> str:
    """Escape Slack's three control characters so user text can never mention, ping or disguise a link.

    Only ``&``, ``<`` and ``>`` are encoded, as Slack's formatting reference asks.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with an ellipsis when cut.

    Never cuts inside an escape sequence such as ``&lt;``, which would show a broken entity.
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def quote(text: str, limit: int) -> str:
    """User text as a mrkdwn quote: escaped, single-spaced lines each prefixed with ``>``, cut to ``limit``."""
    body = escape(" ".join(text.split()))
    return truncate("> " + body, limit)


def local_time_label(at: datetime, tz: str) -> str:
    """``Mon 7 Dec, 09:00 EST`` in the partnership's zone, for messages."""
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} {local.tzname()}"
