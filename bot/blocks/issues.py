"""Issue log messages: the issue card, its thread lines, escalations, the blameless follow-up question, the
grouped overdue-actions reminder and early-warning signals.

All user text (titles, details, comments, follow-ups, lead-defined categories, organisation names) is escaped
before it goes into mrkdwn, so nobody can make PartnerPulse post ``<!channel>``, a mention or a disguised link.
Mentions in these messages are built only from stored Slack user ids.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from bot.blocks import ids
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.pulse import MAX_BLOCKS_PER_MESSAGE, MAX_MESSAGE_TEXT, Message, text_length
from bot.blocks.text import CONTEXT_TEXT_MAX, HEADER_MAX, SECTION_TEXT_MAX, escape, local_time_label, truncate
from bot.services.action_models import ActionStatus, ActionView, OverdueReminder
from bot.services.calendar_models import CalendarView
from bot.services.issue_models import (
    ESCALATION_LEVEL_LABELS,
    SEVERITY_DEFINITIONS,
    SEVERITY_LABELS,
    EscalationNotice,
    FollowupQuestion,
    HistoryItem,
    IssueCard,
    IssueStatus,
    IssueView,
)
from bot.services.issue_settings_models import PolicyView
from bot.services.partnership_models import PartnershipView, Side
from bot.services.pulse_models import DIMENSION_LABELS
from bot.services.signal_models import SignalKind, SignalView

FIELD_TEXT_MAX = 2000
BUTTON_LABEL_MAX = 75
CARD_ACTIONS_SHOWN = 10
REMINDER_ACTIONS_SHOWN = 40
#: What "Escalate now" does at each next level (its confirmation dialog).
ESCALATE_NOW = {
    1: "This nudges the owner",
    2: "This brings in the leads of both sides",
    3: "This brings in the executive sponsors of both sides",
}
CONTRIBUTE_ACTIONS = {
    Side.CLIENT: ids.Action.FOLLOWUP_CONTRIBUTE_CLIENT,
    Side.PROVIDER: ids.Action.FOLLOWUP_CONTRIBUTE_PROVIDER,
}


# --- button values (encoded and decoded with bot.blocks.metadata) --------------------------------------------


@dataclass(frozen=True)
class IssueRef:
    issue_id: int


@dataclass(frozen=True)
class FollowupAsk:
    """Which side's "add ours" button of the follow-up question was pressed."""

    issue_id: int
    side: str


@dataclass(frozen=True)
class FollowupRef:
    followup_id: int


@dataclass(frozen=True)
class ActionRef:
    """An action's "Mark done". ``channel_id``: the partnership's channel, named by buttons in messages that may
    be sent as a direct message from the app (where the clicked channel is the DM, not the partnership's)."""

    action_id: int
    channel_id: str = ""


@dataclass(frozen=True)
class SignalRef:
    """A signal's "Log issue"; ``channel_id`` as for ``ActionRef`` (signals go to leads' direct messages)."""

    signal_id: int
    channel_id: str = ""


@dataclass(frozen=True)
class IssueVerb:
    """An option of an issue's overflow menu (lists, Home): what to do to which issue of which channel.

    The channel travels with it because a Home tab has none; on a channel message it must match the channel.
    """

    issue_id: int
    channel_id: str
    verb: str


@dataclass(frozen=True)
class ActionVerb:
    """An option of an action's overflow menu: the status to set."""

    action_id: int
    channel_id: str
    status: str


@dataclass(frozen=True)
class ListPage:
    """The "More" button under a list: which list (``issues``/``actions`` and its filter) and where to go on."""

    channel_id: str
    kind: str
    filter: str
    offset: int


#: What an issue's overflow menu offers (the verbs of IssueVerb).
ISSUE_VERBS = {
    "ack": "Acknowledge",
    "update": "Update",
    "action": "Add action",
    "resolve": "Resolve",
    "reopen": "Reopen",
    "reassign": "Reassign",
}


