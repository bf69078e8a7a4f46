"""The KPI ledger's messages: a proposal in the channel (with the other side's Agree and Discuss buttons), an answer in
its thread, the ledger (``/partner kpi``) and one KPI's card (``/partner kpi show KEY``).

Names, measures, units and reasons are people's text: escaped before they go into mrkdwn, so nobody can make the bot
post ``<!channel>`` or a disguised link; people are mentioned only by the ids the bot itself stored. Figures come
judged (``KpiFigure.rag``); nothing here decides a status.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from bot.blocks import ids
from bot.blocks.kpi_figures import kpi_value_text
from bot.blocks.layout import answered_by, channel_button_row, date_label, fit, mrkdwn_context, mrkdwn_section, quote_lines
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.pulse import Message
from bot.blocks.text import SECTION_TEXT_MAX, escape, local_time_label, truncate
from bot.services.kpi_ledger_models import KpiCard, KpiDetail, KpiLedger
from bot.services.kpi_models import (
    RAG_LABELS,
    KpiDefinition,
    KpiDirection,
    KpiFigure,
    KpiVersionStatus,
    KpiVersionView,
    KpiView,
)
from bot.services.partnership_models import PartnershipView
from bot.services.pulse_models import DIMENSION_LABELS

RAG_EMOJI = {"green": ":large_green_circle:", "amber": ":large_yellow_circle:", "red": ":red_circle:"}
STATUS_LABELS = {
    KpiVersionStatus.PROPOSED: ":hourglass_flowing_sand: Proposed",
    KpiVersionStatus.AGREED: ":handshake: Agreed",
    KpiVersionStatus.DISCUSSING: ":speech_balloon: To discuss",
    KpiVersionStatus.WITHDRAWN: ":heavy_minus_sign: Withdrawn",
    KpiVersionStatus.SUPERSEDED: ":arrow_heading_down: Superseded",
}
_AWAITING = (KpiVersionStatus.PROPOSED, KpiVersionStatus.DISCUSSING)


@dataclass(frozen=True)
class KpiVersionRef:
    """The Agree, Discuss and Withdraw buttons of a proposal, and the discuss modal."""

    team_id: str
    channel_id: str
    kpi_id: int
    version: int


@dataclass(frozen=True)
class KpiKeyRef:
    """A button about one KPI ("Show", "Propose a change"), by its key."""

    team_id: str
    channel_id: str
    key: str


def number(value: float) -> str:
    """A level or a figure as people write it: ``75``, ``2.5``, ``1,200``."""
    return format(value, ",.10g")


def amount(value: float, d: KpiDefinition) -> str:
    """A figure or level as every surface writes it (``kpi_format.kpi_value``), escaped."""
    return kpi_value_text(value, d.unit)


def levels_line(d: KpiDefinition) -> str:
    """``Higher is better: target 75 %; amber below 70 %, red below 60 %.``"""
    worse = "below" if d.direction is KpiDirection.HIGHER else "above"
    better = "Higher" if d.direction is KpiDirection.HIGHER else "Lower"
    return (
        f"{better} is better: target {amount(d.target, d)}; amber {worse} {amount(d.amber, d)}, "
        f"red {worse} {amount(d.red, d)}."
    )


def definition_line(p: PartnershipView, d: KpiDefinition) -> str:
    """Who delivers it, its dimension, its period and its owner."""
    owner = f" · recorded by <@{d.owner_id}>" if d.owner_id else f" · recorded by a {escape(p.org(d.delivered_by))} lead"
    dimension = DIMENSION_LABELS.get(d.dimension, d.dimension)
    return f"Delivered by {escape(p.org(d.delivered_by))} · {dimension} · {d.period.value}{owner}"


def _title(kpi: KpiView, v: KpiVersionView) -> str:
    return f"*KPI #{kpi.number} · {escape(v.definition.name)}* (`{escape(kpi.key)}`) · version {v.version}"


def _answer_state(p: PartnershipView, v: KpiVersionView) -> str:
    other = escape(p.org(v.proposed_side.other))
    who, when = answered_by(p, v.responded_by, v.responded_at)
    if v.status is KpiVersionStatus.AGREED:
        since = f", in force from {date_label(v.effective_from)}" if v.effective_from else ""
        return f"{STATUS_LABELS[v.status]} by {who}, {when}{since}"
    if v.status is KpiVersionStatus.DISCUSSING:
        return f"{STATUS_LABELS[v.status]}: {who} asked to discuss it, {when}:"
    if v.status is KpiVersionStatus.PROPOSED:
        return f"{STATUS_LABELS[v.status]}: waiting for a lead of {other} to agree or ask to discuss it"
    return f"{STATUS_LABELS[v.status]}"


def version_blocks(p: PartnershipView, kpi: KpiView, v: KpiVersionView) -> list[Block]:
    d = v.definition
    return [
        mrkdwn_section(f"{_title(kpi, v)}\n{quote_lines(d.measure, SECTION_TEXT_MAX - 400)}"),
        mrkdwn_section(f"{levels_line(d)}\n{definition_line(p, d)}"),
    ]


def answer_buttons(p: PartnershipView, kpi: KpiView, v: KpiVersionView) -> list[ButtonElement]:
    """Agree and Discuss for the other side, Withdraw for the proposer's, while the version awaits an answer."""
    ref = encode(KpiVersionRef(p.team_id, p.channel_id, kpi.id, v.version))
    if v.status not in _AWAITING:
        return []
    return [
        ButtonElement(text="Agree", action_id=ids.KpiAction.AGREE, value=ref, style="primary"),
        ButtonElement(text="Discuss", action_id=ids.KpiAction.DISCUSS, value=ref),
        ButtonElement(text="Withdraw", action_id=ids.KpiAction.WITHDRAW, value=ref),
    ]


