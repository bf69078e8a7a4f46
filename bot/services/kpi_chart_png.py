"""A KPI's chart drawn as a PNG (issue 14 item 5), with matplotlib as the digest's chart is
(``bot.services.charts``: Agg canvas, fixed size and resolution, the same bytes for the same data): on the left,
each period's figure (a gap where none was recorded), coloured and marked by its status, with the target and the
amber and red levels in force as step lines; on the right, each side's score of the KPI's dimension by week. Several
KPIs make one image with a row each (the digest's thread); the export draws one per image."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.services import kpi_format
from bot.services.charts import (
    MAX_ALT_TEXT,
    MAX_TITLE,
    SIZE_INCHES,
    _day,
    _short,
    new_figure,
    plain_text,
    plot_sides,
    png_of,
)
from bot.services.figures_format import format_score
from bot.services.kpi_chart_models import KpiChart
from bot.services.kpi_models import RAG_LABELS, KpiPeriod, Rag

#: Okabe–Ito colours and distinct markers per status (told apart without colour too).
RAG_STYLE: dict[Rag, tuple[str, str]] = {Rag.GREEN: ("#009E73", "o"), Rag.AMBER: ("#E69F00", "D"), Rag.RED: ("#CC2936", "X")}
#: (colour, line style) of the target and the levels.
LEVEL_STYLE: dict[str, tuple[str, str]] = {"target": ("#333333", "-"), "amber": ("#E69F00", "--"), "red": ("#CC2936", ":")}
LEVEL_LABELS = {"target": "Target", "amber": "Amber level", "red": "Red level"}
#: Most KPIs drawn in one image (the digest's thread): more would make it too tall to read.
MAX_PER_IMAGE = 10


def _nan(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]


def _period(chart: KpiChart, i: int) -> str:
    end = chart.points[i].period_end
    return f"{end:%b}" if chart.period is KpiPeriod.MONTHLY else _day(end)


def _plot_kpi(ax: Any, chart: KpiChart) -> list[Any]:
    x = list(range(len(chart.points)))
    texts = []
    for name, (color, style) in LEVEL_STYLE.items():
        levels = [getattr(p, name) for p in chart.points]
        ax.step(x, _nan(levels), where="mid", color=color, linestyle=style, linewidth=1.2, label=LEVEL_LABELS[name])
    ax.plot(x, _nan(chart.values), color="#555555", linewidth=1)
    for rag, (color, marker) in RAG_STYLE.items():
        xs = [i for i, p in enumerate(chart.points) if p.figure is not None and p.figure.rag is rag]
        ys = [chart.points[i].figure.value for i in xs]  # type: ignore[union-attr]
        ax.plot(xs, ys, linestyle="none", marker=marker, color=color, markersize=6, label=RAG_LABELS[rag.value])
    ax.set_xticks(x, [_period(chart, i) for i in x], fontsize=6, rotation=45)
    ax.set_xlim(-0.5, max(len(x) - 0.5, 0.5))
    ax.set_ylabel(_short(chart.line.unit or "value", 20), fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    if all(v is None for v in chart.values):
        ax.text(0.5, 0.5, "No figures yet", transform=ax.transAxes, ha="center", va="center", color="#666666")
    texts.append(ax.set_title(_short(f"#{chart.line.number} {chart.line.name}", MAX_TITLE // 2), fontsize=9, loc="left"))
    texts.extend(ax.legend(fontsize=6, frameon=False, loc="best").get_texts())
    return texts


def kpi_chart_png(charts: Sequence[KpiChart]) -> bytes:
    """One row per KPI (at most ``MAX_PER_IMAGE``): its figures against its levels, beside each side's score."""
    shown = list(charts)[:MAX_PER_IMAGE]
    fig = new_figure(SIZE_INCHES[1] * max(len(shown), 1))
    grid = fig.add_gridspec(max(len(shown), 1), 2, width_ratios=(3, 2))
    texts: list[Any] = []
    for row, chart in enumerate(shown):
        texts.extend(_plot_kpi(fig.add_subplot(grid[row, 0]), chart))
        ax = fig.add_subplot(grid[row, 1])
        series = chart.scores
        plot_sides(ax, series, _short(f"{series.title} (1–5)", 30), tick_size=6, rotation=45)
        texts.append(ax.set_title("How each side rates it", fontsize=9, loc="left"))
        texts.extend(ax.legend(fontsize=6, frameon=False, loc="lower left").get_texts())
    plain_text(texts)
    return png_of(fig)


def kpi_alt_text(charts: Sequence[KpiChart]) -> str:
    """What the image shows, for screen readers: each KPI's latest figure against its target, and each side's
    latest score of its dimension."""
    parts = []
    for chart in list(charts)[:MAX_PER_IMAGE]:
        last = chart.points[-1]
        figure = kpi_format.NO_FIGURE if last.figure is None else kpi_format.kpi_value(last.figure.value, chart.line.unit)
        status = "" if last.figure is None else f", {RAG_LABELS[last.figure.rag.value].lower()}"
        target = "" if last.target is None else f" (target {kpi_format.kpi_value(last.target, chart.line.unit)})"
        sides = "; ".join(
            f"{label} rates {kpi_format.dimension_label(chart.dimension)} {format_score(Decimal(str(values[-1])))}"
            for label, values in ((line.label, line.values) for line in chart.scores.lines)
            if values and values[-1] is not None
        )
        parts.append(
            f"{chart.line.name} over {len(chart.points)} periods to {_day(last.period_end)} {last.period_end.year}: "
            f"{figure}{status}{target}" + (f"; {sides}" if sides else "")
        )
    return _short("Chart of each KPI against its target beside each side's score: " + ". ".join(parts) + ".", MAX_ALT_TEXT)
