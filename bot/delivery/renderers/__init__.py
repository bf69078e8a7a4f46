"""The renderers of every outgoing message, one module per feature, gathered into one registry.

Each feature module holds a ``RENDERERS`` table: one renderer per ``Purpose`` it sends (the service-side facts
of each purpose are ``bot.services.outbox.SPECS``). A new feature's module is added to ``FEATURES`` below;
tests/unit/test_outbox_registry.py checks that every purpose has exactly one renderer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.delivery.rendered import RenderFn
from bot.delivery.renderers import digests, issues, kpi_ledger, kpi_red, kpis, partnership, portfolio, pulse, reviews
from bot.services.outbox import Purpose

#: Each feature's renderers, by the feature's module name.
FEATURES: dict[str, Mapping[Purpose, RenderFn]] = {
    "pulse": pulse.RENDERERS,
    "issues": issues.RENDERERS,
    "digests": digests.RENDERERS,
    "portfolio": portfolio.RENDERERS,
    "reviews": reviews.RENDERERS,
    "partnership": partnership.RENDERERS,
    "kpi_red": kpi_red.RENDERERS,
    "kpis": kpis.RENDERERS,
    "kpi_ledger": kpi_ledger.RENDERERS,
}


def _merge(tables: Sequence[Mapping[Purpose, RenderFn]]) -> dict[Purpose, RenderFn]:
    merged: dict[Purpose, RenderFn] = {}
    for table in tables:
        for purpose, render in table.items():
            # Two features rendering one purpose would leave one of them silently unused.
            if purpose in merged:
                raise ValueError(f"two renderers for outbox purpose {purpose}")
            merged[purpose] = render
    return merged


#: The registry: the renderer of each purpose.
RENDERERS: dict[Purpose, RenderFn] = _merge(list(FEATURES.values()))