# --- small formatting helpers ------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def working_time_label(amount: timedelta) -> str:
    """``4 working hours``, ``3 working days`` (a day is 8 working hours, as in the default policy)."""
    minutes = int(amount.total_seconds() // 60)
    if minutes >= 480 and minutes % 480 == 0:
        return _plural(minutes // 480, "working day")
    if minutes >= 60 and minutes % 60 == 0:
        return _plural(minutes // 60, "working hour")
    if minutes < 60:
        return _plural(minutes, "working minute")
    return f"{minutes // 60} h {minutes % 60} min of working time"


def date_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _org(p: PartnershipView, side: Side) -> str:
    return escape(p.org(side))


def _side_label(p: PartnershipView, side: Side) -> str:
    return f"{_org(p, side)} ({side.value})"


def _quote_lines(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """User text as a mrkdwn block quote, line by line, escaped and cut to ``limit``."""
    lines = [line.rstrip() for line in text.strip().splitlines()] or [""]
    return truncate("\n".join("> " + escape(line) if line else ">" for line in lines), limit)


def _issue_name(issue: IssueView) -> str:
    return f"#{issue.number} “{escape(issue.title)}”"


def _fallback(text: str) -> str:
    return truncate(text, 3000)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, CONTEXT_TEXT_MAX))])


def _status_line(issue: IssueView, tz: str) -> str:
    if issue.status is IssueStatus.RESOLVED:
        when = local_time_label(issue.resolved_at, tz) if issue.resolved_at else ""
        who = f" by <@{issue.resolved_by}>" if issue.resolved_by else ""
        return f":white_check_mark: Resolved{who}, {when}"
    if issue.status is IssueStatus.ACKNOWLEDGED:
        who = f" by <@{issue.acknowledged_by}>" if issue.acknowledged_by else ""
        return f":eyes: Acknowledged{who}"
    return ":large_yellow_circle: Open, waiting to be acknowledged"


# --- the issue card ----------------------------------------------------------------------------------------


def _action_line(a: ActionView) -> str:
    mark = {ActionStatus.OPEN: "•", ActionStatus.DONE: ":white_check_mark:", ActionStatus.DROPPED: ":heavy_minus_sign:"}
    state = "" if a.status is ActionStatus.OPEN else f" ({a.status.value})"
    return f"{mark[a.status]} {escape(a.title)} — <@{a.owner_id}>, due {date_label(a.due_on)}{state}"


def issue_buttons(issue: IssueView) -> ActionsBlock:
    """The card's buttons for the issue's state (all carry the issue id; permissions are checked on click)."""
    value = encode(IssueRef(issue.id))
    A = ids.Action
    buttons: list[ButtonElement] = []
    if issue.status is IssueStatus.OPEN:
        buttons.append(ButtonElement(text="Acknowledge", action_id=A.ISSUE_ACKNOWLEDGE, value=value, style="primary"))
    buttons.append(ButtonElement(text="Update", action_id=A.ISSUE_UPDATE, value=value))
    buttons.append(ButtonElement(text="Add action", action_id=A.ISSUE_ADD_ACTION, value=value))
    if issue.status is IssueStatus.RESOLVED:
        buttons.append(ButtonElement(text="Reopen", action_id=A.ISSUE_REOPEN, value=value))
    else:
        buttons.append(ButtonElement(text="Resolve", action_id=A.ISSUE_RESOLVE, value=value))
        buttons.append(ButtonElement(text="Reassign", action_id=A.ISSUE_REASSIGN, value=value))
        if issue.escalation_level < 3:
            buttons.append(
                ButtonElement(
                    text="Escalate now",
                    action_id=A.ISSUE_ESCALATE,
                    value=value,
                    style="danger",
                    confirm=ConfirmObject(
                        title="Escalate now?",
                        text=f"{ESCALATE_NOW[issue.escalation_level + 1]} right away, without waiting for the agreed time.",
                        confirm="Escalate",
                        deny="Not now",
                    ),
                )
            )
    return ActionsBlock(block_id=ids.ISSUE_ACTIONS_BLOCK, elements=buttons)


