"""Slack listeners only: ack, parse, call one service, render with bot.blocks, send. Registered by bot.app.

One module (or package) per feature; ``/partner`` is routed by handlers.commands to the feature that registered
the subcommand's type, and the shared pieces (replies, clicks, forms, the loading modal) are in handlers.ui.
"""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    action_items,
    commands,
    events,
    expectations,
    goals,
    home,
    issues,
    kpi_figures,
    kpi_red,
    kpis,
    menu,
    policy,
    pulse,
    scorecard,
    setup,
    ui,
)


def register_all(app: App) -> None:
    """Register every listener once. Events last: its catch-all must not shadow the specific ones."""
    commands.register(app)
    menu.register(app)
    setup.register(app)
    pulse.register(app)
    ui.register(app)
    issues.register(app)
    action_items.register(app)
    policy.register(app)
    goals.register(app)
    expectations.register(app)
    scorecard.register(app)
    kpi_red.register(app)
    kpi_figures.register(app)
    kpis.register(app)
    home.register(app)
    events.register(app)
