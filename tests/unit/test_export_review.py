"""The business-review export's review sections: the bilateral scorecards closed in the range (perception gaps
checked against hand-computed averages, a side below the threshold withheld, no comment at all), the shared goals
and the expectations ledger (escaped), and ``--format scorecard-csv`` checked cell by cell, through the services."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot import export_csv, export_html
from bot.cli import main
from bot.services import expectations, export, goals, scorecard, scorecard_rounds
from bot.services.export_models import ExportReport
from bot.services.pulse_models import DIMENSIONS
from bot.services.review_models import GoalInput, GoalStatus, ScorecardCadence, ScorecardInput
from tests.factories import make_issue_world

#: Monday 14 Dec 2026, 12:00 UTC; the world's digest is Fridays 16:00 New York (as in test_export.py).
NOW = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)
SECRET = "export-test-secret"
SCRIPT = "<script>alert('x')</script>"
#: Scorecard comments: the channel report shows the client's (enough answers), never the provider's; the export none.
CLIENT_COMMENT = "CLIENT-COMMENT keep the weekly call"
PROVIDER_COMMENT = "PROVIDER-COMMENT the SLA is unfair"
OCT = datetime(2026, 10, 5, 15, 0, tzinfo=UTC)
DEC = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _ratings(own: int, other: int, comment: str | None = None) -> ScorecardInput:
    """Every dimension ``own`` for the rater's side and ``other`` for the other side, except communication: 3 and 3."""
    scores = {("self", d): own for d in DIMENSIONS} | {("other", d): other for d in DIMENSIONS}
    scores |= {("self", "communication"): 3, ("other", "communication"): 3}
    return ScorecardInput(scores=scores, comment=comment)


def _scorecard(uf: Any, at: datetime, answers: dict[str, tuple[int, int]]) -> None:
    s = scorecard.start_now(uf(), team_id="TCLIENT", channel_id="C100", actor="UCL", now=at)
    for user, (own, other) in answers.items():
        comment = f"{CLIENT_COMMENT} {SCRIPT}" if user.startswith("UC") else f"{PROVIDER_COMMENT} <!channel>"
        scorecard.submit(
            uf(), scorecard_id=s.id, user_id=user, data=_ratings(own, other, comment), secret_key=SECRET, now=at
        )
    assert scorecard_rounds.close_due(uf, now=at + timedelta(days=7)) == [s.id]


def _seed(uf: Any) -> int:
    """October: both sides answer (3 and 3). December: the provider has two answers, below the threshold of 3."""
    pid = make_issue_world(uf, now=datetime(2026, 10, 1, tzinfo=UTC)).partnership_id
    scorecard.set_cadence(uf(), team_id="TCLIENT", channel_id="C100", actor="UCL", cadence=ScorecardCadence.MONTHLY, now=OCT)
    # Client raters: self 4, 4, 5 (4.33 → 4.3), of the provider 3, 2, 3 (2.67 → 2.7). Provider raters: self 5, 5, 4
    # (4.67 → 4.7), of the client 3, 4, 2 (3.0). Gaps (provider − client): how the client is seen 3.0 − 4.3 = −1.3
    # (watch), how the provider is seen 4.7 − 2.7 = +2.0 (act); communication 0.
    _scorecard(uf, OCT, {"UC1": (4, 3), "UC2": (4, 2), "UC3": (5, 3), "UP1": (5, 3), "UP2": (5, 4), "UP3": (4, 2)})
    # Client raters: self 4, 5, 3 (4.00), of the provider 2, 3, 2 (2.33). The provider's 5s and 1.5 stay hidden.
    _scorecard(uf, DEC, {"UC1": (4, 2), "UC2": (5, 3), "UC3": (3, 2), "UP1": (5, 1), "UP2": (5, 2)})
    with uf() as uow:
        member = uow.members.get(pid, "UP1")
        member.display_name = "Pat <@UCL> & <b>co</b>"
        uow.commit()
    goals.create_goal(
        uf(),
        team_id="TCLIENT",
        channel_id="C100",
        actor="UC1",
        data=GoalInput(
            title=f"Launch <!channel> portal {SCRIPT}",
            client_owner_id="UC2",
            provider_owner_id="UP1",
            due_on=date(2027, 3, 31),
        ),
        request_key="goal-1",
        now=NOW,
    )
    second = goals.create_goal(
        uf(),
        team_id="TCLIENT",
        channel_id="C100",
        actor="UP2",
        data=GoalInput(title="Retire the old VPN", client_owner_id="UC3", provider_owner_id="UP2"),
        request_key="goal-2",
        now=NOW,
    )
    goals.set_goal_status(
        uf(), channel_id="C100", goal_id=second.id, actor="UPL", status=GoalStatus.AT_RISK, note="NOTE-TEXT", now=NOW
    )
    kw: dict[str, Any] = {"team_id": "TCLIENT", "channel_id": "C100"}
    first = expectations.record_expectation(
        uf(), actor="UC1", text=f"Weekly status <@UPL> <!here> {SCRIPT}", request_key="e1", now=NOW, **kw
    )
    expectations.respond(
        uf(),
        channel_id="C100",
        expectation_id=first.id,
        actor="UP1",
        agree=False,
        reason="Fortnightly <!channel> & cheaper",
        now=NOW,
    )
    agreed = expectations.record_expectation(
        uf(), actor="UP2", text="Feedback within two days", request_key="e2", now=NOW, **kw
    )
    expectations.respond(uf(), channel_id="C100", expectation_id=agreed.id, actor="UC3", agree=True, reason=None, now=NOW)
    gone = expectations.record_expectation(uf(), actor="UC2", text="On-site visits", request_key="e3", now=NOW, **kw)
    expectations.withdraw(uf(), channel_id="C100", expectation_id=gone.id, actor="UC3", now=NOW)
    return pid


