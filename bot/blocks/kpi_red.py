"""A red KPI's blameless question in the channel, and the line the answer form opens with."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks import ids
from bot.blocks.blameless import NOT_ABOUT_FAULT, side_buttons
from bot.blocks.issue_text import fallback_text
from bot.blocks.kpi_red_refs import KpiRedAsk
from bot.blocks.layout import date_label, mrkdwn_context, mrkdwn_section
from bot.blocks.metadata import encode
from bot.blocks.pulse import Message
from bot.blocks.text import escape
from bot.services.kpi_red_models import RedAnswer, RedKpi, figure_label
from bot.services.partnership_models import Side

ANSWER_ACTIONS = {Side.CLIENT: ids.Action.KPI_RED_ANSWER_CLIENT, Side.PROVIDER: ids.Action.KPI_RED_ANSWER_PROVIDER}
QUESTION = "What can each side do to get it back?"


def red_line(red: RedKpi) -> str:
    """ "KPI #2 First-contact resolution was 61 % for the period ending 8 Nov (target 75 %, red below 65 %)." """
    d, f = red.definition, red.figure
    beyond = "below" if d.direction.value == "higher" else "above"
    return (
        f"KPI #{red.number} *{escape(d.name)}* was *{escape(figure_label(f.value, d.unit))}* for the period ending "
        f"{date_label(f.period_end)} (target {escape(figure_label(d.target, d.unit))}, red {beyond} "
        f"{escape(figure_label(d.red, d.unit))})."
    )


def build_kpi_red_question(red: RedKpi) -> Message:
    """Asked once per red period, in the channel, with a button for each side to answer with an action."""
    p, f = red.partnership, red.figure
    blocks: list[Block] = [
        mrkdwn_section(f":red_circle: *{QUESTION}*"),
        mrkdwn_section(f"{red_line(red)}\n{NOT_ABOUT_FAULT}, and each answer becomes an action with an owner and a date."),
        side_buttons(
            p,
            block_id=ids.KPI_RED_SIDES_BLOCK,
            action_ids=ANSWER_ACTIONS,
            value=lambda side: encode(KpiRedAsk(red.kpi_id, f.period_end.isoformat(), side.value)),
        ),
    ]
    if red.red_periods > 1 or red.periods_to_escalate > 1:
        blocks.append(
            mrkdwn_context(
                f"Red {red.red_periods} period(s) in a row. After {red.periods_to_escalate} in a row it is logged as an "
                "issue and escalates like one (`/partner kpi policy red-periods N`, leads)."
            )
        )
    text = f"KPI #{red.number} {escape(red.definition.name)} is red: {QUESTION}"
    return Message(text=fallback_text(text), blocks=blocks)


def build_kpi_red_answer(answer: RedAnswer) -> Message:
    """A side's answer, in the question's thread: what it will do, who owns it and by when."""
    a, p = answer.action, answer.partnership
    line = f":dart: {escape(p.org(a.side))} will: *{escape(a.title)}* — <@{a.owner_id}>, due {date_label(a.due_on)}."
    blocks: list[Block] = [
        mrkdwn_section(line),
        mrkdwn_context(f"An action to get KPI #{answer.kpi_number} {escape(answer.kpi_name)} back to green."),
    ]
    return Message(text=fallback_text(f"{p.org(a.side)}: {escape(a.title)}"), blocks=blocks)
