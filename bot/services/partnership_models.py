"""Partnerships, their sides and members, and the setup form: the read models every feature builds on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Side(StrEnum):
    CLIENT = "client"
    PROVIDER = "provider"

    @property
    def other(self) -> Side:
        return Side.PROVIDER if self is Side.CLIENT else Side.CLIENT


class Role(StrEnum):
    MEMBER = "member"
    LEAD = "lead"
    SPONSOR = "sponsor"


WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class SlackProfile:
    """What the Slack edge learned about a user (from users.info or a payload)."""

    user_id: str
    team_id: str | None
    display_name: str
    tz: str | None = None
    is_bot: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class PartnershipSettings:
    """What the setup modal sets besides the people: the names, the installing side, the pulse's and the digest's
    schedule and the anonymity threshold. The form's input (SetupInput) and the stored partnership
    (PartnershipView) both hold them."""

    name: str
    client_org: str
    provider_org: str
    installing_side: Side
    timezone: str
    pulse_weekday: int
    pulse_hour: int
    pulse_minute: int
    pulse_every_weeks: int
    digest_weekday: int
    digest_hour: int
    digest_minute: int
    anonymity_threshold: int


@dataclass(frozen=True)
class SetupInput(PartnershipSettings):
    """The values of the setup modal, already parsed."""

    client_leads: tuple[str, ...]
    provider_leads: tuple[str, ...]
    client_sponsors: tuple[str, ...]
    provider_sponsors: tuple[str, ...]
    client_members: tuple[str, ...]
    provider_members: tuple[str, ...]


@dataclass(frozen=True)
class MemberView:
    user_id: str
    team_id: str | None
    display_name: str
    side: Side | None
    role: Role
    in_channel: bool
    tz: str | None


@dataclass(frozen=True)
class SideGroupResult:
    """What ``/partner side @group client|provider|auto`` did. ``side`` None: the group's assignment was removed
    (``existed`` says whether there was one). Counts are of people in the channel unless named otherwise."""

    usergroup_id: str
    handle: str
    side: Side | None
    existed: bool
    group_size: int  # people in the group, in the channel or not (Slack's list; the stored one for a removal)
    in_channel: int
    moved: int  # whose side changed
    personal: int  # whose personal assignment puts them on another side than the group's
    conflicts: int  # also in another assigned group of the other side, with no personal assignment
    other_handles: tuple[str, ...] = ()  # those other groups


@dataclass(frozen=True)
class PartnershipView(PartnershipSettings):
    """A stored partnership: its settings (``anonymity_threshold`` the one applied), channel and state."""

    id: int
    team_id: str
    channel_id: str
    is_connect: bool
    anonymous: bool
    status: str
    pause_reason: str | None
    next_pulse_at: datetime | None
    menu_ts: str | None
    paused_by: str | None = None

    def org(self, side: Side) -> str:
        return self.client_org if side is Side.CLIENT else self.provider_org


@dataclass(frozen=True)
class SetupResult:
    partnership: PartnershipView
    created: bool
    members_by_side: dict[str, int]


@dataclass(frozen=True)
class SetupDone:
    """The "setup done" message as it goes out: what the setup saved, and the lead who saved it."""

    result: SetupResult
    user_id: str