def _report(uf: Any, pid: int, *, whole_quarter: bool = False, weekly: bool = True) -> ExportReport:
    start, end = (None, None) if whole_quarter else (date(2026, 11, 27), date(2026, 12, 4))
    return export.build_export(uf, partnership_id=pid, start=start, end=end, now=NOW, weekly=weekly)


def _rows(dimensions: dict[str, list[str]], default: list[str], period: str, side: str) -> list[list[str]]:
    return [[period, d, side, *dimensions.get(d, default)] for d in DIMENSIONS]


# --- the scorecard CSV -------------------------------------------------------------------------------------------


def test_scorecard_csv_rows_checked_cell_by_cell(uow_factory: Any) -> None:
    pid = _seed(uow_factory)
    rows = list(csv.reader(io.StringIO(export_csv.render_scorecard_csv(_report(uow_factory, pid, whole_quarter=True)))))
    assert rows[0] == list(export_csv.SCORECARD_CSV_COLUMNS)
    same = {"communication": ["3.0", "3", "3.0", "3", "0.0", "no"]}
    expected = [
        # October: how the client is seen: itself 4.3 (3 answers), by the provider 3.0 (3), gap 3.0 − 4.3 = −1.3.
        *_rows(same, ["4.3", "3", "3.0", "3", "-1.3", "no"], "2026-10", "client"),
        # ... and the provider: itself 4.7, by the client 2.7, gap 4.7 − 2.7 = +2.0.
        *_rows(same, ["4.7", "3", "2.7", "3", "+2.0", "no"], "2026-10", "provider"),
        # December: the provider's raters are withheld: the client's self rating shows, the provider's view of it
        # does not; the provider's self rating does not, the client's view of it (2.33) does. No gap either way.
        *_rows({"communication": ["3.0", "3", "", "", "", "other"]}, ["4.0", "3", "", "", "", "other"], "2026-12", "client"),
        *_rows({"communication": ["", "", "3.0", "3", "", "self"]}, ["", "", "2.3", "3", "", "self"], "2026-12", "provider"),
    ]
    assert rows[1:] == expected
    text = export_csv.render_scorecard_csv(_report(uow_factory, pid, whole_quarter=True))
    for hidden in ("5.0", "1.5", "COMMENT", "script", "channel", "Launch", "Weekly status"):
        assert hidden not in text
    # The range: only the December scorecard closed in the weeks of 27 Nov and 4 Dec.
    narrow = list(csv.reader(io.StringIO(export_csv.render_scorecard_csv(_report(uow_factory, pid)))))
    assert narrow[1:] == expected[2 * len(DIMENSIONS) :]
    # The week of 27 Nov alone ends on 4 Dec: the scorecard that closed on 8 Dec is not in it.
    week = export.build_export(uow_factory, partnership_id=pid, start=date(2026, 11, 27), end=date(2026, 11, 27), now=NOW)
    assert [w.week_start for w in week.weeks] == [date(2026, 11, 27)] and week.scorecards == ()


def test_the_export_itself_drops_a_withheld_sides_numbers(uow_factory: Any) -> None:
    """Even from a report that carried a withheld side's averages, the export writes none of them (its own rule,
    not only the scorecard service's)."""
    pid = _seed(uow_factory)
    report = _report(uow_factory, pid)
    card = report.scorecards[0]
    leaky = tuple(
        dataclasses.replace(
            side,
            about=tuple(
                dataclasses.replace(r, self_rating=Decimal("1.1"), other_rating=Decimal("2.2"), gap=Decimal("-1.1"))
                for r in side.about
            ),
        )
        for side in card.sides
    )
    forged = dataclasses.replace(report, scorecards=(dataclasses.replace(card, sides=(leaky[0], leaky[1])),))
    rows = list(csv.reader(io.StringIO(export_csv.render_scorecard_csv(forged))))[1:]
    client = [r for r in rows if r[2] == "client"]
    provider = [r for r in rows if r[2] == "provider"]
    assert {tuple(r[3:]) for r in client} == {("1.1", "3", "", "", "", "other")}
    assert {tuple(r[3:]) for r in provider} == {("", "", "2.2", "3", "", "self")}
    page = export_html.render_html(forged)
    shown = _section(page, "Scorecard 2026-12: perception gaps")
    assert "−1.1" not in shown and "-1.1" not in shown
    assert shown.count('"n">1.1<') == len(DIMENSIONS) and shown.count('"n">2.2<') == len(DIMENSIONS)


