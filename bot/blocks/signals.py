"""Early-warning signals for the leads: a drop, a gap between the sides, a recurring category."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
)

from bot.blocks import ids
from bot.blocks.issue_refs import SignalRef
from bot.blocks.issue_text import fallback_text, org_name, side_label
from bot.blocks.layout import button_row, mrkdwn_context, mrkdwn_section
from bot.blocks.metadata import encode
from bot.blocks.pulse import Message
from bot.blocks.text import escape
from bot.services.issue_models import SignalKind, SignalView
from bot.services.partnership_models import Side
from bot.services.pulse_models import DIMENSION_LABELS


def _fmt(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "–"


def signal_text(signal: SignalView) -> str:
    """The signal's message, from its stored figures."""
    p, d = signal.partnership, signal.detail
    label = DIMENSION_LABELS.get(signal.subject, signal.subject)
    if signal.kind is SignalKind.DROP and signal.side is not None:
        return (
            f"*{escape(label)}* dropped for {side_label(p, signal.side)}: {_fmt(d.get('current'))} in round "
            f"{d.get('round_sequence')}, against {_fmt(d.get('baseline'))} on average over the previous four weeks."
        )
    if signal.kind is SignalKind.GAP:
        return (
            f"*{escape(label)}*: the sides see it differently. {org_name(p, Side.CLIENT)} {_fmt(d.get('client'))}, "
            f"{org_name(p, Side.PROVIDER)} {_fmt(d.get('provider'))} (a gap of {_fmt(d.get('gap'))}) in round "
            f"{d.get('round_sequence')}."
        )
    return (
        f"*{escape(signal.subject)}* keeps coming up: {d.get('count')} issues in this category within {d.get('days')} days."
    )


def build_signal(signal: SignalView) -> Message:
    """An early warning for a lead, with a "Log issue" button prefilled from the signal. It never escalates."""
    blocks: list[Block] = [
        mrkdwn_section(f":mag: *Early warning · {escape(signal.partnership.name)}*\n{signal_text(signal)}"),
        button_row(
            f"signal-{signal.id}",
            "Log issue",
            ids.Action.SIGNAL_LOG_ISSUE,
            encode(SignalRef(signal.id, channel_id=signal.partnership.channel_id)),
            style="primary",
        ),
        mrkdwn_context(
            f"Only the leads of <#{signal.partnership.channel_id}> get this. It is a prompt to talk it through or log "
            "an issue; nothing is escalated by it."
        ),
    ]
    return Message(text=fallback_text(f"Early warning for {escape(signal.partnership.name)}"), blocks=blocks)
