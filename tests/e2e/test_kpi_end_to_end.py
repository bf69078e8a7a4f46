"""Issue 14 end to end, one KPI in one world, through the real handlers, CLI and HTTP server against the sandbox: it
is proposed and agreed, its figures arrive the three ways, and the week's digest, the signal, the portfolio and the
export all show the same figure and status.

The KPI: first-contact resolution, delivered by the client (whose people can run ``/partner``), higher is better,
target 80, amber below 75, red below 65, weekly (periods end on Sundays), dimension trust. Its three figures,
judged by hand against those levels:

    period ending   way                         value   status
    Sun 22 Nov      the Slack form              82      green (not below 80)
    Sun 29 Nov      ``partnerpulse kpi import``  70      amber (below 75, not below 65)
    Sun  6 Dec      ``POST /api/v1/kpis/values`` 50      red (below 65)

Three of each side's six people answer 5 in the round of Monday 30 Nov 09:00 New York: both sides rate trust 5.0, at
least 4.0, so people are happy while the KPI of the digest's week (the one ending Sun 6 Dec) is red: "people happy,
KPIs red". The portfolio shows reasons only for partnerships at "watch" (20 points) or worse; this one's risk is
10 (one watermelon dimension) + 5 (participation: 10 x (1 - 3/6)) + 5 (blind spot: 3 of 8 dimensions measured give
no health index) = 20.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.harness import LocalStack
from storage.models import Kpi, Partnership, Signal
from tests.conftest import START
from tests.helpers import (
    answer_open_round,
    channel_messages_with,
    dumps,
    ephemeral_with,
    new_view,
    open_kpi_proposal_from_menu,
    partner_command,
    post_kpi_values,
    setup_partnership,
    thread,
    view_ids,
    wait_for,
)
from tests.kpi_factories import stored_values

PULSE_AT = START.replace(hour=14, minute=0)  # Monday 30 Nov 2026, 09:00 New York
DIGEST_AT = PULSE_AT + timedelta(days=7)  # Monday 7 Dec, 09:00 New York: the week ending Sunday 6 Dec
KEY = "first-contact-resolution"
FORM = {
    "name": "First-contact resolution",
    "measure": "Tickets closed on the first contact / all tickets closed",
    "unit": "%",
    "direction": "higher",
    "target": "80",
    "amber": "75",
    "red": "65",
    "period": "weekly",
    "dimension": "trust",
    "delivered_by": "client",
}
FIGURE = "First-contact resolution: 50%, red (target 80%)"
PAIRING = (
    "Trust: people happy, KPIs red. Both sides rate it 4.0 or higher (Northwind Retail 5.0, Contoso Services 5.0 of 5), "
    "but 1 of its KPIs is red: First-contact resolution."
)
REASON = "Trust: people happy, KPIs red (Northwind Retail 5.0, Contoso Services 5.0 of 5)"


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The operator's commands point at the stack's database; a directory for their files. ``main`` sets the levels
    of the ``slack_sdk`` and ``alembic`` loggers for its process: they are put back, so later tests see theirs."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PARTNERPULSE_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PARTNERPULSE_LOG_LEVEL", "WARNING")
    levels = {name: logging.getLogger(name).level for name in ("slack_sdk", "alembic")}
    yield tmp_path
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _propose_and_agree(stack: LocalStack) -> None:
    """The provider lead (who cannot run ``/partner``) proposes from the menu's KPIs button; the client lead agrees."""
    w = stack.world
    _, form = open_kpi_proposal_from_menu(stack, w.provider_lead)
    stack.actor(w.provider_lead).submit_view(form["id"], FORM)
    proposal = wait_for(lambda: next(iter(channel_messages_with(stack, "KPI #1")), None), what="the proposal")
    stack.actor(w.client_lead).click(w.channel, proposal["ts"], "kpi-agree")
    wait_for(lambda: "Agreed by" in dumps(stack.sandbox.message(w.channel, proposal["ts"])), what="the agreement")


def _record_in_slack(stack: LocalStack) -> None:
    w = stack.world
    before = view_ids(stack)
    assert partner_command(stack, w.client_lead, f"kpi record {KEY}").status == 200
    view = new_view(stack, w.client_lead, "kpi-record-submit", before)
    stack.actor(w.client_lead).submit_view(view["id"], {"period_end": "2026-11-22", "value": "82"})
    assert "*82%* (Green)" in dumps(ephemeral_with(stack, w.client_lead, "You recorded"))


def _import_csv(pid: int, folder: Path) -> None:
    path = folder / "figures.csv"
    path.write_text(f"kpi,period_end,value,note\n{KEY},2026-11-29,70,From the service desk\n", encoding="utf-8")
    assert main(["kpi", "import", "--partnership", str(pid), str(path), "--at", START.isoformat()]) == 0


