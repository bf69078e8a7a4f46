"""``partnerpulse demo``: the real bot against the built-in Slack sandbox, offline, in about a minute.

A client lead sets up the partnership in a Slack Connect channel, a new provider engineer joins, and eight
weekly rounds run through the heartbeat's ``tick``: the pulse is posted, people of both sides answer in the
modal, non-responders get one reminder, and each round closes with results per side and the gaps; every
Monday the weekly digest is posted with its trend chart. Along the way the leads agree a shared goal and an
expectation, two issues are logged (one escalates to both leads; the other is resolved, both sides answer the
blameless follow-up question and one answer becomes an action), and both sides fill in a bilateral
scorecard. At the end the chart, the HTML report and the CSV export are written to the output folder.
"""

from __future__ import annotations

import logging
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.harness import LocalStack, start_local_stack
from bot.sandbox.transcript import render_channel
from bot.services import export, partnerships
from bot.services.models import DIMENSIONS

#: How each side tends to score, per week: the client's mood dips mid-way and recovers, so the gaps, the
#: signals and the digest's trend have something to show.
CLIENT_MOOD = (4, 3, 3, 2, 2, 3, 3, 4)
PROVIDER_MOOD = (4, 4, 4, 4, 3, 4, 4, 4)
COMMENTS = {
    "client": [
        "Access requests still take too long on our side, and that slows the provider down.",
        "Weekly status is clear, but we hear about SLA misses late. <!channel> should see this.",
        "The backlog is shrinking; thanks for the extra weekend shift.",
    ],
    "provider": [
        "Decisions on the change board arrive late, so we wait for days.",
        "Good collaboration on the incident last Tuesday.",
        "We need earlier notice of priority changes.",
    ],
}


def _step(text: str) -> None:
    print(f"\n\033[1m▶ {text}\033[0m" if sys.stdout.isatty() else f"\n> {text}", flush=True)


