"""Setting up the sandbox's world: teams, users, channels, user groups, the installation, what people do.

These change the world directly, as an admin or a person in Slack's own client would; none of them
delivers an event to the bot (see :mod:`.events` for the ones that do).
"""

from __future__ import annotations

from typing import Any

from .core import SandboxCore
from .installations import Installation
from .models import Channel, SandboxError, Team, User, UserGroup

Json = dict[str, Any]


class WorldSetup(SandboxCore):
    """Building the world a test or the demo plays in."""

    def add_team(self, team_id: str, name: str, domain: str) -> None:
        """Add a workspace."""
        with self._lock:
            self.workspace.teams[team_id] = Team(team_id, name, domain)

    def add_user(
        self,
        user_id: str,
        team_id: str,
        name: str,
        real_name: str | None = None,
        tz: str | None = "America/New_York",
        is_bot: bool = False,
        deleted: bool = False,
        is_stranger: bool | None = None,
    ) -> None:
        """Add a user whose home workspace is ``team_id`` (``tz=None`` models a profile without a time zone)."""
        with self._lock:
            if team_id not in self.workspace.teams:
                raise SandboxError(f"unknown team {team_id}; add_team() first")
            self.workspace.users[user_id] = User(
                id=user_id,
                team_id=team_id,
                name=name,
                real_name=real_name or name,
                tz=tz,
                is_bot=is_bot,
                deleted=deleted,
                is_stranger=is_stranger,
            )

    def add_channel(
        self,
        channel_id: str,
        name: str,
        host_team_id: str,
        members: list[str] | None = None,
        is_ext_shared: bool = False,
        is_private: bool = False,
        shared_team_ids: list[str] | None = None,
    ) -> None:
        """Add a channel hosted by ``host_team_id``; a shared channel is visible to its members' teams."""
        with self._lock:
            ws = self.workspace
            if host_team_id not in ws.teams:
                raise SandboxError(f"unknown team {host_team_id}")
            members = list(members or [])
            for member in members:
                if member not in ws.users:
                    raise SandboxError(f"unknown user {member}; add_user() first")
            teams = list(shared_team_ids or [host_team_id])
            if is_ext_shared and shared_team_ids is None:
                for member in members:
                    if ws.users[member].team_id not in teams:
                        teams.append(ws.users[member].team_id)
            if not is_ext_shared:
                foreign = [m for m in members if ws.users[m].team_id != host_team_id]
                if foreign:
                    raise SandboxError(f"{foreign} belong to another team; only a shared channel can hold them")
            ws.channels[channel_id] = Channel(
                id=channel_id,
                name=name,
                host_team_id=host_team_id,
                members=members,
                is_ext_shared=is_ext_shared,
                is_private=is_private,
                created=int(self.wall_clock()),
                shared_team_ids=teams,
            )
            ws.message_log.setdefault(channel_id, [])

    def add_usergroup(
        self, usergroup_id: str, team_id: str, handle: str, users: list[str] | None = None, name: str | None = None
    ) -> None:
        """Add a user group ``@handle`` of ``team_id`` (no event is delivered)."""
        with self._lock:
            ws = self.workspace
            if team_id not in ws.teams:
                raise SandboxError(f"unknown team {team_id}; add_team() first")
            unknown = [u for u in users or [] if u not in ws.users]
            if unknown:
                raise SandboxError(f"unknown users {unknown}; add_user() first")
            ws.usergroups[usergroup_id] = UserGroup(usergroup_id, team_id, handle, name or handle, list(users or []))

    def disable_usergroup(self, usergroup_id: str) -> None:
        """An admin disables (deletes) the group: usergroups.users.list answers ``no_such_subteam``."""
        with self._lock:
            self._usergroup(usergroup_id).disabled = True

    def usergroup_members(self, usergroup_id: str) -> list[str]:
        """The members of a user group."""
        with self._lock:
            return list(self._usergroup(usergroup_id).users)

    def install(
        self,
        team_id: str,
        bot_user_id: str | None = None,
        bot_id: str | None = None,
        *,
        bot_token: str | None = None,
        scopes: tuple[str, ...] | None = None,
    ) -> str:
        """Install the app in ``team_id`` directly (no OAuth): creates its bot user; returns its bot token.

        The first installation is the default one (``bot_token``, ``installation()``) and gets the sandbox's
        ``bot_token`` and U0BOT/B0BOT; one in another team gets ``U<team>BOT``/``B<team>BOT`` and a fresh token
        unless given. Installing again in a team replaces its installation (its bot ids are kept). ``scopes``: the
        granted bot scopes (default: the manifest's).
        """
        with self._lock:
            ws = self.workspace
            if team_id not in ws.teams:
                raise SandboxError(f"unknown team {team_id}")
            previous = ws.installations.by_team.get(team_id)
            ids = (previous.bot_user_id, previous.bot_id) if previous is not None else self.oauth.new_bot_ids(team_id)
            bot_user_id, bot_id = bot_user_id or ids[0], bot_id or ids[1]
            for other in ws.installations.by_team.values():
                if other.team_id != team_id and bot_user_id == other.bot_user_id:
                    raise SandboxError(f"{bot_user_id} is {other.team_id}'s bot user; give another bot_user_id")
            if bot_token is None:
                is_default = ws.installations.default_team in (None, team_id)
                bot_token = self._initial_bot_token if is_default else self.oauth.new_bot_token(team_id)
            installation = Installation(
                team_id=team_id,
                bot_user_id=bot_user_id,
                bot_id=bot_id,
                scopes=tuple(scopes if scopes is not None else self.manifest.bot_scopes),
                bot_token=bot_token,
            )
            ws.install_app(installation)
            return bot_token

    def join(self, channel_id: str, user_id: str) -> None:
        """Make a user a member of a channel (no event is delivered; see :meth:`member_joined`)."""
        with self._lock:
            channel = self._channel(channel_id)
            user = self.workspace.users.get(user_id)
            if user is None:
                raise SandboxError(f"unknown user {user_id}")
            if user.team_id not in channel.shared_team_ids:
                if not channel.is_ext_shared:
                    raise SandboxError(f"{user_id} is from {user.team_id}; {channel_id} is not shared with it")
                channel.shared_team_ids.append(user.team_id)
            if user_id not in channel.members:
                channel.members.append(user_id)

    def leave(self, channel_id: str, user_id: str) -> None:
        """Remove a user from a channel (no event is delivered; see :meth:`member_left`)."""
        with self._lock:
            channel = self._channel(channel_id)
            if user_id in channel.members:
                channel.members.remove(user_id)

    def user_message(self, channel_id: str, user_id: str, text: str, *, thread_ts: str | None = None) -> str:
        """A person posts ``text`` in a channel they are in (no event is delivered). Returns the message's ts."""
        with self._lock:
            ws = self.workspace
            channel = self._channel(channel_id)
            user = ws.users.get(user_id)
            if user is None or user_id not in channel.members:
                raise SandboxError(f"{user_id} is not a member of {channel_id}")
            ts = ws.next_ts()
            message: Json = {"type": "message", "ts": ts, "user": user_id, "team": user.team_id, "text": text}
            ws.store_message(channel, message, thread_ts)
            return ts

    def archive_channel(self, channel_id: str) -> None:
        """Archive a channel: posting into it fails with ``is_archived``."""
        with self._lock:
            self._channel(channel_id).is_archived = True

    @property
    def trigger_ttl(self) -> float:
        """Seconds a trigger_id stays valid (Slack: 3)."""
        return self.workspace.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        with self._lock:
            self.workspace.trigger_ttl = seconds
