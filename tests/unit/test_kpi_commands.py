"""The ``/partner kpi`` words (the ledger, figures and API tokens), parsed into typed commands; incomplete words
answered with their usage."""

from __future__ import annotations

import pytest

from handlers.command_parser import KPI_FIGURES_USAGE, CommandError, parse_command
from handlers.command_types import (
    Command,
    KpiChange,
    KpiLedgerShow,
    KpiPropose,
    KpiRecord,
    KpiRetire,
    KpiShow,
    KpiTokenCreate,
    KpiTokenRevoke,
    KpiTokensShow,
    Refused,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kpi", KpiLedgerShow()),
        ("KPI propose", KpiPropose()),
        ("kpi show First-Contact-Resolution", KpiShow("first-contact-resolution")),
        ("kpi change fcr", KpiChange("fcr")),
        ("kpi retire  fcr ", KpiRetire("fcr")),
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


@pytest.mark.parametrize(
    "text", ["kpi show", "kpi propose now", "kpi change a b", "kpi delete fcr", "kpi list", "kpi nonsense"]
)
def test_other_kpi_words_are_answered_with_the_ledger_usage(text: str) -> None:
    with pytest.raises(CommandError, match=r"`/partner kpi show KEY`"):
        parse_command(text)
