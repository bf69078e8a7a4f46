"""What an acknowledgement may wait for: Slack wants it within 3 seconds, so a database read on the ack path is cut
off after ``ACK_DB_SECONDS``, and an ack function that refused a form tells its lazy functions so.

``within`` runs a check on a small pool of its own and waits at most the given time for it: a slow or unreachable
database costs the acknowledgement that long and no more (the check's thread finishes, or fails, on its own later).
The caller decides what "could not check in time" means for its form: usually close it and let the lazy function,
which checks again as it saves, tell the person what was wrong.

Bolt runs the lazy functions whatever the ack function answered; ``mark_refused`` records on the request that the
ack showed errors in the form (a header, so it reaches a lazy function in a worker process too) and
``ack_refused`` reads it there, so the lazy function neither saves nor tells the person twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: The longest an acknowledgement waits for a database read it can do without (a form's check).
ACK_DB_SECONDS = 1.0
#: The longest an acknowledgement waits for a lock or a statement of a write it cannot do without (a member event,
#: recorded before the answer): then it answers 500 and Slack retries. Longer than a read's, so that another writer
#: holding SQLite's write lock for a moment on a busy machine does not make Slack retry; within Slack's 3 seconds.
ACK_WRITE_SECONDS = 2.0
#: Threads for checks on the ack path; a check stuck on the database holds one until it gives up.
CHECK_THREADS = 4
#: The request header an ack function sets when it refused the request (see ``mark_refused``).
REFUSED_HEADER = "x-partnerpulse-ack-refused"

_checks = ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="ack-check")


def within(seconds: float, check: Callable[[], T], *, what: str) -> tuple[bool, T | None]:
    """``(True, check())`` when the check answered within ``seconds``; ``(False, None)`` when it did not, or failed
    (logged as ``what``). The check's exception is not raised: an acknowledgement never fails for a check."""
    future = _checks.submit(check)
    try:
        return True, future.result(timeout=seconds)
    except FutureTimeout:
        logger.warning("%s did not answer within %g s; acknowledging without it", what, seconds)
    except Exception as exc:  # noqa: BLE001 - any failure (database down) means "could not check"
        logger.warning("%s failed (%s); acknowledging without it", what, type(exc).__name__)
    return False, None


def mark_refused(request: Any) -> None:
    """Record on Bolt's ``request`` that its ack function refused it (errors shown in the form)."""
    request.headers[REFUSED_HEADER] = ["1"]


def ack_refused(request: Any) -> bool:
    """True in a lazy function when the request's ack function refused it (see ``mark_refused``)."""
    values = (getattr(request, "headers", None) or {}).get(REFUSED_HEADER) or []
    return "1" in values
