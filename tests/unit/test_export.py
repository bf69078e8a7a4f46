"""The business-review export: CSV of aggregates checked cell by cell against hand-computed values, the HTML report
self-contained and escaped, a withheld side exporting no numbers, and the command line's errors."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import export_csv, export_html
from bot.cli import main
from bot.services import export
from bot.services.errors import InvalidInput, NotFound
from bot.services.export_models import ExportReport
from bot.services.partnership_models import Side
from tests.factories import Answered, add_closed_round, answers_for, make_issue_world

#: Monday 14 Dec 2026, 12:00 UTC. The world's digest is Fridays 16:00 New York, so the latest complete week is
#: the one that began Fri 4 Dec (it ended Fri 11 Dec 21:00 UTC); the week before began Fri 27 Nov.
NOW = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)
SCRIPT = "<script>alert('x')</script>"


def _seed(uow_factory: Any, *, name: str = "Northwind desk") -> int:
    """Two weeks: all shown in the week of 27 Nov; the provider withheld (2 answers < 3) in the week of 4 Dec."""
    world = make_issue_world(uow_factory, now=datetime(2026, 11, 1, tzinfo=UTC), name=name)
    pid = world.partnership_id
    add_closed_round(
        uow_factory,
        partnership_id=pid,
        closed_at=datetime(2026, 12, 2, 12, tzinfo=UTC),
        answers=[
            *answers_for(Side.CLIENT, {"trust": [3, 3, 3], "communication": [3, 3, 3]}),
            *answers_for(Side.PROVIDER, {"trust": [4, 4, 4], "communication": [5, 5, 5]}),
        ],
    )
    provider_secret = f"the provider secret {SCRIPT}"
    add_closed_round(
        uow_factory,
        partnership_id=pid,
        closed_at=datetime(2026, 12, 9, 12, tzinfo=UTC),
        answers=[
            Answered(Side.CLIENT, "C1", {"trust": 4, "communication": 2}, {"trust": f"Handover was late {SCRIPT}"}),
            Answered(Side.CLIENT, "C2", {"trust": 5, "communication": 3}, {"trust": f"Handover was late again {SCRIPT}"}),
            Answered(Side.CLIENT, "C3", {"trust": 3, "communication": 4}),
            Answered(Side.PROVIDER, "P1", {"trust": 1, "communication": 1}, {"trust": provider_secret}),
            Answered(Side.PROVIDER, "P2", {"trust": 1, "communication": 2}),
        ],
    )
    return pid


def _report(
    uow_factory: Any, pid: int, start: date | None = date(2026, 11, 27), end: date | None = date(2026, 12, 4)
) -> Any:
    return export.build_export(uow_factory, partnership_id=pid, start=start, end=end, now=NOW)


def test_csv_rows_are_aggregates_per_week_side_and_dimension_checked_by_hand(uow_factory: Any) -> None:
    pid = _seed(uow_factory)
    rows = list(csv.reader(io.StringIO(export_csv.render_csv(_report(uow_factory, pid)))))
    assert rows[0] == list(export_csv.CSV_COLUMNS)
    h = ["", "health_index"]
    assert rows[1:] == [
        # Week of 27 Nov: both sides shown. The health index needs every dimension in its four weeks: only two were
        # asked, so it is empty (not enough data). Trust is about the provider, communication about the
        # relationship; gap = provider − client: trust 4.0 − 3.0 = +1.0, communication 5.0 − 3.0 = +2.0. Nothing
        # was asked before, so no previous average.
        ["2026-11-27", "client", "Northwind", *h, "", "", "", "", "3", "5", "no"],
        ["2026-11-27", "client", "Northwind", "provider", "trust", "3.0", "3", "", "+1.0", "3", "5", "no"],
        ["2026-11-27", "client", "Northwind", "relationship", "communication", "3.0", "3", "", "+2.0", "3", "5", "no"],
        ["2026-11-27", "provider", "Contoso", *h, "", "", "", "", "3", "4", "no"],
        ["2026-11-27", "provider", "Contoso", "provider", "trust", "4.0", "3", "", "+1.0", "3", "4", "no"],
        ["2026-11-27", "provider", "Contoso", "relationship", "communication", "5.0", "3", "", "+2.0", "3", "4", "no"],
        # Week of 4 Dec: client trust (4+5+3)/3 = 4.0 against 3.0 the last time the same item was asked;
        # communication (2+3+4)/3 = 3.0 against 3.0. No gap: the provider is withheld.
        ["2026-12-04", "client", "Northwind", *h, "", "", "", "", "3", "5", "no"],
        ["2026-12-04", "client", "Northwind", "provider", "trust", "4.0", "3", "3.0", "", "3", "5", "no"],
        ["2026-12-04", "client", "Northwind", "relationship", "communication", "3.0", "3", "3.0", "", "3", "5", "no"],
        # Withheld: no numbers at all, not even its participation.
        ["2026-12-04", "provider", "Contoso", *h, "", "", "", "", "", "", "yes"],
        ["2026-12-04", "provider", "Contoso", "provider", "trust", "", "", "", "", "", "", "yes"],
        ["2026-12-04", "provider", "Contoso", "relationship", "communication", "", "", "", "", "", "", "yes"],
    ]


def test_csv_never_holds_comments_and_defuses_spreadsheet_formulas(uow_factory: Any) -> None:
    pid = _seed(uow_factory, name="=HYPERLINK(evil)")
    text = export_csv.render_csv(_report(uow_factory, pid))
    assert "Handover" not in text and "secret" not in text and "script" not in text
    assert "HYPERLINK" not in text  # the partnership name is not a column; organisations are
    report = _report(uow_factory, pid)
    forged = ExportReport(
        partnership=report.partnership,
        weeks=tuple(
            w.__class__(**{**w.__dict__, "sides": tuple(s.__class__(**{**s.__dict__, "org": "=1+2"}) for s in w.sides)})
            for w in report.weeks
        ),
        generated_at=report.generated_at,
        chart=report.chart,
    )
    orgs = {row[2] for row in list(csv.reader(io.StringIO(export_csv.render_csv(forged))))[1:]}
    assert orgs == {"'=1+2"}


def test_html_is_self_contained_with_the_chart_embedded(uow_factory: Any) -> None:
    pid = _seed(uow_factory)
    page = export_html.render_html(_report(uow_factory, pid))
    assert page.startswith("<!DOCTYPE html>")
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", page, flags=re.IGNORECASE)
    assert len(refs) == 1 and refs[0].startswith("data:image/png;base64,")
    assert not re.search(r"https?://|<link|<script|@import|url\(", page, flags=re.IGNORECASE)
    png = base64.b64decode(refs[0].removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    alt = re.search(r'<img [^>]*alt="([^"]+)"', page)
    # The health index needs all eight dimensions in its window; two were asked: nothing is drawn.
    assert alt and "Northwind has no results to show" in alt.group(1)
    assert 'content="default-src &#x27;none&#x27;; img-src data:' in page
    for heading in ("Week of 2026-11-27", "Week of 2026-12-04", "Issues", "Actions", "Shared goals"):
        assert heading in page


def test_html_escapes_names_and_comment_themes(uow_factory: Any) -> None:
    pid = _seed(uow_factory, name=f"Desk {SCRIPT} & <b>co</b>")
    page = export_html.render_html(_report(uow_factory, pid))
    assert "<script" not in page.lower() and "<b>co" not in page
    assert "Desk &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;" in page
    # Themes come from the client's comments (shown side): any of their text appears escaped only.
    assert "handover" in page.lower()


def test_html_withheld_side_shows_no_figures_and_none_of_its_comments(uow_factory: Any) -> None:
    pid = _seed(uow_factory)
    page = export_html.render_html(_report(uow_factory, pid))
    week = page[page.index("Week of 2026-12-04") :]
    assert "secret" not in page  # the withheld provider's comment, anywhere
    assert "withheld: fewer than 3 people answered" in week
    # The provider's scores that week average 1.25 overall: that must not appear anywhere.
    assert "1.25" not in page[page.index("<body>") :]
    trust = '<tr><th>Contoso&#x27;s trust</th><td class="n">4.0</td><td class="n">↑ +1.0 vs 3.0 the last time</td>'
    assert trust + '<td class="withheld" colspan="2">withheld</td><td class="n">–</td></tr>' in week
    summary = page[page.index("<h2 class=first>Summary") : page.index("Week of 2026-11-27")]
    assert '<td>2026-12-04</td><td class="n">–</td><td class="withheld">withheld</td>' in summary


def test_range_defaults_to_thirteen_weeks_since_setup_and_checks_its_bounds(uow_factory: Any) -> None:
    pid = _seed(uow_factory)
    # Set up Sat 31 Oct 20:00 New York (1 Nov 00:00 UTC), in the week that began Fri 30 Oct: six weeks to export,
    # not thirteen (seven of which would be before the partnership existed).
    report = _report(uow_factory, pid, start=None, end=None)
    assert [w.week_start for w in report.weeks] == [date(2026, 10, 30) + timedelta(days=7 * k) for k in range(6)]
    assert report.chart.weeks == tuple(w.week_start for w in report.weeks)
    # --from before the setup starts at the setup's week.
    assert _report(uow_factory, pid, start=date(2026, 1, 1), end=date(2026, 11, 6)).weeks[0].week_start == date(2026, 10, 30)
    # A range that ends before the setup's week is refused, saying when the first week began.
    with pytest.raises(InvalidInput, match="No week since the partnership was set up .* began on 2026-10-30"):
        _report(uow_factory, pid, start=date(2026, 9, 1), end=date(2026, 10, 29))
    # A quarter's worth of weeks once the partnership is old enough.
    older = make_issue_world(uow_factory, now=datetime(2026, 6, 1, tzinfo=UTC), channel_id="C300", name="Older desk")
    weeks = _report(uow_factory, older.partnership_id, start=None, end=None).weeks
    assert len(weeks) == 13 and weeks[0].week_start == date(2026, 9, 11) and weeks[-1].week_start == date(2026, 12, 4)
    oldest = make_issue_world(uow_factory, now=datetime(2020, 1, 1, tzinfo=UTC), channel_id="C400", name="Oldest desk")
    with pytest.raises(InvalidInput, match="more than 104 weeks"):
        _report(uow_factory, oldest.partnership_id, start=date(2020, 1, 1), end=None)
    # --to in the middle of a week: the week that began on or before it.
    assert [w.week_start for w in _report(uow_factory, pid, start=date(2026, 11, 20), end=date(2026, 12, 1)).weeks] == [
        date(2026, 11, 20),
        date(2026, 11, 27),
    ]
    with pytest.raises(InvalidInput, match="after"):
        _report(uow_factory, pid, start=date(2026, 12, 4), end=date(2026, 11, 1))
    with pytest.raises(InvalidInput, match="No complete week"):
        _report(uow_factory, pid, start=date(2026, 12, 20), end=date(2027, 1, 10))
    with pytest.raises(NotFound):
        export.build_export(uow_factory, partnership_id=pid + 100, start=None, end=None, now=NOW)


# --- the command line ------------------------------------------------------------------------------------------


@pytest.fixture
def seeded(uow_factory: Any, database_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PARTNERPULSE_LOG_LEVEL", "WARNING")
    return _seed(uow_factory)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["export", *argv, "--at", "2026-12-14T12:00:00Z"])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_csv_to_stdout_and_html_to_a_file(
    seeded: int, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = _run(
        capsys, "--partnership", str(seeded), "--format", "csv", "--from", "2026-11-27", "--to", "2026-12-04"
    )
    assert code == 0, err
    assert out.splitlines()[0] == ",".join(export_csv.CSV_COLUMNS) and len(out.splitlines()) == 13
    target = tmp_path / "qbr.html"
    code, out, err = _run(capsys, "--partnership", str(seeded), "--format", "html", "--output", str(target))
    assert code == 0 and out == "" and "wrote" in err
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--partnership", "999"), "There is no partnership with id 999."),
        (("--partnership", "abc"), "not a partnership id"),
        (("--partnership", "{pid}", "--from", "2026-13-01"), "--from '2026-13-01' is not a date"),
        (("--partnership", "{pid}", "--to", "yesterday"), "--to 'yesterday' is not a date"),
        (("--partnership", "{pid}", "--from", "2026-12-04", "--to", "2026-11-01"), "is after --to"),
    ],
)
def test_cli_errors_are_one_line_on_stderr_and_exit_2(
    seeded: int, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = _run(capsys, *(a.format(pid=seeded) for a in args), "--format", "csv")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("partnerpulse export: ") and message in err


@pytest.mark.parametrize("fmt", ["csv", "html"])
def test_cli_refuses_a_range_before_the_setup(seeded: int, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, out, err = _run(
        capsys, "--partnership", str(seeded), "--format", fmt, "--from", "2026-09-01", "--to", "2026-10-20"
    )
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("partnerpulse export: No week since the partnership was set up") and "2026-10-30" in err


def test_cli_exports_only_the_weeks_since_a_recent_setup(
    uow_factory: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Set up Mon 30 Nov 2026 (in the week that began Fri 27 Nov): on Mon 14 Dec two weeks have ended, 27 Nov and
    4 Dec, and the CSV has their rows only (a health_index row per side each: nobody answered)."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PARTNERPULSE_LOG_LEVEL", "WARNING")
    pid = make_issue_world(uow_factory, now=datetime(2026, 11, 30, 15, tzinfo=UTC)).partnership_id
    code, out, err = _run(capsys, "--partnership", str(pid), "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["week_start"], r["side"], r["dimension"]) for r in rows] == [
        ("2026-11-27", "client", "health_index"),
        ("2026-11-27", "provider", "health_index"),
        ("2026-12-04", "client", "health_index"),
        ("2026-12-04", "provider", "health_index"),
    ]
    html = export_html.render_html(export.build_export(uow_factory, partnership_id=pid, start=None, end=None, now=NOW))
    assert html.count("<h2>Week of ") == 2 and "weeks beginning 2026-11-27 to 2026-12-04" in html


def test_cli_refuses_a_database_behind_the_schema_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    code, out, err = _run(capsys, "--partnership", "1", "--format", "html")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "schema revision none" in err and "partnerpulse db upgrade" in err


def test_cli_unwritable_output_is_one_line(seeded: int, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(
        capsys, "--partnership", str(seeded), "--format", "csv", "--output", str(tmp_path / "missing" / "x.csv")
    )
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot write" in err
