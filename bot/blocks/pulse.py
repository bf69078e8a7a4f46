"""The pulse message, the answer modal, the reminder and the results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.form_inputs import modal, radio_input, select_input, text_input
from bot.blocks.metadata import AnswerFormRef, RoundRef, encode
from bot.blocks.text import CONTEXT_TEXT_MAX, HEADER_MAX, SECTION_TEXT_MAX, escape, local_time_label, quote, truncate
from bot.services.figures import WITHHELD, Comparison
from bot.services.figures_format import FLAG_LEGEND, comparison_figures, format_nps, format_participation, rated
from bot.services.partnership_models import PartnershipView, Side
from bot.services.pulse_models import DIMENSION_LABELS, MAX_COMMENT, AnswerForm, QuestionView, RoundResults, RoundView

MAX_BLOCKS_PER_MESSAGE = 50
#: Text per message, all blocks together. Slack rejects a message whose blocks hold much more than about 12,000
#: characters (``msg_blocks_too_long``, not in its documented limits); stay well below.
MAX_MESSAGE_TEXT = 8000
COMMENTS_PER_SIDE = 10
SCALE_LABELS = {1: "1 · Strongly disagree", 2: "2 · Disagree", 3: "3 · Neutral", 4: "4 · Agree", 5: "5 · Strongly agree"}


@dataclass(frozen=True)
class Message:
    """A message ready to send: fallback text and blocks."""

    text: str
    blocks: list[Block]


def answer_button(round_id: int, *, action_id: str = ids.Action.PULSE_ANSWER, label: str = "Answer") -> ButtonElement:
    return ButtonElement(text=label, action_id=action_id, value=encode(RoundRef(round_id)), style="primary")


def build_pulse_message(round_: RoundView, partnership: PartnershipView, *, closed: bool = False) -> Message:
    """The channel message announcing a round, with the Answer button (or, once closed, without it)."""
    name = escape(partnership.name)
    closes = local_time_label(round_.closes_at, partnership.timezone)
    count = len(round_.questions)
    dims = ", ".join(DIMENSION_LABELS.get(q.dimension, q.dimension) for q in round_.questions)
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Partnership pulse · {partnership.name}", HEADER_MAX)),
        SectionBlock(
            text=MarkdownTextObject(
                text=truncate(
                    f"*Round {round_.sequence}* for *{name}*: {count} short questions about {dims}. "
                    "About 30 seconds. Both sides answer the same questions, so we can see where we agree.",
                    SECTION_TEXT_MAX,
                )
            )
        ),
    ]
    if closed:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="This round has closed. Results are below.")]))
        text = f"Pulse round {round_.sequence} for {name} has closed."
    else:
        anon = (
            f"Answers are anonymous: a side's results show only when at least {partnership.anonymity_threshold} "
            "of its people answer."
            if partnership.anonymous
            else "Answers are not anonymous in this partnership."
        )
        blocks.append(ActionsBlock(block_id="pulse-actions", elements=[answer_button(round_.id)]))
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=f"Open until {closes}. {anon} You can change your answers until then.")]
            )
        )
        text = f"Pulse round {round_.sequence} for {name} is open until {closes}."
    return Message(text=text, blocks=blocks)


def build_loading_modal() -> View:
    """A small modal opened at once, so the trigger id is used within its 3 seconds."""
    return View(
        type="modal",
        callback_id=ids.View.LOADING,
        title="PartnerPulse",
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=":hourglass_flowing_sand: Loading…"))],
    )


def build_message_modal(title: str, text: str) -> View:
    """A modal that only says something (used to replace the loading modal with an error)."""
    return View(
        type="modal",
        title=truncate(title, 24),
        close="Close",
        blocks=[SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))],
    )


def _score_input(question: QuestionView, text: str, previous: int | None) -> InputBlock:
    block_id, hint = f"{ids.SCORE_PREFIX}{question.id}", DIMENSION_LABELS.get(question.dimension, question.dimension)
    if question.kind == "nps":
        options = [Option(text=str(i), value=str(i)) for i in range(0, 11)]
        initial = options[previous] if previous is not None and 0 <= previous <= 10 else None
        return select_input(block_id, text, options, placeholder="0 to 10", initial=initial, hint=hint)
    options = [Option(text=label, value=str(score)) for score, label in SCALE_LABELS.items()]
    initial = options[previous - 1] if previous is not None and 1 <= previous <= 5 else None
    return radio_input(block_id, text, options, initial=initial, hint=hint)


def build_answer_modal(form: AnswerForm, *, channel_id: str = "") -> View:
    """The round's questions in this side's wording: a score and an optional comment for each. ``channel_id``:
    where the person clicked Answer (kept in the metadata, for telling them of a failure after the form closed)."""
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=truncate(
                        f"*{escape(form.partnership_name)}* · round {form.round.sequence}. "
                        "Your answers are stored without your name; only per-side results are shown.",
                        CONTEXT_TEXT_MAX,
                    )
                )
            ]
        )
    ]
    for q in form.round.questions:
        prev = form.previous.get(q.id)
        blocks.append(_score_input(q, truncate(q.text_for(form.side), 2000), prev.score if prev else None))
        blocks.append(
            text_input(
                f"{ids.COMMENT_PREFIX}{q.id}",
                "Comment (optional)",
                optional=True,
                multiline=True,
                max_length=MAX_COMMENT,
                initial=prev.comment if prev and prev.comment else None,
                placeholder="What is behind your score?",
            )
        )
    return modal(
        ids.View.PULSE_ANSWER,
        title="Partnership pulse",
        submit="Send" if not form.previous else "Update",
        private_metadata=encode(AnswerFormRef(form.round.id, channel_id)),
        blocks=blocks,
    )


def build_reminder(round_: RoundView, partnership: PartnershipView, *, timezone: str | None = None) -> Message:
    """The one nudge a non-responder gets before the round closes (a message from the app, or an ephemeral in the
    channel for the other organisation's people), with the closing time in ``timezone``: the recipient's own zone,
    the partnership's when omitted."""
    closes = local_time_label(round_.closes_at, timezone or partnership.timezone)
    text = (
        f"The partnership pulse for *{escape(partnership.name)}* closes {closes}. "
        "It takes about 30 seconds, and both sides' answers count."
    )
    return Message(
        text=f"Reminder: the partnership pulse for {escape(partnership.name)} closes {closes}.",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)), accessory=answer_button(round_.id)),
        ],
    )


