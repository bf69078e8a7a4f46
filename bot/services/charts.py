"""The digest's trend chart: a small PNG of each side's health index by week (``bot.services.figures``), drawn
with matplotlib; and the canvas, the side lines and the PNG output that the KPI charts (``kpi_chart_png``) share.

Only matplotlib's object-oriented API is used (a ``Figure`` on an Agg canvas, never ``pyplot``): no display is
needed, no global figure state is shared, so charts can be drawn in several threads at once. The same series
always gives the same bytes (no timestamp or version in the PNG's metadata), so a retried upload is identical.

matplotlib is imported when the first chart is drawn, not with this module: it costs about half a second and
tens of megabytes, which the serving process, its workers and a ``tick`` that draws no chart need not pay.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from bot.services.digest_models import ChartSeries
from bot.services.figures_format import format_score
from bot.services.partnership_models import Side

#: 640 × 320 pixels: readable in a Slack message preview, a few tens of kilobytes.
SIZE_INCHES = (6.4, 3.2)
DPI = 100
#: Colour-blind-safe pair (Okabe–Ito blue and vermilion), told apart by marker and line style as well.
#: (colour, marker, line style) per side.
STYLE: dict[Side, tuple[str, str, str]] = {Side.CLIENT: ("#0072B2", "o", "-"), Side.PROVIDER: ("#D55E00", "s", "--")}
MAX_LABEL = 40
MAX_TITLE = 80
#: Slack's limit for a file's alt text.
MAX_ALT_TEXT = 1000


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_decimal(value: float) -> str:
    """A plotted figure (already rounded by ``bot.services.figures``) as every surface writes it."""
    return format_score(Decimal(str(value)))


def _day(d: date) -> str:
    return f"{d.day} {d:%b}"


def new_figure(height_inches: float = SIZE_INCHES[1]) -> Any:
    """An empty matplotlib ``Figure`` on an Agg canvas, ``SIZE_INCHES`` wide (see the module docstring)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported here: see the module docstring
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SIZE_INCHES[0], height_inches), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def png_of(fig: Any) -> bytes:
    """The figure as PNG bytes, the same for the same figure (no metadata that changes)."""
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def plain_text(texts: Iterable[Any]) -> None:
    """Names are user text: a "$" must never switch matplotlib into maths typesetting."""
    for text in texts:
        text.set_parse_math(False)


def plot_sides(ax: Any, series: ChartSeries, ylabel: str, *, tick_size: int = 7, rotation: int = 0) -> None:
    """One line per side on a 1–5 scale, weeks along the bottom; a week without a value leaves a gap."""
    x = list(range(len(series.weeks)))
    for line in series.lines:
        values = [math.nan if v is None else v for v in line.values]
        color, marker, linestyle = STYLE[line.side]
        ax.plot(
            x,
            values,
            label=_short(line.label, MAX_LABEL),
            color=color,
            marker=marker,
            linestyle=linestyle,
            linewidth=2,
            markersize=5,
        )
    ax.set_ylim(0.8, 5.2)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_xticks(x, [_day(d) for d in series.weeks], fontsize=tick_size, rotation=rotation)
    ax.set_xlim(-0.5, max(len(x) - 0.5, 0.5))
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    if not any(v is not None for line in series.lines for v in line.values):
        ax.text(0.5, 0.5, "No results to show yet", transform=ax.transAxes, ha="center", va="center", color="#666666")


def weekly_chart(series: ChartSeries) -> bytes:
    """A PNG line chart: one line per side, weeks along the bottom, scores 1–5 up the side.

    A week without a value (nobody answered, or the side was withheld) leaves a gap in its line.
    """
    fig = new_figure()
    ax = fig.add_subplot()
    plot_sides(ax, series, "Health (1–5)")
    title = ax.set_title(_short(series.title, MAX_TITLE), fontsize=10, loc="left")
    # Below the week labels, where it can never hide a point.
    legend = ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, frameon=False, ncols=max(len(series.lines), 1)
    )
    plain_text([*legend.get_texts(), title])
    return png_of(fig)


def alt_text(series: ChartSeries) -> str:
    """One sentence describing the chart for screen readers, with each side's latest value."""
    if series.weeks:
        span = (
            f"the {len(series.weeks)} weeks from {_day(series.weeks[0])} to {_day(series.weeks[-1])} {series.weeks[-1].year}"
        )
    else:
        span = "no weeks"
    parts = []
    for line in series.lines:
        latest = next(((i, v) for i, v in reversed(list(enumerate(line.values))) if v is not None), None)
        if latest is None:
            parts.append(f"{line.label} has no results to show")
        elif latest[0] == len(line.values) - 1:
            parts.append(f"{line.label} is at {_one_decimal(latest[1])} this week")
        else:
            parts.append(
                f"{line.label} has no result this week, last {_one_decimal(latest[1])} in the week of {_day(series.weeks[latest[0]])}"
            )
    sentence = (
        f"Line chart of each side's partnership health index on a 1 to 5 scale per week over {span}: {'; '.join(parts)}."
    )
    return _short(sentence, MAX_ALT_TEXT)
