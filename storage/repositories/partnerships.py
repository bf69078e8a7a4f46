"""Workspaces, partnerships and their members."""

from __future__ import annotations

from collections.abc import Collection, MutableSequence, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Member, Partnership, Workspace


class WorkspaceRepository:
    """Slack workspaces where the app is installed."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_team(self, team_id: str) -> Workspace | None:
        return self.session.scalars(select(Workspace).where(Workspace.team_id == team_id)).one_or_none()

    def get(self, workspace_id: int) -> Workspace | None:
        return self.session.get(Workspace, workspace_id)

    def add(self, workspace: Workspace) -> Workspace:
        self.session.add(workspace)
        self.session.flush()
        return workspace


class PartnershipRepository:
    """Partnerships, one per channel."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, partnership_id: int, *, for_update: bool = False) -> Partnership | None:
        stmt = select(Partnership).where(Partnership.id == partnership_id)
        if for_update:
            stmt = stmt.with_for_update(of=Partnership)
        return self.session.scalars(stmt).one_or_none()

    def get_many(self, partnership_ids: Collection[int]) -> dict[int, Partnership]:
        """Several partnerships by id, in one query (for batch jobs)."""
        if not partnership_ids:
            return {}
        rows = self.session.scalars(select(Partnership).where(Partnership.id.in_(list(partnership_ids))))
        return {p.id: p for p in rows}

    def get_by_channel(self, team_id: str, channel_id: str) -> Partnership | None:
        stmt = (
            select(Partnership)
            .join(Workspace, Workspace.id == Partnership.workspace_id)
            .where(Workspace.team_id == team_id, Partnership.channel_id == channel_id)
        )
        return self.session.scalars(stmt).one_or_none()

    def add(self, partnership: Partnership) -> Partnership:
        self.session.add(partnership)
        self.session.flush()
        return partnership

    def claim_due_pulses(self, now: datetime, limit: int) -> Sequence[Partnership]:
        """Active partnerships whose pulse is due, row-locked; rows another process holds are skipped."""
        stmt = (
            select(Partnership)
            .join(Workspace, Workspace.id == Partnership.workspace_id)
            .where(
                Partnership.status == "active",
                Partnership.next_pulse_at.is_not(None),
                Partnership.next_pulse_at <= now,
                Workspace.sending_enabled.is_(True),
            )
            .order_by(Partnership.next_pulse_at, Partnership.id)
            .limit(limit)
            .with_for_update(of=Partnership, skip_locked=True)
        )
        return self.session.scalars(stmt).all()


class MemberRepository:
    """People of a partnership."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, partnership_id: int, user_id: str) -> Member | None:
        stmt = select(Member).where(Member.partnership_id == partnership_id, Member.user_id == user_id)
        return self.session.scalars(stmt).one_or_none()

    def list(self, partnership_id: int) -> Sequence[Member]:
        stmt = select(Member).where(Member.partnership_id == partnership_id).order_by(Member.id)
        return self.session.scalars(stmt).all()

    def list_answerable_for(self, partnership_ids: Collection[int]) -> dict[int, Sequence[Member]]:
        """``list_answerable`` for several partnerships in one query (for batch jobs)."""
        found: dict[int, MutableSequence[Member]] = {pid: [] for pid in partnership_ids}
        if found:
            stmt = (
                select(Member)
                .where(
                    Member.partnership_id.in_(list(found)),
                    Member.in_channel.is_(True),
                    Member.is_bot.is_(False),
                    Member.deleted.is_(False),
                    Member.side.is_not(None),
                )
                .order_by(Member.id)
            )
            for m in self.session.scalars(stmt):
                found[m.partnership_id].append(m)
        return dict(found)

    def list_answerable(self, partnership_id: int) -> Sequence[Member]:
        """Members who are asked to answer pulses: people in the channel with a side."""
        stmt = (
            select(Member)
            .where(
                Member.partnership_id == partnership_id,
                Member.in_channel.is_(True),
                Member.is_bot.is_(False),
                Member.deleted.is_(False),
                Member.side.is_not(None),
            )
            .order_by(Member.id)
        )
        return self.session.scalars(stmt).all()

    def add(self, member: Member) -> Member:
        self.session.add(member)
        self.session.flush()
        return member