def build_issue_card(card: IssueCard) -> Message:
    """The issue's message in the channel, posted once and updated in place on every change."""
    i, p, tz = card.issue, card.partnership, card.timezone
    raised_side = f" ({_org(p, i.raised_by_side)})" if i.raised_by_side else ""
    fields = [
        f"*Severity*\n{SEVERITY_LABELS[i.severity]}: {SEVERITY_DEFINITIONS[i.severity].lower()}",
        f"*Status*\n{_status_line(i, tz)}",
        f"*Owner*\n<@{i.owner_id}> · {_side_label(p, i.owning_side)}",
        f"*Category*\n{escape(i.category)}",
        f"*Due*\n{date_label(i.due_on) if i.due_on else 'no date set'}",
        f"*Raised by*\n<@{i.raised_by}>{raised_side}, {local_time_label(i.created_at, tz)}",
    ]
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"#{i.number} · {i.title}", HEADER_MAX)),
        SectionBlock(fields=[MarkdownTextObject(text=truncate(f, FIELD_TEXT_MAX)) for f in fields]),
    ]
    if i.details:
        blocks.append(_section(_quote_lines(i.details)))
    if card.actions:
        lines = [_action_line(a) for a in card.actions[:CARD_ACTIONS_SHOWN]]
        if len(card.actions) > CARD_ACTIONS_SHOWN:
            lines.append(f"…and {len(card.actions) - CARD_ACTIONS_SHOWN} more")
        blocks.append(_section("*Actions*\n" + "\n".join(lines)))
    notes: list[str] = []
    if i.status is not IssueStatus.RESOLVED:
        level = ESCALATION_LEVEL_LABELS[i.escalation_level]
        nxt = (
            f"; next step {local_time_label(i.next_escalation_at, tz)} (in {escape(p.org(i.owning_side))}'s working hours)"
            if i.next_escalation_at
            else ""
        )
        notes.append(f"Escalation: {level}{nxt}")
    if i.source_permalink:
        notes.append(f"<{escape(i.source_permalink)}|The message this came from>")
    notes.append("History in the thread")
    blocks.append(_context(" · ".join(notes)))
    blocks.append(issue_buttons(i))
    status = {IssueStatus.OPEN: "open", IssueStatus.ACKNOWLEDGED: "acknowledged", IssueStatus.RESOLVED: "resolved"}
    text = f"Issue #{i.number} ({SEVERITY_LABELS[i.severity]}, {status[i.status]}): {escape(i.title)}"
    return Message(text=_fallback(text), blocks=blocks)


# --- thread lines ------------------------------------------------------------------------------------------


def build_history_reply(item: HistoryItem) -> Message:
    """One line in the card's thread for a change: who did what (and the comment, quoted)."""
    e, i, p = item.event, item.issue, item.partnership
    who = f"<@{e.actor}>" if e.actor else "PartnerPulse"
    blocks: list[Block] = []
    if e.kind == "acknowledged":
        line = f":eyes: {who} acknowledged this issue."
    elif e.kind == "updated":
        line = f":memo: {who} added an update."
    elif e.kind == "reassigned":
        line = f":arrows_counterclockwise: {who} handed this issue from <@{e.data.get('from')}> to <@{e.data.get('to')}>."
        if e.data.get("from_side") != e.data.get("to_side") and e.data.get("to_side") in ("client", "provider"):
            line += f" It is now owned by {_side_label(p, Side(e.data['to_side']))}, in their working hours."
    elif e.kind == "resolved":
        line = f":white_check_mark: {who} resolved this issue."
    elif e.kind == "reopened":
        line = f":leftwards_arrow_with_hook: {who} reopened this issue; its clock starts again."
    elif e.kind == "action_added":
        a = item.action
        line = f":dart: {who} added an action" + (
            f": *{escape(a.title)}* — <@{a.owner_id}>, due {date_label(a.due_on)}." if a else "."
        )
    elif e.kind == "followup_added" and item.followup is not None:
        f = item.followup
        line = f":bulb: <@{f.author_id}> for {_side_label(p, f.side)} — what we can do to keep this from happening again:"
        blocks.append(_section(line))
        blocks.append(_section(_quote_lines(f.text)))
        if f.action_id is None:
            blocks.append(
                ActionsBlock(
                    block_id=f"followup-{f.id}",
                    elements=[
                        ButtonElement(
                            text="Make it an action",
                            action_id=ids.Action.FOLLOWUP_TO_ACTION,
                            value=encode(FollowupRef(f.id)),
                        )
                    ],
                )
            )
        return Message(text=_fallback(f"Suggestion from {p.org(f.side)} on issue #{i.number}"), blocks=blocks)
    elif e.kind == "escalated":
        line = f":rotating_light: Escalated to {ESCALATION_LEVEL_LABELS.get(e.level or 0, 'the next level')}."
    else:
        line = f"{who}: {escape(e.kind.replace('_', ' '))}."
    blocks.append(_section(line))
    if e.detail and e.kind != "action_added":
        blocks.append(_section(_quote_lines(e.detail)))
    return Message(text=_fallback(f"Issue #{i.number}: {escape(e.kind.replace('_', ' '))}"), blocks=blocks)


