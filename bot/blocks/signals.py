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
from bot.services import kpi_format
from bot.services.figures_format import stored_gap, stored_rated, stored_score
from bot.services.issue_models import SignalKind, SignalView
from bot.services.partnership_models import Side


def signal_text(signal: SignalView) -> str:
    """The signal's message, from its stored figures, naming what was rated as every surface does."""
    p, d = signal.partnership, signal.detail
    what = escape(stored_rated(d.get("subject"), signal.subject, p.client_org, p.provider_org))
    if signal.kind is SignalKind.DROP and signal.side is not None:
        return (
            f"*{what}* dropped for {side_label(p, signal.side)}: {stored_score(d.get('current'))} in round "
            f"{d.get('round_sequence')}, against {stored_score(d.get('baseline'))} on average over the previous four weeks."
        )
    if signal.kind in (SignalKind.KPIS_GREEN_UNHAPPY, SignalKind.KPIS_RED_HAPPY):
        lines = [escape(kpi_format.pairing_text(signal.kind.value, d, p.client_org, p.provider_org))]
        return "\n".join(lines + [f"• {escape(t)}" for t in kpi_format.kpi_texts(d)])
    if signal.kind is SignalKind.GAP:
        return (
            f"*{what}*: the sides see it differently. {org_name(p, Side.CLIENT)} {stored_score(d.get('client'))}, "
            f"{org_name(p, Side.PROVIDER)} {stored_score(d.get('provider'))} "
            f"({stored_gap(d.get('gap'), signed='subject' in d)}) in round {d.get('round_sequence')}."
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
