"""Records the sandbox keeps: the world (teams, users, channels) and what happened (calls, posts, files,
requests delivered to the bot), and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Slack's deadline for acknowledging a delivered request, in seconds.
ACK_DEADLINE = 3.0


class SlackError(Exception):
    """A Web API failure answered the way Slack answers it: ``{"ok": false, "error": code, ...}``."""

    def __init__(self, error: str, *, status: int = 200, messages: list[str] | None = None, **fields: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.fields: dict[str, Any] = dict(fields)
        if messages:
            self.fields["response_metadata"] = {"messages": [m if m.startswith("[") else f"[ERROR] {m}" for m in messages]}

    def body(self) -> dict[str, Any]:
        """The JSON body Slack would send."""
        return {"ok": False, "error": self.error, **self.fields}


class SandboxError(RuntimeError):
    """Raised when a test asks the sandbox for something Slack could not do (e.g. click a missing button)."""


class ActorError(SandboxError):
    """The requested interaction is impossible in Slack (no such button, a user outside the channel, ...)."""


@dataclass
class Team:
    """A Slack workspace."""

    id: str
    name: str
    domain: str


@dataclass
class User:
    """A Slack user; ``team_id`` is the user's home workspace."""

    id: str
    team_id: str
    name: str
    real_name: str
    tz: str | None = "America/New_York"
    is_bot: bool = False
    deleted: bool = False
    is_stranger: bool | None = None
    bot_id: str | None = None


@dataclass
class UserGroup:
    """A user group (Slack calls it a subteam): ``@handle`` names ``users`` of ``team_id``."""

    id: str
    team_id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    disabled: bool = False


@dataclass
class Channel:
    """A conversation. ``shared_team_ids`` lists the workspaces that see it (more than one when shared)."""

    id: str
    name: str
    host_team_id: str
    members: list[str] = field(default_factory=list)
    is_ext_shared: bool = False
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    im_user: str | None = None
    created: int = 0
    shared_team_ids: list[str] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)


@dataclass
class Trigger:
    """A ``trigger_id`` handed to the bot with an interaction: valid for a few seconds, usable once."""

    id: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseUrl:
    """A ``response_url``: up to 5 posts within 30 minutes, tied to one user and one channel."""

    id: str
    user_id: str
    channel_id: str
    issued_at: float
    uses: int = 0
    # The message the interaction came from (replace_original/delete_original act on it).
    source_ts: str | None = None
    source_ephemeral: bool = False
    #: The installation the interaction went to: its bot answers a post (None: the default installation).
    team_id: str | None = None


@dataclass(frozen=True)
class RecordedCall:
    """One Web API call as the sandbox received and answered it."""

    method: str
    args: dict[str, Any]
    http_status: int
    response: dict[str, Any]
    at: float
    team_id: str | None

    @property
    def ok(self) -> bool:
        """True when the call succeeded."""
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """The Slack error code, if the call failed."""
        error = self.response.get("error")
        return str(error) if error is not None else None


@dataclass(frozen=True)
class ResponseUrlPost:
    """One post the bot made to a ``response_url``."""

    url_id: str
    body: dict[str, Any] | None
    user: str | None
    channel: str | None
    status: int
    at: float


@dataclass
class StoredFile:
    """A file uploaded through ``files.getUploadURLExternal`` + the upload URL + ``completeUploadExternal``."""

    id: str
    filename: str
    length: int
    title: str | None = None
    alt_txt: str | None = None
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    upload_token: str = ""


@dataclass(frozen=True)
class ActorResponse:
    """The bot's HTTP answer to a delivered request."""

    status: int
    body: str
    json: dict[str, Any] | None
    elapsed: float

    @property
    def acked_in_time(self) -> bool:
        """True when the bot answered 2xx within Slack's 3-second deadline."""
        return 200 <= self.status < 300 and self.elapsed <= ACK_DEADLINE


@dataclass(frozen=True)
class Delivery:
    """One request the sandbox delivered to the bot."""

    kind: str
    user_id: str | None
    status: int
    elapsed: float
    event_id: str | None = None
    #: ``X-Slack-Retry-Num`` of an event delivery (None: the first delivery, or not an event).
    retry_num: int | None = None
