"""Sending a message meant for one person: a direct message from the app where it can, an ephemeral where not.

Reminders, early-warning signals, overdue-action nags and the owner's level-1 escalation nudge are for one person
(``bot.services.recipients`` says who and how). A message from the app notifies and stays; an ephemeral does neither
(it vanishes on reload and across devices), so it is only for people the app cannot message: the other
organisation's people in a Slack Connect channel.

chat.postMessage to a user id posts in the person's direct messages with the app with ``chat:write`` alone (no
``im:write`` or conversations.open), given the Messages tab (``features.app_home.messages_tab_enabled``).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.pulse import Message
from bot.services.recipients import Recipient
from bot.slack_client import ErrorKind, classify, error_code

logger = logging.getLogger(__name__)


class Pacing(Protocol):
    """What of ``delivery.Pacer`` this needs: wait before a call, and note a posted message."""

    def wait(self, method: str, workspace: str, channel: str) -> float: ...
    def posted(self, channel: str) -> None: ...


#: Direct-message failures after which the ephemeral is tried: the DM cannot reach the person (no such DM, not of
#: our organisation, gone) or failed for a reason of its own. A rate limit or a rejected token would fail the
#: ephemeral alike, so those are raised for the sender's usual handling.
_TRY_EPHEMERAL = frozenset({ErrorKind.CHANNEL_GONE, ErrorKind.RECIPIENT_GONE, ErrorKind.OTHER})


def send_privately(
    client: WebClient,
    pacer: Pacing,
    *,
    team: str,
    channel_id: str,
    to: Recipient,
    message: Message,
    metadata: dict[str, Any] | None = None,
) -> str | None:
    """Send ``message`` to ``to`` alone; returns the ``ts`` Slack gave it (the ephemeral's ``message_ts``).

    ``to.direct``: a DM from the app, and if Slack refuses it, the ephemeral in ``channel_id`` (the partnership's
    channel). Otherwise the ephemeral; if Slack answers ``user_not_in_channel`` (the person left the channel) a DM is
    tried, which reaches people of our organisation whose home team we did not know. When both fail the
    ephemeral's error is raised: the sender drops the message for ``user_not_in_channel`` and pauses the
    partnership for a channel that is gone, as for any channel message. A DM's own failure never pauses anything.
    ``metadata`` goes with a DM (an ephemeral cannot carry it), so a repeated message can be recognised.
    """
    if to.direct:
        try:
            return _direct(client, pacer, team=team, to=to, message=message, metadata=metadata)
        except SlackApiError as exc:
            if classify(error_code(exc)) not in _TRY_EPHEMERAL:
                raise
            logger.info("direct message to %s refused (%s); sending it as an ephemeral", to.user_id, error_code(exc))
        return _ephemeral(client, pacer, team=team, channel_id=channel_id, to=to, message=message)
    try:
        return _ephemeral(client, pacer, team=team, channel_id=channel_id, to=to, message=message)
    except SlackApiError as exc:
        if error_code(exc) != "user_not_in_channel":
            raise
        try:
            return _direct(client, pacer, team=team, to=to, message=message, metadata=metadata)
        except SlackApiError:
            raise exc from None  # not ours to message either: the ephemeral's answer decides (dropped)


class _Unpaced:
    """Replies to one request go at once: Slack's limits bind fan-out, which the outbox sender paces."""

    def wait(self, method: str, workspace: str, channel: str) -> float:
        return 0.0

    def posted(self, channel: str) -> None:
        return None


def ephemeral_else_direct(client: WebClient, *, channel_id: str, user_id: str, message: Message) -> None:
    """A reply to a request only ``user_id`` sees: an ephemeral in the channel they acted on or for, and when Slack
    answers ``user_not_in_channel`` (they left it, or acted from the app's direct messages) a message from the app,
    by the same rule as :func:`send_privately`. Raises the ephemeral's error when neither reaches them."""
    # The time zone is not used for a reply; a Recipient needs one.
    to = Recipient(user_id=user_id, direct=False, timezone="UTC")
    send_privately(client, _Unpaced(), team="", channel_id=channel_id, to=to, message=message)


#: One lock per person: their direct messages go out one at a time. The sender's workers are per channel, and one
#: person's reminders from several partnerships come from several workers; paced but concurrent, two of them could
#: reach Slack less than a second apart (one message per second per conversation) and meet a 429.
_dm_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_dm_locks_guard = threading.Lock()


def _dm_lock(user_id: str) -> threading.Lock:
    with _dm_locks_guard:
        return _dm_locks[user_id]


def _direct(
    client: WebClient, pacer: Pacing, *, team: str, to: Recipient, message: Message, metadata: dict[str, Any] | None
) -> str | None:
    with _dm_lock(to.user_id):
        pacer.wait("chat.postMessage", team, to.user_id)
        resp = client.chat_postMessage(
            channel=to.user_id,
            text=message.text,
            blocks=message.blocks,
            metadata=metadata,
            unfurl_links=False,
            unfurl_media=False,
        )
        pacer.posted(to.user_id)
    return str(resp.get("ts") or "") or None


def _ephemeral(
    client: WebClient, pacer: Pacing, *, team: str, channel_id: str, to: Recipient, message: Message
) -> str | None:
    pacer.wait("chat.postEphemeral", team, channel_id)
    resp = client.chat_postEphemeral(channel=channel_id, user=to.user_id, text=message.text, blocks=message.blocks)
    return str(resp.get("message_ts") or "") or None