def _situation(notice: EscalationNotice, tz: str) -> str:
    """What is waiting and since when, with the deadline that made this level due. It names no one at fault."""
    i = notice.issue
    since = local_time_label(i.opened_at, tz)
    what = f"Issue {_issue_name(i)} ({SEVERITY_LABELS[i.severity]}, {escape(i.category)})"
    ack, resolve = working_time_label(notice.acknowledge_within), working_time_label(notice.resolve_within)
    if notice.reason == "manual":
        actor = f"<@{notice.event.actor}>" if notice.event.actor else "Someone"
        return f"{what}, open since {since}: {actor} asked to bring it to the next level now."
    if notice.reason == "acknowledge":
        waited = notice.acknowledge_within * (1 if notice.level == 1 else 2)
        return (
            f"{what} was raised {since} and has been waiting {working_time_label(waited)} to be acknowledged "
            f"(the agreed time is {ack})."
        )
    if notice.level == 1:
        return f"{what}, open since {since}, has used three quarters of the agreed {resolve} to resolve it."
    if notice.level == 2:
        return f"{what}, open since {since}, has reached the agreed {resolve} to resolve it."
    return f"{what}, open since {since}, has been open for twice the agreed {resolve} to resolve it."


#: Who each level above the owner's nudge needs, by role (the channel message names roles, never a culprit).
LEVEL_NEEDS = {2: "the leads of both sides", 3: "the executive sponsors of both sides"}


def build_escalation(notice: EscalationNotice) -> Message:
    """Level 2 or 3, in the card's thread: the issue, what is waiting and since when, and the roles it needs now.

    It describes the situation and the next step and names the people of the role needed (so they are notified);
    it never names anyone as having failed. Level 1 is the owner's private nudge (``build_owner_nudge``).
    """
    i, p = notice.issue, notice.partnership
    needs = LEVEL_NEEDS.get(notice.level, LEVEL_NEEDS[3])
    mentions = " ".join(f"<@{u}>" for u in notice.recipients)
    if notice.level == 2:
        step = "agree together who takes it forward and the next step, and post it on the card."
    else:
        step = "help remove what is blocking it and agree a way forward with the leads."
    who = mentions or ("no leads are recorded" if notice.level == 2 else "no sponsors are recorded")
    blocks: list[Block] = [_section(f":rotating_light: *Issue #{i.number} needs {needs}*")]
    blocks.append(_section(f"{_situation(notice, notice.timezone)}\n*Needed now, from {needs}* ({who}): {step}"))
    notes: list[str] = []
    if notice.missing_sides:
        role = "lead" if notice.level == 2 else "executive sponsor"
        orgs = " and ".join(_org(p, s) for s in notice.missing_sides)
        notes.append(f"No {role} is recorded for {orgs}; a lead can add one with `/partner setup`.")
    if notice.skipped_levels:
        notes.append("Earlier levels fell due while PartnerPulse was not running; this is the current one.")
    notes.append(
        f"Escalation {ESCALATION_LEVEL_LABELS[notice.level]}, as both sides agreed (`/partner policy`). "
        "It describes where things stand, not whose fault it is."
    )
    blocks.append(_context(" ".join(notes)))
    text = f"Escalation ({ESCALATION_LEVEL_LABELS[notice.level]}): issue #{i.number} {escape(i.title)} needs {needs}"
    return Message(text=_fallback(text), blocks=blocks)


def build_owner_nudge(notice: EscalationNotice, *, timezone: str) -> Message:
    """Level 1, for the owner alone (a message from the app, or an ephemeral for the other organisation's people):
    what is waiting, with times in ``timezone`` (the owner's), and what would help. Nothing of it reaches the channel.
    """
    i, p = notice.issue, notice.partnership
    blocks: list[Block] = [
        _section(f":hourglass_flowing_sand: *Issue #{i.number} is waiting for you*"),
        _section(
            f"{_situation(notice, timezone)}\nYou are its owner: please acknowledge it or post an update on the card, "
            "so both sides know where it stands."
        ),
        _context(
            f"Only you see this; the card is in <#{p.channel_id}>. If it keeps waiting, the policy both sides "
            "agreed brings in the leads of both sides (`/partner policy`)."
        ),
    ]
    text = f"Issue #{i.number} {escape(i.title)} is waiting for you: please acknowledge it or post an update."
    return Message(text=_fallback(text), blocks=blocks)


