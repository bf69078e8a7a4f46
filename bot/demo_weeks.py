"""The demo's weekly rounds: answering, reminders and results through ``tick``, one line per routine week, and the
digest's top lines."""

from __future__ import annotations

import random
import re
from datetime import timedelta

from bot.demo_actors import answer_pulse, newest_ephemeral, newest_message, scheduled_pulse_at, thread_of
from bot.demo_chapters import GAP_PATTERN, escalation_messages, fill_scorecard, gap_of, scorecard_report, show_escalations
from bot.demo_kpis import dimension_scores, short_pairing
from bot.demo_story import CLIENT_MOOD, CLIENT_ORG, COMMENTS, PROVIDER_MOOD, PROVIDER_ORG, Json, Story, Week, titled
from bot.sandbox.transcript import readable, render_message
from bot.services.figures import Flag
from bot.services.figures_format import FLAG_ICONS


def run_week(
    story: Story,
    week: int,
    people: tuple[list[str], list[str]],
    rng: random.Random,
    *,
    detail: bool,
    scorecard_on_monday: bool,
    weeks: int,
) -> Week:
    """One weekly round through the heartbeat: Monday's pulse, answers, Tuesday's reminders, Wednesday's results.

    ``detail`` tells it step by step (the first week); otherwise the week is a line or two.
    """
    stack = story.stack
    client_people, provider_people = people
    at = scheduled_pulse_at(stack)
    current = Week(story)
    if detail:
        story.step(f"Week 1 · {at:%a %d %b}: the first pulse, step by step")
    current.tick(at + timedelta(seconds=1))
    if detail:
        pulse = newest_message(stack, "pulse-answer")
        story.say("At 09:00 New York time the heartbeat posts the pulse in the channel:")
        story.show(line for line in story.lines(pulse) if not line.startswith(("[", "==")))
    if scorecard_on_monday:  # a short run: opened now, it closes by the last digest
        current.scorecard_opened = fill_scorecard(story, client_people, provider_people)
    mood_c, mood_p = CLIENT_MOOD[week % len(CLIENT_MOOD)], PROVIDER_MOOD[week % len(PROVIDER_MOOD)]
    answering = client_people[: 3 + week % 2] + provider_people[: 4 + week % 2]
    for i, user_id in enumerate(answering):
        side = "client" if user_id in client_people else "provider"
        comment = COMMENTS[side][(week + i // 3) % 3] if i % 3 == 0 else None
        mood = mood_c if side == "client" else mood_p
        answer_pulse(stack, user_id, mood, comment, rng, by_dimension=dimension_scores(side, week, weeks))
    # A change of mind: updated, not counted twice.
    answer_pulse(stack, answering[0], mood_c, None, rng, by_dimension=dimension_scores("client", week, weeks))
    story.new()
    if detail:
        story.say(
            f"{len(answering)} people answer in the pop-up form, some with a comment. {story.name(answering[0])} "
            "changes an answer later: it is updated, never counted twice, and nobody sees who gave which score."
        )

    report = current.tick(at + timedelta(hours=24, seconds=1))
    reminders = [m for m in current.private if "Reminder: the partnership pulse" in str(m.get("text", ""))]
    if detail:
        dms = sum(1 for m in reminders if m.get("dm_channel"))
        story.say(
            f"Tuesday: the {report.reminders} people who have not answered get one reminder: {dms} from {CLIENT_ORG}, "
            f"which installed PartnerPulse, as a message from the app; {len(reminders) - dms} from {PROVIDER_ORG}, "
            "whom the app cannot message, as a note in the channel only they see:"
        )
        if reminders:
            story.show(line for line in story.lines(reminders[0]) if line != "[Answer]")
    if reminders:
        last = reminders[-1]
        recipient = str(last["recipient"])
        side = "client" if recipient in client_people else "provider"
        mood = mood_c if side == "client" else mood_p
        answer_pulse(stack, recipient, mood, None, rng, reminder=last, by_dimension=dimension_scores(side, week, weeks))
        story.new()
        if detail:
            story.say(f"{story.name(recipient)} answers from the reminder's button.")

    current.tick(at + timedelta(hours=48, seconds=1))
    results = titled(current.messages, story, "Pulse results")
    if detail:
        story.say("Wednesday 09:00: the round closes, and the results per side are posted:")
        if results:
            story.show(story.lines(results[-1]))
    else:
        _week_line(story, f"Week {week + 1} · {at:%a %d %b}", current, results)
    _week_events(story, current)
    return current


def _week_line(story: Story, title: str, current: Week, results: list[Json]) -> None:
    """A routine week in a line or two: participation and the widest gap as the results showed them, and what
    else the heartbeat did."""
    parts: list[str] = []
    if results:
        lines = story.lines(results[-1])
        answered = next((line for line in lines if line.startswith("Answered:")), "")
        sides = answered.removeprefix("Answered:").split(". ")[0].strip()
        counts = [(int(a), int(b)) for a, b in re.findall(r"(\d+) of (\d+)", sides)]
        if len(counts) == 2:  # the channel's "<client org> a of b · <provider org> c of d"
            (a, b), (c, d) = counts
            parts.append(f"{a + c} of {b + d} answered (client {a}/{b}, provider {c}/{d})")
        else:
            parts.append(sides or "results posted")
        # Only a flagged gap (1.0 or more) is worth a line of the story.
        rows = [line for line in lines if ": client " in line and gap_of(line) >= 0 and FLAG_ICONS[Flag.WATCH] in line]
        rows += [line for line in lines if ": client " in line and FLAG_ICONS[Flag.ACT] in line]
        if rows:
            widest = max(rows, key=gap_of)
            what = widest.split(": client ")[0]
            gap = GAP_PATTERN.search(widest)
            parts.append(f"widest gap: {what} {gap.group(1) if gap else ''}".rstrip())
    else:
        parts.append("the round closed without results")
    if current.total("digests") and not story.digest_explained:
        story.digest_explained = True
        parts.append("the weekly digest of the week before, with its trend chart, now comes every Monday")
    if current.total("action_reminders"):
        parts.append("an overdue action's owner is reminded privately")
    story.step(f"{title}: " + "; ".join(parts) + ".")


def _week_events(story: Story, current: Week) -> None:
    """What stands out in a week: early warnings to the leads, escalations, scorecards."""
    signals = current.total("signals")
    notes = titled(current.private, story, "Early warning")
    if signals and notes and not story.signals_explained:
        story.signals_explained = True
        leads = sorted({str(n.get("recipient")) for n in notes})
        story.say(
            f"Early warning: {signals} note{'s' if signals != 1 else ''} to the leads ({story.names(leads)}), which "
            "only they see, e.g.:"
        )
        story.show(story.lines(notes[0])[1:2])
    elif signals:
        story.say(f"Early warning: {signals} note{'s' if signals != 1 else ''} to the leads.")
    if escalation_messages(story, current.messages):
        story.say("The open issue escalates further:")
        show_escalations(story, current.messages)
    if current.total("scorecards_opened"):
        story.say("The next quarter's scorecard opens on schedule.")
    for report in titled(current.messages, story, "perception gaps"):
        scorecard_report(story, report)


def digest_week(story: Story, weeks: int) -> Week:
    """The Monday after the last round: the digest of the last week, leading with its headline."""
    stack, w = story.stack, story.world
    monday = scheduled_pulse_at(stack)
    story.step(f"{monday:%a %d %b}: the weekly digest of week {weeks}, leading with its headline")
    current = Week(story)
    current.tick(monday + timedelta(seconds=1))
    digest = newest_message(stack, "Weekly digest")
    story.show(_digest_top_lines(story, digest))
    files = [f for m in thread_of(stack, str(digest["ts"])) for f in m.get("files") or []]
    if files:
        story.say(f"Its thread: the full detail and the 12-week trend chart ({files[0].get('name', 'a PNG')}).")
    lead = stack.actor(w.client_lead)
    lead.slash_command("/partner", "portfolio", w.channel)
    portfolio = newest_ephemeral(stack, w.client_lead, "Portfolio")
    story.say(f"/partner portfolio ({story.name(w.client_lead)}): {story.plain(str(portfolio.get('text', '')))}")
    story.new()
    for report in titled(current.messages, story, "perception gaps"):
        scorecard_report(story, report)
    return current


def _unbulleted(line: str) -> str:
    """A list line without its bullet or flag ("• ", "⚠️ ")."""
    first, _, rest = line.strip().partition(" ")
    return rest if rest and not any(ch.isalnum() for ch in first) else line.strip()


#: The headline's parts, as the digest's main message heads them (``bot.blocks.digest_headline``).
HEADLINE_PARTS = ("What changed", "Needs attention", "Decisions needed")


def _digest_top_lines(story: Story, digest: Json) -> list[str]:
    """The digest's notification text, then its headline as the channel shows it: what changed, what needs
    attention and which decisions are needed, each part on one line (a quiet week says so)."""
    top = [story.plain(str(digest.get("text", "")))]
    part = ""
    found: dict[str, list[str]] = {}
    for line in render_message(digest, story.name):
        raw = line.strip()
        heading = next((name for name in HEADLINE_PARTS if raw.startswith(f"*{name}*")), None)
        if heading is not None:
            part = heading
            rest = raw[len(heading) + 2 :].lstrip(": ")
            found[part] = [readable(rest, story.name)] if rest else []
        elif raw.startswith("*A quiet week*"):
            top.append(readable(raw, story.name))
        elif raw.startswith("*"):
            part = ""
        elif part and raw.startswith("•"):
            found[part].append(short_pairing(_unbulleted(readable(raw, story.name))))
    top += [f"{name}: " + "; ".join(rows) for name, rows in found.items() if rows]
    return top
