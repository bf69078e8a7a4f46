"""What the issue log's buttons and menus carry, encoded and decoded with bot.blocks.metadata: the issue, action,
follow-up or signal a click is about, the verb chosen, and a list's page."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IssueRef:
    issue_id: int


@dataclass(frozen=True)
class FollowupAsk:
    """Which side's "add ours" button of the follow-up question was pressed."""

    issue_id: int
    side: str


@dataclass(frozen=True)
class FollowupRef:
    followup_id: int


@dataclass(frozen=True)
class ActionRef:
    """An action's "Mark done". ``channel_id``: the partnership's channel, named by buttons in messages that may
    be sent as a direct message from the app (where the clicked channel is the DM, not the partnership's)."""

    action_id: int
    channel_id: str = ""


@dataclass(frozen=True)
class SignalRef:
    """A signal's "Log issue"; ``channel_id`` as for ``ActionRef`` (signals go to leads' direct messages)."""

    signal_id: int
    channel_id: str = ""


@dataclass(frozen=True)
class IssueVerb:
    """An option of an issue's overflow menu (lists, Home): what to do to which issue of which channel.

    The channel travels with it because a Home tab has none; on a channel message it must match the channel.
    """

    issue_id: int
    channel_id: str
    verb: str


@dataclass(frozen=True)
class ActionVerb:
    """An option of an action's overflow menu: the status to set."""

    action_id: int
    channel_id: str
    status: str


@dataclass(frozen=True)
class ListPage:
    """The "More" button under a list: which list (``issues``/``actions`` and its filter) and where to go on."""

    channel_id: str
    kind: str
    filter: str
    offset: int


#: What an issue's overflow menu offers (the verbs of IssueVerb).
ISSUE_VERBS = {
    "ack": "Acknowledge",
    "update": "Update",
    "action": "Add action",
    "resolve": "Resolve",
    "reopen": "Reopen",
    "reassign": "Reassign",
}