def build_followup_question(question: FollowupQuestion) -> Message:
    """Asked in the thread when the issue is resolved, with a button for each side to contribute."""
    i, p = question.issue, question.partnership
    blocks: list[Block] = [
        _section("*What can we do to keep this from happening again?*"),
        _section(
            f"Issue {_issue_name(i)} is resolved. This is not about whose fault it was: each side says what it "
            "can change, and any suggestion can become an action in one click."
        ),
        ActionsBlock(
            block_id=ids.FOLLOWUP_SIDES_BLOCK,
            elements=[
                ButtonElement(
                    text=truncate(f"{p.org(side)}: add ours", BUTTON_LABEL_MAX),
                    action_id=CONTRIBUTE_ACTIONS[side],
                    value=encode(FollowupAsk(issue_id=i.id, side=side.value)),
                )
                for side in Side
            ],
        ),
    ]
    return Message(text=_fallback(f"What can we do to keep issue #{i.number} from happening again?"), blocks=blocks)


# --- reminders and signals ---------------------------------------------------------------------------------


def overdue_headline(reminder: OverdueReminder) -> str:
    """The reminder's first line, worded for one action or for several (plain text: user text escaped)."""
    p, actions = reminder.partnership, reminder.actions
    where = f"in {escape(p.name)}"
    if len(actions) == 1:
        a = actions[0]
        days = (reminder.as_of - a.due_on).days
        late = f"{_plural(days, 'day')} overdue" if days > 0 else "overdue"
        return (
            f"Your action “{escape(a.title)}” {where} is {late}: mark it done, or change its due date with the other side."
        )
    return (
        f"You have {len(actions)} overdue actions {where}: mark each one done, or change its due date with the other side."
    )


def build_overdue_reminder(reminder: OverdueReminder) -> Message:
    """One message for all of an owner's overdue actions in a partnership, worded for one or for several.

    Sent to the owner alone (a message from the app, or an ephemeral for the other organisation's people), so its
    buttons name the partnership's channel.
    """
    p, actions = reminder.partnership, reminder.actions
    blocks: list[Block] = [_section(overdue_headline(reminder))]
    shown = actions[: min(REMINDER_ACTIONS_SHOWN, MAX_BLOCKS_PER_MESSAGE - 3)]
    for a in shown:
        issue = f" (issue #{a.issue_number})" if a.issue_number else ""
        days = (reminder.as_of - a.due_on).days
        late = f", {_plural(days, 'day')} ago" if days > 0 else ""
        done = encode(ActionRef(a.id, channel_id=p.channel_id))
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=truncate(f"*{escape(a.title)}*{issue}\nDue {date_label(a.due_on)}{late}", 2000)
                ),
                accessory=ButtonElement(text="Mark done", action_id=ids.Action.ACTION_DONE, value=done),
            )
        )
    if len(actions) > len(shown):
        blocks.append(_context(f"…and {len(actions) - len(shown)} more: `/partner actions overdue` lists them all."))
    blocks.append(
        _context(
            f"Only you see this. Sent when an action becomes overdue, then at most once a week while it stays "
            f"overdue; the actions are in <#{p.channel_id}>."
        )
    )
    return Message(text=_fallback(overdue_headline(reminder)), blocks=blocks)


