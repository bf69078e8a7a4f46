"""The ``/partner`` grammar: command text → one typed subcommand (handlers.command_types), validated once.

Text that cannot be understood raises CommandError, whose message (safe mrkdwn) is answered in the ack. The review
subcommands (digest, portfolio, goals, goal, expectations, scorecard) give a ``Refused`` command instead, answered
after the ack, as they always have been. The text formats shared with the forms (Slack text as plain
text, working-time durations, weekdays) are in ``handlers.command_text``. No Slack libraries here: the parser is
pure.
"""

from __future__ import annotations

import re
from datetime import date, time

from bot.blocks.text import escape, truncate
from bot.services.issue_models import SEVERITIES, ActionFilter, IssueFilter
from bot.services.partnership_models import Side
from bot.services.review_models import ScorecardCadence
from bot.text_hygiene import clean_text
from handlers.command_text import CommandError, parse_duration, parse_workdays, plain_text_from_slack
from handlers.command_types import (
    ActionAdd,
    ActionList,
    CategoriesSet,
    CategoriesShow,
    CategoryAdd,
    CategoryRemove,
    Command,
    DigestCopy,
    DigestNow,
    DigestPreview,
    ExpectationAdd,
    ExpectationsShow,
    GoalAdd,
    GoalsShow,
    Help,
    HolidayAdd,
    HolidayRemove,
    HoursSet,
    HoursShow,
    IssueList,
    IssueLog,
    KpiChange,
    KpiLedgerShow,
    KpiPropose,
    KpiRecord,
    KpiRedPeriodsSet,
    KpiRetire,
    KpiShow,
    KpiTokenCreate,
    KpiTokenRevoke,
    KpiTokensShow,
    Menu,
    PolicyReset,
    PolicySet,
    PolicyShow,
    PortfolioHere,
    PortfolioOff,
    PortfolioShow,
    PulseNow,
    PulsePause,
    PulseResume,
    Questions,
    Refused,
    ScorecardCadenceSet,
    ScorecardShow,
    ScorecardStart,
    Setup,
    SideAssign,
    SideGroupAssign,
    Status,
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
    "portfolio": "`/partner portfolio` (see it), `/partner portfolio here` (post it in this channel every Monday) or "
    "`/partner portfolio off`",
    "goals": "`/partner goals`",
    "goal": "`/partner goal add [title]`",
    "expectations": "`/partner expectations`",
    "kpi": "`/partner kpi` (the ledger), `/partner kpi propose`, `/partner kpi show KEY`, `/partner kpi change KEY` "
    "or `/partner kpi retire KEY` (leads; `/partner kpi` lists the keys); `/partner kpi record KEY`; leads: "
    "`/partner kpi tokens` and `/partner kpi policy red-periods 3`",
}
DIGEST_USAGE = (
    "Usage: `/partner digest preview` (only you see it), `/partner digest now` (leads: post this week's digest now), "
    "`/partner digest subscribe` or `/partner digest unsubscribe` (leads and sponsors: a copy in your direct messages)."
)
SCORECARD_USAGE = (
    "Usage: `/partner scorecard` to see it; leads: `/partner scorecard monthly`, `quarterly` or `off`, or "
    "`/partner scorecard start` to open one now."
)
SIMPLE: dict[str, Command] = {
    "help": Help(),
    "setup": Setup(),
    "status": Status(),
    "menu": Menu(),
    "questions": Questions(),
}
PULSE = {"now": PulseNow(), "pause": PulsePause(), "resume": PulseResume()}
DIGEST: dict[str, Command] = {
    "preview": DigestPreview(),
    "now": DigestNow(),
    "subscribe": DigestCopy(subscribe=True),
    "unsubscribe": DigestCopy(subscribe=False),
}
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>$")
#: A user group as Slack escapes it in command text: ``<!subteam^S0123|@handle>`` (the label may be missing).
_SUBTEAM = re.compile(r"^<!subteam\^(S[A-Z0-9]{2,30})(?:\|([^<>]*))?>$")
#: ``side`` takes one Slack token (a person or a group; a label may hold spaces) and one word.
_SIDE_ARGS = re.compile(r"^(<[^<>]*>)\s+(\S+)$")
_FIRST_WORD = re.compile(r"\s*\S+\s*(.*)", re.DOTALL)
_WINDOW = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")
MAX_CATEGORY_TEXT = 2000


