"""The App Home tab: published when a person opens it, and again after they act on it."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.blocks.home import build_home
from bot.container import Services
from bot.services import home


def publish_home(client: WebClient, services: Services, *, team_id: str, user_id: str) -> None:
    """Build the person's Home tab from the database as it is now and publish it (views.publish)."""
    data = home.home(services.uow_factory(), team_id=team_id, user_id=user_id, now=services.clock())
    view = build_home(
        partnerships=[(hp.partnership, hp.open_by_severity) for hp in data.partnerships],
        issues=data.issues,
        actions=data.actions,
        more_issues=data.more_issues,
        more_actions=data.more_actions,
    )
    client.views_publish(user_id=user_id, view=view)


def ack_home_opened(ack: Ack) -> None:
    """Acknowledged at once, so Slack does not retry."""
    ack()


@after_ack
def publish_on_open(
    body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext, services: Services
) -> None:
    """Someone opened PartnerPulse's Home tab (not its Messages tab): publish it fresh."""
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    publish_home(client, services, team_id=str(context.team_id), user_id=str(event["user"]))


def register(app: App) -> None:
    app.event(ids.Event.APP_HOME_OPENED)(ack=ack_home_opened, lazy=[publish_on_open])
