"""Workspaces, partnerships (with each side's working calendar), members and side groups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base
from storage.models.columns import PartnershipOwned, PrimaryId, Side, SlackId

SIDES = ("client", "provider")
ROLES = ("member", "lead", "sponsor")
DEFAULT_WORKDAYS = "0,1,2,3,4"
DEFAULT_DAY_START = "09:00"
DEFAULT_DAY_END = "17:00"
#: The longest ``Workspace.disabled_reason`` kept; a longer reason is cut.
DISABLED_REASON_LENGTH = 200


class Workspace(Base):
    """A Slack workspace (team) where PartnerPulse is installed."""

    __tablename__ = "workspaces"

    id: Mapped[PrimaryId]
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    bot_user_id: Mapped[SlackId | None]
    # Cleared when Slack answers invalid_auth / account_inactive / token_revoked: sending is held (nothing is lost)
    # and the token is checked again with auth.test at auth_recheck_at, backing off after each of auth_failures;
    # the first check that passes resumes sending.
    sending_enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(DISABLED_REASON_LENGTH))
    auth_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    auth_recheck_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The portfolio digest (issue 4): every partnership of the workspace ranked by risk, posted weekly to this
    # channel at the digest time of this time zone. NULL channel: no scheduled portfolio digest.
    portfolio_channel_id: Mapped[SlackId | None]
    portfolio_timezone: Mapped[str | None] = mapped_column(String(64))
    portfolio_set_by: Mapped[SlackId | None]
    next_portfolio_at: Mapped[datetime | None] = mapped_column(index=True)
    # A distributed install (issue 15): when Slack told us the app was uninstalled (app_uninstalled or
    # tokens_revoked; NULL: installed), and when refreshing its rotating token was refused (invalid_refresh_token):
    # sending is held until someone installs the app again. NULL: no reinstall needed.
    uninstalled_at: Mapped[datetime | None]
    needs_reinstall_at: Mapped[datetime | None]


def disabled_reason(reason: str) -> str:
    """``reason`` as ``Workspace.disabled_reason`` keeps it: cut to ``DISABLED_REASON_LENGTH``."""
    return reason[:DISABLED_REASON_LENGTH]


def held_without_rechecks(reason: str) -> dict[str, Any]:
    """A workspace's columns while its sending is held with no token re-check planned (uninstalled, or waiting for
    a reinstall)."""
    return {"sending_enabled": False, "disabled_reason": disabled_reason(reason), "auth_recheck_at": None}


def held_for_reinstall(reason: str, now: datetime) -> dict[str, Any]:
    """A workspace's columns once its token will not work again by itself: sending held without re-checks, since
    ``now``, until the app is installed again."""
    return {**held_without_rechecks(f"needs reinstalling: {reason}"), "needs_reinstall_at": now}


class Partnership(Base):
    """One client-provider relationship, living in one channel."""

    __tablename__ = "partnerships"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id"),
        CheckConstraint("anonymity_threshold >= 3", name="threshold_min"),
        CheckConstraint("installing_side IN ('client', 'provider')", name="installing_side"),
        CheckConstraint("status IN ('active', 'paused')", name="status"),
        Index("ix_partnerships_due_pulse", "status", "next_pulse_at"),
        Index("ix_partnerships_due_digest", "status", "next_digest_at"),
        CheckConstraint("scorecard_cadence IN ('monthly', 'quarterly', 'off')", name="scorecard_cadence"),
        Index("ix_partnerships_due_scorecard", "status", "next_scorecard_at"),
    )

    id: Mapped[PrimaryId]
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[SlackId]
    name: Mapped[str] = mapped_column(String(150))
    client_org: Mapped[str] = mapped_column(String(150))
    provider_org: Mapped[str] = mapped_column(String(150))
    installing_side: Mapped[Side]
    is_connect: Mapped[bool] = mapped_column(default=False)
    timezone: Mapped[str] = mapped_column(String(64))
    pulse_weekday: Mapped[int]  # 0 = Monday
    pulse_hour: Mapped[int]
    pulse_minute: Mapped[int]
    pulse_every_weeks: Mapped[int] = mapped_column(default=1)
    digest_weekday: Mapped[int] = mapped_column(default=0)
    digest_hour: Mapped[int] = mapped_column(default=9)
    digest_minute: Mapped[int] = mapped_column(default=0)
    anonymity_threshold: Mapped[int] = mapped_column(default=3)
    anonymous: Mapped[bool] = mapped_column(default=True)
    questions_per_round: Mapped[int] = mapped_column(default=3)
    response_window_hours: Mapped[int] = mapped_column(default=48)
    reminder_before_close_hours: Mapped[int] = mapped_column(default=24)
    status: Mapped[str] = mapped_column(String(10), default="active")
    pause_reason: Mapped[str | None] = mapped_column(String(200))
    paused_by: Mapped[SlackId | None]
    next_pulse_at: Mapped[datetime | None]
    menu_ts: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Each side's working calendar, which escalation deadlines are counted in (DESIGN 3.3). A NULL time zone
    # means the partnership's; workdays are "0,1,2,3,4" (0 = Monday); the window is "HH:MM"-"HH:MM" local time.
    client_timezone: Mapped[str | None] = mapped_column(String(64))
    provider_timezone: Mapped[str | None] = mapped_column(String(64))
    client_workdays: Mapped[str] = mapped_column(String(20), default=DEFAULT_WORKDAYS, server_default=DEFAULT_WORKDAYS)
    provider_workdays: Mapped[str] = mapped_column(String(20), default=DEFAULT_WORKDAYS, server_default=DEFAULT_WORKDAYS)
    client_day_start: Mapped[str] = mapped_column(String(5), default=DEFAULT_DAY_START, server_default=DEFAULT_DAY_START)
    client_day_end: Mapped[str] = mapped_column(String(5), default=DEFAULT_DAY_END, server_default=DEFAULT_DAY_END)
    provider_day_start: Mapped[str] = mapped_column(String(5), default=DEFAULT_DAY_START, server_default=DEFAULT_DAY_START)
    provider_day_end: Mapped[str] = mapped_column(String(5), default=DEFAULT_DAY_END, server_default=DEFAULT_DAY_END)
    # The issue categories leads chose; NULL means the built-in list (so the defaults can improve later).
    issue_categories: Mapped[list[Any] | None]
    # Issues are numbered per partnership (#1, #2, ...); taken under the partnership's row lock.
    next_issue_number: Mapped[int] = mapped_column(default=1, server_default="1")
    # When the next weekly digest is due (DESIGN 3.4, 4.1). NULL until the heartbeat first computes it from
    # digest_weekday/hour/minute, so setup needs no change and a changed schedule can be reset by clearing it.
    next_digest_at: Mapped[datetime | None]
    # The bilateral scorecard (DESIGN 3.5): how often it runs, and when the next one opens (NULL until the
    # heartbeat first computes it, like next_digest_at).
    scorecard_cadence: Mapped[str] = mapped_column(String(10), default="quarterly", server_default="quarterly")
    next_scorecard_at: Mapped[datetime | None]
    # Agreed KPIs (DESIGN 3.6) are numbered per partnership like issues; a KPI red for this many periods in a row
    # is logged as an issue, which escalates along the partnership's path.
    next_kpi_number: Mapped[int] = mapped_column(default=1, server_default="1")
    kpi_red_periods_to_escalate: Mapped[int] = mapped_column(default=3, server_default="3")

    workspace: Mapped[Workspace] = relationship(lazy="joined")


class Member(PartnershipOwned, Base):
    """A person in a partnership: channel member, lead or sponsor."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("partnership_id", "user_id"),
        CheckConstraint("role IN ('member', 'lead', 'sponsor')", name="role"),
    )

    user_id: Mapped[SlackId]
    team_id: Mapped[SlackId | None]
    display_name: Mapped[str] = mapped_column(String(200), default="")
    tz: Mapped[str | None] = mapped_column(String(64))
    # side = side_override when set, else group_side, else the side derived from the home team (Slack Connect)
    # or None. side_override is a lead's personal assignment; group_side comes from the most recently assigned
    # user group (SideGroup) the person is in.
    side: Mapped[Side | None]
    side_override: Mapped[Side | None]
    group_side: Mapped[Side | None]
    role: Mapped[str] = mapped_column(String(10), default="member")
    is_bot: Mapped[bool] = mapped_column(default=False)
    in_channel: Mapped[bool] = mapped_column(default=True)
    deleted: Mapped[bool] = mapped_column(default=False)
    # A lead or sponsor who asked for a direct-message copy of the weekly digest (/partner digest subscribe).
    digest_copy: Mapped[bool] = mapped_column(default=False, server_default=false())
    joined_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SideGroup(PartnershipOwned, Base):
    """A user group a lead put on a side (``/partner side @group client``): its members get that side unless they
    have a personal assignment. Among several groups, the most recently assigned (highest ``sequence``) wins."""

    __tablename__ = "side_groups"
    __table_args__ = (
        UniqueConstraint("partnership_id", "usergroup_id"),
        CheckConstraint("side IN ('client', 'provider')", name="side"),
    )

    usergroup_id: Mapped[str] = mapped_column(String(32), index=True)
    # The handle as the lead's command showed it (plain text, escaped on output).
    handle: Mapped[str] = mapped_column(String(100), default="")
    side: Mapped[Side]
    set_by: Mapped[SlackId]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The order of assignments in the partnership (taken under its row lock): each assignment, a repeated one
    # included, gets the next number, and a person in several groups gets the side of the highest.
    sequence: Mapped[int]


class SideGroupMember(PartnershipOwned, Base):
    """Who is in an assigned user group, as Slack last said (usergroups.users.list, subteam_members_changed).

    Kept so that a person removed from one group falls back to another assigned group without asking Slack."""

    __tablename__ = "side_group_members"
    __table_args__ = (UniqueConstraint("side_group_id", "user_id"),)

    side_group_id: Mapped[int] = mapped_column(ForeignKey("side_groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[SlackId]
