"""The issue log's modals: log an issue, update, resolve and reassign it, add an action, contribute to the
blameless follow-up, and the leads' policy form.

Every input element uses ``ids.VALUE`` as its action id; the block id says which field it is, and is what
``InvalidInput.field`` names, so a service's refusal can be shown at the right field. Slack's ``max_length``
guards the honest client only: the server checks every length again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.issue_text import STATUS_LABELS
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.policy import format_duration
from bot.blocks.text import CONTEXT_TEXT_MAX, SECTION_TEXT_MAX, escape, truncate
from bot.services.action_models import ActionInput
from bot.services.issue_models import (
    MAX_CATEGORY,
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
from bot.services.issue_settings_models import PolicyView
from bot.services.partnership_models import PartnershipView, Side

OPTION_TEXT_MAX = 75
#: Slack's modal title limit.
TITLE_MAX = 24
PERMALINK_MAX = 500
MAX_CATEGORIES_TEXT = 25 * (MAX_CATEGORY + 1)
#: Open issues offered in the action modal's "for issue" menu (Slack allows 100 options).
ISSUE_OPTIONS = 99


# --- private_metadata (encoded and decoded with bot.blocks.metadata) ------------------------------------------
# Each carries team_id and channel_id, so a failure after the ack can be told to the person in the channel.


@dataclass(frozen=True)
class IssueFormRef:
    """The issue modal: its channel, the partnership's time zone (due dates) and the source message's link."""

    team_id: str
    channel_id: str
    timezone: str
    permalink: str
    from_home: bool = False  # opened from the Home tab: publish it again after saving


@dataclass(frozen=True)
class IssueModalRef:
    """The update, resolve and reassign modals: the issue and what it was when the form opened."""

    team_id: str
    channel_id: str
    issue_id: int
    status: str
    owner_id: str
    from_home: bool = False


@dataclass(frozen=True)
class ActionFormRef:
    """The action modal. ``issue_id`` 0: not opened from an issue."""

    team_id: str
    channel_id: str
    timezone: str
    issue_id: int
    from_home: bool = False


@dataclass(frozen=True)
class FollowupFormRef:
    """The follow-up contribution modal: the issue and the side whose button was pressed."""

    team_id: str
    channel_id: str
    issue_id: int
    side: str


# --- small helpers -------------------------------------------------------------------------------------------


def _option(text: str, value: str, description: str | None = None) -> Option:
    return Option(
        text=truncate(text, OPTION_TEXT_MAX),
        value=value,
        description=truncate(description, OPTION_TEXT_MAX) if description else None,
    )


def _side_options(p: PartnershipView) -> list[Option]:
    return [_option(f"{p.org(side)} ({side.value})", side.value) for side in Side]


def _error_block(error: str | None) -> list[Block]:
    if not error:
        return []
    return [SectionBlock(text=MarkdownTextObject(text=truncate(f":warning: {error}", SECTION_TEXT_MAX)))]


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, CONTEXT_TEXT_MAX))])


def safe_permalink(link: str | None) -> str:
    """A link fit to show in mrkdwn (Slack's own https address, nothing that could disguise it), else ""."""
    link = (link or "").strip()
    if link.startswith("https://") and len(link) <= PERMALINK_MAX and not any(c in link for c in "<>| \n"):
        return link
    return ""


def _initial(options: list[Option], value: str | None) -> Option | None:
    return next((o for o in options if o.value == value), None)


# --- logging an issue -------------------------------------------------------------------------------------------


def build_issue_modal(
    p: PartnershipView,
    categories: tuple[str, ...],
    *,
    draft: IssueDraft | None = None,
    permalink: str | None = None,
    values: IssueInput | None = None,
    error: str | None = None,
    from_home: bool = False,
) -> View:
    """The issue form: title, details, severity (with its one-line definition), category, owning side, owner
    and due date. ``draft`` prefills from a command, a message or a signal; ``values`` and ``error`` bring back
    a submission the server refused after the form had closed."""
    B = ids.IssueBlock
    link = safe_permalink(values.source_permalink if values else permalink)
    title = values.title if values else (draft.title if draft else "")
    details = values.details if values else (draft.details if draft else "")
    severity = values.severity if values else (draft.severity if draft else None)
    category = values.category if values else (draft.category if draft else None)
    severity_options = [_option(SEVERITY_LABELS[s], s, SEVERITY_DEFINITIONS[s]) for s in SEVERITIES]
    category_options = [_option(c, c) for c in categories]
    side_options = _side_options(p)
    where = f"*{escape(p.name)}* · the card goes to the channel, where both sides can follow it."
    if link:
        where += f" Logged from <{escape(link)}|this message>."
    blocks: list[Block] = [
        *_error_block(error),
        _context(where),
        InputBlock(
            block_id=B.TITLE,
            label="Title",
            element=PlainTextInputElement(
                action_id=ids.VALUE,
                max_length=MAX_ISSUE_TITLE,
                initial_value=truncate(title, MAX_ISSUE_TITLE) or None,
                placeholder="What is the problem, in a few words?",
            ),
        ),
        InputBlock(
            block_id=B.DETAILS,
            label="Details",
            optional=True,
            element=PlainTextInputElement(
                action_id=ids.VALUE,
                multiline=True,
                max_length=MAX_DETAILS,
                initial_value=details[:MAX_DETAILS] or None,
                placeholder="What happened, the impact, what you need.",
            ),
        ),
        InputBlock(
            block_id=B.SEVERITY,
            label="Severity",
            element=RadioButtonsElement(
                action_id=ids.VALUE, options=severity_options, initial_option=_initial(severity_options, severity)
            ),
        ),
        InputBlock(
            block_id=B.CATEGORY,
            label="Category",
            element=StaticSelectElement(
                action_id=ids.VALUE,
                placeholder="Choose a category",
                options=category_options,
                initial_option=_initial(category_options, category),
            ),
        ),
        InputBlock(
            block_id=B.OWNING_SIDE,
            label="Which side owns it?",
            hint="Its escalation clock runs in that side's working hours.",
            element=RadioButtonsElement(
                action_id=ids.VALUE,
                options=side_options,
                initial_option=_initial(side_options, values.owning_side.value if values else None),
            ),
        ),
        InputBlock(
            block_id=B.OWNER,
            label="Owner",
            hint="Someone in this channel, on the owning side.",
            element=UserSelectElement(
                action_id=ids.VALUE, placeholder="Choose a person", initial_user=values.owner_id if values else None
            ),
        ),
        InputBlock(
            block_id=B.DUE_ON,
            label="Due date",
            optional=True,
            element=DatePickerElement(
                action_id=ids.VALUE,
                placeholder="No date",
                initial_date=values.due_on.isoformat() if values and values.due_on else None,
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ids.View.ISSUE_LOG,
        title="Log an issue",
        submit="Log issue",
        close="Cancel",
        private_metadata=encode(IssueFormRef(p.team_id, p.channel_id, p.timezone, link, from_home)),
        blocks=blocks,
    )


# --- the card's modals --------------------------------------------------------------------------------------------


def _issue_context(issue: IssueView, p: PartnershipView) -> ContextBlock:
    return _context(
        f"*#{issue.number}* {escape(issue.title)} · {SEVERITY_LABELS[issue.severity]} · "
        f"{STATUS_LABELS[issue.status]} · owner <@{issue.owner_id}> ({escape(p.org(issue.owning_side))})"
    )


def _modal_ref(issue: IssueView, p: PartnershipView, from_home: bool) -> str:
    return encode(IssueModalRef(p.team_id, p.channel_id, issue.id, issue.status.value, issue.owner_id, from_home))


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
        _option(labels[s] + (" (no change)" if s is issue.status else ""), s.value) for s in NEXT_STATUSES[issue.status]
    ]
    return View(
        type="modal",
        callback_id=ids.View.ISSUE_UPDATE,
        title=truncate(f"Update issue #{issue.number}", TITLE_MAX),
        submit="Save",
        close="Cancel",
        private_metadata=_modal_ref(issue, p, from_home),
        blocks=[
            _issue_context(issue, p),
            InputBlock(
                block_id=B.STATUS,
                label="Status",
                hint="Only the owner or a lead can change it; anyone can comment.",
                element=RadioButtonsElement(action_id=ids.VALUE, options=options, initial_option=options[0]),
            ),
            InputBlock(
                block_id=B.COMMENT,
                label="Comment",
                optional=True,
                element=PlainTextInputElement(
                    action_id=ids.VALUE,
                    multiline=True,
                    max_length=MAX_DETAILS,
                    placeholder="Where it stands, what happens next.",
                ),
            ),
        ],
    )


def build_resolve_modal(issue: IssueView, p: PartnershipView, *, from_home: bool = False) -> View:
    """The card's "Resolve": an optional note on what was done; then both sides get the blameless question."""
    return View(
        type="modal",
        callback_id=ids.View.ISSUE_RESOLVE,
        title=truncate(f"Resolve issue #{issue.number}", TITLE_MAX),
        submit="Resolve",
        close="Cancel",
        private_metadata=_modal_ref(issue, p, from_home),
        blocks=[
            _issue_context(issue, p),
            InputBlock(
                block_id=ids.IssueUpdateBlock.COMMENT,
                label="What was done (optional)",
                optional=True,
                element=PlainTextInputElement(action_id=ids.VALUE, multiline=True, max_length=MAX_DETAILS),
            ),
            _context(
                "Once it is resolved, both sides are asked what each can do to keep it from happening again. "
                "Each suggestion can become an action in one click."
            ),
        ],
    )


def build_reassign_modal(issue: IssueView, p: PartnershipView, *, from_home: bool = False) -> View:
    """The card's "Reassign": hand the issue to someone else (the owning side follows the new owner)."""
    return View(
        type="modal",
        callback_id=ids.View.ISSUE_REASSIGN,
        title=truncate(f"Reassign issue #{issue.number}", TITLE_MAX),
        submit="Reassign",
        close="Cancel",
        private_metadata=_modal_ref(issue, p, from_home),
        blocks=[
            _issue_context(issue, p),
            InputBlock(
                block_id=ids.IssueUpdateBlock.OWNER,
                label="New owner",
                hint="Someone in this channel. If they are on the other side, that side owns the issue from now on.",
                element=UserSelectElement(action_id=ids.VALUE, initial_user=issue.owner_id),
            ),
        ],
    )


# --- actions --------------------------------------------------------------------------------------------------------


def build_action_modal(
    p: PartnershipView,
    *,
    issues: tuple[IssueView, ...],
    issue_id: int | None,
    today: date,
    title: str | None = None,
    default_due: date | None = None,
    values: ActionInput | None = None,
    error: str | None = None,
    from_home: bool = False,
) -> View:
    """An action: title, owner, side (defaults to the owner's), due date and, optionally, the issue it serves.

    ``issues`` are the open issues offered; ``issue_id`` is preselected (the card's "Add action").
    """
    B = ids.ActionBlock
    chosen = values.issue_id if values else issue_id
    side_options = _side_options(p)
    # The chosen issue first, so it is never cut from a long list.
    ordered = sorted(issues, key=lambda i: i.id != chosen)
    issue_options = [_option(f"#{i.number} {i.title}", str(i.id)) for i in ordered[:ISSUE_OPTIONS]]
    blocks: list[Block] = [
        *_error_block(error),
        _context(f"*{escape(p.name)}* · every action has one owner, a side and a due date."),
        InputBlock(
            block_id=B.TITLE,
            label="Action",
            element=PlainTextInputElement(
                action_id=ids.VALUE,
                max_length=MAX_ISSUE_TITLE,
                initial_value=truncate(values.title if values else title or "", MAX_ISSUE_TITLE) or None,
                placeholder="What will be done?",
            ),
        ),
        InputBlock(
            block_id=B.OWNER,
            label="Owner",
            element=UserSelectElement(
                action_id=ids.VALUE, placeholder="Choose a person", initial_user=values.owner_id if values else None
            ),
        ),
        InputBlock(
            block_id=B.SIDE,
            label="Side",
            optional=True,
            hint="Leave it empty to use the owner's side.",
            element=RadioButtonsElement(
                action_id=ids.VALUE,
                options=side_options,
                initial_option=_initial(side_options, values.side.value if values and values.side else None),
            ),
        ),
        InputBlock(
            block_id=B.DUE_ON,
            label="Due date",
            element=DatePickerElement(
                action_id=ids.VALUE,
                initial_date=(values.due_on if values else default_due or today).isoformat(),
            ),
        ),
    ]
    if issue_options:
        blocks.append(
            InputBlock(
                block_id=B.ISSUE,
                label="For issue",
                optional=True,
                element=StaticSelectElement(
                    action_id=ids.VALUE,
                    placeholder="No issue",
                    options=issue_options,
                    initial_option=_initial(issue_options, str(chosen) if chosen else None),
                ),
            )
        )
    return View(
        type="modal",
        callback_id=ids.View.ACTION_ADD,
        title="Add an action",
        submit="Add",
        close="Cancel",
        private_metadata=encode(ActionFormRef(p.team_id, p.channel_id, p.timezone, chosen or 0, from_home)),
        blocks=blocks,
    )


# --- the blameless follow-up -------------------------------------------------------------------------------------


def build_followup_modal(issue: IssueView, p: PartnershipView, side: Side) -> View:
    """One side's answer to "What can we do to keep this from happening again?"."""
    org = p.org(side)
    return View(
        type="modal",
        callback_id=ids.View.FOLLOWUP_ADD,
        title="What can we do?",
        submit="Add",
        close="Cancel",
        private_metadata=encode(FollowupFormRef(p.team_id, p.channel_id, issue.id, side.value)),
        blocks=[
            _context(f"Issue *#{issue.number}* {escape(issue.title)} is resolved."),
            InputBlock(
                block_id=ids.FollowupBlock.TEXT,
                label=truncate(f"What {org} can do to keep it from happening again", 2000),
                hint="Not whose fault it was: what your side can change. It can become an action in one click.",
                element=PlainTextInputElement(action_id=ids.VALUE, multiline=True, max_length=MAX_DETAILS),
            ),
        ],
    )


# --- the policy (leads) -------------------------------------------------------------------------------------------


def build_policy_modal(policy: PolicyView, categories: tuple[str, ...]) -> View:
    """Deadlines per severity (working time, ``4h``/``3d``) and the category list, prefilled with today's."""
    p = policy.partnership
    blocks: list[Block] = [
        _context(
            f"*{escape(p.name)}* · working time: `30m`, `4h`, `3d` or `1d 4h` (a day is 8 working hours), counted "
            "in the owning side's working hours. Issues already open are rescheduled at once."
        )
    ]
    for s in policy.severities:
        definition = SEVERITY_DEFINITIONS[s.severity].lower()
        for field, label, amount in (
            (ids.PolicyBlock.ACKNOWLEDGE, "acknowledge within", s.acknowledge),
            (ids.PolicyBlock.RESOLVE, "resolve within", s.resolve),
        ):
            blocks.append(
                InputBlock(
                    block_id=ids.policy_block(field, s.severity),
                    label=f"{SEVERITY_LABELS[s.severity]}: {label}",
                    hint=definition if field is ids.PolicyBlock.RESOLVE else None,
                    element=PlainTextInputElement(action_id=ids.VALUE, max_length=20, initial_value=format_duration(amount)),
                )
            )
    blocks.append(
        InputBlock(
            block_id=ids.PolicyBlock.CATEGORIES,
            label="Issue categories, one per line",
            hint="Issues keep the category they were logged with.",
            element=PlainTextInputElement(
                action_id=ids.VALUE,
                multiline=True,
                max_length=MAX_CATEGORIES_TEXT,
                initial_value="\n".join(categories),
            ),
        )
    )
    return View(
        type="modal",
        callback_id=ids.View.POLICY,
        title="Escalation policy",
        submit="Save",
        close="Cancel",
        private_metadata=encode(ChannelRef(team_id=p.team_id, channel_id=p.channel_id)),
        blocks=blocks,
    )
