"""The heartbeat: one APScheduler job that calls ``tick`` every few seconds.

The database holds what is due (DESIGN 4.1), so the job store is in memory: there are no pickled jobs to
break on a rename and nothing shared between processes. Several processes may beat at once; row claims
make each piece of work happen once.
"""

from __future__ import annotations

import logging

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.container import Services
from bot.jobs import tick

logger = logging.getLogger(__name__)

HEARTBEAT_JOB_ID = "heartbeat"


def heartbeat(services: Services) -> None:
    """One beat: everything due by now."""
    report = tick(services, services.clock())
    if report.opened or report.closed or report.reminders or report.escalations or report.delivery.sent or report.failures:
        logger.info("heartbeat: %s", report.summary())


def _log_event(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_MISSED:
        logger.warning("heartbeat missed at %s (the process was busy); the next beat catches up", event.scheduled_run_time)
    elif event.exception is not None:
        logger.error("heartbeat failed: %r", event.exception)


def build_scheduler(services: Services) -> BackgroundScheduler:
    """A UTC scheduler with the heartbeat job; call ``start()`` and, on exit, ``shutdown()``."""
    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": services.settings.heartbeat_seconds},
    )
    scheduler.add_job(
        heartbeat,
        IntervalTrigger(seconds=services.settings.heartbeat_seconds),
        args=[services],
        id=HEARTBEAT_JOB_ID,
        replace_existing=True,
    )
    scheduler.add_listener(_log_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler
