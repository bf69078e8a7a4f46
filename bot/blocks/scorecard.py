"""The bilateral scorecard: the invitation, the form, the perception-gap report and ``/partner scorecard``.

The report shows, per dimension, how a side rates itself next to how the other side rates it, with the gap
highlighted. A side below the anonymity threshold is withheld: its averages and comments are never shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.expectations import EXPECTATION_EMOJI, expectation_line
from bot.blocks.form_inputs import modal
from bot.blocks.metadata import ChannelRef, encode
from bot.blocks.pulse import Message, split_messages
from bot.blocks.text import CONTEXT_TEXT_MAX, HEADER_MAX, SECTION_TEXT_MAX, escape, local_time_label, quote, truncate
from bot.services.figures_format import FLAG_LEGEND, format_flag, format_gap, format_score
from bot.services.partnership_models import PartnershipView, Side
from bot.services.pulse_models import DIMENSION_LABELS
from bot.services.review_models import (
    EXPECTATION_STATUS_LABELS,
    MAX_REVIEW_TEXT,
    LedgerSummary,
    RatingGap,
    ScorecardCadence,
    ScorecardForm,
    ScorecardInvite,
    ScorecardReport,
    ScorecardSide,
    ScorecardStatus,
    ScorecardView,
)

RATING_LABELS = {1: "1 · Poor", 2: "2 · Weak", 3: "3 · Adequate", 4: "4 · Good", 5: "5 · Excellent"}
COMMENTS_PER_SIDE = 10
CADENCE_LABELS = {
    ScorecardCadence.MONTHLY: "monthly",
    ScorecardCadence.QUARTERLY: "quarterly",
    ScorecardCadence.OFF: "off (leads can still start one)",
}


@dataclass(frozen=True)
class ScorecardRef(ChannelRef):
    """The invitation's "Fill in" button, and the form's private_metadata."""

    scorecard_id: int


def score_block(target: str, dimension: str) -> str:
    """The form's input for one rating: ``self-trust``, ``other-trust`` (``field`` of InvalidInput)."""
    return f"{target}-{dimension}"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, CONTEXT_TEXT_MAX))])


# --- the invitation ---------------------------------------------------------------------------------------


def build_scorecard_invite(invite: ScorecardInvite, *, closed: bool = False) -> Message:
    """Everyone in the channel is invited to rate both sides; closed, the message says the report follows."""
    p, s = invite.partnership, invite.scorecard
    head = HeaderBlock(text=truncate(f"Bilateral scorecard {s.period}", HEADER_MAX))
    if closed:
        return Message(
            text=f"The {s.period} scorecard of {escape(p.name)} has closed.",
            blocks=[head, _section(f"The {s.period} scorecard of *{escape(p.name)}* has closed; its report follows.")],
        )
    ref = encode(ScorecardRef(p.team_id, p.channel_id, s.id))
    blocks: list[Block] = [
        head,
        _section(
            f"Time for the *{escape(p.name)}* scorecard. Rate your own side and the other side "
            f"(*{escape(p.client_org)}* and *{escape(p.provider_org)}*) on the same dimensions, 1 to 5, and review the "
            "expectations ledger. It takes about two minutes; you can change your answers until it closes."
        ),
        ActionsBlock(
            block_id="scorecard-actions",
            elements=[
                ButtonElement(
                    text="Fill in the scorecard", action_id=ids.ReviewAction.SCORECARD_FILL, value=ref, style="primary"
                )
            ],
        ),
        _context(
            f"Open until {local_time_label(s.closes_at, p.timezone)}. Anonymous: results per side are shown only "
            f"when at least {p.anonymity_threshold} people of that side answered."
        ),
    ]
    return Message(text=f"The {s.period} scorecard of {escape(p.name)} is open", blocks=blocks)


