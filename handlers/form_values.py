"""Reading values out of a submitted modal's state (``view.state.values``): text, choices, people, dates, times.

Each feature parses its own form with these; a value that cannot be read raises InvalidInput naming its block.
Typed text comes out cleaned (``bot.text_hygiene``), so every check and every store sees only clean text.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.blocks import ids
from bot.services.errors import InvalidInput
from bot.text_hygiene import clean_text

State = dict[str, dict[str, dict[str, Any]]]


def _element(state: State, block: str) -> dict[str, Any]:
    return (state.get(block) or {}).get(ids.VALUE) or {}


def text_value(state: State, block: str) -> str:
    """A text input's value without control or bidirectional formatting characters (newlines and tabs kept)."""
    return clean_text(str(_element(state, block).get("value") or ""))


def selected_value(state: State, block: str) -> str | None:
    option = _element(state, block).get("selected_option")
    return str(option["value"]) if isinstance(option, dict) and "value" in option else None


def users_value(state: State, block: str) -> tuple[str, ...]:
    return tuple(str(u) for u in _element(state, block).get("selected_users") or ())


def user_value(state: State, block: str) -> str | None:
    raw = _element(state, block).get("selected_user")
    return str(raw) if raw else None


def time_value(state: State, block: str) -> tuple[int, int]:
    raw = str(_element(state, block).get("selected_time") or "")
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if match is None:
        raise InvalidInput("Choose a time of day.", block)
    return int(match.group(1)), int(match.group(2))


def int_value(state: State, block: str, *, label: str) -> int:
    raw = _element(state, block).get("value") or (_element(state, block).get("selected_option") or {}).get("value")
    try:
        return int(str(raw))
    except (TypeError, ValueError):
        raise InvalidInput(f"{label} must be a whole number.", block) from None


def date_value(state: State, block: str, *, label: str = "a date") -> date | None:
    """A datepicker's day, or None when none was chosen. Raises InvalidInput for anything but YYYY-MM-DD."""
    raw = _element(state, block).get("selected_date")
    if not raw:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput(f"Choose {label} from the calendar.", block) from None


def view_options(view: dict[str, Any], block: str) -> tuple[str, ...]:
    """The option values a select in the submitted view offered (the form's own list, e.g. the categories)."""
    for b in view.get("blocks") or []:
        if isinstance(b, dict) and b.get("block_id") == block:
            element = b.get("element") or {}
            return tuple(str(o.get("value")) for o in element.get("options") or [] if isinstance(o, dict))
    return ()