def test_scorecard_csv_without_weekly_digests_and_weekly_csv_unchanged(uow_factory: Any) -> None:
    pid = _seed(uow_factory)
    full = _report(uow_factory, pid)
    only = _report(uow_factory, pid, weekly=False)
    assert only.weeks == () and only.scorecards == full.scorecards and len(full.weeks) == 2
    assert export_csv.render_scorecard_csv(only) == export_csv.render_scorecard_csv(full)
    # The weekly CSV does not depend on the review sections at all.
    bare = dataclasses.replace(full, scorecards=(), goals=(), expectations=())
    assert export_csv.render_csv(full) == export_csv.render_csv(bare)
    assert export_csv.render_scorecard_csv(bare) == ",".join(export_csv.SCORECARD_CSV_COLUMNS) + "\n"


def test_scorecard_csv_defuses_a_forged_formula_period(uow_factory: Any) -> None:
    pid = _seed(uow_factory)
    report = _report(uow_factory, pid)
    card = report.scorecards[0]
    forged = dataclasses.replace(card, scorecard=dataclasses.replace(card.scorecard, period="=cmd|' /C calc'!A0"))
    rows = list(csv.reader(io.StringIO(export_csv.render_scorecard_csv(dataclasses.replace(report, scorecards=(forged,))))))
    assert {r[0] for r in rows[1:]} == {"'=cmd|' /C calc'!A0"}


# --- the HTML ----------------------------------------------------------------------------------------------------


def _section(page: str, heading: str) -> str:
    start = page.index(heading)
    end = page.find("<section>", start)
    return page[start : end if end != -1 else len(page)]


def test_html_scorecard_sections_show_gaps_flagged_and_withhold_the_small_side(uow_factory: Any) -> None:
    pid = _seed(uow_factory)
    page = export_html.render_html(_report(uow_factory, pid, whole_quarter=True))
    october = _section(page, "Scorecard 2026-10: perception gaps")
    assert "Closed 2026-10-12" in october and "Northwind: 3 answered · Contoso: 3 answered" in october
    assert '<tr><th>Trust</th><td class="n">4.3</td><td class="n">3.0</td><td class="n gap1">−1.3 🔸</td></tr>' in october
    provider = october[october.index("How Contoso (provider) is seen") :]
    assert '<tr><th>Trust</th><td class="n">4.7</td><td class="n">2.7</td><td class="n gap2">+2.0 ⚠️</td></tr>' in provider
    assert '<tr><th>Communication</th><td class="n">3.0</td><td class="n">3.0</td><td class="n">0.0</td></tr>' in provider

    december = _section(page, "Scorecard 2026-12: perception gaps")
    assert "Northwind: 3 answered · Contoso: fewer than 3 answered" in december
    assert "Contoso: fewer than 3 people answered, so its ratings are not shown (anonymity)" in december
    client = december[: december.index("How Contoso (provider) is seen")]
    assert '<tr><th>Trust</th><td class="n">4.0</td><td class="withheld">withheld</td><td class="n">–</td></tr>' in client
    provider = december[december.index("How Contoso (provider) is seen") :]
    assert '<tr><th>Trust</th><td class="withheld">withheld</td><td class="n">2.3</td><td class="n">–</td></tr>' in provider
    # The withheld provider's figures (5.0 itself, 1.5 of the client) appear nowhere in the scorecard sections.
    assert ">5.0<" not in december and ">1.5<" not in december and "2 answered" not in december
    assert "Scorecard comments are not included in this export" in december


