"""Help, status, the partnership menu, confirmations and short notices."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks import ids
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.pulse import Message
from bot.blocks.text import SECTION_TEXT_MAX, escape, local_time_label, truncate
from bot.services.figures_format import format_participation
from bot.services.partnership_models import WEEKDAYS, PartnershipView, SetupResult, Side, SideGroupResult
from bot.services.pulse_models import DIMENSION_LABELS, QuestionView, StatusView

#: The help, one Slack section per group (a section holds at most 3,000 characters; each group is well under).
HELP_TEXT = """*PartnerPulse* keeps the client–provider relationship in this channel healthy.
• `/partner setup` — create or change this channel's partnership (leads)
• `/partner status` — next pulse, people per side, last round's participation
• `/partner menu` — post the partnership menu with buttons (for people of the other organisation, who cannot run this command)
• `/partner pulse now` | `pause` | `resume` — run a pulse now, or pause and resume the schedule (leads)
• `/partner side @person client|provider|auto` — put someone on a side (leads)
• `/partner side @group client|provider|auto` — put a user group's members on a side; a personal assignment still wins (leads)
• `/partner questions` — list and add your own pulse questions (leads add)

*Issues and actions* (anyone in the channel logs issues; the owner or a lead acknowledges, resolves or reassigns)
• `/partner issue [title]` — log an issue (also: the message shortcut *Log as partnership issue*, or the menu)
• `/partner issues [open|mine|all]` — list issues, with their buttons
• `/partner action [title]` — add an action: one owner, a side, a due date, optionally an issue
• `/partner actions [mine|overdue|all]` — list actions; mark them done or dropped
• `/partner policy` — the escalation deadlines per severity; leads: `/partner policy S2 4h 3d` (acknowledge within 4 working hours, resolve within 3 working days; a day is 8 working hours) or `/partner policy S2 default`, or the form's button
• `/partner categories` — issue categories; leads: `/partner categories add Data quality`, `remove Staffing` or `set Delivery, Timeliness, Other`
• `/partner hours` — each side's working hours; leads: `/partner hours client 09:00-17:00 mon-fri [Europe/London]`, `/partner holiday client 2026-12-25 Christmas` or `/partner holiday remove client 2026-12-25`

*Weekly digest* (posted in this channel on the digest day, with a trend chart in its thread)
• `/partner digest preview` — this week's digest so far, only for you
• `/partner digest now` — post this week's digest now; the scheduled one then does not post again (leads)
• `/partner digest subscribe` | `unsubscribe` — a copy of each digest in your direct messages (leads and sponsors)

*Portfolio* (leads and executive sponsors of any partnership here)
• `/partner portfolio` — every partnership of the workspace ranked by risk, only for you
• `/partner portfolio here` | `off` — post it in this channel every Monday at 09:00, or stop (leads)

*KPI figures* (the side that delivers a KPI records its figure each period; also by CSV import and the HTTP API)
• `/partner kpi record KEY` — the form for a KPI's figure (the KPI's owner is also asked after each period)
• `/partner kpi tokens` — the partnership's API tokens; leads: `/partner kpi token create LABEL` (shown once) or `/partner kpi token revoke ID`

