"""Work that follows an acknowledgement: Bolt's lazy listeners, guarded so every failure reaches the user.

Each listener is split in two (Bolt's ``ack=`` / ``lazy=`` form). The ack function runs on the request's thread:
it parses, validates what a form can show inline, and acknowledges. The lazy functions do the slow part (the
database, Slack calls) after the response has gone. Where lazy functions run is the app's choice (bot/workers.py):
a thread pool in the serving process, or worker processes, so slow work never holds the serving process's GIL.

``after_ack`` wraps a lazy function: a DomainError's message goes to the user as it is; any other failure is
logged with a reference and the user is told that reference. Bolt's own wrapper would only log a line.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.blocks.common import build_error
from bot.blocks.metadata import ChannelRef, MetadataError, decode
from bot.services.errors import DomainError

logger = logging.getLogger(__name__)

LazyFunction = Callable[..., None]


def _where(body: dict[str, Any]) -> tuple[str, str] | None:
    """(channel, user) to tell about a failure when there is no response_url (modal submissions)."""
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    if channel is None and (view := body.get("view")):
        try:
            channel = decode(view.get("private_metadata"), ChannelRef).channel_id
        except MetadataError:
            channel = None
    return (str(channel), str(user)) if channel and user else None


def tell_user(body: dict[str, Any], respond: Any, client: WebClient | None, text: str) -> None:
    """An ephemeral warning to the person who asked: through the response_url, else chat.postEphemeral."""
    message = build_error(text)
    if body.get("response_url") and respond is not None:
        respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)
    elif client is not None and (where := _where(body)) is not None:
        client.chat_postEphemeral(channel=where[0], user=where[1], text=message.text, blocks=message.blocks)
    else:
        logger.warning("could not tell the user: %s", text)


def after_ack(func: LazyFunction) -> LazyFunction:
    """Guard a lazy listener function.

    Bolt injects arguments by the names the function declares (``functools.wraps`` keeps them visible), so a
    guarded function declares ``body``, and ``client`` and ``respond`` where it wants failures reported.
    """

    @functools.wraps(func)
    def guarded(**kwargs: Any) -> None:
        body, respond, client = kwargs.get("body") or {}, kwargs.get("respond"), kwargs.get("client")
        try:
            func(**kwargs)
        except DomainError as exc:
            tell_user(body, respond, client, str(exc))
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("%s failed after the ack (reference %s)", func.__name__, reference)
            try:
                tell_user(
                    body,
                    respond,
                    client,
                    f"Something went wrong on our side (reference `{reference}`). Please try again in a minute.",
                )
            except Exception:  # noqa: BLE001 - telling the user is best effort; the failure is logged above
                logger.warning("could not tell the user about failure %s", reference)

    return guarded
