"""The blameless question, worded once: a resolved issue's follow-up and a red KPI both ask each side what it can
change, never whose fault it was, with one button per side to answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.blocks.text import truncate
from bot.services.partnership_models import PartnershipView, Side

BUTTON_LABEL_MAX = 75
#: What both questions say before their own ending ("any suggestion can become an action in one click").
NOT_ABOUT_FAULT = "This is not about whose fault it was: each side says what it can change"


def side_buttons(
    p: PartnershipView, *, block_id: str, action_ids: Mapping[Side, str], value: Callable[[Side], str]
) -> ActionsBlock:
    """One "<organisation>: add ours" button per side."""
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text=truncate(f"{p.org(side)}: add ours", BUTTON_LABEL_MAX),
                action_id=action_ids[side],
                value=value(side),
            )
            for side in Side
        ],
    )