def _push_through_the_api(stack: LocalStack) -> None:
    w = stack.world
    partner_command(stack, w.client_lead, "kpi token create Service desk")
    (token,) = set(re.findall(r"ppk_[A-Za-z0-9_-]{43}", dumps(ephemeral_with(stack, w.client_lead, "Copy it now"))))
    stack.clock.set(DIGEST_AT - timedelta(hours=2))  # Monday 7 Dec, 07:00 New York: the week has ended
    body = json.dumps({"values": [{"kpi": KEY, "period_end": "2026-12-06", "value": 50}]}).encode()
    assert post_kpi_values(stack, body, token=token)[:2] == (200, {"ok": True, "new": 1, "replaced": 0})


def _export(pid: int, folder: Path, fmt: str) -> str:
    path = folder / f"report.{fmt}"
    argv = ["export", "--partnership", str(pid), "--format", fmt, "--output", str(path)]
    assert main([*argv, "--at", (DIGEST_AT + timedelta(hours=2)).isoformat()]) == 0
    return path.read_text(encoding="utf-8")


def _texts(messages: list[dict[str, Any]]) -> str:
    return json.dumps([m.get("blocks") for m in messages], ensure_ascii=False)


def test_a_kpi_proposed_agreed_and_fed_three_ways_shows_alike_in_digest_signal_portfolio_and_export(
    stack: LocalStack, cli_env: Path
) -> None:
    setup_partnership(stack)
    w, sb, f = stack.world, stack.sandbox, stack.services.uow_factory
    with f() as uow:
        pid = uow.session.scalars(select(Partnership.id)).one()
    _propose_and_agree(stack)

    _record_in_slack(stack)
    _import_csv(pid, cli_env)
    people = [w.client_lead, *w.client_members[:2], w.provider_lead, *w.provider_members[:2]]
    assert stack.tick(PULSE_AT).opened == 1
    answer_open_round(stack, people, 5, now=PULSE_AT + timedelta(hours=1))
    assert stack.tick(PULSE_AT + timedelta(hours=48)).closed == 1
    _push_through_the_api(stack)
    with f() as uow:
        kpi_id = uow.session.scalars(select(Kpi.id)).one()
    assert [(v[0].isoformat(), v[1], v[3]) for v in stored_values(f, kpi_id)] == [
        ("2026-11-22", 82.0, "slack"),
        ("2026-11-29", 70.0, "csv"),
        ("2026-12-06", 50.0, "api"),
    ]

    assert stack.tick(DIGEST_AT).digests == 1
    assert stack.tick(DIGEST_AT + timedelta(hours=1)).digests == 0

    # The digest: its headline names the pairing, its detail (in the thread) the KPI's figure.
    (digest,) = [m for m in sb.messages(w.channel, include_thread_replies=False) if "Weekly digest" in m.get("text", "")]
    assert PAIRING in _texts([digest])
    detail = wait_for(
        lambda: [m for m in thread(stack, digest["ts"]) if m.get("text", "").startswith("Full detail")] or None,
        what="the digest's detail",
    )
    assert FIGURE in _texts(detail)

    # The signal: recorded once, reaching each lead once (the client's by the app, the provider's as an ephemeral).
    with f() as uow:
        assert [(s.kind, s.subject) for s in uow.session.scalars(select(Signal))] == [("kpis_red_happy", "trust")]
    to_client = [m for m in sb.messages(sb.dm_channel(w.client_lead)) if "Early warning" in m.get("text", "")]
    to_provider = [m for m in sb.ephemerals(w.channel, user=w.provider_lead) if "Early warning" in m.get("text", "")]
    assert len(to_client) == 1 and len(to_provider) == 1
    assert PAIRING in _texts(to_client) and PAIRING in _texts(to_provider)

    # The portfolio gives the watermelon as a reason for the partnership's risk.
    stack.clock.set(DIGEST_AT + timedelta(hours=2))
    seen = len(sb.ephemerals(w.channel, user=w.client_lead))
    partner_command(stack, w.client_lead, "portfolio")
    replies = wait_for(lambda: sb.ephemerals(w.channel, user=w.client_lead)[seen:], what="the portfolio")
    assert "risk 20" in _texts(replies) and REASON in _texts(replies)

    # The export: the same sentence and figure in the HTML, the same figure and status in the KPI CSV.
    html = _export(pid, cli_env, "html")
    assert PAIRING in html and "<td class=n>50%</td><td>Red</td>" in html
    rows = _export(pid, cli_env, "kpi-csv").splitlines()
    assert f"2026-11-30,trust,5.0,5.0,kpis_red_happy,1,{KEY},First-contact resolution,%,80,2026-12-06,50,red" in rows
    assert sb.violations == []
