"""The lines in an issue card's thread: history replies, escalations (and the owner's level-1 nudge) and the
blameless follow-up question. Never who is at fault."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks import ids
from bot.blocks.blameless import NOT_ABOUT_FAULT, side_buttons
from bot.blocks.issue_refs import FollowupAsk, FollowupRef
from bot.blocks.issue_text import fallback_text, issue_name, org_name, side_label, working_time_label
from bot.blocks.layout import button_row, date_label, mrkdwn_context, mrkdwn_section, quote_lines
from bot.blocks.metadata import encode
from bot.blocks.pulse import Message
from bot.blocks.text import escape, local_time_label
from bot.services.issue_models import (
    ESCALATION_LEVEL_LABELS,
    SEVERITY_LABELS,
    EscalationNotice,
    FollowupQuestion,
    HistoryItem,
)
from bot.services.partnership_models import Side

CONTRIBUTE_ACTIONS = {
    Side.CLIENT: ids.Action.FOLLOWUP_CONTRIBUTE_CLIENT,
    Side.PROVIDER: ids.Action.FOLLOWUP_CONTRIBUTE_PROVIDER,
}


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
            line += f" It is now owned by {side_label(p, Side(e.data['to_side']))}, in their working hours."
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
        line = f":bulb: <@{f.author_id}> for {side_label(p, f.side)} — what we can do to keep this from happening again:"
        blocks.append(mrkdwn_section(line))
        blocks.append(mrkdwn_section(quote_lines(f.text)))
        if f.action_id is None:
            button = button_row(
                f"followup-{f.id}", "Make it an action", ids.Action.FOLLOWUP_TO_ACTION, encode(FollowupRef(f.id))
            )
            blocks.append(button)
        return Message(text=fallback_text(f"Suggestion from {p.org(f.side)} on issue #{i.number}"), blocks=blocks)
    elif e.kind == "escalated":
        line = f":rotating_light: Escalated to {ESCALATION_LEVEL_LABELS.get(e.level or 0, 'the next level')}."
    else:
        line = f"{who}: {escape(e.kind.replace('_', ' '))}."
    blocks.append(mrkdwn_section(line))
    if e.detail and e.kind != "action_added":
        blocks.append(mrkdwn_section(quote_lines(e.detail)))
    return Message(text=fallback_text(f"Issue #{i.number}: {escape(e.kind.replace('_', ' '))}"), blocks=blocks)


def _situation(notice: EscalationNotice, tz: str) -> str:
    """What is waiting and since when, with the deadline that made this level due. It names no one at fault."""
    i = notice.issue
    since = local_time_label(i.opened_at, tz)
    what = f"Issue {issue_name(i)} ({SEVERITY_LABELS[i.severity]}, {escape(i.category)})"
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
    blocks: list[Block] = [mrkdwn_section(f":rotating_light: *Issue #{i.number} needs {needs}*")]
    blocks.append(mrkdwn_section(f"{_situation(notice, notice.timezone)}\n*Needed now, from {needs}* ({who}): {step}"))
    notes: list[str] = []
    if notice.missing_sides:
        role = "lead" if notice.level == 2 else "executive sponsor"
        orgs = " and ".join(org_name(p, s) for s in notice.missing_sides)
        notes.append(f"No {role} is recorded for {orgs}; a lead can add one with `/partner setup`.")
    if notice.skipped_levels:
        notes.append("Earlier levels fell due while PartnerPulse was not running; this is the current one.")
    notes.append(
        f"Escalation {ESCALATION_LEVEL_LABELS[notice.level]}, as both sides agreed (`/partner policy`). "
        "It describes where things stand, not whose fault it is."
    )
    blocks.append(mrkdwn_context(" ".join(notes)))
    text = f"Escalation ({ESCALATION_LEVEL_LABELS[notice.level]}): issue #{i.number} {escape(i.title)} needs {needs}"
    return Message(text=fallback_text(text), blocks=blocks)


def build_owner_nudge(notice: EscalationNotice, *, timezone: str) -> Message:
    """Level 1, for the owner alone (a message from the app, or an ephemeral for the other organisation's people):
    what is waiting, with times in ``timezone`` (the owner's), and what would help. Nothing of it reaches the channel.
    """
    i, p = notice.issue, notice.partnership
    blocks: list[Block] = [
        mrkdwn_section(f":hourglass_flowing_sand: *Issue #{i.number} is waiting for you*"),
        mrkdwn_section(
            f"{_situation(notice, timezone)}\nYou are its owner: please acknowledge it or post an update on the card, "
            "so both sides know where it stands."
        ),
        mrkdwn_context(
            f"Only you see this; the card is in <#{p.channel_id}>. If it keeps waiting, the policy both sides "
            "agreed brings in the leads of both sides (`/partner policy`)."
        ),
    ]
    text = f"Issue #{i.number} {escape(i.title)} is waiting for you: please acknowledge it or post an update."
    return Message(text=fallback_text(text), blocks=blocks)


def build_followup_question(question: FollowupQuestion) -> Message:
    """Asked in the thread when the issue is resolved, with a button for each side to contribute."""
    i, p = question.issue, question.partnership
    blocks: list[Block] = [
        mrkdwn_section("*What can we do to keep this from happening again?*"),
        mrkdwn_section(
            f"Issue {issue_name(i)} is resolved. {NOT_ABOUT_FAULT}, and any suggestion can become an action in one click."
        ),
        side_buttons(
            p,
            block_id=ids.FOLLOWUP_SIDES_BLOCK,
            action_ids=CONTRIBUTE_ACTIONS,
            value=lambda side: encode(FollowupAsk(issue_id=i.id, side=side.value)),
        ),
    ]
    return Message(text=fallback_text(f"What can we do to keep issue #{i.number} from happening again?"), blocks=blocks)
