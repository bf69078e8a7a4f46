"""The load generator: runs in its own process so its threads do not compete with the bot for the GIL.

Each client thread keeps one HTTP/1.1 keep-alive connection, signs each body just before sending it
(exactly as Slack does: ``v0=HMAC-SHA256(secret, "v0:<ts>:<body>")``) and times only the round trip
from sending the request to having read the whole response (the ack).
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from slack_sdk.signature import SignatureVerifier

#: (content type, body) of one request as Slack would send it.
Request = tuple[str, str]


@dataclass
class LoadResult:
    """Latencies (seconds) of the acknowledged requests, in completion order, and what went wrong."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    reconnects: int = 0
    wall: float = 0.0


def run_load(url: str, signing_secret: str, requests: list[Request], concurrency: int) -> LoadResult:
    """Send ``requests`` with ``concurrency`` client threads; returns every latency."""
    parts = urlsplit(url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    verifier = SignatureVerifier(signing_secret)
    result = LoadResult()
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    barrier = threading.Barrier(concurrency + 1)

    def next_index() -> int | None:
        with lock:
            return next(cursor, None)

    def client() -> None:
        conn: http.client.HTTPConnection | None = None
        local: list[float] = []
        statuses: dict[int, int] = {}
        errors = reconnects = 0
        barrier.wait()
        while (i := next_index()) is not None:
            content_type, body = requests[i]
            data = body.encode("utf-8")
            for attempt in range(2):
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                stamp = str(int(time.time()))
                headers = {
                    "Content-Type": content_type,
                    "X-Slack-Request-Timestamp": stamp,
                    "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body) or "",
                    "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                }
                try:
                    started = time.perf_counter()
                    conn.request("POST", path, body=data, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    elapsed = time.perf_counter() - started
                except (http.client.HTTPException, OSError):
                    conn.close()
                    conn, reconnects = None, reconnects + 1
                    if attempt == 1:
                        errors += 1
                    continue
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if 200 <= response.status < 300:
                    local.append(elapsed)
                else:
                    errors += 1
                if response.will_close:
                    conn.close()
                    conn = None
                break
        if conn is not None:
            conn.close()
        with lock:
            result.latencies.extend(local)
            result.errors += errors
            result.reconnects += reconnects
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    result.wall = time.perf_counter() - started
    return result
