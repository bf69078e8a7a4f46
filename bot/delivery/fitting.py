"""A message Slack finds too long after all: posted as two, each half of its blocks.

The builders keep every message well inside Slack's limits (``bot.blocks.pulse.MAX_BLOCKS_PER_MESSAGE`` and
``MAX_MESSAGE_TEXT``), but Slack's limit on all block text together is not documented exactly. When Slack still
answers ``msg_blocks_too_long``, retrying the same message would fail forever; splitting it succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.blocks.pulse import Message
from bot.slack_client import error_code

logger = logging.getLogger(__name__)

#: Slack's answer for a message whose blocks hold too much text in all.
TOO_MUCH_TEXT = "msg_blocks_too_long"

CONTINUED = "(continued)"
#: Posts one message (into ``thread_ts``'s thread when given) and returns its ts.
Post = Callable[[Message, str | None], str]


def post_fitting(post: Post, message: Message, thread_ts: str | None) -> str:
    """``post(message, thread_ts)``; when Slack answers ``msg_blocks_too_long`` for a message of several blocks,
    its first half of blocks is posted where the message would have gone and the second half in the first's thread
    (or in ``thread_ts``'s), each halved again while needed. Returns the ts of the first message posted.

    Raises:
        SlackApiError: any other error, or ``msg_blocks_too_long`` for a single block (nothing left to split).
    """
    try:
        return post(message, thread_ts)
    except SlackApiError as exc:
        if error_code(exc) != TOO_MUCH_TEXT or len(message.blocks) < 2:
            raise
    half = len(message.blocks) // 2
    logger.info("Slack found a message of %s blocks too long; posting it as two", len(message.blocks))
    ts = post_fitting(post, Message(text=message.text, blocks=message.blocks[:half]), thread_ts)
    rest = message.text if message.text.endswith(CONTINUED) else f"{message.text} {CONTINUED}"
    post_fitting(post, Message(text=rest, blocks=message.blocks[half:]), thread_ts or ts)
    return ts
