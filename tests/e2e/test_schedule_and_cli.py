"""Scheduling through the real heartbeat path, the ``tick`` command, and reading big channels."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.harness import SANDBOX_SECRET_KEY
from storage.models import Partnership, PulseRound
from tests.conftest import START
from tests.e2e.demo_kpi_checks import check_demo_kpis
from tests.helpers import setup_partnership

NEW_YORK = ZoneInfo("America/New_York")


def _next_pulse_at(stack) -> datetime:  # type: ignore[no-untyped-def]
    with stack.services.uow_factory() as uow:
        at = uow.session.scalars(select(Partnership)).one().next_pulse_at
        assert at is not None
        return at


def test_weekly_pulse_at_nine_new_york_across_both_dst_changes(stack) -> None:  # type: ignore[no-untyped-def]
    """Ticking week by week from November 2026 to April 2027: every round opens at 09:00 local time."""
    setup_partnership(stack)
    opened_local: list[datetime] = []
    at = _next_pulse_at(stack)
    while at < datetime(2027, 4, 5, tzinfo=UTC):
        report = stack.tick(at)
        assert report.opened == 1, (at, report.summary())
        opened_local.append(at.astimezone(NEW_YORK))
        stack.tick(at + timedelta(hours=48))  # close the round so the next one can open
        at = _next_pulse_at(stack)
    assert {(d.hour, d.minute, d.weekday()) for d in opened_local} == {(9, 0, 0)}
    utc_hours = {d.astimezone(UTC).hour for d in opened_local}
    assert utc_hours == {14, 13}, "EST before 14 March 2027, EDT after"
    dates = [d.date() for d in opened_local]
    assert all((b - a).days == 7 for a, b in zip(dates, dates[1:], strict=False)), "one round every week"
    assert opened_local[0].date() == START.date()


def test_tick_command_runs_due_work_once(stack, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    at = _next_pulse_at(stack)
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": stack.sandbox.bot_token,
        "PARTNERPULSE_SECRET_KEY": SANDBOX_SECRET_KEY,
        "DATABASE_URL": database_url,
        "SLACK_API_URL": stack.sandbox.api_url,
    }
    command = [sys.executable, "-m", "bot", "tick", "--at", at.isoformat()]
    first = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "opened 1 round(s)" in first.stdout and "sent 1" in first.stdout
    again = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "opened 0 round(s)" in again.stdout and "sent 0" in again.stdout
    pulses = [m for m in stack.sandbox.messages(stack.world.channel) if "pulse-answer" in json.dumps(m.get("blocks"))]
    assert len(pulses) == 1
    bad = subprocess.run(
        [*command[:-1], "2026-12-07T09:00"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "offset" in bad.stderr


def test_after_a_long_downtime_only_a_round_still_open_is_posted(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    first = _next_pulse_at(stack)
    # Down for three weeks; back 12 hours after that week's pulse (its round is still open for 36 hours).
    report = stack.tick(first + timedelta(weeks=3, hours=12))
    assert report.opened == 1 and report.skipped == 3
    with stack.services.uow_factory() as uow:
        rounds = uow.session.scalars(select(PulseRound)).all()
        assert [r.scheduled_at for r in rounds] == [first + timedelta(weeks=3)]
    # Down again until after that round would have closed: it closes, nothing is posted late.
    report = stack.tick(first + timedelta(weeks=4, hours=50))
    assert report.opened == 0 and report.closed == 1 and report.skipped == 1


def test_big_channel_is_paged_and_profiles_are_cached(stack) -> None:  # type: ignore[no-untyped-def]
    sb, w = stack.sandbox, stack.world
    for i in range(450):
        user_id = f"U0BIG{i:04d}"
        sb.add_user(user_id, w.provider_team, f"big.{i}", f"Big {i}", tz="Asia/Kolkata")
        sb.join(w.channel, user_id)
    setup_partnership(stack)
    member_calls = sb.calls_to("conversations.members")
    assert len(member_calls) == 3, "463 members at 200 a page"
    assert all(str(c.args.get("limit")) == "200" for c in member_calls)
    users_info = [c.args["user"] for c in sb.calls_to("users.info")]
    assert len(users_info) == len(set(users_info)), "each profile fetched once"
    with stack.services.uow_factory() as uow:
        p = uow.session.scalars(select(Partnership)).one()
        assert len(uow.members.list_answerable(p.id)) == 462  # 12 demo people + 450, not the bot


def _demo(tmp_path: Path, *options: str) -> str:
    """``partnerpulse demo --output tmp_path/out`` with ``options``, with no setting from this shell; its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERPULSE_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--output", str(tmp_path / "out"), *options],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_demo_runs_offline_through_eight_weeks_the_issue_log_the_digest_and_its_outputs(tmp_path: Path) -> None:
    out = _demo(tmp_path)
    lines = out.splitlines()
    # A story a newcomer can follow: short, people by name, no Slack markup.
    assert len(lines) <= 160, out
    assert "<@U" not in out and "<!" not in out and "&lt;" not in out and "&amp;" not in out, out
    # The story's sentences, with the wrapping (and the bar before what the channel showed) taken out.
    story = " ".join(out.replace("│", " ").split())
    for person in ("Dana Whitfield", "Priya Raman", "Sam Ortega", "Vikram Shah", "Maya Chen", "Ananya Iyer", "Lena Fischer"):
        assert person in story, person
    # Setup: who, and the two organisations.
    assert "Dana Whitfield, the client lead at Northwind Retail, types /partner setup" in story
    assert "between Northwind Retail (client) and Contoso Services (provider)" in story
    # The first round in detail, with its results per side as the channel showed them; then a line a week.
    assert (
        "Pulse results · round 1" in story
        and "Answered: Northwind Retail 3 of 6 (50%) · Contoso Services 5 of 7 (71%)" in story
    )
    assert "Lena Fischer answers from the reminder's button." in story
    for week in range(2, 9):
        assert [line for line in lines if line.startswith(f"> Week {week} · ") and "answered (client " in line], week
    # The escalation: level 1 privately to the owner; the channel sees the roles needed from level 2 on.
    assert "Level 1 nudges the owner, Ananya Iyer, privately (a note in the channel only they see)" in story
    assert "Issue #1 is waiting for you" in story
    assert "Issue #1 needs the leads of both sides" in story
    assert "Needed now, from the leads of both sides (@Dana Whitfield @Priya Raman)" in story
    assert "Issue #1 needs the executive sponsors of both sides" in story and "@Sam Ortega @Vikram Shah" in story
    # Reminders: a message from the app for the installing organisation's people, ephemeral for the other's.
    assert "as a message from the app" in story and "as a note in the channel only they see" in story
    # The blameless follow-up: both sides' answers and the action one became.
    assert "What can we do to keep this from happening again?" in story
    assert "@Maya Chen for Northwind Retail (client): We send the data extract by the 25th." in story
    assert "@Ananya Iyer for Contoso Services (provider): We alert the client when the job runs late." in story
    assert "added an action: We send the data extract by the 25th." in story
    # Goals, the expectation, the scorecard's result, the digest's headline and top lines, the portfolio.
    assert "adds a shared goal" in story and "Rohan Mehta marks it at risk" in story and "Priya Raman agrees" in story
    assert "closes and its report is posted: Scorecard 20" in story
    assert "8 of 8 dimensions differ by 1 point or more" in story
    # The digest leads with its headline: what changed, what needs attention, which decisions from whom.
    assert "Weekly digest for Northwind service desk, week of" in story
    assert "What changed: Health index (4 weeks, against the 4 before): Northwind Retail" in story
    # Both watermelon pairings of the last week (see check_demo_kpis), then the issue.
    assert "Needs attention: The relationship's communication: client 2.0 · provider " in story
    assert (
        "Communication: KPIs green, people unhappy; Responsiveness: people happy, KPIs red; issue #1 Change tickets wait "
        "for triage (S2 high, Contoso Services): escalated"
    ) in story
    assert "Decisions needed: Contoso Services: acknowledge issue #1" in story
    assert "Its thread: the full detail and the 12-week trend chart" in story
    assert "/partner portfolio (Dana Whitfield): Portfolio: 1 partnership ranked by risk" in story
    assert "0 violation(s)" in story
    # Where everything is, and how to export again.
    folder = (tmp_path / "out").resolve()
    assert f"Where everything is: {folder}" in story
    for name in ("demo.db", "transcript.txt", "chart.png", "report.html", "report.csv", "kpis.csv"):
        assert [line for line in lines if line.startswith(f"  {name} ")], name
    assert "partnerpulse export --partnership 1 --format html --at " in story
    # The full channel is in the transcript: every week's pulse and results, the threads, the reminders.
    transcript = (folder / "transcript.txt").read_text(encoding="utf-8")
    assert len(transcript.splitlines()) > 3 * len(lines)
    for n in range(1, 9):
        assert f"*Round {n}* for *Northwind service desk*" in transcript, n
        assert f"== Pulse results · round {n} · Northwind service desk ==" in transcript, n
    # Lena Fischer (Contoso, Berlin) sees the closing time in her own zone.
    assert (
        "(only visible to @Lena Fischer): The partnership pulse for *Northwind service desk* closes Wed 9 Dec, 15:00 CET"
        in (transcript)
    )
    assert "    > @PartnerPulse: :rotating_light: *Issue #1 needs the leads of both sides*" in transcript
    assert (
        "@PartnerPulse (only visible to @Ananya Iyer): :hourglass_flowing_sand: *Issue #1 is waiting for you*" in transcript
    )
    channel_part, private_part = transcript.split("PartnerPulse to ", 1)
    nudges = [line for line in channel_part.splitlines() if "is waiting for you" in line]
    assert nudges and all("(only visible to @Ananya Iyer)" in line for line in nudges)  # nobody else sees level 1
    # The app's own people get their reminders and overdue-action reminders as messages from the app, weekly.
    assert "Your action “We send the data extract by the 25th.” in Northwind service desk is 4 days overdue" in private_part
    assert "is 11 days overdue" in private_part and "is 5 days overdue" not in private_part
    assert "<@U" not in transcript  # mentions rendered to names there too
    chart = (tmp_path / "out" / "chart.png").read_bytes()
    assert chart.startswith(b"\x89PNG")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "Northwind service desk" in html
    csv_rows = (tmp_path / "out" / "report.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_rows) > 8 * 2
    check_demo_kpis(story, tmp_path / "out")


def test_demo_runs_with_both_organisations_installed_by_oauth(tmp_path: Path) -> None:
    story = " ".join(_demo(tmp_path, "--weeks", "2", "--both-installed").replace("│", " ").split())
    assert "Dana Whitfield opens http://127.0.0.1:" in story and "installed in Northwind Retail" in story
    assert "Priya Raman opens http://127.0.0.1:" in story and "installed in Contoso Services" in story
    assert "0 violation(s)" in story
    # Both organisations' installations are stored, their tokens encrypted.
    with sqlite3.connect(tmp_path / "out" / "demo.db") as db:
        teams = {row[0] for row in db.execute("SELECT team_id FROM slack_bots")}
        tokens = " ".join(str(row) for row in db.execute("SELECT bot_token, bot_refresh_token FROM slack_bots"))
    assert teams == {"T0CLIENT", "T0PROVID"}
    assert "xox" not in tokens  # stored encrypted
