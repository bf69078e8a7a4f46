"""Slack listeners only: ack, parse, call one service, render with bot.blocks, send. Registered by bot.app."""

from __future__ import annotations

from slack_bolt import App

from handlers import action_items, actions, commands, events, followups, goals, home, issues, policy, views


def register_all(app: App) -> None:
    """Register every listener once. Events last: its catch-all must not shadow the specific ones."""
    commands.register(app)
    actions.register(app)
    views.register(app)
    issues.register(app)
    action_items.register(app)
    followups.register(app)
    policy.register(app)
    goals.register(app)  # and the scorecard's listeners
    home.register(app)
    events.register(app)
