"""What recording KPI figures answers (DESIGN 3.6): how many figures were new and how many replaced a stored one,
or every bad entry of a refused batch with its reason; and a partnership's API tokens as a lead sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.services.kpi_models import KpiFigure


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
