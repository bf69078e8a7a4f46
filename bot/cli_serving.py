"""The commands that run the bot (``run``, ``serve``, ``tick``), manage its schema (``db``) or run the demo, and
the process start-up and shutdown they share (worker processes, SIGTERM, the garbage collector)."""

from __future__ import annotations

import argparse
import gc
import signal
from types import FrameType
from typing import Any

from bot.cli_checks import CommandFailed
from bot.settings import Settings


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, handler)


def freeze_startup_objects() -> None:
    """Keep the ~100,000 objects made at start (modules, SQLAlchemy, Bolt) out of the garbage collector's scans.

    A full collection over them takes about 60 ms on a CI machine, and one lands on some request's thread now and
    then: a 60 ms acknowledgement. Frozen objects are never scanned (nor freed, which start-up objects never are).
    """
    gc.collect()
    gc.freeze()


def start_workers(settings: Settings, app: Any) -> Any:
    """Worker processes for post-ack work (bot/workers.py), unless PARTNERPULSE_WORKER_PROCESSES is 0."""
    from bot.workers import WorkerPool, use_worker_pool

    if settings.worker_processes == 0:
        return None
    pool = WorkerPool(settings.worker_processes, settings.worker_threads, settings.log_level).start()
    use_worker_pool(app, pool)
    return pool


def stop_workers(pool: Any, app: Any) -> None:
    """Finish post-ack work that was handed over (in worker processes, or on the app's own threads)."""
    if pool is not None:
        pool.close()
    app.listener_runner.listener_executor.shutdown(wait=True)


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from storage import migrate

    migrate.upgrade(settings.database_url)
    print(f"database at revision {migrate.head_revision()}")
    return 0


def cmd_db_revision(settings: Settings, args: argparse.Namespace) -> int:
    from storage import migrate

    migrate.new_revision(settings.database_url, args.message)
    return 0


def cmd_tick(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import SettableClock, utcnow
    from bot.container import build_services
    from bot.jobs import tick

    at = args.at or utcnow()
    services = build_services(settings, clock=SettableClock(at))
    report = tick(services, at)
    print(f"tick at {at.isoformat()}: {report.summary()}")
    return 1 if report.failures else 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import create_app
    from bot.container import build_services
    from bot.http import make_server
    from bot.kpi_api import api_routes
    from bot.scheduler import build_scheduler

    services = build_services(settings)
    app = create_app(settings, services)
    workers = start_workers(settings, app)
    server = make_server(
        app,
        services.engine,
        signing_secret=settings.secret("slack_signing_secret"),
        host=args.host or settings.http_host,
        port=args.port if args.port is not None else settings.http_port,
        threads=settings.http_threads,
        routes=api_routes(services.uow_factory, services.clock),
    )
    scheduler = build_scheduler(services) if not args.no_heartbeat else None
    if scheduler:
        scheduler.start()
    _stop_on_sigterm()
    freeze_startup_objects()
    print(f"PartnerPulse listening on http://{server.effective_host}:{server.effective_port}/slack/events", flush=True)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler:
            scheduler.shutdown(wait=False)
        server.close()
        stop_workers(workers, app)
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if settings.oauth_enabled:
        raise CommandFailed(
            "installing by OAuth (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set) needs `partnerpulse serve`: the install "
            "pages are served over HTTP; Socket Mode is for one workspace with SLACK_BOT_TOKEN",
            "run",
        )

    from bot.app import create_app
    from bot.container import build_services
    from bot.scheduler import build_scheduler

    services = build_services(settings)
    app = create_app(settings, services, socket_mode=True)
    workers = start_workers(settings, app)
    scheduler = build_scheduler(services)
    scheduler.start()
    _stop_on_sigterm()
    freeze_startup_objects()
    try:
        SocketModeHandler(app, settings.secret("slack_app_token")).start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        scheduler.shutdown(wait=False)
        stop_workers(workers, app)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return run_demo(output_dir=args.output, weeks=args.weeks, verbose=args.verbose, both_installed=args.both_installed)