def parse_command(text: str | None) -> Command:
    """``/partner`` text → its typed subcommand. Unknown or incomplete commands raise CommandError with usage.

    The text is cleaned first (``clean_text``): no control or bidirectional formatting character reaches a command.
    """
    raw = clean_text(text or "")
    words = raw.split()
    if not words:
        return Help()
    name, rest = words[0].lower(), words[1:]
    if name in SIMPLE:
        return SIMPLE[name]
    if name == "pulse":
        if len(rest) != 1 or rest[0].lower() not in PULSE:
            raise _usage("pulse")
        return PULSE[rest[0].lower()]
    if name == "side":
        return _side(_rest_text(raw))
    if name in _ISSUE_LOG:
        return _ISSUE_LOG[name](raw, rest)
    if name in _REVIEWS:
        return _review(name, raw)
    if name == "kpi":
        return _kpi_figures(rest) or _kpi(rest)
    shown = escape(truncate(name, 40))
    raise CommandError(f"I don't know `{shown}`. Try `/partner help` for what I can do.")


# --- the words after the subcommand's name -------------------------------------------------------------------


def _rest_text(text: str) -> str:
    """Everything after the first word, as the person typed it (spacing kept)."""
    match = _FIRST_WORD.match(text)
    return match.group(1).strip() if match else ""


def _usage(name: str) -> CommandError:
    return CommandError(f"Usage: {USAGE[name]}.")


def _side_word(word: str, name: str) -> Side:
    side = word.lower()
    if side not in (Side.CLIENT.value, Side.PROVIDER.value):
        raise _usage(name)
    return Side(side)


def _side(args: str) -> Command:
    """``<@U1|dana> client`` (a person) or ``<!subteam^S1|@ops> provider`` (a user group), or ``auto``."""
    found = _SIDE_ARGS.match(args)
    word = found.group(2).lower() if found else ""
    if found is None or word not in ("client", "provider", "auto"):
        raise CommandError(f"Usage: {USAGE['side']} (mention the person or group with @).")
    side = None if word == "auto" else Side(word)
    person = _MENTION.match(found.group(1))
    if person is not None:
        return SideAssign(user_id=person.group(1), side=side)
    group = _SUBTEAM.match(found.group(1))
    if group is None:
        raise CommandError(f"Usage: {USAGE['side']} (mention the person or group with @).")
    handle = plain_text_from_slack(group.group(2) or "").strip() or f"the group {group.group(1)}"
    return SideGroupAssign(usergroup_id=group.group(1), handle=handle[:100], side=side)


def _issue(raw: str, rest: list[str]) -> Command:
    return IssueLog(title=plain_text_from_slack(_rest_text(raw)) or None)


def _action(raw: str, rest: list[str]) -> Command:
    return ActionAdd(title=plain_text_from_slack(_rest_text(raw)) or None)


def _issues(raw: str, rest: list[str]) -> Command:
    if len(rest) > 1 or (rest and rest[0].lower() not in {f.value for f in IssueFilter}):
        raise _usage("issues")
    return IssueList(IssueFilter(rest[0].lower())) if rest else IssueList()


def _actions(raw: str, rest: list[str]) -> Command:
    if len(rest) > 1 or (rest and rest[0].lower() not in {f.value for f in ActionFilter}):
        raise _usage("actions")
    return ActionList(ActionFilter(rest[0].lower())) if rest else ActionList()


def _policy(raw: str, rest: list[str]) -> Command:
    if not rest:
        return PolicyShow()
    severity = rest[0].upper()
    if severity not in SEVERITIES:
        raise _usage("policy")
    if len(rest) == 2 and rest[1].lower() == "default":
        return PolicyReset(severity)
    if len(rest) != 3:
        raise _usage("policy")
    try:
        return PolicySet(severity, acknowledge=parse_duration(rest[1]), resolve=parse_duration(rest[2]))
    except ValueError:
        raise _usage("policy") from None


def _categories(raw: str, rest: list[str]) -> Command:
    if not rest:
        return CategoriesShow()
    verb = rest[0].lower()
    names = plain_text_from_slack(_rest_text(_rest_text(raw)))[:MAX_CATEGORY_TEXT]
    if verb == "set":
        found = tuple(n.strip() for n in names.split(",") if n.strip())
        if found:
            return CategoriesSet(found)
    elif verb in ("add", "remove"):
        if names.strip():
            return CategoryAdd(names.strip()) if verb == "add" else CategoryRemove(names.strip())
    raise _usage("categories")


def _hours(raw: str, rest: list[str]) -> Command:
    if not rest:
        return HoursShow()
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
    try:
        day_start, day_end = _clock_time(window.group(1)), _clock_time(window.group(2))
    except ValueError as exc:
        return Refused(str(exc))  # like the service's own refusals: after the ack
    return HoursSet(side, day_start=day_start, day_end=day_end, workdays=workdays, timezone=tz or None)


def _clock_time(raw: str) -> time:
    """``09:00`` → a time of day; ValueError (its message for the person) for ``25:00``."""
    hour, _, minute = raw.partition(":")
    try:
        return time(int(hour), int(minute))
    except ValueError:
        raise ValueError(f"{raw} is not a time of day; write it like 09:00.") from None


