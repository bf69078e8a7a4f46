"""Reading people and channels from Slack: users.info (cached), conversations.members (paged), conversations.info,
usergroups.users.list.

users.info is Tier 4: 100 calls a minute per workspace. A profile is fetched at most once per person per
``PROFILE_TTL_SECONDS`` in this process (callers asking for the same person at the same time wait for one call), and
the calls are paced to the tier by the same pacer as the sender's, so a 1,000-member channel's setup spreads its
profiles over about nine minutes instead of meeting 429s. Each process keeps its own cache and pacer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.delivery.pacer import Pacer
from bot.services.partnership_models import SlackProfile
from bot.text_hygiene import clean_text

#: users.info is Tier 4 (100/min per workspace); a profile rarely changes within an hour.
PROFILE_TTL_SECONDS = 3600.0
MEMBERS_PAGE = 200
#: Profile fetches for people whose ids fall in the same stripe wait for each other (a bounded set of locks).
_FETCH_STRIPES = 64


@dataclass(frozen=True)
class ChannelInfo:
    channel_id: str
    is_connect: bool
    bot_is_member: bool
    is_archived: bool


class SlackDirectory:
    """People and channels as Slack knows them, with a small per-process cache of profiles."""

    def __init__(
        self,
        client: WebClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        pacer: Pacer | None = None,
        workspace: str = "",
    ) -> None:
        self.client = client
        self._clock = clock
        self._pacer = pacer or Pacer()
        self._workspace = workspace
        self._cache: dict[str, tuple[float, SlackProfile]] = {}
        self._lock = threading.Lock()
        self._fetching = [threading.Lock() for _ in range(_FETCH_STRIPES)]

    def _cached(self, user_id: str) -> SlackProfile | None:
        with self._lock:
            hit = self._cache.get(user_id)
        if hit is not None and self._clock() - hit[0] < PROFILE_TTL_SECONDS:
            return hit[1]
        return None

    def profile(self, user_id: str) -> SlackProfile:
        """One person's team, name and time zone. External users may have no ``tz``; that stays None."""
        hit = self._cached(user_id)
        if hit is not None:
            return hit
        with self._fetching[hash(user_id) % _FETCH_STRIPES]:
            hit = self._cached(user_id)  # fetched by a caller we waited for
            if hit is not None:
                return hit
            return self._fetch(user_id)

    def _fetch(self, user_id: str) -> SlackProfile:
        self._pacer.wait("users.info", self._workspace, "")
        now = self._clock()
        user = self.client.users_info(user=user_id)["user"]
        profile = user.get("profile") or {}
        result = SlackProfile(
            user_id=user_id,
            team_id=user.get("team_id"),
            # A name a person chose: cleaned like everything else a person types (bot.text_hygiene).
            display_name=clean_text(profile.get("display_name") or user.get("real_name") or user.get("name") or "")
            or user_id,
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
