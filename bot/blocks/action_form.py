"""The action modal: an action with one owner, a side, a due date and, optionally, the issue it serves."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import Block
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
from bot.blocks.issue_form_refs import ActionFormRef
from bot.blocks.issue_forms import side_options
from bot.blocks.layout import mrkdwn_context, mrkdwn_section
from bot.blocks.metadata import encode
from bot.blocks.text import escape, truncate
from bot.services.issue_models import MAX_ISSUE_TITLE, ActionInput, IssueView
from bot.services.partnership_models import PartnershipView

#: Open issues offered in the action modal's "for issue" menu (Slack allows 100 options).
ISSUE_OPTIONS = 99


def build_action_modal(
    p: PartnershipView,
    *,
    issues: tuple[IssueView, ...],
    issue_id: int | None,
    today: date,
    title: str | None = None,
    default_due: date | None = None,
    refill: Refill[ActionInput] | None = None,
    from_home: bool = False,
    intro: str | None = None,
) -> View:
    """An action: title, owner, side (defaults to the owner's), due date and, optionally, the issue it serves.

    ``issues`` are the open issues offered; ``issue_id`` is preselected (the card's "Add action"). ``intro``
    (mrkdwn, escaped by the caller) says what the action answers (a red KPI's question); ``values.kpi_id`` links
    the action to that KPI.
    """
    values, error = refilled(refill)
    B = ids.ActionBlock
    chosen = values.issue_id if values else issue_id
    sides = side_options(p)
    # The chosen issue first, so it is never cut from a long list.
    ordered = sorted(issues, key=lambda i: i.id != chosen)
    issue_options = [option(f"#{i.number} {i.title}", str(i.id)) for i in ordered[:ISSUE_OPTIONS]]
    blocks: list[Block] = [
        *error_blocks(error, escaped=False),
        *([mrkdwn_section(intro)] if intro else []),
        *(
            [mrkdwn_context("An answer to a red KPI's question: what your side can do to get it back.")]
            if values and values.kpi_id and not intro
            else []
        ),
        mrkdwn_context(f"*{escape(p.name)}* · every action has one owner, a side and a due date."),
        text_input(
            B.TITLE,
            "Action",
            max_length=MAX_ISSUE_TITLE,
            initial=truncate(values.title if values else title or "", MAX_ISSUE_TITLE) or None,
            placeholder="What will be done?",
        ),
        user_input(B.OWNER, "Owner", placeholder="Choose a person", initial=values.owner_id if values else None),
        radio_input(
            B.SIDE,
            "Side",
            sides,
            optional=True,
            hint="Leave it empty to use the owner's side.",
            initial=initial_option(sides, values.side.value if values and values.side else None),
        ),
        date_input(B.DUE_ON, "Due date", initial=(values.due_on if values else default_due or today).isoformat()),
    ]
    if issue_options:
        blocks.append(
            select_input(
                B.ISSUE,
                "For issue",
                issue_options,
                optional=True,
                placeholder="No issue",
                initial=initial_option(issue_options, str(chosen) if chosen else None),
            )
        )
    return modal(
        ids.View.ACTION_ADD,
        title="Add an action",
        submit="Add",
        private_metadata=encode(
            ActionFormRef(p.team_id, p.channel_id, p.timezone, chosen or 0, from_home, (values.kpi_id if values else 0) or 0)
        ),
        blocks=blocks,
    )
