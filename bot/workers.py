"""Where post-ack work runs: worker processes, so the serving process only acknowledges.

Slack wants an acknowledgement within 3 seconds, and every acknowledgement waits for the serving process's GIL.
With the slow part of each request (database, Slack calls, Block Kit) in the same process, acknowledgements queue
behind it under load. So in production the serving process hands each lazy listener (see bot/after_ack.py) to a
pool of worker processes, as data: the request's raw body and headers and the name of the lazy function. A worker
rebuilds the request and dispatches it through its own Bolt app in lazy-only mode, exactly as Bolt's FaaS adapters
re-invoke a function: Bolt skips the ack function and runs only the named lazy function. The worker's app does not
verify signatures again; the request never left this machine's pipes after the serving process verified it.

Each worker runs its tasks on a thread pool (the work waits on Slack and the database most of the time) and, by
default, at Linux's idle scheduling priority: it gets every CPU cycle the serving process does not want, and yields
the moment an acknowledgement needs one. On a host shared with other busy services, where idle-priority work could
starve, choose ``PARTNERPULSE_WORKER_PRIORITY=low`` (nice 10) or ``normal``.

A worker never outlives the serving process: when that dies, even by ``kill -9``, each worker finishes the tasks it
holds and exits (see :func:`exit_with_parent`); the multiprocessing resource tracker follows once no worker is left.
SIGTERM to a worker (systemd stopping the whole service) also lets it finish the tasks it holds first.

``PARTNERPULSE_WORKER_PROCESSES=0`` runs lazy functions on threads in the serving process instead (what the tests
and the demo do, with a clock they control; the listener code is the same).
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.lazy_listener import LazyListenerRunner
from slack_bolt.util.utils import get_name_for_callable

from bot.after_ack import runs_first

logger = logging.getLogger(__name__)

#: The nice value of workers at ``PARTNERPULSE_WORKER_PRIORITY=low``.
LOW_PRIORITY_NICENESS = 10
_STOP = None
#: How often the pool checks that its workers are alive.
WATCHDOG_SECONDS = 1.0
#: How long ``start`` waits for the workers to be ready (imports, database, app) before serving anyway.
READY_SECONDS = 60.0
#: Linux's prctl option asking for a signal when the parent process dies.
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class LazyTask:
    """One lazy listener function to run for one request, in a form that crosses a process boundary."""

    function: str
    body: str | dict[str, Any]
    headers: dict[str, Any]
    mode: str
    #: Opens a modal (``bot.after_ack.opens_modal``): the worker runs it on its modal lane, ahead of other work.
    first: bool = False

    def to_request(self) -> BoltRequest:
        headers = {**self.headers, "x-slack-bolt-lazy-only": ["1"], "x-slack-bolt-lazy-function-name": [self.function]}
        return BoltRequest(body=self.body, headers=headers, mode=self.mode)


def task_for(function: Callable[..., None] | str, request: BoltRequest) -> LazyTask:
    """The task running ``function`` (or the function of that name) for ``request`` (HTTP keeps the raw body,
    signed; Socket Mode the payload)."""
    body: str | dict[str, Any] = request.raw_body if request.mode == "http" else request.body
    return LazyTask(
        function=function if isinstance(function, str) else get_name_for_callable(function),
        body=body,
        headers=dict(request.headers),
        mode=request.mode,
        first=not isinstance(function, str) and runs_first(function, request.body),
    )


class WorkerPool:
    """Worker processes, each fed through its own queue in turn, and a watchdog that replaces a worker that died.

    ``submit`` never blocks the acknowledging thread: a queue buffers in this process and a feeder thread writes
    to the worker's pipe (a bounded OS buffer that fills whenever the worker is busy). Each worker has its own
    queue because a process killed while waiting on a shared queue keeps its lock for ever; a dead worker's
    queue goes with it (with any work still in it: such work was acknowledged, and is lost as it would be if
    the whole server died).
    """

    def __init__(self, processes: int, threads: int, log_level: str) -> None:
        self._ctx = get_context("spawn")
        self._threads, self._log_level = threads, log_level
        self._workers: list[tuple[BaseProcess, Any]] = []
        self._ready: dict[int, Any] = {}  # each worker's "ready" event, by index
        self._size = processes
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # The watchdog thread lives until ``close`` has finished: Linux signals a worker when the thread that started
        # it ends (PR_SET_PDEATHSIG), and the workers this thread started must still drain their queues then.
        self._closed = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="worker-watchdog", daemon=True)

    def start(self, ready_timeout: float = READY_SECONDS) -> WorkerPool:
        """Start the workers and wait until each is ready, so the first clicks after the server starts listening
        do not wait for a worker's start-up (a modal's trigger id is valid for 3 seconds only). Call it from a thread
        that lives as long as the pool: on Linux a worker is told to stop when the thread that started it ends."""
        with self._lock:
            while len(self._workers) < self._size:
                self._workers.append(self._spawn(len(self._workers)))
        self.wait_ready(ready_timeout)
        self._watchdog.start()
        return self

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every worker to be ready; False (and a warning) when one is not."""
        deadline = time.monotonic() + timeout
        for index, event in sorted(self._ready.items()):
            if not event.wait(max(0.0, deadline - time.monotonic())):
                logger.warning("worker %s is not ready after %g s; serving anyway", index, timeout)
                return False
        return True

    def _spawn(self, index: int) -> tuple[BaseProcess, Any]:
        queue = self._ctx.Queue()
        ready = self._ctx.Event()
        proc = self._ctx.Process(
            target=worker_main,
            args=(queue, self._threads, self._log_level, ready),
            name=f"partnerpulse-worker-{index}",
        )
        proc.start()
        self._ready[index] = ready
        return proc, queue

    @property
    def processes(self) -> list[BaseProcess]:
        return [proc for proc, _ in self._workers]

    def submit(self, task: LazyTask) -> None:
        workers = self._workers
        workers[next(self._turn) % len(workers)][1].put(task)

    def _watch(self, interval: float = WATCHDOG_SECONDS) -> None:
        while not self._closed.wait(interval):
            self.replace_dead()

    def replace_dead(self) -> int:
        """Start a new worker for each one that exited; returns how many were replaced."""
        replaced = 0
        with self._lock:
            if self._stopping.is_set():
                return 0
            workers = list(self._workers)
            for i, (proc, queue) in enumerate(workers):
                if not proc.is_alive():
                    logger.error("worker %s exited (code %s); starting a new one", proc.name, proc.exitcode)
                    queue.cancel_join_thread()  # nobody reads it any more: never wait for its feeder at exit
                    queue.close()
                    workers[i] = self._spawn(i)
                    replaced += 1
            self._workers = workers  # one assignment: ``submit`` reads the list without the lock
        return replaced

    def close(self, timeout: float = 30.0) -> None:
        """Let the workers finish what they have, then stop them."""
        self._stopping.set()
        with self._lock:
            for _, queue in self._workers:
                queue.put(_STOP)
            for proc, queue in self._workers:
                proc.join(timeout)
                if proc.is_alive():  # SIGTERM would only ask it to finish its tasks, which it has not done
                    logger.warning("worker %s did not stop within %g s; killing it", proc.name, timeout)
                    proc.kill()
                queue.close()
            self._workers = []
        self._closed.set()


