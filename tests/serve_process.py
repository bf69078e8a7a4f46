"""``partnerpulse serve`` as a real subprocess against the Slack sandbox, for the fault tests.

:func:`serving` starts it, waits for its "listening on" line and keeps reading its output on a thread (a test
can look for log lines, and the pipe never fills up); on exit it sends SIGTERM and waits. For a test that handles
the process itself: :func:`sandbox_env`, :func:`start_serve` and :func:`wait_listening`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.harness import SANDBOX_SECRET_KEY
from bot.sandbox import SlackSandbox

START_TIMEOUT = 60.0
SERVE_COMMAND = (sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0")


def sandbox_env(sandbox: SlackSandbox, database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment with the settings to run the bot against ``sandbox`` and the database, and
    ``settings`` (more variables) on top."""
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": sandbox.bot_token,
        "SLACK_SIGNING_SECRET": sandbox.signing_secret,
        "SLACK_API_URL": sandbox.api_url,
        "PARTNERPULSE_SECRET_KEY": SANDBOX_SECRET_KEY,
        "DATABASE_URL": database_url,
        **settings,
    }


def start_serve(env: Mapping[str, str], cwd: Path, *options: str) -> subprocess.Popen[str]:
    """``partnerpulse serve`` on a free port of 127.0.0.1 with ``options``, its output (and errors) on a pipe."""
    return subprocess.Popen(
        [*SERVE_COMMAND, *options], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_listening(proc: subprocess.Popen[str], timeout: float) -> str:
    """The URL of the bot's endpoint, from the "listening on" line the process prints within ``timeout`` seconds."""
    assert proc.stdout is not None
    line, deadline = "", time.monotonic() + timeout
    while "listening on" not in line and time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
    assert "listening on" in line, line
    return line.split("listening on ", 1)[1].strip()


@dataclass
class ServeProcess:
    proc: subprocess.Popen[str]
    url: str = ""
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)


def _read(serve: ServeProcess, listening: threading.Event, log: Path) -> None:
    assert serve.proc.stdout is not None
    with log.open("a") as copy:
        for line in serve.proc.stdout:
            serve.lines.append(line)
            copy.write(line)
            copy.flush()
            if "listening on " in line and not serve.url:
                serve.url = line.split("listening on ", 1)[1].strip()
                listening.set()
    listening.set()


@contextmanager
def serving(
    sandbox: SlackSandbox, database_url: str, cwd: Path, env: Mapping[str, str] | None = None
) -> Iterator[ServeProcess]:
    """A ``partnerpulse serve`` on a free port of 127.0.0.1 talking to ``sandbox`` (not yet its bot endpoint)."""
    proc = start_serve(sandbox_env(sandbox, database_url, PARTNERPULSE_LOG_LEVEL="INFO", **(env or {})), cwd)
    serve = ServeProcess(proc)
    listening = threading.Event()
    reader = threading.Thread(
        target=_read, args=(serve, listening, cwd / f"serve-{proc.pid}.log"), name="serve-output", daemon=True
    )
    reader.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not listening.wait(0.1):
            if time.monotonic() > deadline:
                break
        if not serve.url:
            raise AssertionError(f"serve did not start:\n{serve.output()}")
        yield serve
    except BaseException:
        print(f"serve's output is in {cwd}/serve-{proc.pid}.log")  # shown with the failure
        raise
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        reader.join(timeout=5)
