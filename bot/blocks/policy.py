"""The escalation policy as leads see it: deadlines per severity, categories and each side's working calendar."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
)

from bot.blocks import ids
from bot.blocks.issue_text import fallback_text, side_label, working_time_label
from bot.blocks.layout import date_label, mrkdwn_context, mrkdwn_section
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.pulse import Message
from bot.blocks.text import HEADER_MAX, escape, truncate
from bot.services.issue_models import (
    SEVERITY_DEFINITIONS,
    SEVERITY_LABELS,
    CalendarView,
    PolicyView,
)
from bot.services.partnership_models import PartnershipView

WEEKDAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_duration(amount: timedelta) -> str:
    """Working time the way a lead types it back: ``1d 4h``, ``30m`` (a day is 8 working hours)."""
    minutes = int(amount.total_seconds() // 60)
    days, rest = divmod(minutes, 480)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return " ".join(parts) or "0m"


def _workdays_label(days: tuple[int, ...]) -> str:
    if days and list(days) == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{WEEKDAY_SHORT[days[0]]}–{WEEKDAY_SHORT[days[-1]]}"
    return ", ".join(WEEKDAY_SHORT[d] for d in days) or "no days"


def calendar_line(p: PartnershipView, cal: CalendarView) -> str:
    """``Northwind (client): Mon–Fri 09:00–17:00 America/New_York; holidays: …``."""
    line = (
        f"{side_label(p, cal.side)}: {_workdays_label(cal.workdays)} {cal.day_start:%H:%M}–{cal.day_end:%H:%M} "
        f"{escape(cal.timezone)}"
    )
    if cal.holidays:
        days = ", ".join(f"{date_label(h.day)}" + (f" ({escape(h.name)})" if h.name else "") for h in cal.holidays[:10])
        more = f" and {len(cal.holidays) - 10} more" if len(cal.holidays) > 10 else ""
        line += f"; holidays: {days}{more}"
    return line


def build_policy(policy: PolicyView, categories: tuple[str, ...], calendars: tuple[CalendarView, ...]) -> Message:
    """``/partner policy``: deadlines per severity, the working hours they count in, the categories, and a
    button for leads to change them (the menu's lead buttons work the same way)."""
    p = policy.partnership
    lines = []
    for s in policy.severities:
        changed = " _(changed by a lead)_" if s.custom else ""
        lines.append(
            f"*{SEVERITY_LABELS[s.severity]}* — {SEVERITY_DEFINITIONS[s.severity].lower()}: acknowledge within "
            f"{working_time_label(s.acknowledge)}, resolve within {working_time_label(s.resolve)}{changed}"
        )
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Escalation policy · {p.name}", HEADER_MAX)),
        mrkdwn_section("\n".join(lines)),
        mrkdwn_context(
            "Level 1 nudges the owner when the acknowledge time passes (or at 75% of the resolve time); level 2 "
            "brings in the leads of both sides at twice the acknowledge time (or when the resolve time passes); "
            "level 3 the executive sponsors at twice the resolve time. Time counts in the owning side's working hours."
        ),
        mrkdwn_section("*Working hours*\n" + "\n".join(calendar_line(p, c) for c in calendars)),
        mrkdwn_section("*Issue categories*\n" + ", ".join(escape(c) for c in categories)),
        ActionsBlock(
            block_id="policy-actions",
            elements=[
                ButtonElement(
                    text="Change deadlines or categories",
                    action_id=ids.Action.POLICY_CHANGE,
                    value=encode(ChannelRef(team_id=p.team_id, channel_id=p.channel_id)),
                )
            ],
        ),
        mrkdwn_context(
            "Leads change these here, or with `/partner policy S2 4h 3d`, `/partner categories add …`, "
            "`/partner hours client 09:00-17:00 mon-fri` and `/partner holiday client 2026-12-25 Christmas`."
        ),
    ]
    return Message(text=fallback_text(f"Escalation policy of {escape(p.name)}"), blocks=blocks)
