"""README's table of the 30 checks of a trustworthy Slack bot cannot rot: one row per check, in order, each naming
tests that exist (the file is there and defines that test function) or saying why the check does not apply."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## The 30 checks of a trustworthy Slack bot"
ROW = re.compile(r"^\| (\d+) \| ([^|]+) \| (.+) \|$")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _rows() -> list[tuple[int, str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert HEADING in text, f"README has no section {HEADING!r}"
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = ROW.match(line.strip())
        if match:
            rows.append((int(match.group(1)), match.group(2).strip(), match.group(3).strip()))
    return rows


@cache
def _test_functions(path: str) -> frozenset[str]:
    """Test functions defined in a test module: at module level, or as methods of a class."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        names |= {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    return frozenset(n for n in names if n.startswith("test"))


def test_the_table_has_one_row_per_check_in_order() -> None:
    assert [number for number, _, _ in _rows()] == list(range(1, 31))


def test_every_row_names_tests_or_says_why_the_check_does_not_apply() -> None:
    for number, name, cell in _rows():
        assert name, f"check {number} has no name"
        if not TEST_REF.search(cell):
            assert "not apply" in cell or "In part" in cell, f"check {number} names no test and gives no reason"


def test_every_test_the_table_names_exists() -> None:
    missing = []
    for number, _, cell in _rows():
        for path, function in TEST_REF.findall(cell):
            if not (ROOT / path).is_file() or function not in _test_functions(path):
                missing.append(f"check {number}: {path}::{function}")
    assert not missing, missing


def test_the_check_finds_a_missing_test() -> None:
    """The checker itself: a name that is not there is reported, one that is there is not."""
    assert "test_every_test_the_table_names_exists" in _test_functions("tests/test_readme_checks.py")
    assert "test_no_such_thing" not in _test_functions("tests/test_readme_checks.py")
    assert TEST_REF.findall("`tests/a/b.py::test_x`, `tests/c.py::test_y`") == [
        ("tests/a/b.py", "test_x"),
        ("tests/c.py", "test_y"),
    ]