class ProcessLazyListenerRunner(LazyListenerRunner):
    """Bolt's lazy-listener hook: ``start`` sends the work to the worker pool instead of a local thread."""

    def __init__(self, pool: WorkerPool, logger_: logging.Logger) -> None:
        self.pool, self.logger = pool, logger_

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        self.pool.submit(task_for(function, request))


def use_worker_pool(app: App, pool: WorkerPool) -> None:
    """Make ``app`` run its lazy listener functions in ``pool``."""
    runner = app.listener_runner
    runner.lazy_listener_runner = ProcessLazyListenerRunner(pool, logger)

    # Before calling the lazy runner, Bolt deep-copies the request and parses its body again (about 0.3 ms of the
    # serving process's CPU per request, more than the rest of the ack) so that a thread can own the copy. A
    # hand-off to another process serialises the raw body instead and needs no copy, so skip it. Should Bolt
    # rename this internal method, the override goes unused and the public hook above still hands work over.
    def hand_off(function: Callable[..., None], request: BoltRequest) -> None:
        pool.submit(task_for(function, request))

    runner._start_lazy_function = hand_off  # type: ignore[method-assign,assignment]


def dispatch(app: App, task: LazyTask) -> None:
    """Run one task through ``app`` (lazy-only: the ack function does not run again)."""
    try:
        response = app.dispatch(task.to_request())
        if response.status != 200:
            logger.error("lazy function %s was not dispatched (status %s)", task.function, response.status)
    except Exception:
        logger.exception("lazy function %s failed", task.function)


