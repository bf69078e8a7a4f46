"""Reading people and channels from Slack: users.info (cached), conversations.members (paged), conversations.info,
usergroups.users.list."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.services.models import SlackProfile

#: users.info is Tier 4 (100/min per workspace); a profile rarely changes within an hour.
PROFILE_TTL_SECONDS = 3600.0
MEMBERS_PAGE = 200


@dataclass(frozen=True)
class ChannelInfo:
    channel_id: str
    is_connect: bool
    bot_is_member: bool
    is_archived: bool


class SlackDirectory:
    """People and channels as Slack knows them, with a small per-process cache of profiles."""

    def __init__(self, client: WebClient, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._clock = clock
        self._cache: dict[str, tuple[float, SlackProfile]] = {}
        self._lock = threading.Lock()

    def profile(self, user_id: str) -> SlackProfile:
        """One person's team, name and time zone. External users may have no ``tz``; that stays None."""
        now = self._clock()
        with self._lock:
            hit = self._cache.get(user_id)
        if hit is not None and now - hit[0] < PROFILE_TTL_SECONDS:
            return hit[1]
        user = self.client.users_info(user=user_id)["user"]
        profile = user.get("profile") or {}
        result = SlackProfile(
            user_id=user_id,
            team_id=user.get("team_id"),
            display_name=profile.get("display_name") or user.get("real_name") or user.get("name") or user_id,
            tz=user.get("tz") or None,
            is_bot=bool(user.get("is_bot")) or user_id == "USLACKBOT",
            deleted=bool(user.get("deleted")),
        )
        with self._lock:
            self._cache[user_id] = (now, result)
        return result

    def channel_member_ids(self, channel_id: str) -> list[str]:
        """Every member of the channel, following the cursor until Slack says there is no more."""
        ids: list[str] = []
        cursor: str | None = None
        while True:
            resp = self.client.conversations_members(channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor)
            ids.extend(resp.get("members") or [])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return ids

    def usergroup_member_ids(self, usergroup_id: str) -> list[str]:
        """The members of a user group (usergroups.users.list, scope ``usergroups:read``; not paged by Slack).

        Raises:
            SlackApiError: e.g. ``no_such_subteam`` for an unknown or deleted group, ``missing_scope``.
        """
        resp = self.client.usergroups_users_list(usergroup=usergroup_id)
        return [str(uid) for uid in resp.get("users") or []]

    def channel_profiles(self, channel_id: str) -> list[SlackProfile]:
        return [self.profile(uid) for uid in self.channel_member_ids(channel_id)]

    def channel_info(self, channel_id: str) -> ChannelInfo:
        channel = self.client.conversations_info(channel=channel_id)["channel"]
        return ChannelInfo(
            channel_id=channel_id,
            is_connect=bool(
                channel.get("is_ext_shared") or channel.get("is_shared") or channel.get("is_pending_ext_shared")
            ),
            bot_is_member=bool(channel.get("is_member", True)),
            is_archived=bool(channel.get("is_archived")),
        )