def build_scorecard_reminder(invite: ScorecardInvite) -> Message:
    """The one nudge a member who has not filled in the scorecard gets before it closes."""
    p, s = invite.partnership, invite.scorecard
    closes = local_time_label(s.closes_at, p.timezone)
    text = (
        f"The *{escape(p.name)}* scorecard ({s.period}) closes {closes}. It takes about two minutes, and both sides' "
        "ratings count: with too few answers from a side, its view is not shown."
    )
    ref = encode(ScorecardRef(p.team_id, p.channel_id, s.id))
    button = ButtonElement(text="Fill in the scorecard", action_id=ids.ReviewAction.SCORECARD_FILL, value=ref)
    return Message(
        text=f"Reminder: the {s.period} scorecard closes {closes}.",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)), accessory=button)],
    )


# --- the form ------------------------------------------------------------------------------------------------


def _rating(previous: int | None) -> StaticSelectElement:
    options = [Option(text=label, value=str(score)) for score, label in RATING_LABELS.items()]
    initial = options[previous - 1] if previous is not None and 1 <= previous <= 5 else None
    return StaticSelectElement(action_id=ids.VALUE, placeholder="1 to 5", options=options, initial_option=initial)


def ledger_lines(p: PartnershipView, ledger: LedgerSummary) -> list[str]:
    counts = " · ".join(f"{EXPECTATION_STATUS_LABELS[status.value]}: {n}" for status, n in ledger.counts.items() if n)
    lines = [f"*Expectations ledger* — {counts or 'nothing recorded yet'}"]
    lines += [f"{EXPECTATION_EMOJI[e.status]} {expectation_line(p, e)}" for e in ledger.entries]
    return lines


def _ledger_blocks(p: PartnershipView, ledger: LedgerSummary) -> list[Block]:
    blocks: list[Block] = []
    chunk: list[str] = []
    for line in ledger_lines(p, ledger):
        if chunk and len("\n".join([*chunk, line])) > SECTION_TEXT_MAX:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(_section("\n".join(chunk)))
    return blocks


def build_scorecard_modal(form: ScorecardForm) -> View:
    """Each dimension twice: how the person's own side does, and how the other side does; then a comment."""
    p, side = form.partnership, form.side
    own, other = escape(p.org(side)), escape(p.org(side.other))
    blocks: list[Block] = [
        _context(
            f"*{escape(p.name)}* · scorecard {form.scorecard.period}. You answer for *{own}*. Anonymous: nobody, "
            "leads included, sees who gave which rating."
        ),
        *_ledger_blocks(p, form.ledger)[:3],
    ]
    for d in form.dimensions:
        label = DIMENSION_LABELS.get(d, d)
        for target, org in (("self", p.org(side)), ("other", p.org(side.other))):
            whose = "your side" if target == "self" else "the other side"
            blocks.append(
                InputBlock(
                    block_id=score_block(target, d),
                    label=truncate(f"{label}: {org} ({whose})", 2000),
                    element=_rating(form.previous.get((target, d))),
                )
            )
    blocks.append(
        InputBlock(
            block_id=ids.SCORECARD_COMMENT,
            label="Comment",
            optional=True,
            hint=f"What should {other} and {own} keep, start or stop? Shown only when enough people of your side answer.",
            element=PlainTextInputElement(
                action_id=ids.VALUE, multiline=True, max_length=MAX_REVIEW_TEXT, initial_value=form.previous_comment or None
            ),
        )
    )
    return modal(
        ids.ReviewView.SCORECARD,
        title="Scorecard",
        submit="Submit",
        private_metadata=encode(ScorecardRef(p.team_id, p.channel_id, form.scorecard.id)),
        blocks=blocks,
    )


# --- the report ---------------------------------------------------------------------------------------------


def gap_line(row: RatingGap, own: str, other: str) -> str:
    label = DIMENSION_LABELS.get(row.dimension, row.dimension)
    gap = f"gap {format_gap(row.gap)}{format_flag(row.level)}"
    return (
        f"• *{label}*: {own} rates itself {format_score(row.self_rating)} · {other} rates it "
        f"{format_score(row.other_rating)} · {gap}"
    )


