"""Recording a KPI's figure in Slack: the form, the owner's request for a period that has ended, and the
confirmation with the latest figures. Each figure's status is the one ``kpi_rows`` judged; nothing here decides it.
User text (names, notes) is escaped before it goes into mrkdwn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from slack_sdk.models.blocks import Block, ButtonElement, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.form_inputs import error_blocks, initial_option, modal, option, select_input, text_input
from bot.blocks.layout import date_label, mrkdwn_context, mrkdwn_section
from bot.blocks.metadata import encode
from bot.blocks.pulse import Message
from bot.blocks.text import SECTION_TEXT_MAX, escape, truncate
from bot.services.kpi_format import kpi_value
from bot.services.kpi_models import MAX_KPI_TEXT, RAG_LABELS, KpiDirection, KpiFigure, KpiPeriod, KpiView
from bot.services.kpi_value_models import KpiRecordForm, RecordedFromForm

RAG_EMOJI = {"green": ":large_green_circle:", "amber": ":large_orange_circle:", "red": ":red_circle:"}
#: The longest value a person types (a number; the form says so when it is not one).
MAX_VALUE_CHARS = 30


@dataclass(frozen=True)
class KpiFormRef:
    """The form's metadata and the request's button value: where it belongs, the KPI, and the period asked for
    (ISO date; empty for the last complete period)."""

    team_id: str
    channel_id: str
    kpi_id: int
    period_end: str = ""


def kpi_value_text(value: float, unit: str) -> str:
    """The figure as every surface writes it (``kpi_format.kpi_value``), escaped for mrkdwn."""
    return escape(kpi_value(value, unit))


def period_label(end: date, period: KpiPeriod) -> str:
    return f"week ending {date_label(end)}" if period is KpiPeriod.WEEKLY else f"{end:%B %Y}"


def _levels(kpi: KpiView) -> str:
    assert kpi.current is not None
    d = kpi.current.definition
    better = "higher" if d.direction is KpiDirection.HIGHER else "lower"
    return (
        f"target {kpi_value_text(d.target, d.unit)} ({better} is better) · amber past "
        f"{kpi_value_text(d.amber, d.unit)} · red past {kpi_value_text(d.red, d.unit)}"
    )


def figure_line(figure: KpiFigure, kpi: KpiView) -> str:
    assert kpi.current is not None
    d = kpi.current.definition
    return (
        f"{RAG_EMOJI[figure.rag.value]} {period_label(figure.period_end, d.period)}: "
        f"*{kpi_value_text(figure.value, d.unit)}* ({RAG_LABELS[figure.rag.value]})"
    )


def _recent_block(form_kpi: KpiView, recent: tuple[KpiFigure, ...]) -> list[Block]:
    if not recent:
        return [mrkdwn_context("No figures recorded yet.")]
    lines = "\n".join(figure_line(f, form_kpi) for f in recent)
    return [mrkdwn_context(truncate(f"Latest figures:\n{lines}", SECTION_TEXT_MAX))]


def _title(kpi: KpiView) -> str:
    assert kpi.current is not None
    return f"*{escape(kpi.current.definition.name)}* (`{escape(kpi.key)}`)"


def build_record_modal(
    form: KpiFormRef, data: KpiRecordForm, *, error: str | None = None, value: str | None = None, note: str | None = None
) -> View:
    """The form for one KPI's figure: which period (the one asked for first), the value and an optional note."""
    kpi = data.kpi
    assert kpi.current is not None
    d = kpi.current.definition
    options = [option(period_label(end, d.period).capitalize(), end.isoformat()) for end in data.period_ends]
    return modal(
        ids.KpiFigureView.RECORD,
        title="Record a KPI figure",
        submit="Record",
        private_metadata=encode(form),
        blocks=[
            *error_blocks(error, escaped=True),
            mrkdwn_section(
                truncate(f"{_title(kpi)} · delivered by {escape(data.delivering_org)}\n{_levels(kpi)}", SECTION_TEXT_MAX)
            ),
            mrkdwn_context(truncate(escape(d.measure), SECTION_TEXT_MAX)),
            select_input(
                ids.KpiFigureBlock.PERIOD_END,
                "Period",
                options,
                placeholder="Choose the period",
                initial=initial_option(options, data.period_end.isoformat()),
            ),
            text_input(
                ids.KpiFigureBlock.VALUE,
                f"Value ({d.unit})" if d.unit else "Value",
                max_length=MAX_VALUE_CHARS,
                initial=value,
                placeholder="81.5",
                hint="A number, with a point for decimals. A figure already recorded for the period is replaced.",
            ),
            text_input(
                ids.KpiFigureBlock.NOTE,
                "Note",
                multiline=True,
                optional=True,
                max_length=MAX_KPI_TEXT,
                initial=note,
                placeholder="What explains the figure, if anything",
            ),
            *_recent_block(kpi, data.recent),
        ],
    )


def build_figure_request(form: KpiFormRef, data: KpiRecordForm) -> Message:
    """The owner's request for the period that has ended, with the button that opens the form."""
    kpi = data.kpi
    assert kpi.current is not None
    period = period_label(data.period_end, kpi.current.definition.period)
    text = f"The {period} has ended: please record its figure for {_title(kpi)} ({_levels(kpi)})."
    button = ButtonElement(
        text="Record the figure", action_id=ids.KpiFigureAction.RECORD, value=encode(form), style="primary"
    )
    return Message(
        text=f"Please record the {period} figure for {kpi.current.definition.name}.",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)), accessory=button),
            *_recent_block(kpi, data.recent),
        ],
    )


def recorded_text(recorded: RecordedFromForm) -> str:
    """The confirmation: the figure with its status, and the latest figures."""
    kpi = recorded.kpi
    verb = "replaced the figure" if recorded.replaced else "recorded"
    lines = "\n".join(figure_line(f, kpi) for f in recorded.recent)
    return truncate(
        f"You {verb} for {_title(kpi)}: {figure_line(recorded.figure, kpi)}\nLatest figures:\n{lines}", SECTION_TEXT_MAX
    )
