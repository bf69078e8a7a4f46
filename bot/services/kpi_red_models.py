"""Read models of a red KPI (issue 14, "productive, not punitive"): the blameless question asked in the channel
and what a side's answer form is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.services.issue_models import ActionView
from bot.services.kpi_models import KpiDefinition, KpiFigure
from bot.services.partnership_models import PartnershipView

#: The partnership's "red for N periods in a row escalates" policy: its range and its default.
MIN_RED_PERIODS = 1
MAX_RED_PERIODS = 12
DEFAULT_RED_PERIODS = 3


def question_key(kpi_id: int, period_end: date) -> str:
    """The outbox key of a red KPI's question for a period: once per KPI and period; its answers find its thread."""
    return f"kpi-red-question:{kpi_id}:{period_end.isoformat()}"


def figure_label(value: float, unit: str) -> str:
    """A figure with its unit as a red KPI's question and issue show it ("61 %", "3.5 days")."""
    return f"{value:g} {unit}".strip()


@dataclass(frozen=True)
class RedKpi:
    """A KPI whose figure for a period is red: the KPI, the version that judged it and the figure."""

    partnership: PartnershipView
    kpi_id: int
    number: int
    definition: KpiDefinition
    figure: KpiFigure
    #: Red periods in a row up to and including this one (consecutive periods; a missing period breaks a run).
    red_periods: int
    #: The partnership's policy: this many red periods in a row log an issue.
    periods_to_escalate: int


@dataclass(frozen=True)
class KpiRedReport:
    """What one pass of the heartbeat did: questions queued, issues logged."""

    questions: int = 0
    escalations: int = 0


@dataclass(frozen=True)
class RedAnswer:
    """A side's answer to a red KPI's question: the action, posted in the question's thread for both sides."""

    partnership: PartnershipView
    kpi_number: int
    kpi_name: str
    action: ActionView
    #: The question's message (None when it is not in the channel: the answer goes to the channel itself).
    thread_ts: str | None
