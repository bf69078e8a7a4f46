"""Slack listeners only: ack, parse, call one service, render with bot.blocks, send. Registered by bot.app."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands, events, views


def register_all(app: App) -> None:
    """Register every listener once. Events last: its catch-all must not shadow the specific ones."""
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
