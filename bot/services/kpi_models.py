"""Agreed KPIs (DESIGN 3.6): the definitions both sides agree, their versions and the figures recorded per period.

What a figure means (green, amber or red; on target or not; which version judges a period) is decided once, in
``bot.services.kpi_rules``; every surface shows what it computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.services.partnership_models import Side

#: The widths of the stored columns; a measure or a note is one section's worth of text.
MAX_KPI_NAME = 80
MAX_KPI_KEY = 40
MAX_KPI_UNIT = 16
MAX_KPI_TEXT = 3000


class KpiDirection(StrEnum):
    """Whether a higher or a lower figure is better."""

    HIGHER = "higher"
    LOWER = "lower"


class KpiPeriod(StrEnum):
    """How often a figure is recorded: weekly periods end on Sunday, monthly ones on the month's last day."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Rag(StrEnum):
    """A figure's status against its KPI's amber and red levels."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


RAG_LABELS: dict[str, str] = {"green": "Green", "amber": "Amber", "red": "Red"}


class KpiVersionStatus(StrEnum):
    PROPOSED = "proposed"
    AGREED = "agreed"
    DISCUSSING = "discussing"
    WITHDRAWN = "withdrawn"
    #: Agreed once, then replaced by a later agreed version; it still judges the periods before that one.
    SUPERSEDED = "superseded"


class KpiSource(StrEnum):
    """Where a figure came from."""

    SLACK = "slack"
    CSV = "csv"
    API = "api"


@dataclass(frozen=True)
class KpiDefinition:
    """What a KPI measures, as one side proposes it (a form's or a command's values, not yet checked)."""

    name: str
    measure: str
    unit: str
    direction: KpiDirection
    target: float
    amber: float
    red: float
    period: KpiPeriod
    dimension: str
    delivered_by: Side
    owner_id: str | None = None


@dataclass(frozen=True)
class KpiVersionView:
    """One stored version of a KPI."""

    version: int
    definition: KpiDefinition
    status: KpiVersionStatus
    proposed_side: Side
    proposed_by: str
    proposed_at: datetime
    responded_by: str | None
    responded_at: datetime | None
    response: str | None
    effective_from: date | None


@dataclass(frozen=True)
class KpiView:
    """A KPI of the ledger: the version in force (None until one is agreed) and a version awaiting an answer."""

    id: int
    partnership_id: int
    number: int
    key: str
    delivered_by: Side
    current: KpiVersionView | None
    pending: KpiVersionView | None
    retired: bool

    @property
    def latest(self) -> KpiVersionView:
        """The version a reader sees first: the one awaiting an answer, else the one in force."""
        shown = self.pending or self.current
        assert shown is not None, "a KPI always has at least one version"
        return shown


@dataclass(frozen=True)
class KpiValueInput:
    """One figure to record, as the form, the CSV import or the HTTP endpoint gives it (not yet checked)."""

    kpi_key: str
    period_end: date
    value: float
    note: str | None = None


@dataclass(frozen=True)
class KpiFigure:
    """A recorded figure, judged by the version in force for its period."""

    kpi_id: int
    period_end: date
    value: float
    rag: Rag
    on_target: bool
    version: int
    note: str | None
    source: KpiSource
