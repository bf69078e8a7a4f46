"""Servers under test, each in its own process: the bot (``partnerpulse serve``) and the bare Bolt floor.

Running them apart from the benchmark process matters: the sandbox (which validates every Web API call the
bot's post-ack work makes) and the load generator would otherwise share a GIL with the server being timed.
Both targets get the same treatment: a child process, waitress with the same thread count, the same sandbox.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks import ids


def build_floor_app(signing_secret: str, token: str, api_url: str) -> App:
    """A bare Bolt app with the same command and action the bot handles, each only acking.

    Its client points at the sandbox like the bot's: Bolt's single-team authorization runs ``auth.test``
    on the first request (then caches it), and there is no real Slack to answer it. Like the bot, it runs
    listeners on the request's thread (``process_before_response``): Bolt's default hands each listener to a
    pool and polls for the ack every 10 ms, which would make the floor slower than it needs to be.
    """
    app = App(
        process_before_response=True,
        signing_secret=signing_secret,
        token=token,
        client=WebClient(token=token, base_url=api_url),
        token_verification_enabled=False,
    )

    @app.command(ids.Command.PARTNER.value)
    def _command(ack: Ack) -> None:
        ack()

    @app.action(ids.Action.PULSE_ANSWER.value)
    def _action(ack: Ack) -> None:
        ack()

    return app


def serve_floor(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.servers``: serve the floor app with the bot's HTTP stack (waitress)."""
    from sqlalchemy import create_engine

    from bot.http import make_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args(argv)
    secret = os.environ["SLACK_SIGNING_SECRET"]
    app = build_floor_app(secret, os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_API_URL"])
    server = make_server(
        app, create_engine("sqlite://"), signing_secret=secret, host="127.0.0.1", port=0, threads=args.threads
    )
    print(f"floor listening on http://127.0.0.1:{server.effective_port}/slack/events", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


@contextlib.contextmanager
def child_server(command: list[str], env: dict[str, str], timeout: float = 60.0) -> Iterator[str]:
    """Start a server process, wait for its "listening on URL" line, yield the URL, stop it afterwards."""
    proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        deadline, seen = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{command} exited early: {''.join(seen)[-2000:]}")
            seen.append(line)
            if "listening on " in line:
                url = line.split("listening on ", 1)[1].strip()
                break
        else:
            raise RuntimeError(f"{command} did not start within {timeout:g} s")
        # Keep draining its output so a chatty child never blocks on a full pipe.
        drain = subprocess.Popen(["cat"], stdin=proc.stdout, stdout=subprocess.DEVNULL)
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            drain.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()


def bot_command(threads: int) -> list[str]:
    return [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0", "--no-heartbeat"]


def floor_command(threads: int) -> list[str]:
    return [sys.executable, "-m", "benchmarks.servers", "--threads", str(threads)]


if __name__ == "__main__":
    raise SystemExit(serve_floor())
