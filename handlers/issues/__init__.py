"""The issue log at the Slack edge, one module per part: logging an issue (log), the card's buttons and modals
(card), lists and their paging (lists), and the blameless follow-up in a resolved issue's thread (followups).
Escalation itself needs no listener: the heartbeat escalates and the outbox posts (bot.jobs)."""

from __future__ import annotations

from slack_bolt import App

from handlers.issues import card, followups, lists, log


def register(app: App) -> None:
    log.register(app)
    card.register(app)
    lists.register(app)
    followups.register(app)
