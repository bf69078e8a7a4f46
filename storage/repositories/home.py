"""Read-only queries across one person's partnerships, for the App Home tab."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select

from storage.models import Action, Issue, Member, Partnership, Workspace
from storage.repositories.base import Repository
from storage.repositories.issues import UNRESOLVED


class HomeQueries(Repository):
    """What the Home tab shows a person: their partnerships, their issues and their actions."""

    def memberships(self, team_id: str, user_id: str, limit: int) -> Sequence[tuple[Partnership, Member]]:
        """Partnerships of the workspace the person is part of: in the channel, or a lead or sponsor."""
        stmt = (
            select(Partnership, Member)
            .join(Member, Member.partnership_id == Partnership.id)
            .join(Workspace, Workspace.id == Partnership.workspace_id)
            .where(
                Workspace.team_id == team_id,
                Member.user_id == user_id,
                Member.deleted.is_(False),
                or_(Member.in_channel.is_(True), Member.role != "member"),
            )
            .order_by(Partnership.name, Partnership.id)
            .limit(limit)
        )
        return [(p, m) for p, m in self.session.execute(stmt).all()]

    def open_issue_counts(self, partnership_ids: Sequence[int]) -> dict[tuple[int, str], int]:
        """(partnership id, severity) → number of unresolved issues."""
        if not partnership_ids:
            return {}
        stmt = (
            select(Issue.partnership_id, Issue.severity, func.count())
            .where(Issue.partnership_id.in_(list(partnership_ids)), Issue.status.in_(UNRESOLVED))
            .group_by(Issue.partnership_id, Issue.severity)
        )
        return {(pid, severity): int(n) for pid, severity, n in self.session.execute(stmt).all()}

    def issues_involving(self, partnership_ids: Sequence[int], user_id: str, limit: int) -> Sequence[Issue]:
        """Unresolved issues the person owns or raised, most severe and oldest first."""
        if not partnership_ids:
            return []
        stmt = (
            select(Issue)
            .where(
                Issue.partnership_id.in_(list(partnership_ids)),
                Issue.status.in_(UNRESOLVED),
                or_(Issue.owner_id == user_id, Issue.raised_by == user_id),
            )
            .order_by(Issue.severity, Issue.created_at, Issue.id)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def open_actions_of(self, partnership_ids: Sequence[int], user_id: str, limit: int) -> Sequence[Action]:
        """The person's open actions, soonest due first."""
        if not partnership_ids:
            return []
        stmt = (
            select(Action)
            .where(
                Action.partnership_id.in_(list(partnership_ids)),
                Action.owner_id == user_id,
                Action.status == "open",
            )
            .order_by(Action.due_on, Action.id)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()
