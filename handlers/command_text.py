"""The text formats a person types into ``/partner`` and its forms, apart from any one subcommand: Slack-formatted
text as plain text, working-time durations, weekday ranges, and the error a command's text raises. Pure: no
Slack libraries.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.text_hygiene import clean_text

_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
#: A duration as a lead types it: ``4h``, ``3d``, ``1d 4h``, ``90 min``, ``2 working days``.
_DURATION = re.compile(r"(?:\s*\d{1,6}\s*(?:days|day|d|hours|hour|hrs|hr|h|minutes|minute|mins|min|m))+\s*")
_DURATION_PART = re.compile(r"(\d{1,6})\s*(days|day|d|hours|hour|hrs|hr|h|minutes|minute|mins|min|m)")
#: "A day" in the escalation policy: the default working day (DESIGN 3.3 counts working time).
WORKING_DAY = timedelta(hours=8)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CommandError(ValueError):
    """The command text could not be understood; ``str()`` is the message for the user (safe mrkdwn)."""


def plain_text_from_slack(text: str) -> str:
    """Slack-formatted text (a command's escaped text, a message's mrkdwn) as plain text for a form field.

    ``<@U1|dana>`` becomes ``@dana``, ``<#C1|general>`` ``#general``, ``<!here>`` ``@here``, a link its label and
    address; ``&lt;``, ``&gt;`` and ``&amp;`` their characters; control and bidirectional formatting characters
    go (``clean_text``). Whatever it becomes is escaped again on output.
    """

    def token(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith(("@", "#")):
            return target[0] + (label or target[1:])
        if target.startswith("!subteam^"):
            return label or "@group"
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        return f"{label} ({target})" if label and label != target else target

    plain = _SLACK_TOKEN.sub(token, clean_text(text))
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_duration(text: str) -> timedelta:
    """``4h``, ``3d``, ``1d 4h``, ``90 min``, ``2 working days`` → working time (a day is 8 working hours).

    Raises:
        ValueError: the text is not such a duration.
    """
    cleaned = re.sub(r"\bworking\b", " ", text.lower()).replace(",", " ").strip()
    if not cleaned or not _DURATION.fullmatch(cleaned):
        raise ValueError(f"not a duration: {text!r}")
    total = timedelta(0)
    for amount, unit in _DURATION_PART.findall(cleaned):
        n = int(amount)
        if unit.startswith("d"):
            total += n * WORKING_DAY
        elif unit.startswith("h"):
            total += timedelta(hours=n)
        else:
            total += timedelta(minutes=n)
    return total


def parse_workdays(spec: str) -> tuple[int, ...]:
    """``mon-fri``, ``sun-thu``, ``mon,tue,thu`` → weekday numbers (0 = Monday). Raises ValueError."""
    days: set[int] = set()
    for part in spec.lower().split(","):
        first, _, last = part.strip().partition("-")
        if first[:3] not in _WEEKDAYS or (last and last[:3] not in _WEEKDAYS):
            raise ValueError(f"not a weekday range: {spec!r}")
        start = _WEEKDAYS.index(first[:3])
        end = _WEEKDAYS.index(last[:3]) if last else start
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    return tuple(sorted(days))