def build_kpi_proposal(card: KpiCard) -> Message:
    """The channel message of one proposed version: what it measures, its levels, its state, and the buttons."""
    p, kpi, v = card.partnership, card.kpi, card.version
    blocks: list[Block] = version_blocks(p, kpi, v)
    if kpi.current is not None and kpi.current.version != v.version and v.status in _AWAITING:
        blocks.append(mrkdwn_context(f"Version {kpi.current.version} stays in force until this one is agreed."))
    proposer = escape(p.org(v.proposed_side))
    blocks.append(
        mrkdwn_context(f"Proposed by <@{v.proposed_by}> ({proposer}) · {local_time_label(v.proposed_at, p.timezone)}")
    )
    blocks.append(mrkdwn_section(_answer_state(p, v)))
    if v.status is KpiVersionStatus.DISCUSSING and v.response:
        blocks.append(mrkdwn_section(quote_lines(v.response)))
    ledger = ButtonElement(
        text="KPI ledger", action_id=ids.KpiAction.LEDGER, value=encode(ChannelRef(p.team_id, p.channel_id))
    )
    blocks.append(ActionsBlock(block_id=ids.KPI_ACTIONS_BLOCK, elements=[*answer_buttons(p, kpi, v), ledger]))
    if v.status in _AWAITING:
        other = escape(p.org(v.proposed_side.other))
        blocks.append(mrkdwn_context(f"A lead of {other} agrees or asks to discuss; a lead of {proposer} can withdraw it."))
    text = f"KPI #{kpi.number} {v.definition.name}, version {v.version}: {STATUS_LABELS[v.status].split(' ', 1)[1]}"
    return Message(text=truncate(escape(text), 3000), blocks=blocks)


def build_kpi_answer(card: KpiCard) -> Message:
    """The answer, in the proposal's thread: agreed (and from when), or asked to discuss (with the reason)."""
    kpi, v = card.kpi, card.version
    who = f"<@{v.responded_by}>" if v.responded_by else "Someone"
    name = f"version {v.version} of KPI #{kpi.number} *{escape(v.definition.name)}*"
    if v.status is KpiVersionStatus.DISCUSSING:
        line = f":speech_balloon: {who} asked to discuss {name}:\n{quote_lines(v.response or '')}"
    else:
        since = f" It judges the periods ending on or after {date_label(v.effective_from)}." if v.effective_from else ""
        line = f":handshake: {who} agreed to {name}.{since}"
    return Message(text=truncate(f"KPI #{kpi.number}: answered", 3000), blocks=[mrkdwn_section(line)])


def _show_button(p: PartnershipView, kpi: KpiView) -> ButtonElement:
    return ButtonElement(
        text="Show", action_id=ids.KpiAction.SHOW, value=encode(KpiKeyRef(p.team_id, p.channel_id, kpi.key))
    )