def _holiday(raw: str, rest: list[str]) -> Command:
    remove = bool(rest) and rest[0].lower() == "remove"
    words = rest[1:] if remove else rest
    if len(words) < 2 or (remove and len(words) != 2):
        raise _usage("holiday")
    side = _side_word(words[0], "holiday")
    try:
        day = date.fromisoformat(words[1])
    except ValueError:
        raise _usage("holiday") from None
    if remove:
        return HolidayRemove(side, day)
    return HolidayAdd(side, day, name=plain_text_from_slack(" ".join(words[2:]))[:100])


_ISSUE_LOG = {
    "issue": _issue,
    "issues": _issues,
    "action": _action,
    "actions": _actions,
    "policy": _policy,
    "categories": _categories,
    "hours": _hours,
    "holiday": _holiday,
}
_REVIEWS = ("digest", "portfolio", "goals", "goal", "expect", "expectations", "scorecard")


KPI_POLICY_USAGE = (
    "Usage: `/partner kpi policy red-periods 3` (leads): a KPI red for that many periods in a row (1 to 12) is logged "
    "as an issue and escalates like one."
)


def _kpi_policy(words: list[str]) -> Command:
    """``kpi policy red-periods N``; a number out of range is the service's refusal (after the ack)."""
    if len(words) == 3 and words[:2] == ["policy", "red-periods"] and words[2].isdigit() and len(words[2]) <= 3:
        return KpiRedPeriodsSet(int(words[2]))
    raise CommandError(KPI_POLICY_USAGE)


def _review(name: str, raw: str) -> Command:
    """The word after the name (lower case, None when absent) chooses; words after it are a goal's title and
    nothing else. ``expect`` takes only free text (what one side expects of the other)."""
    after_name = _rest_text(raw)
    if name == "expect":
        return ExpectationAdd(plain_text_from_slack(after_name) if after_name else None)
    arg: str | None = None
    text: str | None = None
    if after_name:
        arg = after_name.split()[0].lower()
        text = plain_text_from_slack(_rest_text(after_name)) or None
    if name == "digest":
        return DIGEST[arg] if arg in DIGEST and text is None else Refused(DIGEST_USAGE)
    if name == "portfolio":
        if text is not None or arg not in (None, "here", "off"):
            return Refused(f"Usage: {USAGE['portfolio']}.")
        return PortfolioShow() if arg is None else PortfolioHere() if arg == "here" else PortfolioOff()
    if name == "scorecard":
        if text is None and arg is None:
            return ScorecardShow()
        if text is None and arg == "start":
            return ScorecardStart()
        if text is None and arg in {c.value for c in ScorecardCadence}:
            return ScorecardCadenceSet(ScorecardCadence(arg))
        return Refused(SCORECARD_USAGE)
    if name == "goal" and arg == "add":
        return GoalAdd(text)
    if arg is not None or name == "goal":
        return Refused(f"Usage: {USAGE[name]}.")
    return GoalsShow() if name == "goals" else ExpectationsShow()


KPI_FIGURES_USAGE = (
    "Usage: `/partner kpi record KEY` (the form for a KPI's figure), `/partner kpi tokens`, "
    "`/partner kpi token create LABEL` or `/partner kpi token revoke ID` (leads: tokens for the HTTP endpoint)."
)


def _kpi_figures(rest: list[str]) -> Command | None:
    """``kpi record KEY``, ``kpi tokens``, ``kpi token create LABEL``, ``kpi token revoke ID``; None for the
    ledger's other ``kpi`` words."""
    word = rest[0].lower() if rest else ""
    if word == "tokens":
        return KpiTokensShow() if len(rest) == 1 else Refused(KPI_FIGURES_USAGE)
    if word == "record":
        return KpiRecord(rest[1].lower()) if len(rest) == 2 else Refused(KPI_FIGURES_USAGE)
    if word != "token":
        return None
    action = rest[1].lower() if len(rest) > 1 else ""
    if action == "create" and len(rest) > 2:
        return KpiTokenCreate(plain_text_from_slack(" ".join(rest[2:])))
    if action == "revoke" and len(rest) == 3 and rest[2].lstrip("#").isdigit() and len(rest[2]) < 10:
        return KpiTokenRevoke(int(rest[2].lstrip("#")))
    return Refused(KPI_FIGURES_USAGE)


_KPI_BY_KEY = {"show": KpiShow, "change": KpiChange, "retire": KpiRetire}


def _kpi(rest: list[str]) -> Command:
    """``kpi``, ``kpi propose``, ``kpi show|change|retire KEY`` (one word; the service says if it is unknown), or
    ``kpi policy red-periods N``."""
    if not rest:
        return KpiLedgerShow()
    verb = rest[0].lower()
    if verb == "policy":
        return _kpi_policy([w.lower() for w in rest])
    if verb == "propose" and len(rest) == 1:
        return KpiPropose()
    if verb in _KPI_BY_KEY and len(rest) == 2:
        return _KPI_BY_KEY[verb](truncate(rest[1].lower(), 41))
    raise _usage("kpi")