*Goals, expectations and the scorecard* (anyone on either side adds; owners or leads update a goal)
• `/partner goals` — shared goals with their owners and status; update a status with its button
• `/partner goal add [title]` — a shared goal with an owner on each side, an optional due date and a status
• `/partner expect [text]` — record what your side expects of the other; they agree or ask to discuss it
• `/partner expectations` — the expectations ledger by status
• `/partner scorecard` — cadence and the current scorecard; leads: `monthly` | `quarterly` | `off`, or `start` to open one now
*Agreed KPIs* (leads propose; a lead of the other side agrees or asks to discuss)
• `/partner kpi` — the KPI ledger: each KPI with its version in force, proposals with their buttons
• `/partner kpi propose` — propose a KPI: what is measured, target, amber and red levels, weekly or monthly, who delivers it
• `/partner kpi show KEY` | `change KEY` | `retire KEY` — one KPI with its versions and last figures; propose a new version; retire it (leads)
• `/partner kpi policy red-periods N` — a KPI red for N periods in a row (1–12, default 3) is logged as an issue (leads)
• `/partner help` — this message"""


def build_help() -> Message:
    return Message(
        text="PartnerPulse commands",
        blocks=[SectionBlock(text=MarkdownTextObject(text=group)) for group in HELP_TEXT.split("\n\n")],
    )


def build_notice(text: str) -> Message:
    """A short ephemeral reply; ``text`` is our own wording (user text must be escaped by the caller)."""
    return Message(
        text=truncate(text, SECTION_TEXT_MAX),
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))],
    )


def build_reinstall_needed(workspace: str) -> Message:
    """For a lead whose organisation's installation of PartnerPulse needs installing again."""
    return build_notice(
        f"PartnerPulse can no longer reach your organisation ({escape(workspace) or 'your workspace'}) through its own "
        "installation: Slack refused to renew its token. Ask a Slack admin of your organisation to install "
        "PartnerPulse again from its install page. Until then you get PartnerPulse's messages in this channel, and "
        "nothing of the partnership is lost."
    )


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def side_group_text(result: SideGroupResult) -> str:
    """The reply to ``/partner side @group …``. The handle is user text: escaped, never a mention."""
    handle = escape(result.handle)
    if result.side is None:
        if not result.existed:
            return f"{handle} had no side in this partnership; nothing changed."
        text = (
            f"{handle} no longer puts anyone on a side. Its people here ({result.in_channel}) are back on their own "
            f"side: another assigned group's, else their organisation's"
        )
        return text + (f" ({_people(result.moved)} changed side)." if result.moved else "; nobody changed side.")
    text = (
        f"{handle} ({_people(result.group_size)}, {result.in_channel} in this channel) is now on the "
        f"{result.side.value} side."
    )
    if result.personal:
        text += f" Personal assignments still win ({_people(result.personal)})."
    if result.conflicts:
        others = ", ".join(escape(h) for h in result.other_handles)
        text += (
            f" {_people(result.conflicts)} {'is' if result.conflicts == 1 else 'are'} also in {others} on the "
            f"{result.side.other.value} side: the most recent group wins, so they are on the {result.side.value} "
            "side now. A personal assignment (`/partner side @person client|provider`) settles it."
        )
    return text


def build_error(text: str) -> Message:
    return build_notice(f":warning: {text}")


def _schedule_line(p: PartnershipView) -> str:
    every = "every week" if p.pulse_every_weeks == 1 else f"every {p.pulse_every_weeks} weeks"
    return f"{WEEKDAYS[p.pulse_weekday]}s at {p.pulse_hour:02d}:{p.pulse_minute:02d} {p.timezone}, {every}"


def build_setup_done(result: SetupResult, *, user_id: str) -> Message:
    """Posted in the channel after setup, so both sides see what was agreed."""
    p = result.partnership
    verb = "set up" if result.created else "updated"
    nxt = local_time_label(p.next_pulse_at, p.timezone) if p.next_pulse_at else "not scheduled"
    counts = result.members_by_side
    text = (
        f"<@{user_id}> {verb} PartnerPulse for *{escape(p.name)}* between *{escape(p.client_org)}* (client) and "
        f"*{escape(p.provider_org)}* (provider).\nPulse: {_schedule_line(p)}. Next pulse: {nxt}.\n"
        f"People per side: {escape(p.client_org)} {counts.get(Side.CLIENT.value, 0)}, "
        f"{escape(p.provider_org)} {counts.get(Side.PROVIDER.value, 0)}."
    )
    return Message(
        text=f"PartnerPulse {verb} for {escape(p.name)}.",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))],
    )