def test_html_has_no_comment_at_all_and_escapes_goals_and_the_ledger(uow_factory: Any) -> None:
    pid = _seed(uow_factory)
    page = export_html.render_html(_report(uow_factory, pid, whole_quarter=True))
    # No scorecard comment of either side (the client's is shown in the channel, not here), and no goal note.
    for text in ("CLIENT-COMMENT", "PROVIDER-COMMENT", "weekly call", "unfair", "NOTE-TEXT"):
        assert text not in page
    # Self-contained and inert: one data: image, nothing that runs or loads, every user text escaped.
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", page, flags=re.IGNORECASE)
    assert len(refs) == 1 and refs[0].startswith("data:image/png;base64,")
    assert "<script" not in page.lower() and "<!channel>" not in page and "<@U" not in page and "<b>co" not in page

    shared = _section(page, "<h2>Shared goals</h2>")
    assert "<th>Northwind owner</th><th>Contoso owner</th>" in shared
    assert (
        '<tr><td class="n">#1</td><td class="t">Launch &lt;!channel&gt; portal &lt;script&gt;alert(&#x27;x&#x27;)'
        "&lt;/script&gt;</td><td>uc2</td><td>Pat &lt;@UCL&gt; &amp; &lt;b&gt;co&lt;/b&gt;</td><td>On track</td>"
        "<td>2027-03-31</td></tr>"
    ) in shared
    assert (
        '<td class="n">#2</td><td class="t">Retire the old VPN</td><td>uc3</td><td>up2</td><td>At risk</td><td>–</td>'
        in shared
    )

    ledger = _section(page, "<h2>Expectations ledger</h2>")
    assert "Waiting for an answer" not in ledger and "Agreed: 1 · To discuss: 1 · Withdrawn: 1." in ledger
    assert (
        '<tr><td class="n">#1</td><td>Northwind expects of Contoso</td><td class="t">Weekly status &lt;@UPL&gt; '
        "&lt;!here&gt; &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</td><td>To discuss</td>"
        '<td>2026-12-14: <span class="t">Fortnightly &lt;!channel&gt; &amp; cheaper</span></td></tr>'
    ) in ledger
    assert (
        '<tr><td class="n">#2</td><td>Contoso expects of Northwind</td><td class="t">Feedback within two days</td>'
        "<td>Agreed</td><td>2026-12-14: agreed</td></tr>"
    ) in ledger
    assert "<td>On-site visits</td>" not in ledger and "On-site visits</td><td>Withdrawn</td><td>–</td>" in ledger


def test_html_range_without_scorecards_goals_or_ledger_says_so(uow_factory: Any) -> None:
    pid = make_issue_world(uow_factory, now=datetime(2026, 10, 1, tzinfo=UTC)).partnership_id
    page = export_html.render_html(_report(uow_factory, pid))
    assert "No bilateral scorecard closed in these weeks." in page
    assert "No shared goals recorded." in page and "<h2>Expectations ledger</h2>" in page
    assert "Nothing recorded." in page


# --- the command line --------------------------------------------------------------------------------------------


@pytest.fixture
def seeded(uow_factory: Any, database_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PARTNERPULSE_LOG_LEVEL", "WARNING")
    return _seed(uow_factory)


def test_cli_accepts_scorecard_csv(
    seeded: int, uow_factory: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["export", "--partnership", str(seeded), "--format", "scorecard-csv", "--at", "2026-12-14T12:00:00Z"]
    assert main(argv) == 0
    out, _ = capsys.readouterr()
    assert out == export_csv.render_scorecard_csv(_report(uow_factory, seeded, whole_quarter=True))
    assert len(out.splitlines()) == 1 + 4 * len(DIMENSIONS)
    target = tmp_path / "scorecards.csv"
    assert main([*argv, "--from", "2026-11-27", "--to", "2026-12-04", "--output", str(target)]) == 0
    _, err = capsys.readouterr()
    assert "wrote" in err and "(1 scorecard)" in err
    assert target.read_text(encoding="utf-8").count("2026-12,") == 2 * len(DIMENSIONS)


def test_cli_help_names_the_format_and_refuses_an_unknown_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["export", "--help"])
    assert exc.value.code == 0 and "scorecard-csv" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["export", "--partnership", "1", "--format", "scorecards"])
    assert exc.value.code == 2 and "invalid choice: 'scorecards'" in capsys.readouterr().err


def test_a_scorecard_nobody_answered_shows_nothing_for_either_side(uow_factory: Any) -> None:
    pid = make_issue_world(uow_factory, now=datetime(2026, 10, 1, tzinfo=UTC)).partnership_id
    _scorecard(uow_factory, DEC, {})
    report = _report(uow_factory, pid)
    page = export_html.render_html(report)
    december = _section(page, "Scorecard 2026-Q4: perception gaps")  # the cadence is quarterly here
    # Said once, plainly, as the channel's scorecard says it: how many answered of how many needed.
    too_few = (
        "Too few people answered this scorecard to show results: 0 of the 3 needed on the client side (Northwind), "
        "0 on the provider side (Contoso)."
    )
    assert december.count(too_few) == 1 and december.count("too few") == 0 and "<td" not in december
    assert "fewer than" not in december and "Both sides had too few" not in page
    rows = list(csv.reader(io.StringIO(export_csv.render_scorecard_csv(report))))[1:]
    assert len(rows) == 2 * len(DIMENSIONS) and {tuple(r[3:]) for r in rows} == {("", "", "", "", "", "both")}