def build_results_messages(results: RoundResults) -> list[Message]:
    """The round's results: for each subject and dimension asked, both sides' averages and the gap (as
    ``bot.services.figures`` computed them), the NPS per side when asked; split into messages of ≤50 blocks.

    A side with fewer respondents than the anonymity threshold is withheld: no averages, no comments.
    """
    p = results.partnership
    client, provider = escape(p.client_org), escape(p.provider_org)
    part = results.participation
    head: list[Block] = [
        HeaderBlock(text=truncate(f"Pulse results · round {results.round.sequence} · {p.name}", HEADER_MAX)),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=truncate(
                        f"Answered: *{client}* {format_participation(part[Side.CLIENT])} · "
                        f"*{provider}* {format_participation(part[Side.PROVIDER])}. "
                        f"Scores 1–5; {FLAG_LEGEND}.",
                        CONTEXT_TEXT_MAX,
                    )
                )
            ]
        ),
    ]
    for side in results.withheld:
        org = client if side is Side.CLIENT else provider
        head.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":lock: *{org}*: fewer than {p.anonymity_threshold} people answered, so this side's "
                    "results and comments are not shown, to keep answers anonymous."
                )
            )
        )
    body: list[Block] = []
    hidden = set(results.withheld)
    for item in results.items:
        if hidden:  # never show a withheld side's figures, whatever the caller passed
            item = Comparison(
                item.subject,
                item.dimension,
                WITHHELD if Side.CLIENT in hidden else item.client,
                WITHHELD if Side.PROVIDER in hidden else item.provider,
            )
        label = rated(item.subject, item.dimension, client, provider)
        body.append(SectionBlock(text=MarkdownTextObject(text=f"*{label}*: {comparison_figures(item)}")))
    if results.nps is not None:
        nps = " · ".join(
            f"*{client if n.side is Side.CLIENT else provider}*: {'withheld' if n.side in hidden else format_nps(n)}"
            for n in results.nps
        )
        body.append(
            SectionBlock(text=MarkdownTextObject(text=f"*Would recommend* (0–10, promoters minus detractors) — {nps}"))
        )
    for side in Side:
        comments = () if side in hidden else results.comments.get(side, ())
        if not comments:
            continue
        org = client if side is Side.CLIENT else provider
        body.append(DividerBlock())
        body.append(SectionBlock(text=MarkdownTextObject(text=f"*What {org} said*")))
        for comment in comments[:COMMENTS_PER_SIDE]:
            body.append(SectionBlock(text=MarkdownTextObject(text=quote(comment, SECTION_TEXT_MAX))))
        if len(comments) > COMMENTS_PER_SIDE:
            body.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {len(comments) - COMMENTS_PER_SIDE} more.")]))
    if all(i.client.average is None and i.provider.average is None for i in results.items) and not any(
        n.score is not None and n.side not in hidden for n in results.nps or ()
    ):
        body.append(SectionBlock(text=MarkdownTextObject(text="No results to show for this round.")))
    fallback = f"Pulse results for {escape(p.name)}, round {results.round.sequence}."
    return split_messages(fallback, head + body)


def text_length(value: object) -> int:
    """How many characters of text a block holds (every ``text`` string in its JSON)."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else text_length(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(text_length(v) for v in value)
    return 0


def pack_blocks(groups: Sequence[list[Block]], capacity: int, budget: int) -> list[list[Block]]:
    """Groups of blocks into messages of at most ``capacity`` blocks and ``budget`` characters of text, never
    splitting a group that fits in one message.
    """
    messages: list[list[Block]] = [[]]
    used = [0]
    for group in groups:
        sizes = [text_length(block.to_dict()) for block in group]
        if messages[-1] and (len(messages[-1]) + len(group) > capacity or used[-1] + sum(sizes) > budget):
            messages.append([])
            used.append(0)
        for block, size in zip(group, sizes, strict=True):
            if messages[-1] and (len(messages[-1]) >= capacity or used[-1] + size > budget):
                messages.append([])
                used.append(0)
            messages[-1].append(block)
            used[-1] += size
    return [m for m in messages if m]


def split_messages(text: str, blocks: list[Block]) -> list[Message]:
    """Split blocks into messages within Slack's limits (50 blocks, ``MAX_MESSAGE_TEXT`` characters of text in
    all); later parts say they continue."""
    chunks = pack_blocks([[b] for b in blocks], MAX_BLOCKS_PER_MESSAGE, MAX_MESSAGE_TEXT)
    return [Message(text=text if i == 0 else f"{text} (continued)", blocks=chunk) for i, chunk in enumerate(chunks)]