def build_status(view: StatusView) -> Message:
    """``/partner status``: next pulse, members per side, leads, the last round's participation."""
    p = view.partnership
    client, provider = escape(p.client_org), escape(p.provider_org)
    if p.status != "active":
        who = f"paused by <@{p.paused_by}>" if p.paused_by else escape(p.pause_reason or "no reason given")
        nxt = f"{who}. A lead can resume with `/partner pulse resume`."
    else:
        nxt = local_time_label(p.next_pulse_at, p.timezone) if p.next_pulse_at else "not scheduled"
    lines = [
        f"*Schedule:* {_schedule_line(p)}",
        f"*Next pulse:* {nxt}",
        f"*People answering:* {client} {view.members_by_side.get(Side.CLIENT.value, 0)} · "
        f"{provider} {view.members_by_side.get(Side.PROVIDER.value, 0)}"
        + (f" · {view.unassigned} without a side (a lead can assign them)" if view.unassigned else ""),
        "*Leads:* " + (", ".join(f"<@{m.user_id}>" for m in view.leads) or "none"),
        "*Sponsors:* " + (", ".join(f"<@{m.user_id}>" for m in view.sponsors) or "none"),
        f"*Anonymity threshold:* {p.anonymity_threshold} per side",
    ]
    if view.open_round:
        lines.append(
            f"*Open round:* {view.open_round.sequence}, closes {local_time_label(view.open_round.closes_at, p.timezone)}"
        )
    if view.last_round and view.last_participation:
        cp, pp = view.last_participation[Side.CLIENT], view.last_participation[Side.PROVIDER]
        lines.append(
            f"*Last round ({view.last_round.sequence}) participation:* {client} {format_participation(cp)} · "
            f"{provider} {format_participation(pp)}"
        )
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"{p.name} · status", 150)),
        SectionBlock(text=MarkdownTextObject(text=truncate("\n".join(lines), SECTION_TEXT_MAX))),
    ]
    return Message(text=f"Status of {escape(p.name)}", blocks=blocks)


def build_menu(p: PartnershipView) -> Message:
    """The partnership menu: every action as a button, for people who cannot run ``/partner``."""
    value = encode(ChannelRef(team_id=p.team_id, channel_id=p.channel_id))
    A = ids.Action
    return Message(
        text=f"PartnerPulse menu for {escape(p.name)}",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=truncate(
                        f"*PartnerPulse · {escape(p.name)}*\nEveryone in this channel, on either side, can use these buttons.",
                        SECTION_TEXT_MAX,
                    )
                )
            ),
            ActionsBlock(
                block_id="menu-everyone",
                elements=[
                    ButtonElement(text="Answer the open pulse", action_id=A.MENU_ANSWER, value=value, style="primary"),
                    ButtonElement(text="Log an issue", action_id=A.MENU_LOG_ISSUE, value=value),
                    ButtonElement(text="Open issues", action_id=A.MENU_ISSUES, value=value),
                    ButtonElement(text="My actions", action_id=A.MENU_ACTIONS, value=value),
                    ButtonElement(text="Shared goals", action_id=ids.ReviewAction.GOALS_LIST, value=value),
                    ButtonElement(text="Expectations", action_id=ids.ReviewAction.EXPECTATIONS_LIST, value=value),
                    ButtonElement(text="KPIs", action_id=A.MENU_KPIS, value=value),
                    ButtonElement(text="Status", action_id=A.MENU_STATUS, value=value),
                    ButtonElement(text="Help", action_id=A.MENU_HELP, value=value),
                ],
            ),
            ContextBlock(elements=[MarkdownTextObject(text="For leads:")]),
            ActionsBlock(
                block_id="menu-leads",
                elements=[
                    ButtonElement(text="Pulse now", action_id=A.MENU_PULSE_NOW, value=value),
                    ButtonElement(text="Pause pulses", action_id=A.MENU_PAUSE, value=value),
                    ButtonElement(text="Resume pulses", action_id=A.MENU_RESUME, value=value),
                    ButtonElement(text="Escalation policy", action_id=A.MENU_POLICY, value=value),
                    ButtonElement(text="Settings", action_id=A.MENU_SETUP, value=value),
                ],
            ),
        ],
    )


def build_questions(p_name: str, questions: tuple[QuestionView, ...], *, team_id: str, channel_id: str) -> Message:
    """The partnership's own questions and a button to add one."""
    if questions:
        lines = [
            f"• *{DIMENSION_LABELS.get(q.dimension, q.dimension)}* — client: {escape(q.text_client)} / provider: {escape(q.text_provider)}"
            for q in questions
        ]
        body = "\n".join(lines)
    else:
        body = "No questions of your own yet: rounds use the built-in bank of 24 questions over 8 dimensions."
    return Message(
        text=f"Pulse questions of {escape(p_name)}",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=truncate(body, SECTION_TEXT_MAX))),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Add a question",
                        action_id=ids.Action.QUESTION_ADD,
                        value=encode(ChannelRef(team_id=team_id, channel_id=channel_id)),
                    )
                ]
            ),
        ],
    )
