"""The export's agreed KPIs (issue 14 item 3): each week's watermelon check (``DigestView.kpis``) as a CSV
(``partnerpulse export --format kpi-csv``) and as the HTML report's section of a week. Pure functions of the report,
written with ``bot.services.kpi_format`` so every figure reads as in the digest and the signals; a side's score is
empty where the digest had none (withheld, or no answers on the dimension).
"""

from __future__ import annotations

import base64
import csv
import html
import io

from bot.services import kpi_format
from bot.services.digest_models import DigestView
from bot.services.export_models import ExportReport
from bot.services.figures_format import format_score
from bot.services.kpi_chart_png import kpi_alt_text, kpi_chart_png
from bot.services.kpi_models import RAG_LABELS

#: One row per week, dimension and agreed KPI. ``client_score``/``provider_score``: each side's score of the
#: dimension as the digest measured it; ``pairing``: ``kpis_green_unhappy``, ``kpis_red_happy`` or empty;
#: ``period_end``, ``value`` and ``status`` (green, amber, red): the KPI's figure of the week, empty for no data.
KPI_CSV_COLUMNS = (
    "week_start",
    "dimension",
    "client_score",
    "provider_score",
    "pairing",
    "kpi_number",
    "kpi_key",
    "kpi_name",
    "unit",
    "target",
    "period_end",
    "value",
    "status",
)


def _cell(text: str) -> str:
    """Text that a spreadsheet would run as a formula is made inert (as in ``bot.export_csv``)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def render_kpi_csv(report: ExportReport) -> str:
    """``KPI_CSV_COLUMNS``: every week's agreed KPIs beside each side's score of their dimension."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KPI_CSV_COLUMNS)
    for view in report.weeks:
        for check in view.kpis.dimensions if view.kpis is not None else ():
            scores = [format_score(s) if s is not None else "" for s in (check.client, check.provider)]
            for k in check.kpis:
                f = k.figure
                figure = ["", "", ""] if f is None else [f.period_end.isoformat(), _number(f.value), f.rag.value]
                writer.writerow(
                    [
                        view.week_start.isoformat(),
                        check.dimension,
                        *scores,
                        check.pairing.value if check.pairing is not None else "",
                        str(k.number),
                        k.key,
                        _cell(k.name),
                        _cell(k.unit),
                        _number(k.target),
                        *figure,
                    ]
                )
    return out.getvalue()


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def kpi_section(view: DigestView) -> str:
    """The week's KPIs for the HTML report: the pairings that hold, then a table of each dimension's KPIs beside
    each side's score; empty without agreed KPIs."""
    if view.kpis is None or not view.kpis.dimensions:
        return ""
    p = view.partnership
    pairings = "".join(
        f"<li>{_e(kpi_format.check_pairing_text(c, view.week_start, p.client_org, p.provider_org))}</li>"
        for c in view.kpis.pairings
    )
    head = (
        f"<tr><th>Dimension</th><th>{_e(p.client_org)}</th><th>{_e(p.provider_org)}</th><th>KPI</th>"
        "<th>Figure</th><th>Status</th><th>Target</th></tr>"
    )
    rows = []
    for c in view.kpis.dimensions:
        for k in c.kpis:
            f = k.figure
            figure = kpi_format.NO_FIGURE if f is None else kpi_format.kpi_value(f.value, k.unit)
            status = "" if f is None else RAG_LABELS[f.rag.value]
            rows.append(
                f"<tr><td>{_e(kpi_format.dimension_label(c.dimension))}</td><td class=n>{_e(format_score(c.client))}</td>"
                f"<td class=n>{_e(format_score(c.provider))}</td><td>{_e(k.name)}</td><td class=n>{_e(figure)}</td>"
                f"<td>{_e(status)}</td><td class=n>{_e(kpi_format.kpi_value(k.target, k.unit))}</td></tr>"
            )
    return (
        "<h3>Agreed KPIs beside how each side rates the dimension</h3>"
        + (f"<ul>{pairings}</ul>" if pairings else "")
        + f"<table>{head}{''.join(rows)}</table>"
    )


def kpi_charts_section(report: ExportReport) -> str:
    """Every agreed KPI's chart (``bot.services.kpi_charts``), one embedded image each; empty without any."""
    if not report.kpi_charts:
        return ""
    figures = "".join(
        f'<figure><img src="data:image/png;base64,{base64.b64encode(kpi_chart_png([c])).decode("ascii")}" '
        f'alt="{_e(kpi_alt_text([c]))}" width="640" height="320">'
        f"<figcaption>{_e(c.line.name)}: each period's figure against the target and levels in force then, beside how "
        f"each side rates {_e(kpi_format.dimension_label(c.dimension))} by week.</figcaption></figure>"
        for c in report.kpi_charts
    )
    return f"<h2>Agreed KPIs against their targets</h2>{figures}"