def _side_blocks(report: ScorecardReport, s: ScorecardSide) -> list[Block]:
    p = report.partnership
    own, other = escape(s.org), escape(p.org(s.side.other))
    lines = [f"*How {own} ({s.side.value}) is seen*"]
    lines += [gap_line(row, own, other) for row in s.about]
    return [_section("\n".join(lines))]


def _withheld_blocks(report: ScorecardReport) -> list[Block]:
    return [
        _context(
            f"{escape(s.org)}: {s.respondents} answered, fewer than {report.threshold}, so its ratings and "
            "comments are not shown (anonymity)."
        )
        for s in report.sides
        if s.withheld
    ]


def _comment_blocks(report: ScorecardReport) -> list[Block]:
    blocks: list[Block] = []
    for s in report.sides:
        if s.withheld or not s.comments:
            continue
        blocks.append(_section(f"*What {escape(s.org)} said*"))
        blocks += [_section(quote(c, SECTION_TEXT_MAX)) for c in s.comments[:COMMENTS_PER_SIDE]]
        if len(s.comments) > COMMENTS_PER_SIDE:
            blocks.append(_context(f"…and {len(s.comments) - COMMENTS_PER_SIDE} more."))
    return blocks


def build_too_few_answers(report: ScorecardReport) -> Message:
    """What a scorecard too few people answered on both sides says instead of its report: once, plainly."""
    needed = max(report.threshold, 3)
    client, provider = report.sides
    text = (
        f"Too few people answered the {report.scorecard.period} scorecard of *{escape(report.partnership.name)}* to "
        f"show results: {client.respondents} of the {needed} needed on the client side ({escape(client.org)}), "
        f"{provider.respondents} on the provider side ({escape(provider.org)})."
    )
    return Message(text=truncate(text, SECTION_TEXT_MAX), blocks=[_section(text)])


def build_scorecard_report(report: ScorecardReport) -> list[Message]:
    """The perception-gap report, split into messages within Slack's limits (later ones go in the thread)."""
    p, s = report.partnership, report.scorecard
    client, provider = report.sides
    if client.withheld and provider.withheld:
        return [build_too_few_answers(report)]
    head: list[Block] = [
        HeaderBlock(text=truncate(f"Scorecard {s.period}: perception gaps", HEADER_MAX)),
        _section(
            f"*{escape(p.name)}* · {escape(client.org)}: {client.respondents} answered · "
            f"{escape(provider.org)}: {provider.respondents} answered. Scores 1–5; {FLAG_LEGEND}."
        ),
    ]
    head += _withheld_blocks(report)
    body = [*_side_blocks(report, client), *_side_blocks(report, provider), *_comment_blocks(report)]
    body += _ledger_blocks(p, report.ledger)
    return split_messages(f"Scorecard {s.period} of {escape(p.name)}: the perception-gap report", head + body)


# --- /partner scorecard ---------------------------------------------------------------------------------------


def _scorecard_line(s: ScorecardView, p: PartnershipView) -> str:
    counts = f"{p.client_org}: {s.responses[Side.CLIENT]} answered, {p.provider_org}: {s.responses[Side.PROVIDER]}"
    if s.status == "open":
        return f"The *{s.period}* scorecard is open until {local_time_label(s.closes_at, p.timezone)} ({escape(counts)})."
    closed = local_time_label(s.closed_at, p.timezone) if s.closed_at else ""
    return f"The last scorecard, *{s.period}*, closed {closed} ({escape(counts)}); its report is in the channel."


def build_scorecard_status(status: ScorecardStatus) -> Message:
    p = status.partnership
    nxt = local_time_label(status.next_at, p.timezone) if status.next_at else "not scheduled"
    lines = [
        f"*Bilateral scorecard* · {escape(p.name)}",
        f"Cadence: {CADENCE_LABELS[status.cadence]} · next: {nxt}",
        _scorecard_line(status.current, p) if status.current else "No scorecard yet.",
        "Leads: `/partner scorecard monthly|quarterly|off`, or `/partner scorecard start` to open one now.",
    ]
    return Message(text=f"Scorecard of {escape(p.name)}", blocks=[_section("\n".join(lines))])
