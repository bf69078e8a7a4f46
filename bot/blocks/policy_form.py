"""The leads' escalation policy form: deadlines per severity in working time, and the issue categories."""

from __future__ import annotations

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.form_inputs import modal, text_input
from bot.blocks.layout import mrkdwn_context
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.policy import format_duration
from bot.blocks.text import escape
from bot.services.issue_models import MAX_CATEGORY, SEVERITY_DEFINITIONS, SEVERITY_LABELS, PolicyView

MAX_CATEGORIES_TEXT = 25 * (MAX_CATEGORY + 1)


def build_policy_modal(policy: PolicyView, categories: tuple[str, ...]) -> View:
    """Deadlines per severity (working time, ``4h``/``3d``) and the category list, prefilled with today's."""
    p = policy.partnership
    blocks: list[Block] = [
        mrkdwn_context(
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
                text_input(
                    ids.policy_block(field, s.severity),
                    f"{SEVERITY_LABELS[s.severity]}: {label}",
                    hint=definition if field is ids.PolicyBlock.RESOLVE else None,
                    max_length=20,
                    initial=format_duration(amount),
                )
            )
    blocks.append(
        text_input(
            ids.PolicyBlock.CATEGORIES,
            "Issue categories, one per line",
            hint="Issues keep the category they were logged with.",
            multiline=True,
            max_length=MAX_CATEGORIES_TEXT,
            initial="\n".join(categories),
        )
    )
    return modal(
        ids.View.POLICY,
        title="Escalation policy",
        submit="Save",
        private_metadata=encode(ChannelRef(team_id=p.team_id, channel_id=p.channel_id)),
        blocks=blocks,
    )
