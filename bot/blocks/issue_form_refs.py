"""What the issue log's modals carry in ``private_metadata`` (encoded and decoded with bot.blocks.metadata).

Each carries team_id and channel_id, so a failure after the ack can be told to the person in the channel.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IssueFormRef:
    """The issue modal: its channel, the partnership's time zone (due dates) and the source message's link."""

    team_id: str
    channel_id: str
    timezone: str
    permalink: str
    from_home: bool = False  # opened from the Home tab: publish it again after saving


@dataclass(frozen=True)
class IssueModalRef:
    """The update, resolve and reassign modals: the issue and what it was when the form opened."""

    team_id: str
    channel_id: str
    issue_id: int
    status: str
    owner_id: str
    from_home: bool = False


@dataclass(frozen=True)
class ActionFormRef:
    """The action modal. ``issue_id`` 0: not opened from an issue; ``kpi_id`` 0: not an answer to a red KPI."""

    team_id: str
    channel_id: str
    timezone: str
    issue_id: int
    from_home: bool = False
    kpi_id: int = 0


@dataclass(frozen=True)
class FollowupFormRef:
    """The follow-up contribution modal: the issue and the side whose button was pressed."""

    team_id: str
    channel_id: str
    issue_id: int
    side: str
