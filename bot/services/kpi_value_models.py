"""What recording KPI figures answers (DESIGN 3.6): how many figures were new and how many replaced a stored one,
or every bad entry of a refused batch with its reason; and a partnership's API tokens as a lead sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.services.kpi_models import KpiFigure, KpiView


@dataclass(frozen=True)
class RecordedFigures:
    """A batch saved whole: ``new`` figures for periods that had none, ``replaced`` ones that had a figure."""

    new: int
    replaced: int
    figures: tuple[KpiFigure, ...]


@dataclass(frozen=True)
class ValueProblem:
    """Why one entry of a batch cannot be saved; ``index`` is its position in the batch (0 for the first), and
    ``same_as`` the position of the entry it repeats (the same KPI and period), if that is the problem."""

    index: int
    kpi_key: str
    period_end: date | None
    reason: str
    same_as: int | None = None


@dataclass(frozen=True)
class ApiTokenView:
    """A token as listed: never the token itself, only its last characters (``hint``)."""

    id: int
    label: str
    hint: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class CreatedApiToken:
    """A new token: ``token`` is shown once, to the lead who made it, and never stored."""

    view: ApiTokenView
    token: str


@dataclass(frozen=True)
class ApiCaller:
    """Whom a valid token speaks for."""

    token_id: int
    partnership_id: int
    label: str


@dataclass(frozen=True)
class KpiRecordForm:
    """What the form for a KPI's figure shows: the KPI as agreed, the periods one may record (newest first; the
    first is the one asked for), and the latest figures recorded (newest first)."""

    team_id: str
    channel_id: str
    kpi: KpiView
    delivering_org: str
    timezone: str
    period_ends: tuple[date, ...]
    recent: tuple[KpiFigure, ...]

    @property
    def period_end(self) -> date:
        return self.period_ends[0]


@dataclass(frozen=True)
class KpiFormInput:
    """The form's values, checked by the form (a number, a short note) before the service checks the rest."""

    kpi_id: int
    period_end: date
    value: float
    note: str | None


@dataclass(frozen=True)
class RecordedFromForm:
    """A figure saved from the form, with the KPI and its latest figures for the confirmation."""

    kpi: KpiView
    figure: KpiFigure
    replaced: bool
    recent: tuple[KpiFigure, ...]
