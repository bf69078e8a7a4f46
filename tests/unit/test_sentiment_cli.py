"""``partnerpulse sentiment``: lines on stdin, one JSON object per line on stdout, whatever the input."""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.services.sentiment import MAX_ANALYSED_CHARS, analyse


class Run:
    def __init__(self, stdout: bytes, stderr: str, code: int) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
        self.objects: list[dict[str, Any]] = [json.loads(line) for line in stdout.decode("utf-8").splitlines()]


@pytest.fixture(autouse=True)
def no_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The command needs no settings; keep a developer's .env out of the test.
    monkeypatch.chdir(tmp_path)


def run(monkeypatch: pytest.MonkeyPatch, data: bytes, stdin: Any = None) -> Run:
    raw_out = io.BytesIO()
    stdout = io.TextIOWrapper(io.BufferedWriter(raw_out), encoding="utf-8")
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stdin", stdin or io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    code = cli.main(["sentiment"])
    stdout.flush()
    return Run(raw_out.getvalue(), stderr.getvalue(), code)


def test_one_object_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, b"We are ahead of schedule.\nThird SLA miss this month.\nThe demo is on Thursday.\n")
    assert result.code == 0
    assert result.stderr == ""
    assert [o["text"] for o in result.objects] == [
        "We are ahead of schedule.",
        "Third SLA miss this month.",
        "The demo is on Thursday.",
    ]
    assert [o["label"] for o in result.objects] == ["positive", "negative", "neutral"]
    for o in result.objects:
        assert set(o) == {"text", "score", "label"}
        assert isinstance(o["score"], float) and -1.0 <= o["score"] <= 1.0
        assert o["score"] == analyse(o["text"]).score


def test_empty_lines_keep_output_aligned_with_input(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, b"\nGreat sprint.\n\n   \nOverdue again.")
    assert result.code == 0
    assert [o["text"] for o in result.objects] == ["", "Great sprint.", "", "   ", "Overdue again."]
    for i in (0, 2, 3):
        assert result.objects[i]["score"] == 0.0 and result.objects[i]["label"] == "neutral"
    assert result.objects[4]["label"] == "negative"  # the last line had no newline


def test_empty_input_prints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, b"")
    assert (result.code, result.stdout, result.stderr) == (0, b"", "")


def test_a_50000_character_line_costs_bounded_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # The slowest kind of text for VADER: every word scored, a "but" to rescan around. Uncapped, this takes
    # seconds; capped at MAX_ANALYSED_CHARS it takes milliseconds.
    long_line = ("great but awful " * 3200)[:50_000]
    started = time.monotonic()
    result = run(monkeypatch, long_line.encode() + b"\nfine\n")
    elapsed = time.monotonic() - started
    assert elapsed < 1.0
    assert result.code == 0
    assert len(result.objects) == 2
    assert result.objects[0]["text"] == long_line
    assert result.objects[0]["score"] == analyse(long_line[:MAX_ANALYSED_CHARS]).score
    assert result.objects[1]["text"] == "fine"


def test_invalid_utf8_is_replaced_and_reported_with_the_line_number(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, b"on track\n\xff\xfe overdue \xc3\n\xe9t\xe9 ok\nall good\n")
    assert result.code == 0
    assert [o["text"] for o in result.objects] == ["on track", "\ufffd\ufffd overdue \ufffd", "\ufffdt\ufffd ok", "all good"]
    assert result.objects[1]["label"] == "negative"
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2
    assert "line 2" in warnings[0] and "UTF-8" in warnings[0]
    assert "line 3" in warnings[1]


def test_crlf_line_endings(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, b"On track for go-live.\r\n\r\nBehind schedule.\r\n")
    assert [o["text"] for o in result.objects] == ["On track for go-live.", "", "Behind schedule."]
    assert [o["label"] for o in result.objects] == ["positive", "neutral", "negative"]


def test_output_is_utf8_not_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(monkeypatch, "Très bien, merci 😀\n".encode())
    assert "Très bien, merci 😀".encode() in result.stdout
    assert b"\\u" not in result.stdout
    assert result.objects[0]["label"] == "positive"  # VADER reads the emoji as "grinning face"


class LineByLine:
    """A stdin whose next line is only handed over once the previous result has reached stdout's bytes."""

    def __init__(self, lines: list[bytes], raw_out: io.BytesIO) -> None:
        self.lines = lines
        self.raw_out = raw_out

    @property
    def buffer(self) -> LineByLine:
        return self

    def __iter__(self) -> Iterator[bytes]:
        for number, line in enumerate(self.lines):
            assert self.raw_out.getvalue().count(b"\n") == number, "the previous result was not flushed"
            yield line


def test_each_result_is_flushed_before_the_next_line_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    raw_out = io.BytesIO()
    stdout = io.TextIOWrapper(io.BufferedWriter(raw_out), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", LineByLine([b"one\n", b"two\n", b"three\n"], raw_out))
    monkeypatch.setattr(sys, "stdout", stdout)
    assert cli.main(["sentiment"]) == 0
    assert raw_out.getvalue().count(b"\n") == 3


def test_help_lists_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "sentiment" in capsys.readouterr().out