def _ledger_entry(p: PartnershipView, kpi: KpiView) -> list[Block]:
    shown = kpi.current or kpi.latest
    head = f"*#{kpi.number} {escape(shown.definition.name)}* (`{escape(kpi.key)}`)"
    if kpi.retired:
        return [mrkdwn_section(f"{head} · retired")]
    lines = [head]
    if kpi.current is not None:
        lines.append(f"{levels_line(kpi.current.definition)} _(version {kpi.current.version})_")
        lines.append(definition_line(p, kpi.current.definition))
    else:
        lines.append("Not agreed yet.")
    pending = kpi.pending
    if pending is not None:
        lines.append(
            f"{_answer_state(p, pending)} (version {pending.version}, proposed by {escape(p.org(pending.proposed_side))})"
        )
    blocks: list[Block] = [SectionBlock(text=truncate("\n".join(lines), SECTION_TEXT_MAX), accessory=_show_button(p, kpi))]
    return blocks


def build_kpi_ledger(ledger: KpiLedger) -> Message:
    """``/partner kpi``: each KPI with its version in force; a version awaiting an answer has its buttons."""
    p = ledger.partnership
    propose = channel_button_row(p, "kpi-ledger-actions", "Propose a KPI", ids.KpiAction.PROPOSE, style="primary")
    head: list[Block] = [mrkdwn_section(f"*KPI ledger* · {escape(p.name)}")]
    if not ledger.kpis:
        head.append(mrkdwn_section("No KPIs yet. A lead proposes one; a lead of the other side agrees to it."))
        return Message(text=f"KPI ledger of {escape(p.name)}: empty", blocks=[*head, propose])
    items: list[Block] = []
    for kpi in sorted(ledger.kpis, key=lambda k: (k.retired, k.number)):
        items.extend(_ledger_entry(p, kpi))
        if kpi.pending is not None and not kpi.retired:
            buttons = answer_buttons(p, kpi, kpi.pending)
            items.append(ActionsBlock(block_id=f"kpi-pending-{kpi.id}", elements=buttons))
    return Message(text=f"KPI ledger of {escape(p.name)}", blocks=fit(head, items, [propose]))


def figure_line(f: KpiFigure, d: KpiDefinition) -> str:
    target = " · on target" if f.on_target else ""
    note = f" · {escape(' '.join(f.note.split()))[:200]}" if f.note else ""
    return (
        f"{date_label(f.period_end)}: *{amount(f.value, d)}* {RAG_EMOJI[f.rag.value]} {RAG_LABELS[f.rag.value]}"
        f"{target} _(version {f.version}, {f.source.value})_{note}"
    )


def _history_line(p: PartnershipView, v: KpiVersionView) -> str:
    since = f", in force from {date_label(v.effective_from)}" if v.effective_from else ""
    d = v.definition
    return (
        f"Version {v.version} · {STATUS_LABELS[v.status]}{since} · proposed by {escape(p.org(v.proposed_side))} · "
        f"target {amount(d.target, d)}, amber {amount(d.amber, d)}, red {amount(d.red, d)}, {d.period.value}"
    )


def build_kpi_detail(detail: KpiDetail) -> Message:
    """``/partner kpi show KEY``: the version in force (or the latest), the history of versions, the latest figures."""
    p, kpi = detail.partnership, detail.kpi
    shown = kpi.current or kpi.latest
    blocks: list[Block] = version_blocks(p, kpi, shown)
    if kpi.retired:
        blocks.append(mrkdwn_context("Retired: no more figures are asked for; its history stays."))
    history = [_history_line(p, v) for v in detail.versions]
    blocks.append(mrkdwn_section(truncate("*Versions*\n" + "\n".join(history), SECTION_TEXT_MAX)))
    if detail.figures:
        lines = [figure_line(f, _judging(detail, f).definition) for f in detail.figures]
        blocks.append(mrkdwn_section(truncate(f"*Last {len(lines)} figures*\n" + "\n".join(lines), SECTION_TEXT_MAX)))
    else:
        blocks.append(mrkdwn_context("No figures recorded yet."))
    buttons = [
        ButtonElement(text="KPI ledger", action_id=ids.KpiAction.LEDGER, value=encode(ChannelRef(p.team_id, p.channel_id)))
    ]
    if not kpi.retired:
        change = encode(KpiKeyRef(p.team_id, p.channel_id, kpi.key))
        buttons.insert(0, ButtonElement(text="Propose a change", action_id=ids.KpiAction.CHANGE, value=change))
    blocks.append(ActionsBlock(block_id="kpi-detail-actions", elements=buttons))
    return Message(text=truncate(escape(f"KPI #{kpi.number} {shown.definition.name}"), 3000), blocks=blocks)


def _judging(detail: KpiDetail, f: KpiFigure) -> KpiVersionView:
    return next((v for v in detail.versions if v.version == f.version), detail.kpi.latest)
