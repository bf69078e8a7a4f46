"""Reading what happened in the sandbox: calls, violations, messages, views, files, transcripts.

Every reader returns a copy taken under the lock, so a test can keep and compare it while the bot
goes on changing the world.
"""

from __future__ import annotations

import copy
from typing import Any

from .core import SandboxCore
from .models import RecordedCall, ResponseUrlPost, StoredFile
from .spec import Violation
from .transcript import render_channel

Json = dict[str, Any]


class Inspection(SandboxCore):
    """What a test or the demo reads after the bot has acted."""

    @property
    def calls(self) -> list[RecordedCall]:
        """Every Web API call received, in order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        """The calls of one method, in order."""
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def clear_calls(self) -> None:
        """Forget recorded calls, violations and response_url posts (the world is kept)."""
        with self._lock:
            self._calls.clear()
            self._violations.clear()
            self._response_posts.clear()
            self._deliveries.clear()

    @property
    def violations(self) -> list[Violation]:
        """Calls Slack would have rejected (or that broke a project rule)."""
        with self._lock:
            return list(self._violations)

    @property
    def ratelimited_count(self) -> int:
        """How many HTTP 429s the sandbox has returned."""
        with self._lock:
            return self.faults.ratelimited

    @property
    def response_url_posts(self) -> list[ResponseUrlPost]:
        """Posts the bot made to response_urls, in order (including refused ones)."""
        with self._lock:
            return list(self._response_posts)

    def messages(self, channel_id: str, include_thread_replies: bool = True) -> list[Json]:
        """Messages in a channel, oldest first (deep copies of Slack message objects)."""
        with self._lock:
            log = self.workspace.message_log.get(channel_id, [])
            return [
                copy.deepcopy(m)
                for m in log
                if include_thread_replies or not m.get("thread_ts") or m.get("thread_ts") == m.get("ts")
            ]

    def message(self, channel_id: str, ts: str) -> Json | None:
        """One stored message, or None."""
        with self._lock:
            found = self.workspace.find_message(channel_id, ts)
            return copy.deepcopy(found) if found is not None else None

    def ephemerals(self, channel_id: str | None = None, user: str | None = None) -> list[Json]:
        """Ephemeral messages (each has ``channel`` and ``recipient``), optionally filtered."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self.workspace.ephemeral_log
                if (channel_id is None or m["channel"] == channel_id) and (user is None or m["recipient"] == user)
            ]

    def dm_channel(self, user_id: str) -> str:
        """The id of the app's DM channel with a user (where ``chat.postMessage(channel=user_id)`` lands)."""
        with self._lock:
            ws = self.workspace
            user = ws.users.get(user_id)
            own = user.team_id if user is not None and user.team_id in ws.installations.by_team else None
            with ws.acting_as(own):  # the DM is with the bot of the person's own organisation, if it installed the app
                return ws.im_channel(user_id).id

    @property
    def views(self) -> dict[str, Json]:
        """Every view ever opened, pushed or published, by id (closed ones included), with ``user_id``."""
        with self._lock:
            return copy.deepcopy(self.workspace.views)

    def view(self, view_id: str) -> Json | None:
        """One stored view, or None."""
        with self._lock:
            view = self.workspace.views.get(view_id)
            return copy.deepcopy(view) if view is not None else None

    def is_view_open(self, view_id: str) -> bool:
        """True while a modal view is on its owner's stack (or a view is a published Home tab)."""
        with self._lock:
            ws = self.workspace
            owner = ws.view_owner.get(view_id)
            if owner is None:
                return False
            return view_id in ws.stacks.get(owner, []) or ws.homes.get(owner) == view_id

    def open_views(self, user_id: str) -> list[Json]:
        """A user's open modal views, bottom of the stack first."""
        with self._lock:
            ws = self.workspace
            return [copy.deepcopy(ws.views[v]) for v in ws.stacks.get(user_id, [])]

    def home_view(self, user_id: str) -> Json | None:
        """The Home tab view published for a user, or None."""
        with self._lock:
            view_id = self.workspace.homes.get(user_id)
            return copy.deepcopy(self.workspace.views[view_id]) if view_id else None

    def pins(self, channel_id: str) -> list[str]:
        """The ts of pinned messages in a channel."""
        with self._lock:
            return list(self._channel(channel_id).pins)

    def members(self, channel_id: str) -> list[str]:
        """Members of a channel."""
        with self._lock:
            return list(self._channel(channel_id).members)

    @property
    def files(self) -> dict[str, StoredFile]:
        """Uploaded files by id (``content`` holds the bytes)."""
        with self._lock:
            return copy.deepcopy(self.workspace.files)

    def user_name(self, user_id: str) -> str:
        """The @name a reader sees for a user id (the user id itself if unknown)."""
        with self._lock:
            user = self.workspace.users.get(user_id)
            if user is None:
                return user_id
            return user.real_name if user.is_bot else user.name

    def transcript(self, channel_id: str) -> str:
        """A readable rendering of a channel: messages, thread replies (indented) and ephemerals."""
        with self._lock:
            channel = self._channel(channel_id)
            title = (
                f"#{channel.name} ({channel.id})"
                if not channel.is_im
                else f"DM with @{self.user_name(channel.im_user or '')}"
            )
            messages = copy.deepcopy(self.workspace.message_log.get(channel_id, []))
            ephemerals = [copy.deepcopy(m) for m in self.workspace.ephemeral_log if m["channel"] == channel_id]
        return render_channel(title, messages, ephemerals, self.user_name)
