"""Work that follows an acknowledgement runs here, not on Bolt's listener threads.

Bolt calls ``ack()`` from its listener pool, so a listener that keeps its thread for slow work (Slack calls,
the database) delays the acknowledgement of every request queued behind it. Listeners therefore ack, then
hand the rest to this bounded pool; the listener threads stay free to acknowledge within Slack's 3 seconds.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.services.errors import DomainError

logger = logging.getLogger(__name__)

Notify = Callable[[str], None]


class AfterAck:
    """A bounded pool for post-acknowledgement work, with one place that reports its failures."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="after-ack")

    def run(self, work: Callable[[], None], *, notify: Notify | None = None) -> None:
        """Run ``work`` soon.

        A DomainError's message goes to the user through ``notify`` as it is; an unexpected failure is logged
        with a reference, and the user is told that reference.
        """
        self._pool.submit(self._guarded, work, notify)

    @staticmethod
    def _guarded(work: Callable[[], None], notify: Notify | None) -> None:
        try:
            work()
        except DomainError as exc:
            if notify is not None:
                notify(str(exc))
        except Exception:
            reference = uuid.uuid4().hex[:8]
            logger.exception("work after ack failed (reference %s)", reference)
            if notify is not None:
                try:
                    notify(f"Something went wrong on our side (reference `{reference}`). Please try again in a minute.")
                except Exception:  # noqa: BLE001 - telling the user is best effort; the failure is logged above
                    logger.warning("could not tell the user about failure %s", reference)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)
