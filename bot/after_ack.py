"""Work that follows an acknowledgement: Bolt's lazy listeners, guarded so every failure reaches the user.

Each listener is split in two (Bolt's ``ack=`` / ``lazy=`` form). The ack function runs on the request's thread:
it parses, validates what a form can show inline, and acknowledges. The lazy functions do the slow part (the
database, Slack calls) after the response has gone. Where lazy functions run is the app's choice (bot/workers.py):
a thread pool in the serving process, or worker processes, so slow work never holds the serving process's GIL.

``after_ack`` wraps a lazy function: a DomainError's message goes to the user as it is; any other failure is
logged with a reference and the user is told that reference (and, for a form, that it was not saved). Bolt's
own wrapper would only log a line. ``tell_user`` finds the person from the payload alone, so a failure with the
database down still reaches them.

A guarded function sends the outbox rows its own request queued and nothing else: every unit of work committed
inside it notes its queued rows (``storage.queued_outbox``); a handler sends them where its reply needs them sent
(``sender.deliver_queued()``), and whatever is still unsent when it returns goes then, even after a failure.
Everything else is the background sender's.

``opens_modal`` marks a lazy function that opens a modal: its trigger id is valid for 3 seconds, so the app runs
it on a lane of its own (bot/app.py, bot/workers.py) that slow post-ack work elsewhere never holds up.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.blocks.common import build_error
from bot.blocks.pulse import Message
from bot.services.errors import DomainError
from storage import queued_outbox

logger = logging.getLogger(__name__)

LazyFunction = Callable[..., None]
#: Threads that only open modals (``opens_modal``; bot/app.py, bot/workers.py): each holds a click for the few
#: milliseconds of views.open and the database reads that fill the modal.
MODAL_THREADS = 4
#: The attribute ``opens_modal`` sets: True, or a test of the request body.
OPENS_MODAL = "partnerpulse_opens_modal"


def opens_modal(func: LazyFunction | None = None, *, when: Callable[[dict[str, Any]], bool] | None = None) -> Any:
    """Mark a lazy function (or a /partner subcommand's handler) that opens a modal from the request's trigger id.

    ``@opens_modal`` always; ``@opens_modal(when=test)`` for a function that opens one only for some requests
    (``test(body)``, which must be quick and must not touch the database or Slack).
    """

    def mark(f: LazyFunction) -> LazyFunction:
        setattr(f, OPENS_MODAL, when if when is not None else True)
        return f

    return mark(func) if func is not None else mark


def runs_first(function: Callable[..., Any] | None, body: Any) -> bool:
    """True when ``function`` opens a modal for this request body (see ``opens_modal``)."""
    marked = getattr(function, OPENS_MODAL, False)
    if callable(marked):
        try:
            return bool(marked(body if isinstance(body, dict) else {}))
        except Exception:  # noqa: BLE001 - a test that fails only loses the priority, never the work
            logger.warning("could not tell whether %r opens a modal", function)
            return False
    return bool(marked)


def _user_id(body: dict[str, Any]) -> str | None:
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    return str(user) if user else None


def _channel_id(body: dict[str, Any]) -> str | None:
    """The channel the person acted in: from the payload, else any form metadata that carries a ``channel_id``.

    The metadata is read loosely (any object with a string ``channel_id``), so every form's metadata type
    works here without this module knowing it; a form whose metadata names no channel gets None.
    """
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    if channel:
        return str(channel)
    raw = (body.get("view") or {}).get("private_metadata")
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    value = data.get("channel_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def _respond(respond: Any, message: Message) -> bool:
    """Reply through the response_url; False when Slack refused it (used up, expired) or could not be reached."""
    try:
        answer = respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=False)
    except (SlackClientError, OSError) as exc:
        logger.info("response_url failed (%s); trying chat.postEphemeral", exc)
        return False
    status = getattr(answer, "status_code", 200)
    if status != 200:
        logger.info("response_url answered %s (%s); trying chat.postEphemeral", status, getattr(answer, "body", ""))
        return False
    return True


def tell_user(body: dict[str, Any], respond: Any, client: WebClient | None, text: str) -> None:
    """A warning to the person who asked, by the first way that works: the response_url, an ephemeral in the
    channel they acted in, a direct message from the app. Only when all fail is it just logged."""
    message = build_error(text)
    if body.get("response_url") and respond is not None and _respond(respond, message):
        return
    user = _user_id(body)
    if client is None or user is None:
        logger.warning("could not tell the user: %s", text)
        return
    if (channel := _channel_id(body)) is not None:
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=message.text, blocks=message.blocks)
            return
        except (SlackClientError, OSError) as exc:
            logger.info("chat.postEphemeral to %s in %s failed (%s); trying a direct message", user, channel, exc)
    try:
        # A DM from the app works for the installing organisation's people; another organisation's fail here.
        client.chat_postMessage(channel=user, text=message.text, blocks=message.blocks)
    except (SlackClientError, OSError) as exc:
        logger.warning("could not tell the user %s (%s): %s", user, exc, text)


def _failure_text(body: dict[str, Any], reference: str, exc: Exception) -> str:
    """What the person reads about an unexpected failure. A form's submission that failed outside Slack (the
    database, a bug) stored nothing, since each save is one transaction: say so, the modal has closed."""
    text = f"Something went wrong on our side (reference `{reference}`). Please try again in a minute."
    if body.get("type") == "view_submission" and not isinstance(exc, (SlackClientError, OSError)):
        return f"Your answers were not saved: {text}"
    return text


def after_ack(func: LazyFunction) -> LazyFunction:
    """Guard a lazy listener function.

    Bolt injects arguments by the names the function declares (``functools.wraps`` keeps them visible), so a
    guarded function declares ``body``, and ``client`` and ``respond`` where it wants failures reported.
    """

    @functools.wraps(func)
    def guarded(**kwargs: Any) -> None:
        with queued_outbox.collecting():
            _run(func, kwargs)
            _send_queued(kwargs)

    return guarded


def _send_queued(kwargs: dict[str, Any]) -> None:
    """Send what the request queued and has not sent yet; on failure the background sender sends it."""
    context = kwargs.get("context")
    services = kwargs.get("services") or (context.get("services") if context is not None else None)
    if services is None:  # a function with no services queues nothing
        return
    try:
        services.sender.deliver_queued()
    except Exception:  # noqa: BLE001 - the rows stay pending for the background sender
        logger.exception("could not send what the request queued; the background sender will")


def _run(func: LazyFunction, kwargs: dict[str, Any]) -> None:
    """Run the guarded function; a failure reaches the person who asked."""
    body, respond, client = kwargs.get("body") or {}, kwargs.get("respond"), kwargs.get("client")
    try:
        func(**kwargs)
    except DomainError as exc:
        tell_user(body, respond, client, str(exc))
    except Exception as exc:
        reference = uuid.uuid4().hex[:8]
        logger.exception("%s failed after the ack (reference %s)", func.__name__, reference)
        try:
            tell_user(body, respond, client, _failure_text(body, reference, exc))
        except Exception:  # noqa: BLE001 - telling the user is best effort; the failure is logged above
            logger.warning("could not tell the user about failure %s", reference)
