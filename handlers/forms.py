"""Parsing Slack payloads into typed inputs: the slash command grammar and modal state values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.blocks import ids
from bot.blocks.text import escape, truncate
from bot.services.errors import InvalidInput
from bot.services.models import AnswerInput, SetupInput, Side, SlackProfile

USAGE = {
    "pulse": "`/partner pulse now`, `/partner pulse pause` or `/partner pulse resume`",
    "side": "`/partner side @person client`, `provider` or `auto`",
}
SIMPLE = ("help", "setup", "status", "menu", "questions")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>$")


class CommandError(ValueError):
    """The command text could not be understood; ``str()`` is the message for the user (safe mrkdwn)."""


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    arg: str | None = None
    user: str | None = None


def parse_command(text: str | None) -> ParsedCommand:
    """``/partner`` text → a command. Unknown or incomplete commands raise CommandError with usage."""
    words = (text or "").split()
    if not words:
        return ParsedCommand("help")
    name, rest = words[0].lower(), words[1:]
    if name in SIMPLE:
        return ParsedCommand(name)
    if name == "pulse":
        if len(rest) != 1 or rest[0].lower() not in ("now", "pause", "resume"):
            raise CommandError(f"Usage: {USAGE['pulse']}.")
        return ParsedCommand("pulse", rest[0].lower())
    if name == "side":
        match = _MENTION.match(rest[0]) if len(rest) == 2 else None
        if match is None or rest[1].lower() not in ("client", "provider", "auto"):
            raise CommandError(f"Usage: {USAGE['side']} (mention the person with @).")
        return ParsedCommand("side", rest[1].lower(), match.group(1))
    shown = escape(truncate(name, 40))
    raise CommandError(f"I don't know `{shown}`. Try `/partner help` for what I can do.")


# --- modal state ----------------------------------------------------------------------------------------

State = dict[str, dict[str, dict[str, Any]]]


def _element(state: State, block: str) -> dict[str, Any]:
    return (state.get(block) or {}).get(ids.VALUE) or {}


def text_value(state: State, block: str) -> str:
    return str(_element(state, block).get("value") or "")


def selected_value(state: State, block: str) -> str | None:
    option = _element(state, block).get("selected_option")
    return str(option["value"]) if isinstance(option, dict) and "value" in option else None


def users_value(state: State, block: str) -> tuple[str, ...]:
    return tuple(str(u) for u in _element(state, block).get("selected_users") or ())


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


def parse_setup(state: State) -> SetupInput:
    """The setup modal's values. Raises InvalidInput naming the block when a value is unreadable."""
    B = ids.SetupBlock
    side = selected_value(state, B.INSTALLING_SIDE)
    if side not in (Side.CLIENT.value, Side.PROVIDER.value):
        raise InvalidInput("Choose which side your organisation is.", B.INSTALLING_SIDE)
    pulse_hour, pulse_minute = time_value(state, B.PULSE_TIME)
    digest_hour, digest_minute = time_value(state, B.DIGEST_TIME)
    return SetupInput(
        name=text_value(state, B.NAME),
        client_org=text_value(state, B.CLIENT_ORG),
        provider_org=text_value(state, B.PROVIDER_ORG),
        installing_side=Side(side),
        client_leads=users_value(state, B.CLIENT_LEADS),
        provider_leads=users_value(state, B.PROVIDER_LEADS),
        client_sponsors=users_value(state, B.CLIENT_SPONSORS),
        provider_sponsors=users_value(state, B.PROVIDER_SPONSORS),
        client_members=users_value(state, B.CLIENT_MEMBERS),
        provider_members=users_value(state, B.PROVIDER_MEMBERS),
        timezone=text_value(state, B.TIMEZONE).strip(),
        pulse_weekday=int_value(state, B.PULSE_WEEKDAY, label="The pulse day"),
        pulse_hour=pulse_hour,
        pulse_minute=pulse_minute,
        pulse_every_weeks=int_value(state, B.PULSE_EVERY_WEEKS, label="The cadence"),
        digest_weekday=int_value(state, B.DIGEST_WEEKDAY, label="The digest day"),
        digest_hour=digest_hour,
        digest_minute=digest_minute,
        anonymity_threshold=int_value(state, B.ANONYMITY_THRESHOLD, label="The anonymity threshold"),
    )


def parse_answers(state: State) -> list[AnswerInput]:
    """Scores and comments keyed by question id, from ``score-<id>`` / ``comment-<id>`` blocks."""
    answers: list[AnswerInput] = []
    for block in state:
        if not block.startswith(ids.SCORE_PREFIX):
            continue
        suffix = block[len(ids.SCORE_PREFIX) :]
        if not suffix.isdigit():
            continue
        raw = selected_value(state, block)
        if raw is None or not raw.lstrip("-").isdigit():
            raise InvalidInput("Please choose a score.", block)
        comment = text_value(state, f"{ids.COMMENT_PREFIX}{suffix}") or None
        answers.append(AnswerInput(question_id=int(suffix), score=int(raw), comment=comment))
    return answers


def parse_question(state: State) -> tuple[str, str, str]:
    Q = ids.QuestionBlock
    return selected_value(state, Q.DIMENSION) or "", text_value(state, Q.TEXT_CLIENT), text_value(state, Q.TEXT_PROVIDER)


def actor_profile(body: dict[str, Any]) -> SlackProfile:
    """The person acting in an interaction payload; ``user.team_id`` is their home organisation."""
    user = body.get("user") or {}
    return SlackProfile(
        user_id=str(user.get("id") or body.get("user_id") or ""),
        team_id=user.get("team_id") or body.get("team_id"),
        display_name=str(user.get("name") or user.get("username") or body.get("user_name") or ""),
    )
