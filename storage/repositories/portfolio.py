"""The portfolio digest: who may see it, which partnerships it covers, and the claim of workspaces whose weekly
portfolio post is due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from storage.models import EscalationPolicyRow, Member, OutboxMessage, Partnership, Workspace
from storage.repositories.base import Repository, claiming


@dataclass(frozen=True)
class RoleRow:
    """One partnership of a workspace in which a person holds a role."""

    partnership_id: int
    channel_id: str
    role: str
    timezone: str


class PortfolioRepository(Repository):
    """Workspace-wide reads for the portfolio digest (one query each, whatever the number of partnerships)."""

    def roles(self, team_id: str, user_id: str) -> list[RoleRow]:
        """The person's roles in the workspace's partnerships, oldest partnership first."""
        stmt = (
            select(Partnership.id, Partnership.channel_id, Member.role, Partnership.timezone)
            .join(Workspace, Workspace.id == Partnership.workspace_id)
            .join(Member, Member.partnership_id == Partnership.id)
            .where(Workspace.team_id == team_id, Member.user_id == user_id, Member.deleted.is_(False))
            .order_by(Partnership.id)
        )
        return [RoleRow(int(pid), str(channel), str(role), str(tz)) for pid, channel, role, tz in self.session.execute(stmt)]

    def partnership_ids(self, workspace_id: int) -> list[int]:
        """Every partnership of the workspace (paused ones too: a paused partnership can be the one at risk)."""
        stmt = select(Partnership.id).where(Partnership.workspace_id == workspace_id).order_by(Partnership.id)
        return [int(i) for i in self.session.scalars(stmt)]

    def resolve_minutes(self, partnership_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        """The resolve times leads changed, per partnership and severity, in working minutes (one query)."""
        if not partnership_ids:
            return {}
        stmt = select(
            EscalationPolicyRow.partnership_id, EscalationPolicyRow.severity, EscalationPolicyRow.resolve_minutes
        ).where(EscalationPolicyRow.partnership_id.in_(list(partnership_ids)))
        found: dict[int, dict[str, int]] = {}
        for pid, severity, minutes in self.session.execute(stmt):
            found.setdefault(int(pid), {})[str(severity)] = int(minutes)
        return found

    def claim_due(self, now: datetime, limit: int) -> Sequence[Workspace]:
        """Workspaces with a portfolio channel whose post is due (or whose time is not computed yet), row-locked;
        rows another process holds are skipped."""
        stmt = (
            select(Workspace)
            .where(
                Workspace.portfolio_channel_id.is_not(None),
                Workspace.sending_enabled.is_(True),
                or_(Workspace.next_portfolio_at.is_(None), Workspace.next_portfolio_at <= now),
            )
            .order_by(Workspace.next_portfolio_at, Workspace.id)
            .limit(limit)
        )
        return self.session.scalars(claiming(stmt)).all()

    def last_post(self, workspace_id: int, purpose: str) -> OutboxMessage | None:
        """The newest scheduled portfolio message of the workspace (to report a post that failed)."""
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.workspace_id == workspace_id, OutboxMessage.purpose == purpose)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).one_or_none()
