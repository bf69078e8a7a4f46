"""What the issue log's modals carry in ``private_metadata`` (encoded and decoded with bot.blocks.metadata).

Each is a ChannelRef (team_id and channel_id), so a failure after the ack can be told to the person in the channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks.metadata import ChannelRef


@dataclass(frozen=True)
class IssueFormRef(ChannelRef):
    """The issue modal: its channel, the partnership's time zone (due dates) and the source message's link."""

    timezone: str
    permalink: str
    from_home: bool = False  # opened from the Home tab: publish it again after saving


@dataclass(frozen=True)
class IssueModalRef(ChannelRef):
    """The update, resolve and reassign modals: the issue and what it was when the form opened."""

    issue_id: int
    status: str
    owner_id: str
    from_home: bool = False


@dataclass(frozen=True)
class ActionFormRef(ChannelRef):
    """The action modal. ``issue_id`` 0: not opened from an issue; ``kpi_id`` 0: not an answer to a red KPI."""

    timezone: str
    issue_id: int
    from_home: bool = False
    kpi_id: int = 0


@dataclass(frozen=True)
class FollowupFormRef(ChannelRef):
    """The follow-up contribution modal: the issue and the side whose button was pressed."""

    issue_id: int
    side: str
