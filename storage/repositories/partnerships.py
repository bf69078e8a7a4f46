"""Workspaces, partnerships and their members."""

from __future__ import annotations

from collections.abc import Collection, MutableSequence, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select
from sqlalchemy.orm import Session, aliased

from storage.models import Issue, Member, Partnership, SideGroup, SideGroupMember, Workspace
from storage.repositories.base import RowRepository, TableRepository, claiming
from storage.repositories.issues import UNRESOLVED


def due_partnerships(what: Any, due: ColumnElement[bool], due_at: Any) -> Select[Any]:
    """``what`` (the partnership or some of its columns) of the active partnerships whose workspace's sending is not
    held and for which ``due`` holds, soonest ``due_at`` first."""
    return (
        select(what)
        .join(Workspace, Workspace.id == Partnership.workspace_id)
        .where(Partnership.status == "active", Workspace.sending_enabled.is_(True), due)
        .order_by(due_at, Partnership.id)
    )


def claim_due_partnerships(session: Session, due: ColumnElement[bool], due_at: Any, limit: int) -> Sequence[Partnership]:
    """Up to ``limit`` of :func:`due_partnerships`, row-locked; rows another process holds are skipped."""
    stmt = due_partnerships(Partnership, due, due_at).limit(limit)
    return session.scalars(claiming(stmt, Partnership)).all()


class WorkspaceRepository(TableRepository[Workspace]):
    """Slack workspaces where the app is installed."""

    model = Workspace

    def with_partnership_counts(self) -> Sequence[tuple[Workspace, int, int]]:
        """Every workspace (oldest first) with its number of partnerships and of those paused, in one query."""
        paused = func.count().filter(Partnership.status == "paused")
        stmt = (
            select(Workspace, func.count(Partnership.id), paused)
            .outerjoin(Partnership, Partnership.workspace_id == Workspace.id)
            .group_by(Workspace.id)
            .order_by(Workspace.id)
        )
        return [(ws, int(total), int(n)) for ws, total, n in self.session.execute(stmt)]

    def get_by_team(self, team_id: str, *, for_update: bool = False) -> Workspace | None:
        """The team's workspace, or None. ``for_update``: also take its row lock (see ``get``)."""
        if not for_update:
            return self.find_one(Workspace.team_id == team_id)
        return self.session.scalars(select(Workspace).where(Workspace.team_id == team_id).with_for_update()).one_or_none()

    def leads_to_reinstall(self) -> Sequence[tuple[Workspace, Partnership, str]]:
        """Each workspace waiting for a reinstall, with every active partnership of another workspace that one of its
        leads belongs to, and that lead (at most a few rows: it reads nothing when no workspace waits)."""
        waiting = aliased(Workspace)
        stmt = (
            select(waiting, Partnership, Member.user_id)
            .join(Member, Member.team_id == waiting.team_id)
            .join(Partnership, Partnership.id == Member.partnership_id)
            .where(
                waiting.needs_reinstall_at.is_not(None),
                waiting.uninstalled_at.is_(None),
                Partnership.workspace_id != waiting.id,
                Partnership.status == "active",
                Member.role == "lead",
                Member.deleted.is_(False),
            )
            .order_by(waiting.id, Partnership.id, Member.user_id)
        )
        return [(ws, p, str(user_id)) for ws, p, user_id in self.session.execute(stmt)]

    def installed_teams(self, team_ids: Collection[str]) -> set[str]:
        """Which of ``team_ids`` have PartnerPulse installed and usable now: recorded, not uninstalled since, not
        waiting for a reinstall and not held for a rejected token (meanwhile its people are reached as if it had not
        installed: through the partnership's installation)."""
        if not team_ids:
            return set()
        stmt = select(Workspace.team_id).where(
            Workspace.team_id.in_(list(team_ids)),
            Workspace.uninstalled_at.is_(None),
            Workspace.needs_reinstall_at.is_(None),
            Workspace.sending_enabled.is_(True),
        )
        return set(self.session.scalars(stmt))


def reached_from(team_id: str) -> ColumnElement[bool]:
    """A partnership people of workspace ``team_id`` reach: one of that workspace, or a Slack Connect channel's
    partnership kept by the other organisation's installation when ``team_id`` has installed PartnerPulse too (both
    organisations installed: one partnership, used from either workspace)."""
    installed = select(Workspace.id).where(Workspace.team_id == team_id, Workspace.uninstalled_at.is_(None)).exists()
    return or_(Workspace.team_id == team_id, and_(Partnership.is_connect.is_(True), installed))


