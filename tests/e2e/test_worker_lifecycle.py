"""Worker processes of ``partnerpulse serve`` (bot/workers.py) end when the serving process dies, even by kill -9."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from bot.harness import SANDBOX_BOT_TOKEN, SANDBOX_SIGNING_SECRET
from bot.sandbox import SlackSandbox, build_demo_world
from tests.serve_process import sandbox_env, start_serve, wait_listening

#: How long the workers and the resource tracker may take to notice and finish after their parent is killed.
EXIT_SECONDS = 15.0


def _children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid`` and their command lines, from /proc (psutil is not a dependency)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it exited while we looked
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found[int(entry.name)] = cmdline
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it has exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_workers_and_resource_tracker_exit_after_the_server_is_killed(database_url: str, tmp_path: Path) -> None:
    sb = SlackSandbox(signing_secret=SANDBOX_SIGNING_SECRET, bot_token=SANDBOX_BOT_TOKEN).start()
    build_demo_world(sb)
    env = sandbox_env(sb, database_url, PARTNERPULSE_WORKER_PROCESSES="2")
    proc = start_serve(env, tmp_path, "--no-heartbeat")
    children: dict[int, str] = {}
    try:
        wait_listening(proc, 60)
        children = _children(proc.pid)  # listening only after both workers said they were ready
        workers = [pid for pid, cmd in children.items() if "spawn_main" in cmd]
        assert len(workers) == 2, children
        assert any("resource_tracker" in cmd for cmd in children.values()), children

        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + EXIT_SECONDS
        while (left := [pid for pid in children if _alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == [], {pid: children[pid] for pid in left}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        for pid in children:  # never leave a stray process behind, whatever failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        sb.stop()
