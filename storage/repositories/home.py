"""Read-only queries across one person's partnerships, for the App Home tab."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, or_, select

from storage.models import Action, Issue, Member, Partnership, Workspace
from storage.repositories.base import Repository
from storage.repositories.issues import UNRESOLVED
from storage.repositories.partnerships import reached_from

_Owned = TypeVar("_Owned", Issue, Action)


class HomeQueries(Repository):
    """What the Home tab shows a person: their partnerships, their issues and their actions."""

    def memberships(self, team_id: str, user_id: str, limit: int) -> Sequence[tuple[Partnership, Member]]:
        """Partnerships the person is part of (in the channel, or a lead or sponsor) seen from workspace ``team_id``:
        that workspace's, and those of the person's own organisation's shared channels when it installed PartnerPulse
        too."""
        stmt = (
            select(Partnership, Member)
            .join(Member, Member.partnership_id == Partnership.id)
            .join(Workspace, Workspace.id == Partnership.workspace_id)
            .where(
                reached_from(team_id),
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
        wanted = (Issue.status.in_(UNRESOLVED), or_(Issue.owner_id == user_id, Issue.raised_by == user_id))
        return self._rows_of(Issue, partnership_ids, wanted, (Issue.severity, Issue.created_at, Issue.id), limit)

    def open_actions_of(self, partnership_ids: Sequence[int], user_id: str, limit: int) -> Sequence[Action]:
        """The person's open actions, soonest due first."""
        wanted = (Action.owner_id == user_id, Action.status == "open")
        return self._rows_of(Action, partnership_ids, wanted, (Action.due_on, Action.id), limit)

    def _rows_of(
        self,
        model: type[_Owned],
        partnership_ids: Sequence[int],
        wanted: Sequence[ColumnElement[bool]],
        order: Sequence[Any],
        limit: int,
    ) -> Sequence[_Owned]:
        """Up to ``limit`` rows of ``model`` in these partnerships that are ``wanted``, in ``order``."""
        if not partnership_ids:
            return []
        stmt = select(model).where(model.partnership_id.in_(list(partnership_ids)), *wanted).order_by(*order).limit(limit)
        return self.session.scalars(stmt).all()
