"""The fake Slack's state and its Web API methods.

:class:`Workspace` holds teams, users, channels, messages, views, files, triggers and response URLs, and
implements each served Web API method as a function of parsed arguments that returns Slack's JSON or
raises :class:`SlackError`. It does no locking and no HTTP: :class:`~bot.sandbox.server.SlackSandbox`
serialises calls with one lock and handles transport, authentication, validation and recording.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import itertools
import json
import mimetypes
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .blocks import message_errors, view_errors, with_generated_ids
from .installations import ActingInstallation, Installations, keep_installation
from .models import Channel, ResponseUrl, SlackError, StoredFile, Team, Trigger, User, UserGroup
from .spec import is_truthy

Json = dict[str, Any]
Handler = Callable[[Json], Json]

# Human labels Slack shows beside a zone (standard, daylight); others fall back to the abbreviation.
TZ_LABELS: dict[str, tuple[str, str]] = {
    "America/New_York": ("Eastern Standard Time", "Eastern Daylight Time"),
    "America/Chicago": ("Central Standard Time", "Central Daylight Time"),
    "America/Denver": ("Mountain Standard Time", "Mountain Daylight Time"),
    "America/Los_Angeles": ("Pacific Standard Time", "Pacific Daylight Time"),
    "Europe/London": ("Greenwich Mean Time", "British Summer Time"),
    "Europe/Berlin": ("Central European Time", "Central European Summer Time"),
    "Asia/Kolkata": ("India Standard Time", "India Standard Time"),
    "UTC": ("Universal Coordinated Time", "Universal Coordinated Time"),
}

MAX_VIEW_STACK = 3


def _as_str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _encode_cursor(user_id: str) -> str:
    # Slack's cursors are base64 of "user:<next id>" (e.g. "dXNlcjpVMDYxTkZUVDI=").
    return base64.b64encode(f"user:{user_id}".encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
    if not decoded.startswith("user:"):
        raise SlackError("invalid_cursor")
    return decoded[len("user:") :]


class Workspace(ActingInstallation):
    """Everything the fake Slack knows, seen from the acting installation of the app (see :mod:`.installations`)."""

    def __init__(
        self,
        *,
        app_id: str,
        bot_display_name: str,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        trigger_ttl: float = 3.0,
        response_url_uses: int = 5,
        response_url_ttl: float = 30 * 60.0,
    ) -> None:
        self.app_id = app_id
        self.bot_display_name = bot_display_name
        self.clock = clock
        self.wall_clock = wall_clock
        self.trigger_ttl = trigger_ttl
        self.response_url_uses = response_url_uses
        self.response_url_ttl = response_url_ttl
        # Set by the server once it listens: upload and response URLs point back at it.
        self.public_url = "http://127.0.0.1:0/"

        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.installations = Installations()

        self.message_log: dict[str, list[Json]] = {}
        self.ephemeral_log: list[Json] = []
        self.views: dict[str, Json] = {}
        self.view_owner: dict[str, str] = {}
        self.closed_views: set[str] = set()
        self.stacks: dict[str, list[str]] = {}
        self.homes: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.files: dict[str, StoredFile] = {}
        self.upload_tokens: dict[str, str] = {}

        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self.handlers: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.getPermalink": self.chat_get_permalink,
            "conversations.info": self.conversations_info,
            "conversations.members": self.conversations_members,
            "users.info": self.users_info,
            "usergroups.users.list": self.usergroups_users_list,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "pins.add": self.pins_add,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
        }

    # ------------------------------------------------------------------ ids and time

    def next_id(self) -> int:
        """A process-unique counter for generated ids."""
        return next(self._ids)

    def next_ts(self) -> str:
        """A message ``ts``: wall-clock seconds with microseconds, unique and strictly increasing."""
        now_us = int(self.wall_clock() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _hash(self, view_id: str) -> str:
        digest = hashlib.sha1(f"{view_id}/{self.next_id()}".encode()).hexdigest()[:8]
        return f"{int(self.wall_clock())}.{digest}"

    # ------------------------------------------------------------------ world

    def require_installed(self) -> tuple[str, str, str]:
        """(team id, bot user id, bot id) of the acting installation; raises ``invalid_auth`` before install()."""
        installation = self.installation
        if installation is None:
            raise SlackError("invalid_auth")
        return installation.team_id, installation.bot_user_id, installation.bot_id

    def user(self, user_id: str) -> User:
        """A known user, or SlackError ``user_not_found``."""
        user = self.users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return user

    def im_channel(self, user_id: str) -> Channel:
        """The app's direct-message channel with a user of the installed workspace (created on first use)."""
        team_id, bot_user, _ = self.require_installed()
        channel_id = "D" + user_id[1:]
        channel = self.channels.get(channel_id)
        if channel is None:
            channel = Channel(
                id=channel_id,
                name=user_id,
                host_team_id=team_id,
                members=[bot_user, user_id],
                is_private=True,
                is_im=True,
                im_user=user_id,
                created=int(self.wall_clock()),
                shared_team_ids=[team_id],
            )
            self.channels[channel_id] = channel
            self.message_log[channel_id] = []
        return channel

    def visible_channel(self, channel_id: object) -> Channel:
        """A channel the app's token can see, or ``channel_not_found`` (unknown, other org, private non-member)."""
        team_id, bot_user, _ = self.require_installed()
        channel = self.channels.get(_as_str(channel_id) or "")
        if channel is None or team_id not in channel.shared_team_ids:
            raise SlackError("channel_not_found")
        if channel.is_private and bot_user not in channel.members:
            raise SlackError("channel_not_found")
        return channel

    def postable_channel(self, channel_arg: object) -> Channel:
        """Where chat.postMessage would post: a channel the bot is in, or a user's DM with the app."""
        team_id, bot_user, _ = self.require_installed()
        target = _as_str(channel_arg) or ""
        user = self.users.get(target)
        if user is not None and target[:1] in ("U", "W"):
            # Posting to a user id opens the app's DM with them; only possible inside the installed org.
            if user.team_id != team_id or user.deleted or user.is_bot:
                raise SlackError("channel_not_found")
            return self.im_channel(user.id)
        channel = self.visible_channel(target)
        if channel.is_archived:
            raise SlackError("is_archived")
        if bot_user not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def find_message(self, channel_id: str, ts: str) -> Json | None:
        """The stored message with this ``ts`` in a channel (top level or reply)."""
        for message in self.message_log.get(channel_id, []):
            if message.get("ts") == ts:
                return message
        return None

    def find_ephemeral(self, channel_id: str, ts: str) -> Json | None:
        """The stored ephemeral message with this ``ts`` in a channel."""
        for message in self.ephemeral_log:
            if message.get("channel") == channel_id and message.get("ts") == ts:
                return message
        return None

    # ------------------------------------------------------------------ argument helpers

    def _blocks_arg(self, value: object) -> list[Any] | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):
            # Still a string after the server's JSON decoding: it was not JSON.
            raise SlackError("invalid_blocks_format")
        if not isinstance(value, list):
            raise SlackError("invalid_blocks_format")
        return value

    def _metadata_arg(self, value: object) -> Json | None:
        if value is None or value == "":
            return None
        if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
            raise SlackError("invalid_metadata_format")
        if not isinstance(value.get("event_payload", {}), dict):
            raise SlackError("invalid_metadata_format")
        return value

    def _check_message_content(self, text: object, blocks: list[Any] | None, attachments: object) -> None:
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        problem = message_errors(text, blocks)
        if problem is not None:
            code, errors = problem
            if code == "invalid_blocks":
                raise SlackError(code, messages=errors, errors=errors)
            raise SlackError(code)

    def _view_arg(self, value: object) -> Json:
        if isinstance(value, str):
            raise SlackError("invalid_arguments", messages=["must provide an object [json-pointer:/view]"])
        problem = view_errors(value)
        if problem is not None:
            code, errors = problem
            raise SlackError(code, messages=errors)
        assert isinstance(value, dict)
        return value

    # ------------------------------------------------------------------ messages

    def _bot_profile(self) -> Json:
        team_id, _, bot_id = self.require_installed()
        return {
            "id": bot_id,
            "app_id": self.app_id,
            "name": self.bot_display_name,
            "deleted": False,
            "team_id": team_id,
            "icons": {"image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png"},
        }

    def new_message(
        self,
        ts: str,
        *,
        text: object,
        blocks: list[Any] | None,
        attachments: object = None,
        metadata: Json | None = None,
    ) -> Json:
        """A message from the app's bot user, shaped like Slack's message objects."""
        team_id, bot_user, bot_id = self.require_installed()
        message: Json = {
            "type": "message",
            "ts": ts,
            "user": bot_user,
            "bot_id": bot_id,
            "app_id": self.app_id,
            "team": team_id,
            "text": _as_str(text) or "",
            "bot_profile": self._bot_profile(),
        }
        if blocks is not None:
            message["blocks"] = with_generated_ids(blocks, seed=ts)
        if attachments:
            message["attachments"] = attachments
        if metadata is not None:
            message["metadata"] = metadata
        return message

    def store_message(self, channel: Channel, message: Json, thread_ts: str | None) -> Json:
        """Append a message to a channel, threading it under ``thread_ts`` when given."""
        if thread_ts:
            parent = self.find_message(channel.id, thread_ts)
            if parent is not None and parent.get("thread_ts") not in (None, parent["ts"]):
                # A reply to a reply lands in the parent's thread, as in Slack.
                thread_ts = str(parent["thread_ts"])
                parent = self.find_message(channel.id, thread_ts)
            message["thread_ts"] = thread_ts
            if parent is not None:
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                users = list(parent.get("reply_users", []))
                if message["user"] not in users:
                    users.append(message["user"])
                parent["reply_users"] = users
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = message["ts"]
        self.message_log.setdefault(channel.id, []).append(message)
        return message

    @staticmethod
    def public(message: Json) -> Json:
        """A deep copy without the sandbox's private keys."""
        return {k: copy.deepcopy(v) for k, v in message.items() if k not in ("channel", "recipient")}

    def auth_test(self, args: Json) -> Json:
        """auth.test: who the token belongs to."""
        team_id, bot_user, bot_id = self.require_installed()
        team = self.teams[team_id]
        return {
            "ok": True,
            "url": f"https://{team.domain}.slack.com/",
            "team": team.name,
            "user": self.users[bot_user].name,
            "team_id": team_id,
            "user_id": bot_user,
            "bot_id": bot_id,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, args: Json) -> Json:
        """chat.postMessage."""
        channel = self.postable_channel(args.get("channel"))
        blocks = self._blocks_arg(args.get("blocks"))
        self._check_message_content(args.get("text"), blocks, args.get("attachments"))
        metadata = self._metadata_arg(args.get("metadata"))
        ts = self.next_ts()
        message = self.new_message(
            ts, text=args.get("text"), blocks=blocks, attachments=args.get("attachments"), metadata=metadata
        )
        self.store_message(channel, message, _as_str(args.get("thread_ts")))
        return {"ok": True, "channel": channel.id, "ts": ts, "message": self.public(message)}

    def chat_post_ephemeral(self, args: Json) -> Json:
        """chat.postEphemeral: only for a user who is in the channel."""
        channel = self.postable_channel(args.get("channel"))
        recipient = _as_str(args.get("user")) or ""
        user = self.users.get(recipient)
        if user is None or user.deleted or recipient not in channel.members:
            raise SlackError("user_not_in_channel")
        blocks = self._blocks_arg(args.get("blocks"))
        self._check_message_content(args.get("text"), blocks, args.get("attachments"))
        self.add_ephemeral(channel.id, recipient, text=args.get("text"), blocks=blocks, thread_ts=args.get("thread_ts"))
        return {"ok": True, "message_ts": self.ephemeral_log[-1]["ts"]}

    def add_ephemeral(
        self, channel_id: str, recipient: str, *, text: object, blocks: list[Any] | None, thread_ts: object
    ) -> Json:
        """Store an ephemeral message visible to ``recipient`` only."""
        ts = self.next_ts()
        message = self.new_message(ts, text=text, blocks=blocks)
        message["channel"] = channel_id
        message["recipient"] = recipient
        message["is_ephemeral"] = True
        if thread_ts:
            message["thread_ts"] = _as_str(thread_ts)
        self.ephemeral_log.append(message)
        return message

    def _own_message(self, channel: Channel, ts: object, *, deleting: bool) -> Json:
        message = self.find_message(channel.id, _as_str(ts) or "")
        if message is None or message.get("subtype") == "tombstone":
            # A deleted message with replies stays as a tombstone; it can no longer be edited or deleted.
            raise SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise SlackError("cant_delete_message" if deleting else "cant_update_message")
        return message

    def chat_update(self, args: Json) -> Json:
        """chat.update: the bot edits its own message; omitted blocks/attachments are kept."""
        channel = self.visible_channel(args.get("channel"))
        if channel.is_archived:
            raise SlackError("is_archived")
        message = self._own_message(channel, args.get("ts"), deleting=False)
        blocks = self._blocks_arg(args.get("blocks")) if "blocks" in args else message.get("blocks")
        text = args["text"] if "text" in args else message.get("text")
        self._check_message_content(text, blocks, args.get("attachments", message.get("attachments")))
        message["text"] = _as_str(text) or ""
        if "blocks" in args:
            if blocks:
                message["blocks"] = with_generated_ids(blocks, seed=f"{message['ts']}/{self.next_id()}")
            else:
                message.pop("blocks", None)
        if "attachments" in args:
            message["attachments"] = args["attachments"]
        if "metadata" in args:
            metadata = self._metadata_arg(args.get("metadata"))
            if metadata is None:
                message.pop("metadata", None)
            else:
                message["metadata"] = metadata
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message["ts"],
            "text": message["text"],
            "message": self.public(message),
        }

    def chat_delete(self, args: Json) -> Json:
        """chat.delete: a parent with replies becomes a tombstone, as in Slack."""
        channel = self.visible_channel(args.get("channel"))
        if channel.is_archived:
            raise SlackError("is_archived")
        message = self._own_message(channel, args.get("ts"), deleting=True)
        self.delete_message(channel.id, message)
        return {"ok": True, "channel": channel.id, "ts": message["ts"]}

    def delete_message(self, channel_id: str, message: Json) -> None:
        """Remove a stored message (or leave a tombstone when it has replies)."""
        log = self.message_log.get(channel_id, [])
        if int(message.get("reply_count", 0)) > 0:
            for key in ("blocks", "attachments", "metadata", "files", "bot_profile"):
                message.pop(key, None)
            message.update({"subtype": "tombstone", "text": "This message was deleted."})
            return
        log.remove(message)
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            parent = self.find_message(channel_id, str(thread_ts))
            if parent is not None:
                parent["reply_count"] = max(0, int(parent.get("reply_count", 1)) - 1)
        if message["ts"] in self.channels[channel_id].pins:
            self.channels[channel_id].pins.remove(message["ts"])

    def chat_get_permalink(self, args: Json) -> Json:
        """chat.getPermalink."""
        channel = self.visible_channel(args.get("channel"))
        ts = _as_str(args.get("message_ts")) or ""
        message = self.find_message(channel.id, ts)
        if message is None:
            raise SlackError("message_not_found")
        team = self.teams[self.require_installed()[0]]
        link = f"https://{team.domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel.id}"
        return {"ok": True, "channel": channel.id, "permalink": link}

    # ------------------------------------------------------------------ conversations and users

    def channel_object(self, channel: Channel, *, include_num_members: bool = False) -> Json:
        """A conversation object as conversations.info returns it to the app."""
        team_id, bot_user, _ = self.require_installed()
        if channel.is_im:
            return {
                "id": channel.id,
                "created": channel.created,
                "is_im": True,
                "is_org_shared": False,
                "user": channel.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        obj: Json = {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_archived": channel.is_archived,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": channel.is_ext_shared,
            "is_org_shared": False,
            "is_ext_shared": channel.is_ext_shared,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": team_id,
            "conversation_host_id": channel.host_team_id,
            "is_member": bot_user in channel.members,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        if channel.is_ext_shared:
            obj["shared_team_ids"] = list(channel.shared_team_ids)
        if include_num_members:
            obj["num_members"] = len(channel.members)
        return obj

    def conversations_info(self, args: Json) -> Json:
        """conversations.info."""
        channel = self.visible_channel(args.get("channel"))
        include = is_truthy(args.get("include_num_members"))
        return {"ok": True, "channel": self.channel_object(channel, include_num_members=include)}

    def conversations_members(self, args: Json) -> Json:
        """conversations.members with Slack's cursor pagination (``limit`` default 100, max 1000)."""
        channel = self.visible_channel(args.get("channel"))
        try:
            limit = int(_as_str(args.get("limit")) or 100)
        except ValueError as exc:
            raise SlackError("invalid_limit") from exc
        limit = 100 if limit <= 0 else min(limit, 1000)
        members = list(channel.members)
        start = 0
        cursor = _as_str(args.get("cursor"))
        if cursor:
            first = _decode_cursor(cursor)
            if first not in members:
                raise SlackError("invalid_cursor")
            start = members.index(first)
        page = members[start : start + limit]
        rest = members[start + limit :]
        next_cursor = _encode_cursor(rest[0]) if rest else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def user_object(self, user: User) -> Json:
        """A user object as users.info returns it to the app (``tz`` absent when the profile lacks it)."""
        team_id = self.installed_team
        profile: Json = {
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.name if not user.is_bot else user.real_name,
            "display_name_normalized": user.name if not user.is_bot else user.real_name,
            "team": user.team_id,
            "image_48": f"https://avatars.slack-edge.com/sandbox/{user.id}_48.png",
        }
        if " " in user.real_name:
            first, _, last = user.real_name.partition(" ")
            profile.update({"first_name": first, "last_name": last})
        obj: Json = {
            "id": user.id,
            "team_id": user.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "real_name": user.real_name,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": profile,
        }
        if user.is_bot and user.bot_id:
            profile["bot_id"] = user.bot_id
        if user.tz is not None:
            obj.update(self._tz_fields(user.tz))
        stranger = user.is_stranger if user.is_stranger is not None else (team_id is not None and user.team_id != team_id)
        if stranger:
            obj["is_stranger"] = True
        return obj

    def _tz_fields(self, tz: str) -> Json:
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            return {"tz": tz, "tz_label": tz, "tz_offset": 0}
        local = datetime.fromtimestamp(self.wall_clock(), zone)
        offset = local.utcoffset()
        dst = local.dst()
        standard, daylight = TZ_LABELS.get(tz, (local.tzname() or tz, local.tzname() or tz))
        return {
            "tz": tz,
            "tz_label": daylight if dst else standard,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        }

    def users_info(self, args: Json) -> Json:
        """users.info."""
        self.require_installed()
        user = self.user(_as_str(args.get("user")) or "")
        return {"ok": True, "user": self.user_object(user)}

    def usergroups_users_list(self, args: Json) -> Json:
        """usergroups.users.list: the group's user ids (not paged).

        An id that is not a group of the installing workspace answers ``no_such_subteam``, as Slack documents it
        (the OpenAPI file lists no group error). A disabled group answers the same unless ``include_disabled`` is
        set: Slack's reference does not say, and a deleted group looks like this to the app.
        """
        team_id, _, _ = self.require_installed()
        group = self.usergroups.get(_as_str(args.get("usergroup")) or "")
        if group is None or group.team_id != team_id:
            raise SlackError("no_such_subteam")
        if group.disabled and not is_truthy(args.get("include_disabled")):
            raise SlackError("no_such_subteam")
        return {"ok": True, "users": list(group.users)}

    def pins_add(self, args: Json) -> Json:
        """pins.add (the bot must be in the channel)."""
        channel = self.visible_channel(args.get("channel"))
        if channel.is_archived:
            raise SlackError("is_archived")
        if self.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")
        ts = _as_str(args.get("timestamp"))
        if not ts:
            raise SlackError("no_item_specified")
        if self.find_message(channel.id, ts) is None:
            raise SlackError("message_not_found")
        if ts in channel.pins:
            raise SlackError("already_pinned")
        channel.pins.append(ts)
        return {"ok": True}

    # ------------------------------------------------------------------ triggers and views

    def issue_trigger(self, user_id: str) -> str:
        """A fresh ``trigger_id`` for an interaction by ``user_id``."""
        number = self.next_id()
        digest = hashlib.sha1(f"trigger/{number}/{user_id}".encode()).hexdigest()[:24]
        trigger_id = f"{1_000_000 + number}.{int(self.wall_clock())}.{digest}"
        self.triggers[trigger_id] = Trigger(id=trigger_id, user_id=user_id, issued_at=self.clock())
        return trigger_id

    def consume_trigger(self, trigger_id: object) -> Trigger:
        """Exchange a trigger for a view: unknown, already used or older than the TTL fails like Slack."""
        trigger = self.triggers.get(_as_str(trigger_id) or "")
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def build_view(
        self, view_in: Json, *, view_id: str, user_id: str, root_view_id: str | None, previous_view_id: str | None
    ) -> Json:
        """A stored view object, with the fields Slack adds (id, hash, state, root/previous ids, ...)."""
        team_id, _, bot_id = self.require_installed()
        view: Json = {
            "id": view_id,
            "team_id": team_id,
            "type": view_in["type"],
            "blocks": with_generated_ids(view_in.get("blocks") or [], seed=f"{view_id}/{self.next_id()}"),
            "private_metadata": _as_str(view_in.get("private_metadata")) or "",
            "callback_id": _as_str(view_in.get("callback_id")) or "",
            "state": {"values": {}},
            "hash": self._hash(view_id),
            "clear_on_close": bool(view_in.get("clear_on_close", False)),
            "notify_on_close": bool(view_in.get("notify_on_close", False)),
            "close": view_in.get("close"),
            "submit": view_in.get("submit"),
            "root_view_id": root_view_id or view_id,
            "previous_view_id": previous_view_id,
            "app_id": self.app_id,
            "external_id": _as_str(view_in.get("external_id")) or "",
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
            "user_id": user_id,
        }
        if "title" in view_in:
            view["title"] = view_in["title"]
        if view_in.get("submit_disabled") is not None:
            view["submit_disabled"] = bool(view_in["submit_disabled"])
        return view

    @staticmethod
    def public_view(view: Json) -> Json:
        """A view as Slack shows it to the app (the owner is sandbox bookkeeping)."""
        return {k: copy.deepcopy(v) for k, v in view.items() if k != "user_id"}

    def _new_view_id(self) -> str:
        return f"V{self.next_id():04d}"

    def _check_external_id(self, view_in: Json, replacing: str | None = None) -> None:
        external_id = _as_str(view_in.get("external_id"))
        if not external_id:
            return
        for view_id, view in self.views.items():
            if view_id != replacing and view.get("external_id") == external_id and view_id not in self.closed_views:
                raise SlackError("duplicate_external_id")

    def open_modal(self, view_in: Json, user_id: str) -> Json:
        """Start a new modal stack for a user with this view."""
        view_id = self._new_view_id()
        view = self.build_view(view_in, view_id=view_id, user_id=user_id, root_view_id=None, previous_view_id=None)
        for old in self.stacks.get(user_id, []):
            self.closed_views.add(old)
        self.views[view_id] = view
        self.view_owner[view_id] = user_id
        self.stacks[user_id] = [view_id]
        return view

    def push_modal(self, view_in: Json, user_id: str) -> Json:
        """Push a view on top of a user's modal stack (at most 3 views)."""
        stack = self.stacks.setdefault(user_id, [])
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        previous = stack[-1] if stack else None
        root = self.views[stack[0]]["id"] if stack else None
        view_id = self._new_view_id()
        view = self.build_view(view_in, view_id=view_id, user_id=user_id, root_view_id=root, previous_view_id=previous)
        if previous is not None:
            keep_installation(view, self.views[previous])
        self.views[view_id] = view
        self.view_owner[view_id] = user_id
        stack.append(view_id)
        return view

    def replace_view(self, view_id: str, view_in: Json) -> Json:
        """Replace a view's content in place: same id, root and previous ids, a new hash and empty state."""
        old = self.views[view_id]
        if not view_in.get("external_id") and old.get("external_id"):
            # An update that does not restate the external_id keeps the one the view was opened with.
            view_in = {**view_in, "external_id": old["external_id"]}
        view = self.build_view(
            view_in,
            view_id=view_id,
            user_id=self.view_owner.get(view_id) or str(old.get("user_id", "")),
            root_view_id=old.get("root_view_id"),
            previous_view_id=old.get("previous_view_id"),
        )
        keep_installation(view, old)
        self.views[view_id] = view
        return view

    def close_view(self, view_id: str) -> None:
        """Close one view (it leaves its owner's stack)."""
        self.closed_views.add(view_id)
        owner = self.view_owner.get(view_id)
        if owner is not None and view_id in self.stacks.get(owner, []):
            self.stacks[owner].remove(view_id)

    def clear_views(self, user_id: str) -> None:
        """Close every modal view of a user."""
        for view_id in self.stacks.get(user_id, []):
            self.closed_views.add(view_id)
        self.stacks[user_id] = []

    def _modal_for_trigger(self, args: Json) -> tuple[Json, str]:
        """The modal ``args`` open or push, checked, and the user of its (now used) trigger_id."""
        view_in = self._view_arg(args.get("view"))
        if view_in.get("type") != "modal":
            raise SlackError("invalid_arguments", messages=["must be modal [json-pointer:/view/type]"])
        self._check_external_id(view_in)
        trigger = self.consume_trigger(args.get("trigger_id"))
        return view_in, trigger.user_id

    def views_open(self, args: Json) -> Json:
        """views.open: needs a fresh trigger_id; the view starts a new modal stack."""
        view_in, user_id = self._modal_for_trigger(args)
        return {"ok": True, "view": self.public_view(self.open_modal(view_in, user_id))}

    def views_push(self, args: Json) -> Json:
        """views.push: needs a fresh trigger_id; pushes onto the user's stack."""
        view_in, user_id = self._modal_for_trigger(args)
        return {"ok": True, "view": self.public_view(self.push_modal(view_in, user_id))}

    def views_update(self, args: Json) -> Json:
        """views.update by view_id or external_id, honouring ``hash``."""
        self.require_installed()
        view_id = _as_str(args.get("view_id"))
        external_id = _as_str(args.get("external_id"))
        if not view_id and not external_id:
            raise SlackError("invalid_arguments", messages=["either view_id or external_id is required"])
        if "view" not in args:
            raise SlackError("invalid_arguments", messages=["missing required field: view"])
        target: str | None = None
        if view_id:
            target = view_id if view_id in self.views else None
        else:
            for candidate, view in self.views.items():
                if view.get("external_id") == external_id and candidate not in self.closed_views:
                    target = candidate
        if target is None or target in self.closed_views:
            raise SlackError("not_found")
        expected = _as_str(args.get("hash"))
        if expected and expected != self.views[target]["hash"]:
            raise SlackError("hash_conflict")
        view_in = self._view_arg(args.get("view"))
        if view_in.get("type") != self.views[target]["type"]:
            raise SlackError("invalid_arguments", messages=["cannot change the view type [json-pointer:/view/type]"])
        self._check_external_id(view_in, replacing=target)
        return {"ok": True, "view": self.public_view(self.replace_view(target, view_in))}

    def views_publish(self, args: Json) -> Json:
        """views.publish: the user's Home tab."""
        self.require_installed()
        user_id = _as_str(args.get("user_id")) or ""
        self.user(user_id)
        view_in = self._view_arg(args.get("view"))
        if view_in.get("type") != "home":
            raise SlackError("invalid_arguments", messages=["must be home [json-pointer:/view/type]"])
        existing = self.homes.get(user_id)
        expected = _as_str(args.get("hash"))
        if existing is not None and expected and expected != self.views[existing]["hash"]:
            raise SlackError("hash_conflict")
        if existing is None:
            existing = self._new_view_id()
            self.views[existing] = self.build_view(
                view_in, view_id=existing, user_id=user_id, root_view_id=None, previous_view_id=None
            )
            self.view_owner[existing] = user_id
            self.homes[user_id] = existing
            view = self.views[existing]
        else:
            view = self.replace_view(existing, view_in)
        return {"ok": True, "view": self.public_view(view)}

    # ------------------------------------------------------------------ files

    def files_get_upload_url_external(self, args: Json) -> Json:
        """files.getUploadURLExternal: reserve a file id and an upload URL on the sandbox."""
        self.require_installed()
        filename = _as_str(args.get("filename")) or ""
        try:
            length = int(_as_str(args.get("length")) or "")
        except ValueError as exc:
            raise SlackError("invalid_arguments", messages=["length must be an integer [json-pointer:/length]"]) from exc
        if length < 0:
            raise SlackError("invalid_arguments", messages=["length must be positive [json-pointer:/length]"])
        number = self.next_id()
        file_id = f"F{number:08d}"
        token = hashlib.sha1(f"upload/{file_id}".encode()).hexdigest()[:20]
        self.files[file_id] = StoredFile(
            id=file_id, filename=filename, length=length, alt_txt=_as_str(args.get("alt_txt")), upload_token=token
        )
        self.upload_tokens[token] = file_id
        return {"ok": True, "upload_url": f"{self.public_url}upload/v1/{token}", "file_id": file_id}

    def receive_upload(self, token: str, content: bytes) -> tuple[int, str]:
        """The upload URL: store the bytes. Slack answers ``OK - <bytes>``."""
        file_id = self.upload_tokens.get(token)
        if file_id is None:
            return 404, "invalid_upload_url"
        self.files[file_id].content = content
        return 200, f"OK - {len(content)}"

    def file_object(self, stored: StoredFile) -> Json:
        """A file object as Slack returns it."""
        team_id, bot_user, _ = self.require_installed()
        team = self.teams[team_id]
        mimetype = mimetypes.guess_type(stored.filename)[0] or "application/octet-stream"
        return {
            "id": stored.id,
            "created": int(self.wall_clock()),
            "name": stored.filename,
            "title": stored.title or stored.filename,
            "mimetype": mimetype,
            "filetype": stored.filename.rsplit(".", 1)[-1].lower() if "." in stored.filename else "binary",
            "user": bot_user,
            "user_team": team_id,
            "size": len(stored.content or b""),
            "is_external": False,
            "url_private": f"https://files.slack.com/files-pri/{team_id}-{stored.id}/{stored.filename}",
            "permalink": f"https://{team.domain}.slack.com/files/{bot_user}/{stored.id}/{stored.filename}",
            "channels": list(stored.channels),
        }

    def files_complete_upload_external(self, args: Json) -> Json:
        """files.completeUploadExternal: finish uploads and share them into a channel as one message."""
        self.require_installed()
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments", messages=["files must be a non-empty array [json-pointer:/files]"])
        stored: list[StoredFile] = []
        for entry in entries:
            file_id = _as_str(entry.get("id")) if isinstance(entry, dict) else None
            item = self.files.get(file_id or "")
            if item is None or item.content is None:
                raise SlackError("file_not_found")
            stored.append(item)
        targets: list[str] = []
        if args.get("channel_id"):
            targets.append(_as_str(args["channel_id"]) or "")
        if args.get("channels"):
            targets.extend(c.strip() for c in (_as_str(args["channels"]) or "").split(",") if c.strip())
        channels = [self.postable_channel(target) for target in targets]
        blocks = self._blocks_arg(args.get("blocks"))
        for entry, item in zip(entries, stored, strict=True):
            assert isinstance(entry, dict)
            item.title = _as_str(entry.get("title")) or item.title
            item.completed = True
        for channel in channels:
            for item in stored:
                item.channels.append(channel.id)
            ts = self.next_ts()
            message = self.new_message(ts, text=args.get("initial_comment") or "", blocks=blocks)
            message["upload"] = True
            message["files"] = [self.file_object(item) for item in stored]
            self.store_message(channel, message, _as_str(args.get("thread_ts")))
        return {"ok": True, "files": [self.file_object(item) for item in stored]}

    # ------------------------------------------------------------------ response_url

    def issue_response_url(
        self, user_id: str, channel_id: str, *, source_ts: str | None, ephemeral: bool, team_id: str | None = None
    ) -> str:
        """A response_url for an interaction by ``user_id`` in ``channel_id``, answered by ``team_id``'s installation."""
        number = self.next_id()
        url_id = hashlib.sha1(f"response/{number}".encode()).hexdigest()[:16]
        self.response_urls[url_id] = ResponseUrl(
            id=url_id,
            user_id=user_id,
            channel_id=channel_id,
            issued_at=self.clock(),
            source_ts=source_ts,
            source_ephemeral=ephemeral,
            team_id=team_id,
        )
        return f"{self.public_url}response/{url_id}"

    def apply_reply(self, record: ResponseUrl, body: Json, *, count_use: bool = True) -> tuple[int, Json]:
        """Apply a response_url post (or a slash command's ack body) the way Slack shows it."""
        if count_use:
            if self.clock() - record.issued_at > self.response_url_ttl:
                return 404, {"ok": False, "error": "expired_url"}
            if record.uses >= self.response_url_uses:
                return 404, {"ok": False, "error": "used_up"}
            record.uses += 1
        try:
            blocks = self._blocks_arg(body.get("blocks"))
        except SlackError as exc:
            return 400, exc.body()
        text = body.get("text")
        source: Json | None = None
        if record.source_ts:
            if record.source_ephemeral:
                source = self.find_ephemeral(record.channel_id, record.source_ts)
            else:
                source = self.find_message(record.channel_id, record.source_ts)
        if is_truthy(body.get("delete_original")):
            if source is None:
                return 404, {"ok": False, "error": "message_not_found"}
            if record.source_ephemeral:
                self.ephemeral_log.remove(source)
            else:
                self.delete_message(record.channel_id, source)
            return 200, {"ok": True}
        try:
            self._check_message_content(text, blocks, body.get("attachments"))
        except SlackError as exc:
            return 400, exc.body()
        if is_truthy(body.get("replace_original")) and source is not None:
            source["text"] = _as_str(text) or ""
            if blocks is not None:
                source["blocks"] = with_generated_ids(blocks, seed=f"{source['ts']}/{self.next_id()}")
            else:
                source.pop("blocks", None)
            if not record.source_ephemeral:
                source["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
            return 200, {"ok": True}
        thread_ts = _as_str(body.get("thread_ts"))
        if body.get("response_type") == "in_channel":
            channel = self.channels.get(record.channel_id) or self.im_channel(record.user_id)
            message = self.new_message(self.next_ts(), text=text, blocks=blocks, attachments=body.get("attachments"))
            self.store_message(channel, message, thread_ts)
        else:
            self.add_ephemeral(record.channel_id, record.user_id, text=text, blocks=blocks, thread_ts=thread_ts)
        return 200, {"ok": True}

    def post_response_url(self, url_id: str, raw: bytes) -> tuple[int, Json, Json | None, ResponseUrl | None]:
        """Handle a POST to ``/response/<id>``: (status, answer, parsed body, record)."""
        record = self.response_urls.get(url_id)
        if record is None:
            return 404, {"ok": False, "error": "invalid_url"}, None, None
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, {"ok": False, "error": "invalid_payload"}, None, record
        if not isinstance(body, dict):
            return 400, {"ok": False, "error": "invalid_payload"}, None, record
        with self.acting_as(record.team_id):
            status, answer = self.apply_reply(record, body)
        return status, answer, body, record
