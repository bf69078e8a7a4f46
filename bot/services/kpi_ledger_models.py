"""The KPI ledger's read models (DESIGN 3.6): what a proposal's channel message, the ledger and one KPI's card show,
and what the proposal form gives the service. The KPI's own models are ``kpi_models``."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.kpi_models import KpiDefinition, KpiFigure, KpiVersionView, KpiView
from bot.services.partnership_models import PartnershipView

#: How many of a KPI's latest figures its card shows (a chart's 12 periods).
FIGURES_SHOWN = 12


@dataclass(frozen=True)
class KpiProposalInput:
    """A proposal as the form gives it: the definition, and the key (None: made from the name). For a change to a
    KPI (``change``), ``key`` names the KPI."""

    definition: KpiDefinition
    key: str | None = None
    change: bool = False


@dataclass(frozen=True)
class KpiCard:
    """One version of a KPI as its channel message shows it: proposed, agreed, under discussion or withdrawn."""

    partnership: PartnershipView
    kpi: KpiView
    version: KpiVersionView


@dataclass(frozen=True)
class KpiLedger:
    """``/partner kpi``: every KPI of the partnership, by number."""

    partnership: PartnershipView
    kpis: tuple[KpiView, ...]


@dataclass(frozen=True)
class KpiDetail:
    """``/partner kpi show KEY``: the KPI, all its versions (oldest first) and its latest figures (oldest first),
    each judged by the version in force for its period."""

    partnership: PartnershipView
    kpi: KpiView
    versions: tuple[KpiVersionView, ...]
    figures: tuple[KpiFigure, ...]
