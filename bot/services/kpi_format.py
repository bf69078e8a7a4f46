"""How the watermelon check's figures are written, on every surface (the signal, its prefilled issue, the digest,
the portfolio, the export): KPI figures with their unit, status and target, and each pairing's sentence. Pure text,
no markup (builders escape it). A signal keeps its figures in a stored record (``detail_of``); the live surfaces
write from the same record, so the signal and the digest read alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from bot.services.figures_format import format_score, stored_score
from bot.services.kpi_models import RAG_LABELS
from bot.services.pulse_models import DIMENSION_LABELS
from bot.services.watermelon_models import HAPPY_AT_OR_ABOVE, UNHAPPY_AT_OR_BELOW, DimensionCheck, KpiLine, Pairing

PAIRING_LABELS: dict[str, str] = {
    Pairing.GREEN_UNHAPPY.value: "KPIs green, people unhappy",
    Pairing.RED_HAPPY.value: "people happy, KPIs red",
}
NO_FIGURE = "no recent figure"


def kpi_value(value: float, unit: str) -> str:
    """``82%``, ``2.5 days``: at most two decimals, no trailing zeros."""
    number = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{number}%" if unit == "%" else f"{number} {unit}".rstrip()


def kpi_text(name: str, unit: str, target: float, value: float | None, rag: str | None) -> str:
    """``First-contact resolution: 82%, green (target 80%)``; without a recent figure, says so."""
    aim = kpi_value(target, unit)
    if value is None or rag is None:
        return f"{name}: {NO_FIGURE} (target {aim})"
    return f"{name}: {kpi_value(value, unit)}, {RAG_LABELS.get(rag, rag).lower()} (target {aim})"


def line_record(line: KpiLine) -> dict[str, Any]:
    f = line.figure
    return {
        "name": line.name,
        "unit": line.unit,
        "target": line.target,
        "value": None if f is None else f.value,
        "rag": None if f is None else f.rag.value,
        "period_end": None if f is None else f.period_end.isoformat(),
    }


def detail_of(check: DimensionCheck, week_start: date) -> dict[str, Any]:
    """A dimension's check as a signal stores it (JSON): the dimension, each side's score, the unhappy sides and
    each KPI's figure."""
    return {
        "dimension": check.dimension,
        "week_start": week_start.isoformat(),
        "client": None if check.client is None else float(check.client),
        "provider": None if check.provider is None else float(check.provider),
        "unhappy": [s.value for s in check.unhappy],
        "kpis": [line_record(k) for k in check.kpis],
    }


def kpi_texts(detail: Mapping[str, Any]) -> list[str]:
    """Each KPI of a stored check, as ``kpi_text`` writes it."""
    return [kpi_text(k["name"], k["unit"], k["target"], k.get("value"), k.get("rag")) for k in detail.get("kpis", ())]


def dimension_label(dimension: str) -> str:
    return DIMENSION_LABELS.get(dimension, dimension)


def scores_text(detail: Mapping[str, Any], client_org: str, provider_org: str) -> str:
    """``Northwind 3.0, Contoso 4.2 of 5``; a side without a score shows ``–``."""
    return f"{client_org} {stored_score(detail.get('client'))}, {provider_org} {stored_score(detail.get('provider'))} of 5"


def pairing_text(kind: str, detail: Mapping[str, Any], client_org: str, provider_org: str) -> str:
    """The pairing's sentence: which dimension, what the KPIs say, who feels what (with the thresholds)."""
    label = dimension_label(str(detail.get("dimension")))
    scores = scores_text(detail, client_org, provider_org)
    if kind == Pairing.GREEN_UNHAPPY.value:
        unhappy = detail.get("unhappy", [])
        who = " and ".join(org for side, org in (("client", client_org), ("provider", provider_org)) if side in unhappy)
        return (
            f"{label}: {PAIRING_LABELS[kind]}. Every agreed KPI is green, but {who} rate{'s' if len(unhappy) == 1 else ''} "
            f"it {format_score(UNHAPPY_AT_OR_BELOW)} or lower ({scores})."
        )
    red = [k["name"] for k in detail.get("kpis", ()) if k.get("rag") == "red"]
    return (
        f"{label}: {PAIRING_LABELS.get(kind, kind)}. Both sides rate it {format_score(HAPPY_AT_OR_ABOVE)} or higher "
        f"({scores}), but {len(red)} of its KPIs {'is' if len(red) == 1 else 'are'} red: {', '.join(red)}."
    )


def check_pairing_text(check: DimensionCheck, week_start: date, client_org: str, provider_org: str) -> str:
    """A live check's pairing sentence, written from the record a signal would store (so both read alike)."""
    assert check.pairing is not None
    return pairing_text(check.pairing.value, detail_of(check, week_start), client_org, provider_org)


def dimension_lines(check: DimensionCheck, week_start: date, client_org: str, provider_org: str) -> list[str]:
    """A dimension's check for a detail list: ``Responsiveness: Northwind 3.0, Contoso 4.2 of 5 — KPIs green,
    people unhappy``, then each KPI's ``kpi_text``."""
    detail = detail_of(check, week_start)
    head = f"{dimension_label(check.dimension)}: {scores_text(detail, client_org, provider_org)}"
    if check.pairing is not None:
        head += f" — {PAIRING_LABELS[check.pairing.value]}"
    return [head, *kpi_texts(detail)]


def pairing_reason(check: DimensionCheck, week_start: date, client_org: str, provider_org: str) -> str:
    """The short form of a pairing (the portfolio's reason): ``Trust: KPIs green, people unhappy (Northwind 2.7,
    Contoso 4.3 of 5)``."""
    assert check.pairing is not None
    detail = detail_of(check, week_start)
    label = PAIRING_LABELS[check.pairing.value]
    return f"{dimension_label(check.dimension)}: {label} ({scores_text(detail, client_org, provider_org)})"