class PartnershipRepository(TableRepository[Partnership]):
    """Partnerships, one per channel."""

    model = Partnership

    def get_many(self, partnership_ids: Collection[int]) -> dict[int, Partnership]:
        """Several partnerships by id, in one query (for batch jobs)."""
        if not partnership_ids:
            return {}
        rows = self.session.scalars(select(Partnership).where(Partnership.id.in_(list(partnership_ids))))
        return {p.id: p for p in rows}

    def get_by_channel(self, team_id: str, channel_id: str) -> Partnership | None:
        """The channel's partnership as seen from workspace ``team_id`` (:func:`reached_from`); its own workspace's
        first, should each organisation have set one up before the other installed."""
        stmt = (
            select(Partnership)
            .join(Workspace, Workspace.id == Partnership.workspace_id)
            .where(Partnership.channel_id == channel_id, reached_from(team_id))
            .order_by((Workspace.team_id != team_id), Partnership.id)
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def of_workspace(self, workspace_id: int, *, status: str, pause_reason: str | None = None) -> Sequence[Partnership]:
        """The workspace's partnerships in ``status`` (and, when given, paused for ``pause_reason``), row-locked, by id."""
        stmt = select(Partnership).where(Partnership.workspace_id == workspace_id, Partnership.status == status)
        if pause_reason is not None:
            stmt = stmt.where(Partnership.pause_reason == pause_reason)
        return self.session.scalars(stmt.order_by(Partnership.id).with_for_update(of=Partnership)).all()

    def list_with_open_issues(self) -> Sequence[tuple[Partnership, int]]:
        """Every partnership (oldest first) with its number of unresolved issues, in one query."""
        open_issues = (
            select(Issue.partnership_id, func.count().label("count"))
            .where(Issue.status.in_(UNRESOLVED))
            .group_by(Issue.partnership_id)
            .subquery()
        )
        stmt = (
            select(Partnership, func.coalesce(open_issues.c.count, 0))
            .outerjoin(open_issues, open_issues.c.partnership_id == Partnership.id)
            .order_by(Partnership.id)
        )
        return [(p, int(count)) for p, count in self.session.execute(stmt).unique()]

    def claim_due_pulses(self, now: datetime, limit: int) -> Sequence[Partnership]:
        """Active partnerships whose pulse is due, row-locked; rows another process holds are skipped."""
        due = and_(Partnership.next_pulse_at.is_not(None), Partnership.next_pulse_at <= now)
        return claim_due_partnerships(self.session, due, Partnership.next_pulse_at, limit)


class MemberRepository(RowRepository[Member]):
    """People of a partnership."""

    model = Member

    def get(self, partnership_id: int, user_id: str) -> Member | None:
        return self.find_one(Member.partnership_id == partnership_id, Member.user_id == user_id)

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


class SideGroupRepository(RowRepository[SideGroup]):
    """User groups assigned to sides, and who is in them (as Slack last said)."""

    model = SideGroup

    def get(self, partnership_id: int, usergroup_id: str) -> SideGroup | None:
        return self.find_one(SideGroup.partnership_id == partnership_id, SideGroup.usergroup_id == usergroup_id)

    def list(self, partnership_id: int) -> Sequence[SideGroup]:
        """The partnership's groups, oldest assignment first (so the newest wins when applied in order)."""
        stmt = select(SideGroup).where(SideGroup.partnership_id == partnership_id).order_by(SideGroup.sequence, SideGroup.id)
        return self.session.scalars(stmt).all()

    def partnership_ids_with(self, workspace_id: int, usergroup_id: str) -> Sequence[int]:
        """The workspace's partnerships that assigned this user group."""
        stmt = (
            select(SideGroup.partnership_id)
            .join(Partnership, Partnership.id == SideGroup.partnership_id)
            .where(Partnership.workspace_id == workspace_id, SideGroup.usergroup_id == usergroup_id)
            .order_by(SideGroup.partnership_id)
        )
        return self.session.scalars(stmt).all()

    def next_sequence(self, partnership_id: int) -> int:
        """The number the next assignment gets (call under the partnership's row lock)."""
        stmt = select(func.max(SideGroup.sequence)).where(SideGroup.partnership_id == partnership_id)
        return int(self.session.scalar(stmt) or 0) + 1

    def delete(self, group: SideGroup) -> None:
        self.session.execute(delete(SideGroupMember).where(SideGroupMember.side_group_id == group.id))
        self.session.delete(group)
        self.session.flush()

    def members(self, partnership_id: int) -> dict[int, set[str]]:
        """User ids per side group id, for every group of the partnership."""
        found: dict[int, set[str]] = {}
        stmt = select(SideGroupMember.side_group_id, SideGroupMember.user_id).where(
            SideGroupMember.partnership_id == partnership_id
        )
        for group_id, user_id in self.session.execute(stmt):
            found.setdefault(group_id, set()).add(user_id)
        return found

    def add_members(self, group: SideGroup, user_ids: Collection[str]) -> None:
        """Record these people as in the group (those already recorded are left alone)."""
        if not user_ids:
            return
        have = set(
            self.session.scalars(
                select(SideGroupMember.user_id).where(
                    SideGroupMember.side_group_id == group.id, SideGroupMember.user_id.in_(list(user_ids))
                )
            )
        )
        for uid in sorted(set(user_ids) - have):
            self.session.add(SideGroupMember(partnership_id=group.partnership_id, side_group_id=group.id, user_id=uid))
        self.session.flush()

    def remove_members(self, group: SideGroup, user_ids: Collection[str]) -> None:
        if not user_ids:
            return
        self.session.execute(
            delete(SideGroupMember).where(
                SideGroupMember.side_group_id == group.id, SideGroupMember.user_id.in_(list(user_ids))
            )
        )
        self.session.flush()

    def replace_members(self, group: SideGroup, user_ids: Collection[str]) -> None:
        """The group's members are exactly ``user_ids`` now."""
        current = self.members(group.partnership_id).get(group.id, set())
        wanted = set(user_ids)
        self.remove_members(group, current - wanted)
        self.add_members(group, wanted - current)
