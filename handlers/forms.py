"""Parsing Slack payloads into typed inputs: the slash command grammar and modal state values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.blocks import ids
from bot.blocks.text import escape, truncate
from bot.services.errors import InvalidInput
from bot.services.models import (
    SEVERITIES,
    ActionFilter,
    ActionInput,
    AnswerInput,
    IssueFilter,
    IssueInput,
    IssueStatus,
    SetupInput,
    Side,
    SlackProfile,
)

USAGE = {
    "pulse": "`/partner pulse now`, `/partner pulse pause` or `/partner pulse resume`",
    "side": "`/partner side @person client`, `provider` or `auto` (or `@group` for a user group)",
    "issues": "`/partner issues` (open ones), `/partner issues mine` or `/partner issues all`",
    "actions": "`/partner actions` (yours), `/partner actions overdue` or `/partner actions all`",
    "policy": "`/partner policy` to see it; leads change a severity with `/partner policy S2 4h 3d` (acknowledge "
    "within 4 working hours, resolve within 3 working days; `m`, `h` and `d` work, a day is 8 working hours) or "
    "`/partner policy S2 default`",
    "categories": "`/partner categories` to see them; leads: `/partner categories add Data quality`, "
    "`/partner categories remove Staffing` or `/partner categories set Delivery, Timeliness, Other`",
    "hours": "`/partner hours` to see them; leads: `/partner hours client 09:00-17:00 mon-fri` (optionally a time "
    "zone at the end, like `Europe/London`)",
    "holiday": "`/partner holiday client 2026-12-25 Christmas Day` or `/partner holiday remove client 2026-12-25` (leads)",
}
SIMPLE = ("help", "setup", "status", "menu", "questions")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>$")
#: A user group as Slack escapes it in command text: ``<!subteam^S0123|@handle>`` (the label may be missing).
_SUBTEAM = re.compile(r"^<!subteam\^(S[A-Z0-9]{2,30})(?:\|([^<>]*))?>$")
#: ``side`` takes one Slack token (a person or a group; a label may hold spaces) and one word.
_SIDE_ARGS = re.compile(r"^(<[^<>]*>)\s+(\S+)$")
_FIRST_WORD = re.compile(r"\s*\S+\s*(.*)", re.DOTALL)
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
#: A duration as a lead types it: ``4h``, ``3d``, ``1d 4h``, ``90 min``, ``2 working days``.
_DURATION = re.compile(r"(?:\s*\d{1,6}\s*(?:days|day|d|hours|hour|hrs|hr|h|minutes|minute|mins|min|m))+\s*")
_DURATION_PART = re.compile(r"(\d{1,6})\s*(days|day|d|hours|hour|hrs|hr|h|minutes|minute|mins|min|m)")
#: "A day" in the escalation policy: the default working day (DESIGN 3.3 counts working time).
WORKING_DAY = timedelta(hours=8)
_WINDOW = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_CATEGORY_TEXT = 2000


class CommandError(ValueError):
    """The command text could not be understood; ``str()`` is the message for the user (safe mrkdwn)."""


@dataclass(frozen=True)
class ParsedCommand:
    """A ``/partner`` subcommand. ``text`` is free text (an issue or action title, as plain text); ``values``
    are further checked words (durations, category names, a working-hours window). ``group`` is a user group's
    id (``side @group``; its handle, as plain text, is ``text``)."""

    name: str
    arg: str | None = None
    user: str | None = None
    text: str | None = None
    values: tuple[str, ...] = ()
    group: str | None = None


def plain_text_from_slack(text: str) -> str:
    """Slack-formatted text (a command's escaped text, a message's mrkdwn) as plain text for a form field.

    ``<@U1|dana>`` becomes ``@dana``, ``<#C1|general>`` ``#general``, ``<!here>`` ``@here``, a link its label and
    address; ``&lt;``, ``&gt;`` and ``&amp;`` their characters. Whatever it becomes is escaped again on output.
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

    plain = _SLACK_TOKEN.sub(token, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _rest_text(text: str) -> str:
    """Everything after the first word, as the person typed it (spacing kept)."""
    match = _FIRST_WORD.match(text)
    return match.group(1).strip() if match else ""


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


def _usage(name: str) -> CommandError:
    return CommandError(f"Usage: {USAGE[name]}.")


def _side_word(word: str, name: str) -> str:
    side = word.lower()
    if side not in (Side.CLIENT.value, Side.PROVIDER.value):
        raise _usage(name)
    return side


def _parse_issue_log_command(name: str, raw: str, rest: list[str]) -> ParsedCommand:
    """The issue log's subcommands (issue, issues, action, actions, policy, categories, hours, holiday)."""
    if name in ("issue", "action"):
        return ParsedCommand(name, text=plain_text_from_slack(_rest_text(raw)) or None)
    if name in ("issues", "actions"):
        choices = [f.value for f in (IssueFilter if name == "issues" else ActionFilter)]
        if len(rest) > 1 or (rest and rest[0].lower() not in choices):
            raise _usage(name)
        return ParsedCommand(name, rest[0].lower() if rest else choices[0])
    if name == "policy":
        if not rest:
            return ParsedCommand("policy")
        severity = rest[0].upper()
        if severity not in SEVERITIES:
            raise _usage("policy")
        if len(rest) == 2 and rest[1].lower() == "default":
            return ParsedCommand("policy", severity, values=("default",))
        if len(rest) != 3:
            raise _usage("policy")
        try:
            parse_duration(rest[1]), parse_duration(rest[2])
        except ValueError:
            raise _usage("policy") from None
        return ParsedCommand("policy", severity, values=(rest[1], rest[2]))
    if name == "categories":
        if not rest:
            return ParsedCommand("categories")
        verb = rest[0].lower()
        names = plain_text_from_slack(_rest_text(_rest_text(raw)))[:MAX_CATEGORY_TEXT]
        if verb == "set":
            found = tuple(n.strip() for n in names.split(",") if n.strip())
        elif verb in ("add", "remove"):
            found = (names.strip(),) if names.strip() else ()
        else:
            raise _usage("categories")
        if not found:
            raise _usage("categories")
        return ParsedCommand("categories", verb, values=found)
    if name == "hours":
        if not rest:
            return ParsedCommand("hours")
        if len(rest) not in (2, 3, 4):
            raise _usage("hours")
        side = _side_word(rest[0], "hours")
        window = _WINDOW.match(rest[1])
        days, tz = "mon-fri", ""
        for word in rest[2:]:
            if "/" in word or word.upper() == "UTC":
                tz = word
            else:
                days = word
        try:
            workdays = parse_workdays(days)
        except ValueError:
            raise _usage("hours") from None
        if window is None:
            raise _usage("hours")
        return ParsedCommand("hours", side, values=(window.group(1), window.group(2), ",".join(map(str, workdays)), tz))
    # holiday
    remove = bool(rest) and rest[0].lower() == "remove"
    words = rest[1:] if remove else rest
    if len(words) < 2 or (remove and len(words) != 2):
        raise _usage("holiday")
    side = _side_word(words[0], "holiday")
    try:
        day = date.fromisoformat(words[1])
    except ValueError:
        raise _usage("holiday") from None
    label = plain_text_from_slack(" ".join(words[2:]))[:100]
    return ParsedCommand("holiday", "remove" if remove else "add", values=(side, day.isoformat(), label))


ISSUE_LOG_COMMANDS = ("issue", "issues", "action", "actions", "policy", "categories", "hours", "holiday")
#: Subcommands of the digest, the portfolio, shared goals, the expectations ledger and the scorecard (issue 4).
#: The word after the name is ``arg`` (lower case, None when absent) and whatever follows it ``text`` (plain
#: text, as typed); the handler of each checks them against its own usage line. ``expect`` takes only free
#: text (what one side expects of the other), so all of it is ``text`` and ``arg`` is None.
REVIEW_COMMANDS = ("digest", "portfolio", "goals", "goal", "expect", "expectations", "scorecard")
FREE_TEXT_COMMANDS = ("expect",)


def _parse_review_command(name: str, raw: str) -> ParsedCommand:
    after_name = _rest_text(raw)
    if not after_name:
        return ParsedCommand(name)
    if name in FREE_TEXT_COMMANDS:
        return ParsedCommand(name, text=plain_text_from_slack(after_name))
    arg = after_name.split()[0].lower()
    text = plain_text_from_slack(_rest_text(after_name)) or None
    return ParsedCommand(name, arg, text=text)


def _parse_side(args: str) -> ParsedCommand:
    """``<@U1|dana> client`` (a person) or ``<!subteam^S1|@ops> provider`` (a user group), or ``auto``."""
    found = _SIDE_ARGS.match(args)
    side = found.group(2).lower() if found else ""
    if found is None or side not in ("client", "provider", "auto"):
        raise CommandError(f"Usage: {USAGE['side']} (mention the person or group with @).")
    person = _MENTION.match(found.group(1))
    if person is not None:
        return ParsedCommand("side", side, person.group(1))
    group = _SUBTEAM.match(found.group(1))
    if group is None:
        raise CommandError(f"Usage: {USAGE['side']} (mention the person or group with @).")
    handle = plain_text_from_slack(group.group(2) or "").strip() or f"the group {group.group(1)}"
    return ParsedCommand("side", side, text=handle[:100], group=group.group(1))


def parse_command(text: str | None) -> ParsedCommand:
    """``/partner`` text → a command. Unknown or incomplete commands raise CommandError with usage."""
    words = (text or "").split()
    if not words:
        return ParsedCommand("help")
    name, rest = words[0].lower(), words[1:]
    if name in SIMPLE:
        return ParsedCommand(name)
    if name in ISSUE_LOG_COMMANDS:
        return _parse_issue_log_command(name, text or "", rest)
    if name in REVIEW_COMMANDS:
        return _parse_review_command(name, text or "")
    if name == "pulse":
        if len(rest) != 1 or rest[0].lower() not in ("now", "pause", "resume"):
            raise CommandError(f"Usage: {USAGE['pulse']}.")
        return ParsedCommand("pulse", rest[0].lower())
    if name == "side":
        return _parse_side(_rest_text(text or ""))
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


def date_value(state: State, block: str, *, label: str = "a date") -> date | None:
    """A datepicker's day, or None when none was chosen. Raises InvalidInput for anything but YYYY-MM-DD."""
    raw = _element(state, block).get("selected_date")
    if not raw:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput(f"Choose {label} from the calendar.", block) from None


def user_value(state: State, block: str) -> str | None:
    raw = _element(state, block).get("selected_user")
    return str(raw) if raw else None


def view_options(view: dict[str, Any], block: str) -> tuple[str, ...]:
    """The option values a select in the submitted view offered (the form's own list, e.g. the categories)."""
    for b in view.get("blocks") or []:
        if isinstance(b, dict) and b.get("block_id") == block:
            element = b.get("element") or {}
            return tuple(str(o.get("value")) for o in element.get("options") or [] if isinstance(o, dict))
    return ()


def parse_issue(state: State, *, permalink: str | None = None) -> IssueInput:
    """The issue modal's values. Raises InvalidInput (``field`` = the IssueBlock) for a missing side or owner."""
    B = ids.IssueBlock
    side = selected_value(state, B.OWNING_SIDE)
    if side not in (Side.CLIENT.value, Side.PROVIDER.value):
        raise InvalidInput("Choose the side that owns this issue.", B.OWNING_SIDE)
    owner = user_value(state, B.OWNER)
    if owner is None:
        raise InvalidInput("Choose who owns this issue.", B.OWNER)
    return IssueInput(
        title=text_value(state, B.TITLE),
        details=text_value(state, B.DETAILS),
        severity=selected_value(state, B.SEVERITY) or "",
        category=selected_value(state, B.CATEGORY) or "",
        owning_side=Side(side),
        owner_id=owner,
        due_on=date_value(state, B.DUE_ON, label="a due date"),
        source_permalink=permalink or None,
    )


def parse_issue_update(state: State) -> tuple[IssueStatus | None, str | None]:
    """The update modal: the chosen status (None when unreadable) and the comment (None when empty)."""
    B = ids.IssueUpdateBlock
    raw = selected_value(state, B.STATUS)
    status = IssueStatus(raw) if raw in {s.value for s in IssueStatus} else None
    comment = text_value(state, B.COMMENT)
    return status, comment if comment.strip() else None


def parse_action(state: State, *, issue_id: int | None = None) -> ActionInput:
    """The action modal's values. Raises InvalidInput (``field`` = the ActionBlock) for a missing owner or date."""
    B = ids.ActionBlock
    owner = user_value(state, B.OWNER)
    if owner is None:
        raise InvalidInput("Choose who owns this action.", B.OWNER)
    due_on = date_value(state, B.DUE_ON, label="a due date")
    if due_on is None:
        raise InvalidInput("Choose a due date.", B.DUE_ON)
    side = selected_value(state, B.SIDE)
    chosen_issue = selected_value(state, B.ISSUE)
    if chosen_issue is not None:
        issue_id = int(chosen_issue) if chosen_issue.isdigit() and int(chosen_issue) > 0 else None
    return ActionInput(
        title=text_value(state, B.TITLE),
        owner_id=owner,
        due_on=due_on,
        side=Side(side) if side in (Side.CLIENT.value, Side.PROVIDER.value) else None,
        issue_id=issue_id,
    )


def parse_policy(state: State) -> tuple[dict[str, tuple[timedelta, timedelta]], tuple[str, ...]]:
    """The policy modal: (acknowledge, resolve) per severity and the categories, one per line.

    Raises:
        InvalidInput: a duration that cannot be read (``field`` = that input's block id).
    """
    deadlines: dict[str, tuple[timedelta, timedelta]] = {}
    for severity in SEVERITIES:
        pair: list[timedelta] = []
        for field in (ids.PolicyBlock.ACKNOWLEDGE, ids.PolicyBlock.RESOLVE):
            block = ids.policy_block(field, severity)
            try:
                pair.append(parse_duration(text_value(state, block)))
            except ValueError:
                raise InvalidInput(
                    "Write a working time like 30m, 4h, 3d or 1d 4h (a day is 8 working hours).", block
                ) from None
        deadlines[severity] = (pair[0], pair[1])
    lines = text_value(state, ids.PolicyBlock.CATEGORIES).splitlines()
    return deadlines, tuple(" ".join(line.split()) for line in lines if line.strip())


def actor_profile(body: dict[str, Any]) -> SlackProfile:
    """The person acting in an interaction payload; ``user.team_id`` is their home organisation."""
    user = body.get("user") or {}
    return SlackProfile(
        user_id=str(user.get("id") or body.get("user_id") or ""),
        team_id=user.get("team_id") or body.get("team_id"),
        display_name=str(user.get("name") or user.get("username") or body.get("user_name") or ""),
    )
