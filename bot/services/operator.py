"""Read models for the operator's command line (``partnerpulse partnerships``, ``partnerpulse workspaces``): plain
values, no Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.outbox_hold import REINSTALL_ADVICE
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


@dataclass(frozen=True)
class WorkspaceListing:
    """One workspace as the operator sees it: whether PartnerPulse can post there, since when not, and what to do."""

    team_id: str
    name: str
    #: "sending", "held" (the token is checked again by itself), "needs reinstalling" or "uninstalled"
    state: str
    since: datetime | None
    reason: str
    partnerships: int
    paused: int

    @property
    def advice(self) -> str:
        """What the operator should do about it ("" when nothing)."""
        return REINSTALL_ADVICE if self.state in ("needs reinstalling", "uninstalled") else ""


def list_workspaces(uow_factory: UowFactory) -> tuple[WorkspaceListing, ...]:
    """Every workspace, oldest first, with its sending state, in one read-only unit of work."""
    with uow_factory().read_only() as uow:
        listings = []
        for ws, total, paused in uow.workspaces.with_partnership_counts():
            since: datetime | None
            if ws.uninstalled_at is not None:
                state, since = "uninstalled", ws.uninstalled_at
            elif ws.needs_reinstall_at is not None:
                state, since = "needs reinstalling", ws.needs_reinstall_at
            else:
                state, since = ("sending", None) if ws.sending_enabled else ("held", None)
            listings.append(
                WorkspaceListing(
                    team_id=ws.team_id,
                    name=ws.name,
                    state=state,
                    since=since,
                    reason="" if ws.sending_enabled else ws.disabled_reason or "",
                    partnerships=total,
                    paused=paused,
                )
            )
        return tuple(listings)
