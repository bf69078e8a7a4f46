"""Events API: keep the member list current; acknowledge everything else so Slack never sees a 404."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.blocks import ids
from bot.container import Services
from bot.services import partnerships


def handle_member_joined(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services
) -> None:
    """A person joined a channel: learn their side from their organisation (one users.info call, cached)."""
    ack()
    team_id, event_id = str(context.team_id), str(body.get("event_id") or "")

    def work() -> None:
        if not partnerships.has_partnership(services.uow_factory(), team_id=team_id, channel_id=event["channel"]):
            return
        profile = services.directory.profile(event["user"])
        partnerships.member_joined(
            services.uow_factory(),
            team_id=team_id,
            channel_id=event["channel"],
            profile=profile,
            event_id=event_id,
            now=services.clock(),
        )

    services.after_ack.run(work)


def handle_member_left(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext, services: Services
) -> None:
    """A person left a channel: stop asking them, keep their history."""
    ack()
    team_id, event_id = str(context.team_id), str(body.get("event_id") or "")

    def work() -> None:
        partnerships.member_left(
            services.uow_factory(),
            team_id=team_id,
            channel_id=event["channel"],
            user_id=event["user"],
            event_id=event_id,
            now=services.clock(),
        )

    services.after_ack.run(work)


def handle_other_event(ack: Ack) -> None:
    """Any other event: acknowledge, so Slack does not retry or disable our subscription."""
    ack()


def register(app: App) -> None:
    app.event(ids.Event.MEMBER_JOINED)(handle_member_joined)
    app.event(ids.Event.MEMBER_LEFT)(handle_member_left)
    app.event(re.compile(".*"))(handle_other_event)
