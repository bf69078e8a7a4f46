"""Small builders of test inputs (no hidden state)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.services.models import ActionInput, IssueInput, SetupInput, Side, SlackProfile


def setup_input(**overrides: Any) -> SetupInput:
    """A valid setup form: weekly pulse Mondays 09:00 New York, digest Fridays 16:00, threshold 3."""
    values: dict[str, Any] = {
        "name": "Northwind service desk",
        "client_org": "Northwind Retail",
        "provider_org": "Contoso Services",
        "installing_side": Side.CLIENT,
        "client_leads": (),
        "provider_leads": (),
        "client_sponsors": (),
        "provider_sponsors": (),
        "client_members": (),
        "provider_members": (),
        "timezone": "America/New_York",
        "pulse_weekday": 0,
        "pulse_hour": 9,
        "pulse_minute": 0,
        "pulse_every_weeks": 1,
        "digest_weekday": 4,
        "digest_hour": 16,
        "digest_minute": 0,
        "anonymity_threshold": 3,
    }
    values.update(overrides)
    return SetupInput(**values)


# --- the issue log (issue 3) ------------------------------------------------------------------------------


def issue_input(**overrides: Any) -> IssueInput:
    """A valid issue form: S2 timeliness issue owned by the client side's member ``UC1``, no due date."""
    values: dict[str, Any] = {
        "title": "Month-end report arrived late",
        "details": "The November report came two days after the agreed date.",
        "severity": "S2",
        "category": "Timeliness",
        "owning_side": Side.CLIENT,
        "owner_id": "UC1",
        "due_on": None,
    }
    values.update(overrides)
    return IssueInput(**values)


def action_input(**overrides: Any) -> ActionInput:
    """A valid action form, owned by ``UC1`` and due on 31 Dec 2026."""
    values: dict[str, Any] = {"title": "Agree a report checklist", "owner_id": "UC1", "due_on": date(2026, 12, 31)}
    values.update(overrides)
    return ActionInput(**values)


@dataclass(frozen=True)
class IssueWorld:
    """A Slack Connect partnership set up through the service layer, for issue, action and signal tests.

    Client (team TCLIENT): lead UCL, sponsor UCS, members UC1-UC3. Provider (TPROV): lead UPL, sponsor UPS
    (not in the channel, as sponsors often are not), members UP1-UP3. Partnership time zone: New York.
    """

    uow_factory: Any
    partnership_id: int
    team_id: str = "TCLIENT"
    channel_id: str = "C100"
    client_lead: str = "UCL"
    provider_lead: str = "UPL"
    client_sponsor: str = "UCS"
    provider_sponsor: str = "UPS"


def _profile(user_id: str) -> SlackProfile:
    team = "TCLIENT" if user_id.startswith("UC") else "TPROV"
    return SlackProfile(user_id=user_id, team_id=team, display_name=user_id.lower())


def make_issue_world(
    uow_factory: Any, *, now: datetime, channel_id: str = "C100", name: str = "Northwind desk"
) -> IssueWorld:
    """Set up the partnership of :class:`IssueWorld` in ``channel_id`` (the workspace is created if needed)."""
    from bot.services import partnerships, question_bank

    partnerships.ensure_workspace(uow_factory(), team_id="TCLIENT", name="Northwind", bot_user_id="UBOT", now=now)
    question_bank.sync_bank(uow_factory(), now=now)
    people = ("UCL", "UCS", "UC1", "UC2", "UC3", "UPL", "UP1", "UP2", "UP3")
    result = partnerships.configure_partnership(
        uow_factory(),
        team_id="TCLIENT",
        channel_id=channel_id,
        user_id="UCL",
        data=setup_input(
            name=name,
            client_org="Northwind",
            provider_org="Contoso",
            client_leads=("UCL",),
            provider_leads=("UPL",),
            client_sponsors=("UCS",),
            provider_sponsors=("UPS",),
        ),
        is_connect=True,
        channel_members=[_profile(u) for u in people] + [SlackProfile("UBOT", "TCLIENT", "bot", is_bot=True)],
        now=now,
    )
    return IssueWorld(uow_factory=uow_factory, partnership_id=result.partnership.id, channel_id=channel_id)
