"""The state every part of :class:`~bot.sandbox.server.SlackSandbox` shares, and the one lock around it.

``SlackSandbox`` is one public object assembled from parts that each change for one reason: setting
up the world (:mod:`.world_setup`), reading what happened (:mod:`.inspection`), delivering events and
supporting actors (:mod:`.events`), and serving the Web API (:mod:`.server`). :class:`SandboxCore`
declares what they share; ``SlackSandbox.__init__`` fills it in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .event_retry import EventRetries
from .faults import Faults
from .models import Channel, Delivery, RecordedCall, ResponseUrlPost, SandboxError, UserGroup
from .oauth import OAuthProvider
from .spec import Manifest, SpecChecker, Violation
from .state import Workspace


class SandboxCore:
    """Shared state. Every public method takes ``_lock``: the HTTP server is threaded and actors run on test threads."""

    signing_secret: str
    app_id: str
    verification_token: str
    clock: Callable[[], float]
    wall_clock: Callable[[], float]
    checker: SpecChecker
    manifest: Manifest
    workspace: Workspace
    faults: Faults
    oauth: OAuthProvider
    #: The default installation's bot token when :meth:`~bot.sandbox.world_setup.WorldSetup.install` makes it.
    _initial_bot_token: str
    #: Where actors deliver signed requests (the bot's ``/slack/events`` URL).
    bot_endpoint: str | None
    event_retry_delays: tuple[float, ...]
    event_retries: EventRetries

    _lock: threading.RLock
    _calls: list[RecordedCall]
    _violations: list[Violation]
    _response_posts: list[ResponseUrlPost]
    _deliveries: list[Delivery]

    def record_violation(self, method: str, reason: str, error: str = "invalid_arguments") -> None:
        """Record a violation found outside the Web API (actors use it for bad view responses)."""
        with self._lock:
            self._violations.append(Violation(method, reason, error=error))

    # Lookups for callers that already hold the lock.

    def _channel(self, channel_id: str) -> Channel:
        channel = self.workspace.channels.get(channel_id)
        if channel is None:
            raise SandboxError(f"unknown channel {channel_id}")
        return channel

    def _usergroup(self, usergroup_id: str) -> UserGroup:
        group = self.workspace.usergroups.get(usergroup_id)
        if group is None:
            raise SandboxError(f"unknown user group {usergroup_id}")
        return group
