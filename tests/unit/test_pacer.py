"""The Pacer spaces calls per channel (chat.postMessage) and per workspace (tiered methods)."""

from __future__ import annotations

import threading

import pytest

from bot.delivery.pacer import Pacer


class FakeTime:
    """A clock that only moves when the pacer sleeps (or the test advances it)."""

    def __init__(self, advance_on_sleep: bool = True) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.advance_on_sleep = advance_on_sleep
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            if self.advance_on_sleep:
                self.now += seconds


def _pacer(t: FakeTime, speedup: float = 1.0) -> Pacer:
    return Pacer(clock=t.clock, sleep=t.sleep, speedup=speedup)


def _starts(pacer: Pacer, t: FakeTime, calls: list[tuple[str, str, str]]) -> list[float]:
    starts = []
    for method, workspace, channel in calls:
        pacer.wait(method, workspace, channel)
        starts.append(t.now)
    return starts


def test_post_message_to_one_channel_is_one_per_second() -> None:
    t = FakeTime()
    starts = _starts(_pacer(t), t, [("chat.postMessage", "W1", "C1")] * 5)
    assert [s - starts[0] for s in starts] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])
    assert t.sleeps == pytest.approx([1.0] * 4)


def test_channels_do_not_wait_on_each_other() -> None:
    t = FakeTime()
    pacer = _pacer(t)
    assert pacer.wait("chat.postMessage", "W1", "C1") == 0.0
    assert pacer.wait("chat.postMessage", "W1", "C2") == 0.0
    assert pacer.wait("chat.postMessage", "W2", "C3") == 0.0
    assert t.sleeps == []
    assert pacer.wait("chat.postMessage", "W1", "C1") == pytest.approx(1.0)


def test_time_passing_frees_the_slot() -> None:
    t = FakeTime()
    pacer = _pacer(t)
    pacer.wait("chat.postMessage", "W1", "C1")
    t.now += 5.0
    assert pacer.wait("chat.postMessage", "W1", "C1") == 0.0
    t.now += 0.25
    assert pacer.wait("chat.postMessage", "W1", "C1") == pytest.approx(0.75)


def test_ephemeral_bursts_a_minutes_allowance_then_100_per_minute() -> None:
    t = FakeTime()
    pacer = _pacer(t)
    calls = [("chat.postEphemeral", "W1", f"C{i}") for i in range(100)]  # different channels, same workspace
    starts = [s - 1000.0 for s in _starts(pacer, t, calls)]
    assert starts[:97] == pytest.approx([0.0] * 97), "Tier 4: a minute's allowance less the reserve at once"
    assert starts[97:] == pytest.approx([0.6, 1.2, 1.8])
    # Another workspace has its own budget, and postMessage its own per-channel budget.
    assert pacer.wait("chat.postEphemeral", "W2", "C0") == 0.0
    assert pacer.wait("chat.postMessage", "W1", "C0") == 0.0


def test_chat_update_is_tier_3() -> None:
    t = FakeTime()
    pacer = _pacer(t)
    for i in range(47):
        assert pacer.wait("chat.update", "W1", f"C{i}") == pytest.approx(0.0, abs=1e-9)
    assert pacer.wait("chat.update", "W1", "C47") == pytest.approx(60 / 50)


def test_unpaced_methods_never_wait() -> None:
    t = FakeTime()
    pacer = _pacer(t)
    for _ in range(5):
        assert pacer.wait("views.open", "W1", "C1") == 0.0
    assert t.sleeps == []


def test_speedup_divides_intervals() -> None:
    t = FakeTime()
    pacer = _pacer(t, speedup=10)
    starts = _starts(pacer, t, [("chat.postMessage", "W1", "C1")] * 3)
    assert [s - starts[0] for s in starts] == pytest.approx([0.0, 0.1, 0.2])
    starts = _starts(pacer, t, [("chat.postEphemeral", "W1", "C1")] * 99)
    assert [s - starts[0] for s in starts[96:]] == pytest.approx([0.0, 0.06, 0.12])


def test_the_next_message_to_a_channel_waits_a_second_from_when_the_last_one_returned() -> None:
    """Slack counts a message when it arrives, after its paced start: the next one is paced from the return."""
    t = FakeTime()
    pacer = _pacer(t)
    pacer.wait("chat.postMessage", "T1", "C1")
    assert t.now == 1000.0
    t.now += 0.25  # the call took a quarter of a second
    pacer.posted("C1")
    pacer.wait("chat.postMessage", "T1", "C1")
    assert t.now == pytest.approx(1001.25)  # paced from the start alone it would have left at 1001.0
    pacer.wait("chat.postMessage", "T1", "C2")  # other channels are not held up
    assert t.now == pytest.approx(1001.25)


def test_posted_never_brings_the_next_message_forward() -> None:
    t = FakeTime(advance_on_sleep=False)
    pacer = _pacer(t)
    for _ in range(3):  # three reserved slots: 1000, 1001, 1002
        pacer.wait("chat.postMessage", "T1", "C1")
    pacer.posted("C1")  # the first returned at once
    pacer.wait("chat.postMessage", "T1", "C1")
    assert t.sleeps[-1] == pytest.approx(3.0)


def test_push_back_delays_the_next_call() -> None:
    t = FakeTime()
    pacer = _pacer(t)
    pacer.wait("chat.postMessage", "W1", "C1")
    pacer.push_back("chat.postMessage", "W1", "C1", 30.0)
    assert pacer.wait("chat.postMessage", "W1", "C1") == pytest.approx(30.0)
    assert pacer.wait("chat.postMessage", "W1", "C2") == 0.0  # other channels unaffected
    # After a 429 on a tiered method the burst is spent: the next call waits Retry-After, later ones the interval.
    pacer.wait("chat.postEphemeral", "W1", "C1")
    pacer.wait("chat.postEphemeral", "W1", "C1")
    pacer.push_back("chat.postEphemeral", "W1", "C1", 0.1)
    assert pacer.wait("chat.postEphemeral", "W1", "C1") == pytest.approx(0.1)
    assert pacer.wait("chat.postEphemeral", "W1", "C1") == pytest.approx(0.6)


def test_push_back_on_fresh_key() -> None:
    t = FakeTime()
    pacer = _pacer(t)
    pacer.push_back("chat.postEphemeral", "W9", "C1", 7.0)
    assert pacer.wait("chat.postEphemeral", "W9", "C1") == pytest.approx(7.0)


def test_threads_get_distinct_spaced_slots() -> None:
    t = FakeTime(advance_on_sleep=False)  # the clock stands still: each delay is the reserved slot
    pacer = _pacer(t)
    delays: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        for _ in range(10):
            d = pacer.wait("chat.postMessage", "W1", "C1")
            with lock:
                delays.append(d)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=10)
    assert sorted(delays) == pytest.approx([float(i) for i in range(160)])