def _fmt(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "–"


def signal_text(signal: SignalView) -> str:
    """The signal's message, from its stored figures."""
    p, d = signal.partnership, signal.detail
    label = DIMENSION_LABELS.get(signal.subject, signal.subject)
    if signal.kind is SignalKind.DROP and signal.side is not None:
        return (
            f"*{escape(label)}* dropped for {_side_label(p, signal.side)}: {_fmt(d.get('current'))} in round "
            f"{d.get('round_sequence')}, against {_fmt(d.get('baseline'))} on average over the previous four weeks."
        )
    if signal.kind is SignalKind.GAP:
        return (
            f"*{escape(label)}*: the sides see it differently. {_org(p, Side.CLIENT)} {_fmt(d.get('client'))}, "
            f"{_org(p, Side.PROVIDER)} {_fmt(d.get('provider'))} (a gap of {_fmt(d.get('gap'))}) in round "
            f"{d.get('round_sequence')}."
        )
    return (
        f"*{escape(signal.subject)}* keeps coming up: {d.get('count')} issues in this category within {d.get('days')} days."
    )


def build_signal(signal: SignalView) -> Message:
    """An early warning for a lead, with a "Log issue" button prefilled from the signal. It never escalates."""
    blocks: list[Block] = [
        _section(f":mag: *Early warning · {escape(signal.partnership.name)}*\n{signal_text(signal)}"),
        ActionsBlock(
            block_id=f"signal-{signal.id}",
            elements=[
                ButtonElement(
                    text="Log issue",
                    action_id=ids.Action.SIGNAL_LOG_ISSUE,
                    value=encode(SignalRef(signal.id, channel_id=signal.partnership.channel_id)),
                    style="primary",
                )
            ],
        ),
        _context(
            f"Only the leads of <#{signal.partnership.channel_id}> get this. It is a prompt to talk it through or log "
            "an issue; nothing is escalated by it."
        ),
    ]
    return Message(text=_fallback(f"Early warning for {escape(signal.partnership.name)}"), blocks=blocks)


# --- lists ---------------------------------------------------------------------------------------------

#: Items per message of ``/partner issues`` and ``/partner actions`` (one block each, well under 50 blocks).
ITEMS_PER_PAGE = 40
STATUS_LABELS = {IssueStatus.OPEN: "open", IssueStatus.ACKNOWLEDGED: "acknowledged", IssueStatus.RESOLVED: "resolved"}


def issue_verbs(issue: IssueView) -> tuple[str, ...]:
    """The overflow verbs that make sense for the issue's state (permissions are checked when chosen)."""
    if issue.status is IssueStatus.RESOLVED:
        return ("update", "action", "reopen")
    first = ("ack",) if issue.status is IssueStatus.OPEN else ()
    return (*first, "update", "action", "resolve", "reassign")


def issue_menu(issue: IssueView, channel_id: str) -> OverflowMenuElement:
    """The issue's actions as an overflow menu, for lists and the Home tab."""
    return OverflowMenuElement(
        action_id=ids.Action.ISSUE_MENU,
        options=[
            Option(text=ISSUE_VERBS[verb], value=encode(IssueVerb(issue.id, channel_id, verb)))
            for verb in issue_verbs(issue)
        ],
    )


def action_menu(action: ActionView, channel_id: str) -> OverflowMenuElement:
    """Done/drop (or reopen) as an overflow menu, for lists and the Home tab."""
    if action.status is ActionStatus.OPEN:
        choices = [("Mark done", ActionStatus.DONE), ("Drop it", ActionStatus.DROPPED)]
    elif action.status is ActionStatus.DONE:
        choices = [("Reopen", ActionStatus.OPEN), ("Mark dropped", ActionStatus.DROPPED)]
    else:
        choices = [("Reopen", ActionStatus.OPEN), ("Mark done", ActionStatus.DONE)]
    return OverflowMenuElement(
        action_id=ids.Action.ACTION_MENU,
        options=[
            Option(text=label, value=encode(ActionVerb(action.id, channel_id, status.value))) for label, status in choices
        ],
    )


def issue_line(issue: IssueView, p: PartnershipView) -> str:
    """One issue in a list: number, title, severity, state, owner and due date (user text escaped)."""
    due = f" · due {date_label(issue.due_on)}" if issue.due_on else ""
    level = f" · :rotating_light: level {issue.escalation_level}" if issue.escalation_level else ""
    return (
        f"*#{issue.number}* {escape(issue.title)}\n{SEVERITY_LABELS[issue.severity]} · {STATUS_LABELS[issue.status]} · "
        f"<@{issue.owner_id}> ({_org(p, issue.owning_side)}){due}{level}"
    )


def action_line(action: ActionView) -> str:
    issue = f" · issue #{action.issue_number}" if action.issue_number else ""
    late = " · :hourglass: overdue" if action.overdue else ""
    state = "" if action.status is ActionStatus.OPEN else f" · {action.status.value}"
    return f"*{escape(action.title)}*\n<@{action.owner_id}> · due {date_label(action.due_on)}{issue}{state}{late}"


def _page(
    heading: str,
    items: list[SectionBlock],
    *,
    page: ListPage | None,
    has_more: bool,
) -> list[Block]:
    """A heading and as many item blocks as fit one message (50 blocks, ``MAX_MESSAGE_TEXT`` characters of text),
    then a "More" button that continues after the last item shown (with ``page``), or a count of the rest."""
    blocks: list[Block] = [_section(heading)]
    # Room for the heading and the "More" button (or the count that replaces it).
    used, budget = text_length(blocks[0].to_dict()) + 40, MAX_MESSAGE_TEXT
    shown = 0
    for block in items[: MAX_BLOCKS_PER_MESSAGE - 2]:
        size = text_length(block.to_dict())
        if shown and used + size > budget:
            break
        blocks.append(block)
        used += size
        shown += 1
    rest = len(items) - shown
    if page is not None and (rest or has_more):
        more = replace(page, offset=page.offset + shown)
        blocks.append(
            ActionsBlock(
                block_id="list-more",
                elements=[ButtonElement(text="More", action_id=ids.Action.LIST_MORE, value=encode(more))],
            )
        )
    elif rest:
        blocks.append(_context(f"…and {rest} more."))
    return blocks


def build_issue_list(
    p: PartnershipView,
    issues: tuple[IssueView, ...],
    *,
    heading: str,
    page: ListPage | None = None,
    has_more: bool = False,
) -> Message:
    """``/partner issues``: one block per issue with its actions in an overflow menu, as many as fit one message.

    ``page`` says where this list starts; with it, a "More" button continues after the last issue shown whenever
    some did not fit or ``has_more`` (the caller holds more than it passed). Without it, the rest are counted.
    """
    if not issues:
        return Message(text=f"{heading}: none", blocks=[_section(f"*{escape(heading)}*\nNone.")])
    items = [
        SectionBlock(
            text=MarkdownTextObject(text=truncate(issue_line(i, p), SECTION_TEXT_MAX)), accessory=issue_menu(i, p.channel_id)
        )
        for i in issues
    ]
    blocks = _page(f"*{escape(heading)}* · {escape(p.name)}", items, page=page, has_more=has_more)
    return Message(text=_fallback(f"{heading} in {escape(p.name)}"), blocks=blocks)


def build_action_list(
    p: PartnershipView,
    actions: tuple[ActionView, ...],
    *,
    heading: str,
    page: ListPage | None = None,
    has_more: bool = False,
) -> Message:
    """``/partner actions``: one block per action with done/drop in an overflow menu; paged like the issues."""
    if not actions:
        return Message(text=f"{heading}: none", blocks=[_section(f"*{escape(heading)}*\nNone.")])
    items = [
        SectionBlock(
            text=MarkdownTextObject(text=truncate(action_line(a), SECTION_TEXT_MAX)), accessory=action_menu(a, p.channel_id)
        )
        for a in actions
    ]
    blocks = _page(f"*{escape(heading)}* · {escape(p.name)}", items, page=page, has_more=has_more)
    return Message(text=_fallback(f"{heading} in {escape(p.name)}"), blocks=blocks)


# --- the escalation policy --------------------------------------------------------------------------------

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
        f"{_side_label(p, cal.side)}: {_workdays_label(cal.workdays)} {cal.day_start:%H:%M}–{cal.day_end:%H:%M} "
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
        _section("\n".join(lines)),
        _context(
            "Level 1 nudges the owner when the acknowledge time passes (or at 75% of the resolve time); level 2 "
            "brings in the leads of both sides at twice the acknowledge time (or when the resolve time passes); "
            "level 3 the executive sponsors at twice the resolve time. Time counts in the owning side's working hours."
        ),
        _section("*Working hours*\n" + "\n".join(calendar_line(p, c) for c in calendars)),
        _section("*Issue categories*\n" + ", ".join(escape(c) for c in categories)),
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
        _context(
            "Leads change these here, or with `/partner policy S2 4h 3d`, `/partner categories add …`, "
            "`/partner hours client 09:00-17:00 mon-fri` and `/partner holiday client 2026-12-25 Christmas`."
        ),
    ]
    return Message(text=_fallback(f"Escalation policy of {escape(p.name)}"), blocks=blocks)
