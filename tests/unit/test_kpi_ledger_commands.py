"""``/partner kpi ...`` parsed into its typed subcommands; anything else answered with the usage."""

from __future__ import annotations

import pytest

from handlers.command_parser import CommandError, parse_command
from handlers.command_types import KpiChange, KpiLedgerShow, KpiPropose, KpiRetire, KpiShow


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kpi", KpiLedgerShow()),
        ("KPI propose", KpiPropose()),
        ("kpi show First-Contact-Resolution", KpiShow("first-contact-resolution")),
        ("kpi change fcr", KpiChange("fcr")),
        ("kpi retire  fcr ", KpiRetire("fcr")),
    ],
)
def test_kpi_subcommands(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("text", ["kpi show", "kpi propose now", "kpi change a b", "kpi delete fcr", "kpi list"])
def test_anything_else_is_answered_with_the_usage(text: str) -> None:
    with pytest.raises(CommandError, match=r"`/partner kpi show KEY`"):
        parse_command(text)
