"""What the demo leaves in its output folder (transcript, chart, exports) and the closing lines that say where."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from pathlib import Path

from bot import export_csv, export_html, export_kpis
from bot.demo_story import CHANNEL_NAME, NEW_MEMBER, Story
from bot.harness import LocalStack
from bot.sandbox.transcript import render_channel
from bot.services import export, partnerships


def write_outputs(stack: LocalStack, out: Path) -> list[str]:
    """The chart the last digest uploaded, and the HTML report and CSV of the whole run."""
    sb, w = stack.sandbox, stack.world
    written: list[str] = []
    charts = [f for f in sb.files.values() if f.completed and f.content and f.filename.endswith(".png")]
    if charts:
        (out / "chart.png").write_bytes(charts[-1].content or b"")
        written.append("chart.png")
    p = partnerships.get_partnership(stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
    assert p is not None
    report = export.build_export(
        stack.services.uow_factory, partnership_id=p.id, start=None, end=None, now=stack.services.clock()
    )
    (out / "report.html").write_text(export_html.render_html(report), encoding="utf-8")
    (out / "report.csv").write_text(export_csv.render_csv(report), encoding="utf-8")
    (out / "kpis.csv").write_text(export_kpis.render_kpi_csv(report), encoding="utf-8")
    return [*written, "report.html", "report.csv", "kpis.csv"]


def write_transcript(story: Story, path: Path) -> int:
    """Everything the channel saw (messages, threads, ephemerals), then the app's direct messages; returns lines."""
    sb, w = story.sb, story.world
    parts = [render_channel(f"{CHANNEL_NAME} ({w.channel})", sb.messages(w.channel), sb.ephemerals(w.channel), story.name)]
    for user_id in (*w.all_users, NEW_MEMBER):
        messages = sb.messages(sb.dm_channel(user_id))
        if messages:
            parts.append(render_channel(f"PartnerPulse to {story.name(user_id)}, privately", messages, [], story.name))
    text = "\n".join(parts)
    path.write_text(text, encoding="utf-8")
    return text.count("\n")


def tell_where(story: Story, out: Path, written: Sequence[str], transcript_lines: int, weeks: int) -> None:
    stack, w = story.stack, story.world
    p = partnerships.get_partnership(stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
    assert p is not None
    folder = out.resolve()
    about = {
        "demo.db": "the partnership's database (SQLite)",
        "transcript.txt": f"everything the channel saw, every message and thread ({transcript_lines} lines)",
        "chart.png": "the last digest's 12-week trend chart",
        "report.html": f"the business-review report of {f'the {weeks} weeks' if weeks > 1 else 'the week'}: figures, "
        "chart, scorecard, goals, expectations, the agreed KPIs beside how each side rates their dimension",
        "report.csv": "the same weekly figures as CSV",
        "kpis.csv": "every week's KPIs, their status and each side's score of their dimension (kpi-csv)",
    }
    story.step(f"Where everything is: {folder}")
    for name in ("demo.db", "transcript.txt", *written):
        print(f"  {name:<15} {about.get(name, '')}")
    at = stack.services.clock().astimezone(UTC)
    story.say(f"To export again (the demo's clock is at {at:%d %b %Y}, hence --at; --format csv for the CSV):")
    print(
        f"    DATABASE_URL=sqlite:///{folder / 'demo.db'} partnerpulse export --partnership {p.id} "
        f"--format html --at {at:%Y-%m-%dT%H:%M:%SZ} --output report.html"
    )
