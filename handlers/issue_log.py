"""``/partner`` subcommands of the issue log (issue 3), dispatched from handlers.commands.run_command."""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.container import Services
from handlers import action_items, issues, policy
from handlers.forms import ISSUE_LOG_COMMANDS, ParsedCommand

__all__ = ["ISSUE_LOG_COMMANDS", "run_issue_log_command"]


def run_issue_log_command(
    parsed: ParsedCommand,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    trigger_id: str,
    respond: Respond,
    client: WebClient,
    services: Services,
) -> None:
    """issue, issues, action, actions, policy, categories, hours, holiday. Domain errors propagate."""
    if parsed.name == "issue":
        issues.log_from_command(
            client, services, trigger_id=trigger_id, team_id=team_id, channel_id=channel_id, title=parsed.text
        )
    elif parsed.name == "issues":
        issues.show_issues(
            respond, services, team_id=team_id, channel_id=channel_id, user_id=user_id, filter=parsed.arg or "open"
        )
    elif parsed.name == "action":
        action_items.open_action_form(
            client,
            services,
            trigger_id=trigger_id,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            title=parsed.text,
        )
    elif parsed.name == "actions":
        action_items.show_actions(
            respond, services, team_id=team_id, channel_id=channel_id, user_id=user_id, filter=parsed.arg or "mine"
        )
    else:
        policy.run_policy_command(
            parsed,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            respond=respond,
            client=client,
            services=services,
            trigger_id=trigger_id,
        )