def _wait(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError("the bot did not react in time")
        time.sleep(0.02)


def _next_monday_noon(today: datetime) -> datetime:
    days = (7 - today.weekday()) % 7 or 7
    return (today + timedelta(days=days)).replace(hour=12, minute=0, second=0, microsecond=0)


def _answer(
    stack: LocalStack, user_id: str, score: int, comment: str | None, rng: random.Random, *, ephemeral_ts: str | None = None
) -> None:
    """Click Answer (on the pulse, or on the reminder) and submit the modal like a person would."""
    sb, channel = stack.sandbox, stack.world.channel
    actor = stack.actor(user_id)
    seen = {v["id"] for v in sb.open_views(user_id)}
    if ephemeral_ts is not None:
        actor.click_ephemeral(channel, ephemeral_ts, "pulse-answer")
    else:
        pulse = next(m for m in reversed(sb.messages(channel)) if "pulse-answer" in str(m.get("blocks")))
        actor.click(channel, pulse["ts"], "pulse-answer")
    _wait(lambda: any(v.get("callback_id") == "pulse-answer-submit" and v["id"] not in seen for v in sb.open_views(user_id)))
    view = next(v for v in sb.open_views(user_id) if v.get("callback_id") == "pulse-answer-submit" and v["id"] not in seen)
    values: dict[str, object] = {}
    for block in view["blocks"]:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith("score-"):
            nps = block["element"]["type"] == "static_select"
            value = max(1, min(5, score + rng.choice((-1, 0, 0, 1))))
            values[block_id] = str(value * 2 if nps else value)
    if comment:
        first = next(b for b in values)
        values["comment-" + first.removeprefix("score-")] = comment
    response = actor.submit_view(view["id"], values)
    if response.status != 200:
        raise RuntimeError(f"answer submission failed: {response.status} {response.body}")


def _submit_new_view(stack: LocalStack, user_id: str, callback_id: str, seen: set[str], values: dict[str, object]) -> None:
    """Wait for the modal the bot opens for ``user_id`` and submit it like a person would."""
    sb = stack.sandbox
    _wait(lambda: any(v.get("callback_id") == callback_id and v["id"] not in seen for v in sb.open_views(user_id)))
    view = next(v for v in sb.open_views(user_id) if v.get("callback_id") == callback_id and v["id"] not in seen)
    response = stack.actor(user_id).submit_view(view["id"], values)
    if response.status != 200 or response.body.strip():
        raise RuntimeError(f"{callback_id} was refused: {response.status} {response.body}")


def _card(stack: LocalStack, number: int) -> dict[str, object]:
    sb, channel = stack.sandbox, stack.world.channel
    found: list[dict[str, object]] = []

    def find() -> bool:
        found[:] = [
            m
            for m in sb.messages(channel, include_thread_replies=False)
            if str(m.get("text", "")).startswith(f"Issue #{number} ")
        ]
        return bool(found)

    _wait(find)
    return found[-1]


def _thread(stack: LocalStack, ts: str) -> list[dict[str, object]]:
    return [m for m in stack.sandbox.messages(stack.world.channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def _issue_log(stack: LocalStack, now: datetime) -> None:
    """Issues before they escalate: log two, let one escalate, resolve the other with follow-ups and an action."""
    sb, w = stack.sandbox, stack.world
    views = lambda: set(sb.views)  # noqa: E731 - a short local helper
    client_person, provider_person = w.client_members[0], w.provider_members[0]

    _step(f"{now:%a %d %b %H:%M} UTC: a Northwind analyst logs an issue: /partner issue Change tickets wait for triage")
    seen = views()
    stack.actor(client_person).slash_command("/partner", "issue Change tickets wait for triage", w.channel)
    _submit_new_view(
        stack,
        client_person,
        "issue-log-submit",
        seen,
        {
            "title": "Change tickets wait for triage",
            "details": "Standard change tickets wait two days before anyone triages them; releases slip.",
            "severity": "S2",
            "category": "Timeliness",
            "owning_side": "provider",
            "owner_id": provider_person,
        },
    )
    first = _card(stack, 1)
    print("  " + str(first.get("text", "")))
    for hours, label in ((4, "4 working hours later"), (24, "the next day")):
        report = stack.tick(now + timedelta(hours=hours, minutes=1))
        print(f"  {label}: {report.escalations} escalation(s)")
    for reply in _thread(stack, str(first["ts"])):
        if "Level" in str(reply.get("text", "")) or "level" in str(reply.get("text", "")):
            print("    thread: " + str(reply.get("text", ""))[:160])

    later = now + timedelta(hours=24, minutes=2)
    _step("A Northwind lead logs a second issue; its Contoso owner resolves it from the card")
    seen = views()
    stack.actor(w.client_lead).slash_command("/partner", "issue Month-end report arrived late", w.channel)
    _submit_new_view(
        stack,
        w.client_lead,
        "issue-log-submit",
        seen,
        {
            "title": "Month-end report arrived late",
            "details": "The November report came two days after the agreed date.",
            "severity": "S3",
            "category": "Timeliness",
            "owning_side": "provider",
            "owner_id": provider_person,
        },
    )
    second = _card(stack, 2)
    seen = views()
    stack.actor(provider_person).click(w.channel, str(second["ts"]), "issue-resolve")
    _submit_new_view(stack, provider_person, "issue-resolve-submit", seen, {"comment": "The report job now runs at 06:00."})
    _wait(lambda: any("followup-sides" in str(m.get("blocks")) for m in _thread(stack, str(second["ts"]))))
    question = next(m for m in _thread(stack, str(second["ts"])) if "followup-sides" in str(m.get("blocks")))
    print("  Resolved; the thread asks both sides: What can we do to keep this from happening again?")
    for person, button, text in (
        (client_person, "followup-contribute-client", "We send the data extract by the 25th."),
        (provider_person, "followup-contribute-provider", "We alert the client when the job runs late."),
    ):
        seen = views()
        stack.actor(person).click(w.channel, str(question["ts"]), button)
        _submit_new_view(stack, person, "followup-add-submit", seen, {"text": text})
        print(f"  @{sb.user_name(person)}: {text}")
    _wait(lambda: any("data extract" in str(m) for m in _thread(stack, str(second["ts"]))))
    contribution = next(m for m in _thread(stack, str(second["ts"])) if "data extract" in str(m))
    stack.actor(client_person).click(w.channel, str(contribution["ts"]), "followup-to-action")
    _wait(lambda: "data extract" in str(sb.message(w.channel, str(second["ts"]))))
    print("  One click made the Northwind contribution an action, tracked on the card and in /partner actions.")
    stack.tick(later)


def _tick(stack: LocalStack, at: datetime, label: str) -> None:
    """Run the heartbeat's tick at ``at`` and say what it did, and what that means in the channel."""
    report = stack.tick(at)
    print(f"  {label}: {report.summary()}")
    if report.digests:
        print("  The weekly digest of the week before is in the channel, its trend chart in its thread.")
    if report.scorecards_closed:
        print("  The scorecard closed: its perception-gap report (and the expectations ledger) is in the channel.")


def _newest(stack: LocalStack, text: str) -> dict[str, object]:
    """The newest top-level channel message whose JSON contains ``text`` (waiting for it)."""
    found: list[dict[str, object]] = []

    def find() -> bool:
        found[:] = [m for m in stack.sandbox.messages(stack.world.channel, include_thread_replies=False) if text in str(m)]
        return bool(found)

    _wait(find)
    return found[-1]


def _newest_ephemeral(stack: LocalStack, user_id: str, text: str) -> dict[str, object]:
    found: list[dict[str, object]] = []

    def find() -> bool:
        found[:] = [m for m in stack.sandbox.ephemerals(stack.world.channel, user=user_id) if text in str(m)]
        return bool(found)

    _wait(find)
    return found[-1]


def _goals_and_expectations(stack: LocalStack) -> None:
    """A shared goal with an owner on each side, and an expectation the other side agrees to."""
    sb, w = stack.sandbox, stack.world
    views = lambda: set(sb.views)  # noqa: E731 - a short local helper
    client_owner, provider_owner = w.client_members[1], w.provider_members[1]
    _step("Dana adds a shared goal: /partner goal add Cut the ticket backlog below 50")
    seen = views()
    stack.actor(w.client_lead).slash_command("/partner", "goal add Cut the ticket backlog below 50", w.channel)
    _submit_new_view(
        stack, w.client_lead, "goal-add-submit", seen, {"client_owner_id": client_owner, "provider_owner_id": provider_owner}
    )
    _newest_ephemeral(stack, w.client_lead, "Goal #1 added")  # saved after the form closed
    print(f"  Goal #1, owned by @{sb.user_name(client_owner)} and @{sb.user_name(provider_owner)}, on track.")
    # The provider owner is in the other organisation: the menu's "Shared goals" button is their way in.
    stack.actor(w.client_lead).slash_command("/partner", "menu", w.channel)
    menu = _newest(stack, "menu-everyone")
    stack.actor(provider_owner).click(w.channel, str(menu["ts"]), "goals-list")
    listing = _newest_ephemeral(stack, provider_owner, "Shared goals")
    seen = views()
    stack.actor(provider_owner).click_ephemeral(w.channel, str(listing["ts"]), "goal-status")
    note = "Two engineers are on leave until the 15th."
    _submit_new_view(stack, provider_owner, "goal-status-submit", seen, {"status": "at_risk", "note": note})
    print(f"  @{sb.user_name(provider_owner)} (Contoso) sets it at risk from the menu: {note}")

    _step("Dana records an expectation: /partner expect A written status report every Friday by noon")
    seen = views()
    stack.actor(w.client_lead).slash_command("/partner", "expect A written status report every Friday by noon", w.channel)
    _submit_new_view(stack, w.client_lead, "expectation-add-submit", seen, {})
    posted = _newest(stack, "Expectation #1")
    stack.actor(w.provider_lead).click(w.channel, str(posted["ts"]), "expectation-agree")
    _wait(lambda: "Agreed by" in str(sb.message(w.channel, str(posted["ts"]))))
    print("  Contoso's lead agrees with one click; the message in the channel says so.")


def _start_scorecard(stack: LocalStack, client_people: list[str], provider_people: list[str]) -> None:
    """A lead opens the bilateral scorecard; three people per side rate their own side and the other."""
    sb, w = stack.sandbox, stack.world
    _step("Dana opens this quarter's bilateral scorecard: /partner scorecard start")
    stack.actor(w.client_lead).slash_command("/partner", "scorecard start", w.channel)
    invite = _newest(stack, "scorecard-fill")
    ratings = ((client_people[:3], 4, 3), (provider_people[:3], 4, 4))
    for people, own, other in ratings:
        for user_id in people:
            seen = set(sb.views)
            stack.actor(user_id).click(w.channel, str(invite["ts"]), "scorecard-fill")
            values: dict[str, object] = {f"self-{d}": str(own) for d in DIMENSIONS}
            values |= {f"other-{d}": str(other) for d in DIMENSIONS}
            _submit_new_view(stack, user_id, "scorecard-submit", seen, values)
    print("  Three people on each side rated themselves and the other side; it closes in 7 days.")


def _write_outputs(stack: LocalStack, out: Path) -> list[str]:
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
    (out / "report.html").write_text(export.render_html(report), encoding="utf-8")
    (out / "report.csv").write_text(export.render_csv(report), encoding="utf-8")
    return [*written, "report.html", "report.csv"]


def run_demo(*, output_dir: str = "partnerpulse-demo", weeks: int = 8, verbose: bool = False) -> int:
    """Run the demo, print what the channel saw, and leave the database and transcript in ``output_dir``."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="  [bot] %(levelname)s %(name)s: %(message)s"
    )
    out = Path(output_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.monotonic()
    rng = random.Random(7)
    start = _next_monday_noon(datetime.now(UTC))
    stack = start_local_stack(database_url=f"sqlite:///{(out / 'demo.db').resolve()}", start=start)
    sb, w = stack.sandbox, stack.world
    try:
        print(f"Slack sandbox on {sb.api_url} · PartnerPulse serving {stack.bot_url}")
        print("Everything below goes through the real handlers, database and heartbeat; only Slack is simulated.")

        _step(f"{start:%a %d %b %Y}: Dana (Northwind, client lead) types /partner setup in #northwind-contoso")
        lead = stack.actor(w.client_lead)
        lead.slash_command("/partner", "setup", w.channel)
        _wait(lambda: any(v.get("callback_id") == "setup-submit" for v in sb.open_views(w.client_lead)))
        view = next(v for v in sb.open_views(w.client_lead) if v.get("callback_id") == "setup-submit")
        lead.submit_view(
            view["id"],
            {
                "name": "Northwind service desk",
                "client_org": "Northwind Retail",
                "provider_org": "Contoso Services",
                "provider_leads": [w.provider_lead],
                "client_sponsors": [w.client_sponsor],
                "provider_sponsors": [w.provider_sponsor],
                "timezone": "America/New_York",
            },
        )
        _wait(lambda: len(sb.messages(w.channel)) >= 2)
        print("  Saved: weekly pulse on Mondays 09:00 America/New_York; sides follow each person's organisation.")

        _step("A new Contoso engineer joins the channel (member_joined_channel keeps the member list current)")
        sb.add_user("U0PNEW1", w.provider_team, "lena.fischer", "Lena Fischer", tz="Europe/Berlin")
        sb.member_joined(w.channel, "U0PNEW1")
        uow = stack.services.uow_factory
        _wait(
            lambda: partnerships.status(uow(), team_id=w.client_team, channel_id=w.channel).members_by_side["provider"] == 7
        )
        lead.slash_command("/partner", "status", w.channel)
        _wait(lambda: len(sb.response_url_posts) >= 1)
        status_reply = sb.response_url_posts[-1].body or {}
        status_text = status_reply.get("blocks", [{}])[-1].get("text", {}).get("text", "")
        print("  " + status_text.replace("\n", "\n  "))

        client_people = [w.client_lead, *w.client_members]
        provider_people = [w.provider_lead, *w.provider_members, "U0PNEW1"]
        for week in range(weeks):
            p = partnerships.get_partnership(stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
            assert p is not None and p.next_pulse_at is not None
            at = p.next_pulse_at
            _step(f"Week {week + 1}: heartbeat at {at:%a %d %b %H:%M} UTC posts the pulse")
            _tick(stack, at + timedelta(seconds=1), "tick")
            mood_c, mood_p = CLIENT_MOOD[week % len(CLIENT_MOOD)], PROVIDER_MOOD[week % len(PROVIDER_MOOD)]
            answering = client_people[: 3 + week % 2] + provider_people[: 4 + week % 2]
            for i, user_id in enumerate(answering):
                side = "client" if user_id in client_people else "provider"
                comment = COMMENTS[side][(week + i // 3) % 3] if i % 3 == 0 else None
                _answer(stack, user_id, mood_c if side == "client" else mood_p, comment, rng)
            print(f"  {len(answering)} people answered in the modal (one changed their mind and answered again).")
            _answer(stack, answering[0], mood_c, None, rng)

            _tick(stack, at + timedelta(hours=24, seconds=1), "Tuesday")
            reminded = [
                m for m in sb.ephemerals(w.channel) if "closes" in str(m.get("text", "")) and "Reminder" in m.get("text", "")
            ]
            if reminded:
                last = reminded[-1]
                _answer(stack, str(last["recipient"]), mood_c, None, rng, ephemeral_ts=str(last["ts"]))
                print(f"  @{sb.user_name(str(last['recipient']))} answered from the reminder's button.")
            _tick(stack, at + timedelta(hours=48, seconds=1), "Wednesday 09:00, the round closes")
            if week == 1:
                _goals_and_expectations(stack)
            if week == min(3, weeks - 1):
                _issue_log(stack, at + timedelta(hours=48, seconds=1))
            if week == min(2, weeks - 1):
                _start_scorecard(stack, client_people, provider_people)

        p = partnerships.get_partnership(stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
        assert p is not None and p.next_pulse_at is not None
        monday = p.next_pulse_at
        _step(f"{monday:%a %d %b %H:%M} UTC: the heartbeat posts the weekly digest of week {weeks}")
        _tick(stack, monday + timedelta(seconds=1), "tick")
        digest = _newest(stack, "Weekly digest")
        files = [f for m in _thread(stack, str(digest["ts"])) for f in m.get("files") or []]  # type: ignore[attr-defined]
        print(f"  {str(digest.get('text', ''))[:150]}")
        if files:
            print(f"  Its thread has the 12-week chart ({files[0].get('name', 'chart.png')}), with its alt text.")
        lead.slash_command("/partner", "portfolio", w.channel)
        portfolio = _newest_ephemeral(stack, w.client_lead, "Portfolio")
        print(f"  /partner portfolio (for Dana): {str(portfolio.get('text', ''))[:150]}")

        transcript = sb.transcript(w.channel)
        (out / "transcript.txt").write_text(transcript, encoding="utf-8")
        # A condensed view for the terminal: channel messages and the reminders only.
        messages = sb.messages(w.channel)
        reminders = [m for m in sb.ephemerals(w.channel) if "Reminder" in str(m.get("text", ""))]
        _step("What #northwind-contoso saw (thank-you notes omitted; full transcript in the output folder)")
        print(render_channel("#northwind-contoso", messages, reminders, sb.user_name))
        violations = sb.violations
        print(
            f"Slack Web API calls: {len(sb.calls)}, checked against Slack's API description: {len(violations)} violation(s)."
        )
        written = _write_outputs(stack, out)
        print(
            f"Output: {out.resolve()} (demo.db, transcript.txt, {', '.join(written)}) · "
            f"finished in {time.monotonic() - started:.1f} s"
        )
        return 1 if violations else 0
    finally:
        stack.close()
