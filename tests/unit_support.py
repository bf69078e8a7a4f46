"""Creating extra partnerships through the service layer (faster than driving another setup modal)."""

from __future__ import annotations

from bot.harness import LocalStack
from bot.services import partnerships
from bot.services.models import SetupInput, Side


def second_partnership(stack: LocalStack, *, channel_id: str) -> int:
    """A single-workspace partnership in ``channel_id``: its members are assigned to sides by the lead."""
    w = stack.world
    members = [m for m in stack.sandbox.members(channel_id) if m != w.bot_user]
    lead, *rest = members
    profiles = [stack.services.directory.profile(uid) for uid in members]
    data = SetupInput(
        name="Internal review",
        client_org="Northwind Retail",
        provider_org="Northwind IT",
        installing_side=Side.CLIENT,
        client_leads=(lead,),
        provider_leads=(),
        client_sponsors=(),
        provider_sponsors=(),
        client_members=tuple(rest[:1]),
        provider_members=tuple(rest[1:]),
        timezone="America/New_York",
        pulse_weekday=0,
        pulse_hour=9,
        pulse_minute=0,
        pulse_every_weeks=1,
        digest_weekday=0,
        digest_hour=9,
        digest_minute=0,
        anonymity_threshold=3,
    )
    result = partnerships.configure_partnership(
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
