"""Scheduling through the real heartbeat path, the ``tick`` command, and reading big channels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.harness import SANDBOX_SECRET_KEY
from storage.models import Partnership, PulseRound
from tests.conftest import START
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


def test_demo_runs_offline_through_eight_weeks_the_issue_log_the_digest_and_its_outputs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PARTNERPULSE_", "DATABASE_URL"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--output", str(tmp_path / "out")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "types /partner setup" in out and "Saved: weekly pulse" in out
    assert all(f"Pulse results · round {n}" in out for n in range(1, 9))
    assert "answered from the reminder's button" in out
    assert "level 2: leads of both sides" in out
    assert "We alert the client when the job runs late." in out and "made the Northwind contribution an action" in out
    assert "0 violation(s)" in out
    assert (tmp_path / "out" / "transcript.txt").stat().st_size > 0
    # Eight weeks: goals, an expectation, the scorecard's report and the weekly digest with its chart.
    assert "Goal #1, owned by" in out and "sets it at risk from the menu" in out and "Contoso's lead agrees" in out
    assert "perception-gap report" in out
    assert "Weekly digest for Northwind service desk, week of" in out and "the 12-week chart" in out
    assert "/partner portfolio (for Dana): Portfolio: 1 partnership ranked by risk" in out
    chart = (tmp_path / "out" / "chart.png").read_bytes()
    assert chart.startswith(b"\x89PNG")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "Northwind service desk" in html
    csv_rows = (tmp_path / "out" / "report.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_rows) > 8 * 2
