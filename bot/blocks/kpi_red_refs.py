"""What a red KPI's question buttons carry: the KPI, the red period and the side whose button was pressed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KpiRedAsk:
    kpi_id: int
    #: The red period's end, ISO (``2026-11-08``).
    period_end: str
    side: str
