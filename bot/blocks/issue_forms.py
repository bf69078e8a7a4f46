"""The issue log's modals: log an issue, update, resolve and reassign it, and contribute to the blameless
follow-up. The action modal is in bot/blocks/action_form.py, the leads' policy form in bot/blocks/policy_form.py.

Every input element uses ``ids.VALUE`` as its action id; the block id says which field it is, and is what
``InvalidInput.field`` names, so a service's refusal can be shown at the right field. Slack's ``max_length``
guards the honest client only: the server checks every length again.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, Option
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.form_inputs import (
    Refill,
    date_input,
    error_blocks,
    initial_option,
    modal,
    option,
    radio_input,
    refilled,
    select_input,
    text_input,
    user_input,
)
from bot.blocks.issue_form_refs import FollowupFormRef, IssueFormRef, IssueModalRef
from bot.blocks.issue_text import STATUS_LABELS
from bot.blocks.layout import mrkdwn_context
from bot.blocks.metadata import encode
from bot.blocks.text import escape, truncate
from bot.services.issue_models import (
    MAX_DETAILS,
    MAX_ISSUE_TITLE,
    SEVERITIES,
    SEVERITY_DEFINITIONS,
    SEVERITY_LABELS,
    IssueDraft,
    IssueInput,
    IssueStatus,
    IssueView,
)
from bot.services.partnership_models import PartnershipView, Side

#: Slack's modal title limit.
TITLE_MAX = 24
PERMALINK_MAX = 500


def side_options(p: PartnershipView) -> list[Option]:
    return [option(f"{p.org(side)} ({side.value})", side.value) for side in Side]


def safe_permalink(link: str | None) -> str:
    """A link fit to show in mrkdwn (Slack's own https address, nothing that could disguise it), else ""."""
    link = (link or "").strip()
    if link.startswith("https://") and len(link) <= PERMALINK_MAX and not any(c in link for c in "<>| \n"):
        return link
    return ""


# --- logging an issue -------------------------------------------------------------------------------------------


def build_issue_modal(
    p: PartnershipView,
    categories: tuple[str, ...],
    *,
    draft: IssueDraft | None = None,
    permalink: str | None = None,
    refill: Refill[IssueInput] | None = None,
    from_home: bool = False,
) -> View:
    """The issue form: title, details, severity (with its one-line definition), category, owning side, owner
    and due date. ``draft`` prefills from a command, a message or a signal; ``refill`` brings back
    a submission the server refused after the form had closed."""
    values, error = refilled(refill)
    B = ids.IssueBlock
    link = safe_permalink(values.source_permalink if values else permalink)
    title = values.title if values else (draft.title if draft else "")
    details = values.details if values else (draft.details if draft else "")
    severity = values.severity if values else (draft.severity if draft else None)
    category = values.category if values else (draft.category if draft else None)
    severity_options = [option(SEVERITY_LABELS[s], s, SEVERITY_DEFINITIONS[s]) for s in SEVERITIES]
    category_options = [option(c, c) for c in categories]
    sides = side_options(p)
    where = f"*{escape(p.name)}* · the card goes to the channel, where both sides can follow it."
    if link:
        where += f" Logged from <{escape(link)}|this message>."
    blocks: list[Block] = [
        *error_blocks(error, escaped=False),
        mrkdwn_context(where),
        text_input(
            B.TITLE,
            "Title",
            max_length=MAX_ISSUE_TITLE,
            initial=truncate(title, MAX_ISSUE_TITLE) or None,
            placeholder="What is the problem, in a few words?",
        ),
        text_input(
            B.DETAILS,
            "Details",
            optional=True,
            multiline=True,
            max_length=MAX_DETAILS,
            initial=details[:MAX_DETAILS] or None,
            placeholder="What happened, the impact, what you need.",
        ),
        radio_input(B.SEVERITY, "Severity", severity_options, initial=initial_option(severity_options, severity)),
        select_input(
            B.CATEGORY,
            "Category",
            category_options,
            placeholder="Choose a category",
            initial=initial_option(category_options, category),
        ),
        radio_input(
            B.OWNING_SIDE,
            "Which side owns it?",
            sides,
            hint="Its escalation clock runs in that side's working hours.",
            initial=initial_option(sides, values.owning_side.value if values else None),
        ),
        user_input(
            B.OWNER,
            "Owner",
            hint="Someone in this channel, on the owning side.",
            placeholder="Choose a person",
            initial=values.owner_id if values else None,
        ),
        date_input(
            B.DUE_ON,
            "Due date",
            optional=True,
            placeholder="No date",
            initial=values.due_on.isoformat() if values and values.due_on else None,
        ),
    ]
    return modal(
        ids.View.ISSUE_LOG,
        title="Log an issue",
        submit="Log issue",
        private_metadata=encode(IssueFormRef(p.team_id, p.channel_id, p.timezone, link, from_home)),
        blocks=blocks,
    )


# --- the card's modals --------------------------------------------------------------------------------------------


def _issue_context(issue: IssueView, p: PartnershipView) -> ContextBlock:
    return mrkdwn_context(
        f"*#{issue.number}* {escape(issue.title)} · {SEVERITY_LABELS[issue.severity]} · "
        f"{STATUS_LABELS[issue.status]} · owner <@{issue.owner_id}> ({escape(p.org(issue.owning_side))})"
    )


def _card_modal(
    callback_id: str, verb: str, issue: IssueView, p: PartnershipView, from_home: bool, submit: str, blocks: list[Block]
) -> View:
    """One of the card's modals: the issue's line on top, then ``blocks``."""
    ref = IssueModalRef(p.team_id, p.channel_id, issue.id, issue.status.value, issue.owner_id, from_home)
    return modal(
        callback_id,
        title=truncate(f"{verb} issue #{issue.number}", TITLE_MAX),
        submit=submit,
        private_metadata=encode(ref),
        blocks=[_issue_context(issue, p), *blocks],
    )


#: The statuses an update can choose, by the current one (acknowledged never goes back to open).
NEXT_STATUSES = {
    IssueStatus.OPEN: (IssueStatus.OPEN, IssueStatus.ACKNOWLEDGED, IssueStatus.RESOLVED),
    IssueStatus.ACKNOWLEDGED: (IssueStatus.ACKNOWLEDGED, IssueStatus.RESOLVED),
    IssueStatus.RESOLVED: (IssueStatus.RESOLVED, IssueStatus.OPEN),
}


def build_update_modal(issue: IssueView, p: PartnershipView, *, from_home: bool = False) -> View:
    """The card's "Update": a comment and/or a new status, recorded as one line in the card's thread."""
    B = ids.IssueUpdateBlock
    labels = {IssueStatus.OPEN: "Open", IssueStatus.ACKNOWLEDGED: "Acknowledged", IssueStatus.RESOLVED: "Resolved"}
    if issue.status is IssueStatus.RESOLVED:
        labels[IssueStatus.OPEN] = "Reopen"
    options = [
        option(labels[s] + (" (no change)" if s is issue.status else ""), s.value) for s in NEXT_STATUSES[issue.status]
    ]
    status = radio_input(
        B.STATUS,
        "Status",
        options,
        hint="Only the owner or a lead can change it; anyone can comment.",
        initial=options[0],
    )
    comment = text_input(
        B.COMMENT,
        "Comment",
        optional=True,
        multiline=True,
        max_length=MAX_DETAILS,
        placeholder="Where it stands, what happens next.",
    )
    return _card_modal(ids.View.ISSUE_UPDATE, "Update", issue, p, from_home, "Save", [status, comment])


def build_resolve_modal(issue: IssueView, p: PartnershipView, *, from_home: bool = False) -> View:
    """The card's "Resolve": an optional note on what was done; then both sides get the blameless question."""
    blocks: list[Block] = [
        text_input(
            ids.IssueUpdateBlock.COMMENT, "What was done (optional)", optional=True, multiline=True, max_length=MAX_DETAILS
        ),
        mrkdwn_context(
            "Once it is resolved, both sides are asked what each can do to keep it from happening again. "
            "Each suggestion can become an action in one click."
        ),
    ]
    return _card_modal(ids.View.ISSUE_RESOLVE, "Resolve", issue, p, from_home, "Resolve", blocks)


def build_reassign_modal(issue: IssueView, p: PartnershipView, *, from_home: bool = False) -> View:
    """The card's "Reassign": hand the issue to someone else (the owning side follows the new owner)."""
    owner = user_input(
        ids.IssueUpdateBlock.OWNER,
        "New owner",
        hint="Someone in this channel. If they are on the other side, that side owns the issue from now on.",
        initial=issue.owner_id,
    )
    return _card_modal(ids.View.ISSUE_REASSIGN, "Reassign", issue, p, from_home, "Reassign", [owner])


# --- the blameless follow-up -------------------------------------------------------------------------------------


def build_followup_modal(issue: IssueView, p: PartnershipView, side: Side) -> View:
    """One side's answer to "What can we do to keep this from happening again?"."""
    org = p.org(side)
    return modal(
        ids.View.FOLLOWUP_ADD,
        title="What can we do?",
        submit="Add",
        private_metadata=encode(FollowupFormRef(p.team_id, p.channel_id, issue.id, side.value)),
        blocks=[
            mrkdwn_context(f"Issue *#{issue.number}* {escape(issue.title)} is resolved."),
            text_input(
                ids.FollowupBlock.TEXT,
                truncate(f"What {org} can do to keep it from happening again", 2000),
                hint="Not whose fault it was: what your side can change. It can become an action in one click.",
                multiline=True,
                max_length=MAX_DETAILS,
            ),
        ],
    )
