"""Post-ack work in worker processes (bot/workers.py): the production path of ``partnerpulse serve`` and ``run``."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from bot.harness import SANDBOX_SECRET_KEY, LocalStack
from bot.workers import LazyTask, WorkerPool, task_for, use_worker_pool
from tests.helpers import setup_partnership, wait_for


def _status_replies(stack: LocalStack) -> list[str]:
    return [
        json.dumps(p.body) for p in stack.sandbox.response_url_posts if "· status" in json.dumps(p.body, ensure_ascii=False)
    ]


@pytest.fixture
def worker_pool(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> WorkerPool:
    """One worker process, configured from the environment as in production, serving the stack's app."""
    settings = stack.settings
    for name, value in {
        "SLACK_BOT_TOKEN": stack.sandbox.bot_token,
        "SLACK_SIGNING_SECRET": stack.sandbox.signing_secret,
        "SLACK_API_URL": stack.sandbox.api_url,
        "PARTNERPULSE_SECRET_KEY": SANDBOX_SECRET_KEY,
        "DATABASE_URL": settings.database_url,
    }.items():
        monkeypatch.setenv(name, value)
    pool = WorkerPool(1, threads=2, log_level="WARNING").start()
    use_worker_pool(stack.app, pool)
    yield pool
    pool.close()


def test_task_carries_the_signed_raw_body_and_runs_only_the_named_function() -> None:
    from slack_bolt import BoltRequest

    raw = "token=x&team_id=T1&user_id=U1&command=%2Fpartner&text=status&channel_id=C1"
    request = BoltRequest(body=raw, headers={"content-type": ["application/x-www-form-urlencoded"]})
    task = task_for("carry_out_partner_command", request)
    assert isinstance(task, LazyTask) and task.body == raw
    rebuilt = task.to_request()
    assert rebuilt.lazy_only and rebuilt.lazy_function_name == "carry_out_partner_command"
    assert rebuilt.body["text"] == "status"


def test_commands_are_carried_out_by_a_worker_process_which_is_replaced_when_killed(
    stack: LocalStack, worker_pool: WorkerPool
) -> None:
    setup_partnership(stack)
    # start() returned once the worker had built its app: nothing is left to wait for.
    assert worker_pool.wait_ready(0)
    lead = stack.actor(stack.world.client_lead)
    assert lead.slash_command("/partner", "status", stack.world.channel).status == 200
    wait_for(lambda: len(_status_replies(stack)) == 1, what="the status reply from the worker", timeout=30)

    (victim,) = worker_pool.processes
    assert victim.pid != os.getpid()
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(10)
    assert worker_pool.replace_dead() == 1 or not victim.is_alive()  # the watchdog may have been first
    assert worker_pool.wait_ready(30)  # the replacement says when it is ready, too

    assert lead.slash_command("/partner", "status", stack.world.channel).status == 200
    wait_for(lambda: len(_status_replies(stack)) == 2, what="a reply from the new worker", timeout=30)
    assert stack.sandbox.violations == []


def test_sigterm_lets_a_worker_finish_the_task_it_holds(stack: LocalStack, worker_pool: WorkerPool) -> None:
    """systemd stopping the service sends SIGTERM to the workers too: the modal being opened still opens."""
    w, sb = stack.world, stack.sandbox
    sb.delay_next("views.open", 1.5, times=1)
    assert stack.actor(w.client_lead).slash_command("/partner", "setup", w.channel).status == 200
    time.sleep(0.5)  # the worker has taken the task and is waiting on Slack
    (worker,) = worker_pool.processes
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGTERM)
    worker.join(30)
    assert worker.exitcode == 0
    assert any(v.get("callback_id") == "setup-submit" for v in sb.open_views(w.client_lead))
