"""Formatting shared by the issue log's messages: labels for working time and status, escaped names, plurals and
the fallback text (sections, quotes and dates are in bot/blocks/layout.py).

All user text (titles, details, comments, follow-ups, lead-defined categories, organisation names) is escaped
before it goes into mrkdwn, so nobody can make PartnerPulse post ``<!channel>``, a mention or a disguised link.
Mentions in the issue log's messages are built only from stored Slack user ids.
"""

from __future__ import annotations

from datetime import timedelta

from bot.blocks.text import escape, local_time_label, truncate
from bot.services.issue_models import IssueStatus, IssueView
from bot.services.partnership_models import PartnershipView, Side


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def working_time_label(amount: timedelta) -> str:
    """``4 working hours``, ``3 working days`` (a day is 8 working hours, as in the default policy)."""
    minutes = int(amount.total_seconds() // 60)
    if minutes >= 480 and minutes % 480 == 0:
        return plural(minutes // 480, "working day")
    if minutes >= 60 and minutes % 60 == 0:
        return plural(minutes // 60, "working hour")
    if minutes < 60:
        return plural(minutes, "working minute")
    return f"{minutes // 60} h {minutes % 60} min of working time"


def org_name(p: PartnershipView, side: Side) -> str:
    return escape(p.org(side))


def side_label(p: PartnershipView, side: Side) -> str:
    return f"{org_name(p, side)} ({side.value})"


def issue_name(issue: IssueView) -> str:
    return f"#{issue.number} “{escape(issue.title)}”"


def fallback_text(text: str) -> str:
    return truncate(text, 3000)


def status_line(issue: IssueView, tz: str) -> str:
    if issue.status is IssueStatus.RESOLVED:
        when = local_time_label(issue.resolved_at, tz) if issue.resolved_at else ""
        who = f" by <@{issue.resolved_by}>" if issue.resolved_by else ""
        return f":white_check_mark: Resolved{who}, {when}"
    if issue.status is IssueStatus.ACKNOWLEDGED:
        who = f" by <@{issue.acknowledged_by}>" if issue.acknowledged_by else ""
        return f":eyes: Acknowledged{who}"
    return ":large_yellow_circle: Open, waiting to be acknowledged"


STATUS_LABELS = {IssueStatus.OPEN: "open", IssueStatus.ACKNOWLEDGED: "acknowledged", IssueStatus.RESOLVED: "resolved"}