def lower_priority(priority: str) -> None:
    """Lower this thread's CPU priority (threads started afterwards inherit it), as far as the platform allows."""
    try:
        if priority == "idle" and hasattr(os, "SCHED_IDLE"):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        elif priority in ("idle", "low"):
            os.nice(LOW_PRIORITY_NICENESS)
    except OSError as exc:
        logger.warning("could not lower the worker's priority (%s); it runs at normal priority", exc)


def finish_on_sigterm() -> None:
    """Make SIGTERM stop this worker's loop (SystemExit in the main thread) so it finishes the tasks it holds.

    Later SIGTERMs are ignored: the parent's death is reported twice (prctl and the watcher thread), and a second
    SystemExit would cut that wind-down short. The pool kills a worker that does not stop in time.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def exit_with_parent() -> None:
    """SIGTERM this worker when the process that started it dies, however it dies (kill -9, the OOM killer).

    On Linux the kernel sends it at once (``prctl(PR_SET_PDEATHSIG)``). Everywhere, a thread also waits on the pipe
    whose write end only the parent holds (multiprocessing's parent sentinel): end-of-file means the parent is gone,
    including when it died before the prctl call. Without these, workers lived on after their server, holding
    database connections and the multiprocessing resource tracker.
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return  # not started by a pool (a test calling worker_main directly)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError) as exc:  # the watcher thread below still covers it
            logger.debug("prctl(PR_SET_PDEATHSIG) unavailable: %s", exc)

    def watch(sentinel: int, parent_pid: int | None) -> None:
        multiprocessing.connection.wait([sentinel])
        logger.warning("the serving process (pid %s) is gone; this worker finishes its tasks and exits", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, args=(parent.sentinel, parent.pid), name="parent-watch", daemon=True).start()


def worker_main(queue: Any, threads: int, log_level: str, ready: Any = None) -> None:
    """A worker process: build the services and a worker app from the environment, say it is ``ready`` (an event),
    then run tasks until told to stop (a ``_STOP`` in its queue, SIGTERM, or the serving process's death)."""
    finish_on_sigterm()
    exit_with_parent()
    from bot.after_ack import MODAL_THREADS
    from bot.app import create_app
    from bot.cli import configure_logging
    from bot.cli_serving import freeze_startup_objects
    from bot.container import build_services
    from bot.settings import Settings

    configure_logging(log_level)
    settings = Settings.load()
    lower_priority(settings.worker_priority)
    services = build_services(settings, prepare=False)
    app = create_app(settings, services, worker=True)
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="worker")
    # A trigger id is valid for 3 seconds: modals open on threads of their own, never behind slow work.
    modal_lane = ThreadPoolExecutor(max_workers=MODAL_THREADS, thread_name_prefix="worker-modal")
    freeze_startup_objects()
    if ready is not None:
        ready.set()
    try:
        while (task := queue.get()) is not _STOP:
            (modal_lane if task.first else pool).submit(dispatch, app, task)
    except KeyboardInterrupt:
        pass
    finally:
        modal_lane.shutdown(wait=True)
        pool.shutdown(wait=True)
        services.engine.dispose()
