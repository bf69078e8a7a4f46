"""Read models for the operator's command line (``partnerpulse partnerships``): plain values, no Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.uow import UowFactory


@dataclass(frozen=True)
class PartnershipListing:
    """One partnership as the operator sees it: who, where, when it next pulses, how many issues are open."""

    id: int
    name: str
    channel_id: str
    team_id: str
    client_org: str
    provider_org: str
    paused: bool
    next_pulse_at: datetime | None
    open_issues: int  # open or acknowledged, not yet resolved


def list_partnerships(uow_factory: UowFactory) -> tuple[PartnershipListing, ...]:
    """Every partnership of every workspace, oldest first, in one read-only unit of work."""
    with uow_factory().read_only() as uow:
        return tuple(
            PartnershipListing(
                id=p.id,
                name=p.name,
                channel_id=p.channel_id,
                team_id=p.workspace.team_id,
                client_org=p.client_org,
                provider_org=p.provider_org,
                paused=p.status == "paused",
                next_pulse_at=p.next_pulse_at,
                open_issues=open_issues,
            )
            for p, open_issues in uow.partnerships.list_with_open_issues()
        )
