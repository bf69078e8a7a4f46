"""The ``/partner kpi`` words for figures and API tokens, parsed into typed commands."""

from __future__ import annotations

import pytest

from handlers.command_parser import KPI_FIGURES_USAGE, CommandError, parse_command
from handlers.command_types import Command, KpiRecord, KpiTokenCreate, KpiTokenRevoke, KpiTokensShow, Refused


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kpi tokens", KpiTokensShow()),
        ("KPI Tokens", KpiTokensShow()),
        ("kpi token create Ticketing system", KpiTokenCreate("Ticketing system")),
        ("kpi token create <@U1|dana>'s monitor", KpiTokenCreate("@dana's monitor")),
        ("kpi token revoke 7", KpiTokenRevoke(7)),
        ("kpi token revoke #7", KpiTokenRevoke(7)),
        ("kpi record First-Contact", KpiRecord("first-contact")),
    ],
)
def test_each_word_gives_its_command(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "kpi tokens all",
        "kpi token",
        "kpi token create",
        "kpi token revoke",
        "kpi token revoke seven",
        "kpi token revoke 12345678901",
        "kpi token revoke 1 2",
        "kpi record",
        "kpi record a b",
    ],
)
def test_incomplete_words_are_refused_with_the_usage(text: str) -> None:
    assert parse_command(text) == Refused(KPI_FIGURES_USAGE)


def test_other_kpi_words_are_left_to_the_ledger() -> None:
    with pytest.raises(CommandError):
        parse_command("kpi nonsense")
