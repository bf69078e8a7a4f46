"""``partnerpulse kpi import``: a real CSV file saved whole, a repeat replaces, and a file with bad lines names
each by its line number and reason, exits 1 and saves nothing.

As of AT (Wednesday 2 December 2026, 09:00 UTC; 04:00 in the partnership's New York) the last complete week
ended on Sunday 29 November and the current one ends on Sunday 6 December.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.factories import make_issue_world
from tests.kpi_factories import add_kpi, stored_values

AT = datetime(2026, 12, 2, 9, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(uow_factory: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[int, int]:
    """The partnership and its agreed weekly KPI ``fcr``; the command's environment points at the database."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PARTNERPULSE_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PARTNERPULSE_LOG_LEVEL", "WARNING")
    partnership_id = make_issue_world(uow_factory, now=AT).partnership_id
    return partnership_id, add_kpi(uow_factory, partnership_id, key="fcr", now=AT)


def _import(partnership_id: int, path: Path) -> int:
    return main(["kpi", "import", "--partnership", str(partnership_id), str(path), "--at", AT.isoformat()])


def test_a_file_is_saved_whole_and_a_repeat_replaces(
    world: tuple[int, int], uow_factory: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partnership_id, kpi_id = world
    path = tmp_path / "figures.csv"
    path.write_bytes(
        "\ufeffkpi,period_end,value,note\r\n"
        'fcr,2026-11-22,74.5,"Two agents off,\r\nback on Monday"\r\n'
        "\r\n"
        "fcr,2026-11-29,81\r\n".encode()
    )
    assert _import(partnership_id, path) == 0
    assert capsys.readouterr().out == f"saved 2 figures for partnership {partnership_id}: 2 new, 0 replaced\n"
    path.write_text("kpi,period_end,value\nfcr,2026-11-29,83\n", encoding="utf-8")
    assert _import(partnership_id, path) == 0
    assert capsys.readouterr().out == f"saved 1 figures for partnership {partnership_id}: 0 new, 1 replaced\n"
    assert stored_values(uow_factory, kpi_id) == [
        (date(2026, 11, 22), 74.5, "Two agents off,\nback on Monday", "csv"),
        (date(2026, 11, 29), 83.0, None, "csv"),
    ]


def test_bad_lines_are_named_and_nothing_is_saved(
    world: tuple[int, int], uow_factory: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partnership_id, kpi_id = world
    path = tmp_path / "bad.csv"
    path.write_text(
        "kpi,period_end,value,note\n"  # line 1
        "fcr,2026-11-29,81\n"  # 2: fine alone
        'fcr,2026-11-22,70,"a note\n'  # 3 (the note runs onto line 4)
        'over two lines"\n'
        "nope,2026-11-29,1\n"  # 5
        "fcr,29/11/2026,1\n"  # 6
        "fcr,2026-11-15,8o\n"  # 7
        "fcr,2026-11-30,1\n"  # 8: a Monday
        "fcr,2026-11-08\n"  # 9
        "fcr,2026-11-29,82\n",  # 10: line 2 again
        encoding="utf-8",
    )
    assert _import(partnership_id, path) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{path}:5: There is no KPI with the key 'nope' in this partnership.",
        f"{path}:6: '29/11/2026' is not a date written as YYYY-MM-DD.",
        f"{path}:7: '8o' is not a number.",
        f"{path}:8: 2026-11-30 is not the end of a weekly period of 'fcr' (that period ends 2026-12-06).",
        f"{path}:9: Expected 3 or 4 columns (kpi, period_end, value, note), found 2.",
        f"{path}:10: The same KPI and period are given twice. It repeats line 2.",
        "nothing saved: 6 lines rejected",
    ]
    assert stored_values(uow_factory, kpi_id) == []


def test_a_file_without_its_header_or_figures_is_refused(
    world: tuple[int, int], uow_factory: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partnership_id, kpi_id = world
    headless = tmp_path / "headless.csv"
    headless.write_text("fcr,2026-11-29,81\nfcr,2026-11-22,80\n", encoding="utf-8")
    assert _import(partnership_id, headless) == 1
    assert "1: The first line must be the header: kpi,period_end,value,note." in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("kpi,period_end,value\n", encoding="utf-8")
    assert _import(partnership_id, empty) == 1
    latin = tmp_path / "latin.csv"
    latin.write_bytes("kpi,period_end,value,note\nfcr,2026-11-29,81,caf\xe9\n".encode("latin-1"))
    assert _import(partnership_id, latin) == 2
    assert "is not UTF-8" in capsys.readouterr().err
    assert _import(partnership_id, tmp_path / "missing.csv") == 2
    assert _import(partnership_id + 99, headless) == 2
    assert "This partnership no longer exists." in capsys.readouterr().err
    assert stored_values(uow_factory, kpi_id) == []


def _installed(partnership_id: int, path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot kpi import`` in a process of its own, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERPULSE_"))}
    env.update(DATABASE_URL=database_url, PARTNERPULSE_LOG_LEVEL="WARNING")
    command = ["kpi", "import", "--partnership", str(partnership_id), str(path), "--at", AT.isoformat()]
    return subprocess.run(
        [sys.executable, "-m", "bot", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=path.parent,
        timeout=120,
        check=False,
    )


def test_the_installed_command_imports_a_file(world: tuple[int, int], database_url: str, tmp_path: Path) -> None:
    partnership_id, _ = world
    path = tmp_path / "figures.csv"
    path.write_text("kpi,period_end,value\nfcr,2026-11-29,81\n", encoding="utf-8")
    done = _installed(partnership_id, path, database_url)
    assert (done.returncode, done.stdout) == (0, f"saved 1 figures for partnership {partnership_id}: 1 new, 0 replaced\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("kpi,period_end,value\nfcr,2026-11-28,81\n", encoding="utf-8")
    done = _installed(partnership_id, bad, database_url)
    assert done.returncode == 1 and f"{bad}:2: 2026-11-28 is not the end of a weekly period" in done.stderr
