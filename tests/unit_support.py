"""Creating extra partnerships through the service layer (faster than driving another setup modal)."""

from __future__ import annotations

from bot.harness import LocalStack
from bot.services import partnership_setup
from tests.factories import setup_input


def second_partnership(stack: LocalStack, *, channel_id: str) -> int:
    """A single-workspace partnership in ``channel_id``: its members are assigned to sides by the lead."""
    w = stack.world
    members = [m for m in stack.sandbox.members(channel_id) if m != w.bot_user]
    lead, *rest = members
    profiles = [stack.services.directory.profile(uid) for uid in members]
    data = setup_input(
        name="Internal review",
        provider_org="Northwind IT",
        client_leads=(lead,),
        client_members=tuple(rest[:1]),
        provider_members=tuple(rest[1:]),
    )
    result = partnership_setup.configure_partnership(
        stack.services.uow_factory(),
        team_id=w.client_team,
        channel_id=channel_id,
        user_id=lead,
        data=data,
        is_connect=False,
        channel_members=profiles,
        now=stack.clock(),
    )
    stack.services.sender.deliver_pending()
    return result.partnership.id
