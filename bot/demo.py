"""``partnerpulse demo``: the real bot against the built-in Slack sandbox, offline, in under a minute.

A client lead sets up the partnership in a Slack Connect channel, a new provider engineer joins, and weekly
rounds (eight by default) run through the heartbeat's ``tick``: the pulse is posted, people of both sides answer
in the modal, non-responders get one reminder, and each round closes with results per side and the gaps; every
Monday the weekly digest is posted with its trend chart. Along the way the leads agree a shared goal and an
expectation, two issues are logged (one escalates to both leads and later to the sponsors; the other is
resolved, both sides answer the blameless follow-up question and one answer becomes an action), and both sides
fill in a bilateral scorecard.

The terminal tells that story in plain English in under 150 lines (for the default eight weeks): people by
name, figures as the channel showed them, the first week step by step and one line for each routine week. Everything the channel saw, message by message, goes to
``transcript.txt`` in the output folder, next to the database, the last digest's chart and the HTML and CSV
export.
"""

from __future__ import annotations

import functools
import io
import logging
import random
import re
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.harness import LocalStack, start_local_stack
from bot.jobs import TickReport
from bot.sandbox import SandboxError
from bot.sandbox.transcript import plain_lines, plain_text, readable, render_channel, render_message
from bot.services import export, partnerships, scorecard
from bot.services.figures import Flag
from bot.services.figures_format import FLAG_ICONS
from bot.services.models import DIMENSIONS

Json = dict[str, Any]

PARTNERSHIP = "Northwind service desk"
CLIENT_ORG, PROVIDER_ORG = "Northwind Retail", "Contoso Services"
CHANNEL_NAME = "#northwind-contoso"
NEW_MEMBER = "U0PNEW1"
#: Terminal width the story is wrapped to.
WIDTH = 100

#: How each side tends to score, per week: the client's mood dips mid-way and recovers, so the gaps, the
#: signals and the digest's trend have something to show.
CLIENT_MOOD = (4, 3, 3, 2, 2, 3, 3, 4)
PROVIDER_MOOD = (4, 4, 4, 4, 3, 4, 4, 4)
COMMENTS = {
    "client": [
        "Access requests still take too long on our side, and that slows the provider down.",
        # Typed mention syntax: the bot must show it as text, never notify the channel.
        "Weekly status is clear, but we hear about SLA misses late. <!channel> should see this.",
        "The backlog is shrinking; thanks for the extra weekend shift.",
    ],
    "provider": [
        "Decisions on the change board arrive late, so we wait for days.",
        "Good collaboration on the incident last Tuesday.",
        "We need earlier notice of priority changes.",
    ],
}


# ---------------------------------------------------------------------------------------------- waiting


def _wait(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "the bot to react") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _found(search: Callable[[], list[Json]], what: str) -> Json:
    """The last item ``search`` returns, waiting until there is one."""
    found: list[Json] = []

    def look() -> bool:
        found[:] = search()
        return bool(found)

    _wait(look, what=what)
    return found[-1]


# ---------------------------------------------------------------------------------------------- the story


class _Story:
    """What the terminal shows: short steps in plain English, people by name, channel messages as plain text."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.sb = stack.sandbox
        self.world = stack.world
        self.channel = stack.world.channel
        self._seen: set[tuple[str, str]] = set()
        self.tty = sys.stdout.isatty()
        self.signals_explained = False
        self.digest_explained = False
        self.scorecards_reported = 0

    # people

    def name(self, user_id: str) -> str:
        """A person's name as Slack shows it (the id itself for someone the sandbox does not know)."""
        try:
            return self.sb.snapshot_user(user_id).real_name
        except SandboxError:
            return user_id

    def names(self, user_ids: Sequence[str]) -> str:
        names = [self.name(u) for u in user_ids]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]

    # printing

    def step(self, title: str) -> None:
        """A new step of the story: a blank line, then its title (bold on a terminal)."""
        text = textwrap.fill(title, WIDTH - 2, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False)
        print(f"\n\033[1m▶ {text}\033[0m" if self.tty else f"\n> {text}", flush=True)

    def say(self, text: str, *, indent: int = 2) -> None:
        pad = " " * indent
        print(
            textwrap.fill(
                text, WIDTH, initial_indent=pad, subsequent_indent=pad + "  ", break_on_hyphens=False, break_long_words=False
            )
        )

    def show(self, lines: Iterable[str], *, indent: int = 4) -> None:
        """Lines as the channel showed them, behind a bar."""
        pad = " " * indent + "│ "
        for line in lines:
            text = line.strip()
            if not text or set(text) == {"-"}:
                continue
            wrapped = textwrap.wrap(
                text, WIDTH - len(pad), subsequent_indent="  ", break_on_hyphens=False, break_long_words=False
            )
            for part in wrapped:
                print(pad + part)
        sys.stdout.flush()

    def lines(self, message: Json) -> list[str]:
        """A message as plain text lines, as a reader of the channel sees it."""
        return [line.strip() for line in plain_lines(message, self.name) if line.strip()]

    def plain(self, mrkdwn: str) -> str:
        return plain_text(mrkdwn, self.name)

    # what happened

    def new(self) -> tuple[list[Json], list[Json]]:
        """Channel messages (thread replies included), and the messages for one person (ephemerals in the channel and
        the app's direct messages, each with its ``recipient``) that appeared since the last call."""
        messages = [m for m in self.sb.messages(self.channel) if ("m", str(m.get("ts"))) not in self._seen]
        private = [
            m for m in self.sb.ephemerals(self.channel) if ("e", f"{m.get('recipient')}/{m.get('ts')}") not in self._seen
        ]
        for user_id in (*self.world.all_users, NEW_MEMBER):
            dm = self.sb.dm_channel(user_id)
            private += [
                {**m, "recipient": user_id, "dm_channel": dm}
                for m in self.sb.messages(dm)
                if ("e", f"{user_id}/{m.get('ts')}") not in self._seen
            ]
        self._seen.update(("m", str(m.get("ts"))) for m in messages)
        self._seen.update(("e", f"{m.get('recipient')}/{m.get('ts')}") for m in private)
        private.sort(key=lambda m: float(str(m.get("ts") or 0)))  # in the order they were sent
        return messages, private


def _titled(messages: Iterable[Json], story: _Story, marker: str) -> list[Json]:
    """Messages whose first plain line contains ``marker``."""
    return [m for m in messages if (lines := story.lines(m)) and marker in lines[0]]


# ---------------------------------------------------------------------------------------------- people acting


def _answer(
    stack: LocalStack, user_id: str, score: int, comment: str | None, rng: random.Random, *, reminder: Json | None = None
) -> None:
    """Click Answer (on the pulse, or on the reminder: a direct message or an ephemeral), submit the modal like a person
    would, and wait until the bot confirms the answers are recorded (saving happens after the modal closes)."""
    sb, channel = stack.sandbox, stack.world.channel
    actor = stack.actor(user_id)
    seen = {v["id"] for v in sb.open_views(user_id)}
    if reminder is not None and reminder.get("dm_channel"):
        actor.click(str(reminder["dm_channel"]), str(reminder["ts"]), "pulse-answer")
    elif reminder is not None:
        actor.click_ephemeral(channel, str(reminder["ts"]), "pulse-answer")
    else:
        pulse = next(m for m in reversed(sb.messages(channel)) if "pulse-answer" in str(m.get("blocks")))
        actor.click(channel, pulse["ts"], "pulse-answer")
    view = _found(
        lambda: [v for v in sb.open_views(user_id) if v.get("callback_id") == "pulse-answer-submit" and v["id"] not in seen],
        "the answer form",
    )
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
    notes_before = len(sb.ephemerals(channel, user=user_id))
    response = actor.submit_view(view["id"], values)
    if response.status != 200:
        raise RuntimeError(f"answer submission failed: {response.status} {response.body}")
    note = _found(lambda: _ephemerals_since(stack, user_id, notes_before), "the bot to confirm the answers")
    if "Thank you, your answers" not in str(note.get("text")):
        raise RuntimeError(f"the answers of {user_id} were not recorded: {note.get('text')}")


def _submit_new_view(stack: LocalStack, user_id: str, callback_id: str, seen: set[str], values: dict[str, object]) -> None:
    """Wait for the modal the bot opens for ``user_id`` and submit it like a person would."""
    sb = stack.sandbox
    view = _found(
        lambda: [v for v in sb.open_views(user_id) if v.get("callback_id") == callback_id and v["id"] not in seen],
        f"the {callback_id} form",
    )
    response = stack.actor(user_id).submit_view(view["id"], values)
    if response.status != 200 or response.body.strip():
        raise RuntimeError(f"{callback_id} was refused: {response.status} {response.body}")


def _card(stack: LocalStack, number: int) -> Json:
    sb, channel = stack.sandbox, stack.world.channel
    return _found(
        lambda: [
            m
            for m in sb.messages(channel, include_thread_replies=False)
            if str(m.get("text", "")).startswith(f"Issue #{number} ")
        ],
        f"the card of issue #{number}",
    )


def _thread(stack: LocalStack, ts: str) -> list[Json]:
    return [m for m in stack.sandbox.messages(stack.world.channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def _replies_with(stack: LocalStack, ts: str, text: str) -> list[Json]:
    return [m for m in _thread(stack, ts) if text in str(m)]


def _ephemerals_since(stack: LocalStack, user_id: str, count: int) -> list[Json]:
    """The ephemerals a user got after the first ``count``."""
    return stack.sandbox.ephemerals(stack.world.channel, user=user_id)[count:]


def _newest(stack: LocalStack, text: str) -> Json:
    """The newest top-level channel message whose JSON contains ``text`` (waiting for it)."""
    return _found(
        lambda: [m for m in stack.sandbox.messages(stack.world.channel, include_thread_replies=False) if text in str(m)],
        f"a message with {text!r}",
    )


def _newest_ephemeral(stack: LocalStack, user_id: str, text: str) -> Json:
    return _found(
        lambda: [m for m in stack.sandbox.ephemerals(stack.world.channel, user=user_id) if text in str(m)],
        f"an ephemeral message with {text!r}",
    )


def _next_pulse_at(stack: LocalStack) -> datetime:
    w = stack.world
    p = partnerships.get_partnership(stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
    assert p is not None and p.next_pulse_at is not None
    return p.next_pulse_at


def _owner(name: str) -> str:
    """``name``'s, as English writes it."""
    return name + ("'" if name.endswith("s") else "'s")


def _next_monday_noon(today: datetime) -> datetime:
    days = (7 - today.weekday()) % 7 or 7
    return (today + timedelta(days=days)).replace(hour=12, minute=0, second=0, microsecond=0)


# ---------------------------------------------------------------------------------------------- chapters


def _setup(story: _Story, start: datetime) -> None:
    """Dana sets up the partnership; a new provider engineer joins and is counted at once."""
    stack, sb, w = story.stack, story.sb, story.world
    lead = stack.actor(w.client_lead)
    story.step(f"{start:%a %d %b %Y}: setting up the partnership")
    story.say(
        f"{story.name(w.client_lead)}, the client lead at {CLIENT_ORG}, types /partner setup in {CHANNEL_NAME}, "
        f"a Slack Connect channel shared with the provider, {PROVIDER_ORG}, and fills in the form."
    )
    lead.slash_command("/partner", "setup", w.channel)
    view = _found(
        lambda: [v for v in sb.open_views(w.client_lead) if v.get("callback_id") == "setup-submit"], "the setup form"
    )
    lead.submit_view(
        view["id"],
        {
            "name": PARTNERSHIP,
            "client_org": CLIENT_ORG,
            "provider_org": PROVIDER_ORG,
            "provider_leads": [w.provider_lead],
            "client_sponsors": [w.client_sponsor],
            "provider_sponsors": [w.provider_sponsor],
            "timezone": "America/New_York",
        },
    )
    _wait(lambda: len(sb.messages(w.channel)) >= 2, what="the setup message and the menu")
    messages, _ = story.new()
    story.say("PartnerPulse confirms in the channel, and pins a menu of buttons for the people of both sides:")
    story.show(story.lines(messages[0])[:1])

    sb.add_user(NEW_MEMBER, w.provider_team, "lena.fischer", "Lena Fischer", tz="Europe/Berlin")
    sb.member_joined(w.channel, NEW_MEMBER)
    uow = stack.services.uow_factory
    _wait(
        lambda: partnerships.status(uow(), team_id=w.client_team, channel_id=w.channel).members_by_side["provider"] == 7,
        what="the new member to be counted",
    )
    story.say(f"{story.name(NEW_MEMBER)}, new at {PROVIDER_ORG}, joins the channel and is counted at once. /partner status:")
    posts = len(sb.response_url_posts)
    lead.slash_command("/partner", "status", w.channel)
    _wait(lambda: len(sb.response_url_posts) > posts, what="the status reply")
    status_reply = sb.response_url_posts[-1].body or {}
    status_text = status_reply.get("blocks", [{}])[-1].get("text", {}).get("text", "")
    story.show(line for line in story.plain(status_text).splitlines() if not line.startswith("Next pulse"))
    story.new()


def _goals_and_expectations(story: _Story) -> None:
    """A shared goal with an owner on each side, and an expectation the other side agrees to."""
    stack, sb, w = story.stack, story.sb, story.world
    client_owner, provider_owner = w.client_members[1], w.provider_members[1]
    story.step("A shared goal and an expectation, agreed in the channel")
    seen = set(sb.views)
    stack.actor(w.client_lead).slash_command("/partner", "goal add Cut the ticket backlog below 50", w.channel)
    _submit_new_view(
        stack, w.client_lead, "goal-add-submit", seen, {"client_owner_id": client_owner, "provider_owner_id": provider_owner}
    )
    _newest_ephemeral(stack, w.client_lead, "Goal #1 added")  # saved after the form closed
    story.say(
        f"{story.name(w.client_lead)} adds a shared goal, “Cut the ticket backlog below 50”, with an owner on each "
        f"side: {story.name(client_owner)} ({CLIENT_ORG}) and {story.name(provider_owner)} ({PROVIDER_ORG})."
    )
    # The provider owner is in the other organisation: the menu's "Shared goals" button is their way in.
    stack.actor(w.client_lead).slash_command("/partner", "menu", w.channel)
    menu = _newest(stack, "menu-everyone")
    stack.actor(provider_owner).click(w.channel, str(menu["ts"]), "goals-list")
    listing = _newest_ephemeral(stack, provider_owner, "Shared goals")
    seen = set(sb.views)
    stack.actor(provider_owner).click_ephemeral(w.channel, str(listing["ts"]), "goal-status")
    note = "Two engineers are on leave until the 15th."
    _submit_new_view(stack, provider_owner, "goal-status-submit", seen, {"status": "at_risk", "note": note})
    _newest_ephemeral(stack, provider_owner, "Goal #1 is now")
    story.say(f"{story.name(provider_owner)} marks it at risk from the menu's Shared goals button: “{note}”")

    seen = set(sb.views)
    stack.actor(w.client_lead).slash_command("/partner", "expect A written status report every Friday by noon", w.channel)
    _submit_new_view(stack, w.client_lead, "expectation-add-submit", seen, {})
    posted = _newest(stack, "Expectation #1")
    stack.actor(w.provider_lead).click(w.channel, str(posted["ts"]), "expectation-agree")
    _wait(lambda: "Agreed by" in str(sb.message(w.channel, str(posted["ts"]))), what="the expectation to be agreed")
    story.say(
        f"{story.name(w.client_lead)} records an expectation of {PROVIDER_ORG}: “A written status report every "
        f"Friday by noon”. {story.name(w.provider_lead)} agrees with one click, and the message says so."
    )
    story.new()


def _fill_scorecard(story: _Story, client_people: list[str], provider_people: list[str]) -> datetime:
    """A lead opens the bilateral scorecard; three people per side rate their own side and the other. Returns when."""
    stack, sb, w = story.stack, story.sb, story.world
    opened = stack.services.clock()
    stack.actor(w.client_lead).slash_command("/partner", "scorecard start", w.channel)
    invite = _newest(stack, "scorecard-fill")
    for people, own, other in ((client_people[:3], 4, 3), (provider_people[:3], 4, 4)):
        for user_id in people:
            seen = set(sb.views)
            stack.actor(user_id).click(w.channel, str(invite["ts"]), "scorecard-fill")
            values: dict[str, object] = {f"self-{d}": str(own) for d in DIMENSIONS}
            values |= {f"other-{d}": str(other) for d in DIMENSIONS}
            notes = len(sb.ephemerals(w.channel, user=user_id))
            _submit_new_view(stack, user_id, "scorecard-submit", seen, values)
            _found(functools.partial(_ephemerals_since, stack, user_id, notes), "the scorecard to be saved")
    story.new()
    return opened


def _tell_scorecard(story: _Story, when: datetime) -> None:
    w = story.world
    story.step(f"{when:%a %d %b}: the bilateral scorecard, each side rating itself and the other")
    story.say(
        f"{story.name(w.client_lead)} opens this quarter's scorecard: three people on each side rate their own side "
        f"and the other on the same {len(DIMENSIONS)} dimensions. It closes after 7 days."
    )


_GAP = re.compile(r"gap ([+−-]?\d+(?:\.\d+)?)")


def _gap(line: str) -> float:
    """The size of the gap a results or report line shows (-1 when it shows none)."""
    match = _GAP.search(line)
    return abs(float(match.group(1).replace("−", "-"))) if match else -1.0


def _scorecard_report(story: _Story, report: Json) -> None:
    """The first scorecard report in a few lines: per rated side, how many dimensions differ and the widest gap.
    Later ones (nobody filled in the next quarter's) get a line."""
    lines = story.lines(report)
    title = lines[0].strip("= ")
    story.scorecards_reported += 1
    if any("fewer than" in line for line in lines):
        story.say(f"{title.split(':')[0]} closes: too few answers on a side to show ratings (anonymity).")
        return
    story.say(f"The scorecard closes and its report is posted: {title}.")
    if len(lines) > 1:
        story.show([lines[1].split(". Gap")[0] + "."])
    sections: list[tuple[str, list[str]]] = []
    for line in lines[2:]:
        if line.startswith("How ") and line.endswith(" is seen"):
            sections.append((line, []))
        elif sections and line.startswith("• "):
            sections[-1][1].append(line.removeprefix("• "))
        elif line.startswith("Expectations ledger"):
            sections.append((line, []))
    for heading, rows in sections:
        if not rows:
            story.show([heading])
            continue
        flagged = sum(1 for r in rows if any(icon in r for icon in FLAG_ICONS.values() if icon))
        if flagged:
            widest = max(rows, key=_gap)
            story.show([f"{heading}: {flagged} of {len(rows)} dimensions differ by 1 point or more, e.g. {widest}"])
        else:
            story.show([f"{heading}: no dimension differs by 1 point or more."])


def _escalation_messages(story: _Story, messages: Iterable[Json]) -> list[Json]:
    """The channel's escalation messages (level 2 and above) among ``messages``."""
    return [m for m in messages if str(m.get("text", "")).startswith("Escalation (")]


def _show_escalations(story: _Story, messages: Iterable[Json], private: Iterable[Json] = ()) -> int:
    """Show the escalations among ``messages`` (the roles needed and the next step) and the owner's private nudge
    among ``private``."""
    shown = 0
    for nudge in _titled(private, story, "is waiting for you"):
        how = "a message from the app" if nudge.get("dm_channel") else "a note in the channel only they see"
        story.say(f"Level 1 nudges the owner, {story.name(str(nudge['recipient']))}, privately ({how}):")
        story.show(story.lines(nudge)[:2])
        shown += 1
    for message in _escalation_messages(story, messages):
        lines = story.lines(message)
        story.show([lines[0], *(line for line in lines if line.startswith("Needed"))])
        shown += 1
    return shown


def _issue_escalates(story: _Story, now: datetime) -> None:
    """An issue is logged and nobody acknowledges it: the owner is nudged, then both leads are brought in."""
    stack, sb, w = story.stack, story.sb, story.world
    client_person, provider_person = w.client_members[0], w.provider_members[0]
    story.step(f"{now:%a %d %b}: an issue is raised early, and escalates as working hours pass")
    seen = set(sb.views)
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
    card = _card(stack, 1)
    story.say(
        f"{story.name(client_person)} ({CLIENT_ORG}) logs “{story.plain(str(card.get('text', '')))}” for "
        f"{story.name(provider_person)} ({PROVIDER_ORG}); S2 means acknowledge within 4 working hours."
    )
    story.new()
    for hours, label in ((4, "4 working hours later, not yet acknowledged"), (24, "The next day, still waiting")):
        report = stack.tick(now + timedelta(hours=hours, minutes=1))
        messages, private = story.new()
        story.say(f"{label}:")
        if not _show_escalations(story, messages, private):
            story.show([f"({report.escalations} escalation(s), none in the channel)"])
    story.say(
        "The channel, shared by both organisations, sees level 2 and above: the issue and the roles it needs, "
        "never who is at fault."
    )


def _issue_resolved(story: _Story) -> None:
    """A second issue is resolved; both sides answer the blameless question and one answer becomes an action."""
    stack, sb, w = story.stack, story.sb, story.world
    client_person, provider_person = w.client_members[0], w.provider_members[0]
    story.step("A second issue is resolved, and both sides say what they can change")
    seen = set(sb.views)
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
    card = _card(stack, 2)
    card_ts = str(card["ts"])
    seen = set(sb.views)
    resolution = "The report job now runs at 06:00."
    stack.actor(provider_person).click(w.channel, card_ts, "issue-resolve")
    _submit_new_view(stack, provider_person, "issue-resolve-submit", seen, {"comment": resolution})
    question = _found(
        lambda: [m for m in _thread(stack, card_ts) if "followup-sides" in str(m.get("blocks"))], "the follow-up question"
    )
    story.say(
        f"{story.name(w.client_lead)} logs “Month-end report arrived late” for {PROVIDER_ORG}; "
        f"{story.name(provider_person)} resolves it: “{resolution}” The issue's thread asks both sides:"
    )
    story.show(story.lines(question)[:2])
    contributions: list[Json] = []
    for person, button, text in (
        (client_person, "followup-contribute-client", "We send the data extract by the 25th."),
        (provider_person, "followup-contribute-provider", "We alert the client when the job runs late."),
    ):
        seen = set(sb.views)
        stack.actor(person).click(w.channel, str(question["ts"]), button)
        _submit_new_view(stack, person, "followup-add-submit", seen, {"text": text})
        contributions.append(_found(functools.partial(_replies_with, stack, card_ts, text), "the answer in the thread"))
    story.say("Each side answers in the thread:")
    for contribution in contributions:
        lines = story.lines(contribution)
        who = lines[0].removeprefix("💡").split(" — ")[0].strip()
        story.show([f"{who}: {lines[1].lstrip('> ')}" if len(lines) > 1 else lines[0]])
    stack.actor(client_person).click(w.channel, str(contributions[0]["ts"]), "followup-to-action")
    _wait(lambda: "data extract" in str(sb.message(w.channel, card_ts)), what="the action on the card")
    action = _found(lambda: _titled(_thread(stack, card_ts), story, "added an action"), "the action in the thread")
    story.say(f"One click makes {_owner(CLIENT_ORG)} answer an action, with an owner and a due date:")
    story.show(story.lines(action))
    story.new()


class _Week:
    """What one week's ticks reported and what appeared in the channel, for its summary line."""

    def __init__(self, story: _Story) -> None:
        self.story = story
        self.reports: list[TickReport] = []
        self.messages: list[Json] = []
        self.private: list[Json] = []
        self.scorecard_opened: datetime | None = None

    def tick(self, at: datetime) -> TickReport:
        report = self.story.stack.tick(at)
        self.reports.append(report)
        self.collect()
        return report

    def collect(self) -> tuple[list[Json], list[Json]]:
        messages, private = self.story.new()
        self.messages += messages
        self.private += private
        return messages, private

    def total(self, field: str) -> int:
        return sum(int(getattr(r, field)) for r in self.reports)


def _run_week(
    story: _Story,
    week: int,
    people: tuple[list[str], list[str]],
    rng: random.Random,
    *,
    detail: bool,
    scorecard_on_monday: bool,
) -> _Week:
    """One weekly round through the heartbeat: Monday's pulse, answers, Tuesday's reminders, Wednesday's results.

    ``detail`` tells it step by step (the first week); otherwise the week is a line or two.
    """
    stack = story.stack
    client_people, provider_people = people
    at = _next_pulse_at(stack)
    current = _Week(story)
    if detail:
        story.step(f"Week 1 · {at:%a %d %b}: the first pulse, step by step")
    current.tick(at + timedelta(seconds=1))
    if detail:
        pulse = _newest(stack, "pulse-answer")
        story.say("At 09:00 New York time the heartbeat posts the pulse in the channel:")
        story.show(line for line in story.lines(pulse) if not line.startswith(("[", "==")))
    if scorecard_on_monday:  # a short run: opened now, it closes by the last digest
        current.scorecard_opened = _fill_scorecard(story, client_people, provider_people)
    mood_c, mood_p = CLIENT_MOOD[week % len(CLIENT_MOOD)], PROVIDER_MOOD[week % len(PROVIDER_MOOD)]
    answering = client_people[: 3 + week % 2] + provider_people[: 4 + week % 2]
    for i, user_id in enumerate(answering):
        side = "client" if user_id in client_people else "provider"
        comment = COMMENTS[side][(week + i // 3) % 3] if i % 3 == 0 else None
        _answer(stack, user_id, mood_c if side == "client" else mood_p, comment, rng)
    _answer(stack, answering[0], mood_c, None, rng)  # a change of mind: updated, not counted twice
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
        mood = mood_c if recipient in client_people else mood_p
        _answer(stack, recipient, mood, None, rng, reminder=last)
        story.new()
        if detail:
            story.say(f"{story.name(recipient)} answers from the reminder's button.")

    current.tick(at + timedelta(hours=48, seconds=1))
    results = _titled(current.messages, story, "Pulse results")
    if detail:
        story.say("Wednesday 09:00: the round closes, and the results per side are posted:")
        if results:
            story.show(story.lines(results[-1]))
    else:
        _week_line(story, f"Week {week + 1} · {at:%a %d %b}", current, results)
    _week_events(story, current)
    return current


def _week_line(story: _Story, title: str, current: _Week, results: list[Json]) -> None:
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
        rows = [line for line in lines if ": client " in line and _gap(line) >= 0 and FLAG_ICONS[Flag.WATCH] in line]
        rows += [line for line in lines if ": client " in line and FLAG_ICONS[Flag.ACT] in line]
        if rows:
            widest = max(rows, key=_gap)
            what = widest.split(": client ")[0]
            gap = _GAP.search(widest)
            parts.append(f"widest gap: {what} {gap.group(1) if gap else ''}".rstrip())
    else:
        parts.append("the round closed without results")
    if current.total("digests") and not story.digest_explained:
        story.digest_explained = True
        parts.append("the weekly digest of the week before, with its trend chart, now comes every Monday")
    if current.total("action_reminders"):
        parts.append("an overdue action's owner is reminded privately")
    story.step(f"{title}: " + "; ".join(parts) + ".")


def _week_events(story: _Story, current: _Week) -> None:
    """What stands out in a week: early warnings to the leads, escalations, scorecards."""
    signals = current.total("signals")
    notes = _titled(current.private, story, "Early warning")
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
    if _escalation_messages(story, current.messages):
        story.say("The open issue escalates further:")
        _show_escalations(story, current.messages)
    if current.total("scorecards_opened"):
        story.say("The next quarter's scorecard opens on schedule.")
    for report in _titled(current.messages, story, "perception gaps"):
        _scorecard_report(story, report)


def _digest(story: _Story, weeks: int) -> _Week:
    """The Monday after the last round: the digest of the last week, leading with its headline."""
    stack, w = story.stack, story.world
    monday = _next_pulse_at(stack)
    story.step(f"{monday:%a %d %b}: the weekly digest of week {weeks}, leading with its headline")
    current = _Week(story)
    current.tick(monday + timedelta(seconds=1))
    digest = _newest(stack, "Weekly digest")
    story.show(_digest_top_lines(story, digest))
    files = [f for m in _thread(stack, str(digest["ts"])) for f in m.get("files") or []]
    if files:
        story.say(f"Its thread: the full detail and the 12-week trend chart ({files[0].get('name', 'a PNG')}).")
    lead = stack.actor(w.client_lead)
    lead.slash_command("/partner", "portfolio", w.channel)
    portfolio = _newest_ephemeral(stack, w.client_lead, "Portfolio")
    story.say(f"/partner portfolio ({story.name(w.client_lead)}): {story.plain(str(portfolio.get('text', '')))}")
    story.new()
    for report in _titled(current.messages, story, "perception gaps"):
        _scorecard_report(story, report)
    return current


def _unbulleted(line: str) -> str:
    """A list line without its bullet or flag ("• ", "⚠️ ")."""
    first, _, rest = line.strip().partition(" ")
    return rest if rest and not any(ch.isalnum() for ch in first) else line.strip()


#: The headline's parts, as the digest's main message heads them (``bot.blocks.digest_headline``).
HEADLINE_PARTS = ("What changed", "Needs attention", "Decisions needed")


def _digest_top_lines(story: _Story, digest: Json) -> list[str]:
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
            found[part].append(_unbulleted(readable(raw, story.name)))
    top += [f"{name}: " + "; ".join(rows) for name, rows in found.items() if rows]
    return top


def _close_scorecard_if_open(story: _Story) -> None:
    """In a short run the scorecard may still be open after the last digest: close it at its time."""
    w = story.world
    status = scorecard.status(story.stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
    current = status.current
    if story.scorecards_reported or current is None or current.status != "open":
        return
    story.step(f"{current.closes_at:%a %d %b}: seven days on, the scorecard closes")
    week = _Week(story)
    week.tick(current.closes_at + timedelta(seconds=1))
    for report in _titled(week.messages, story, "perception gaps"):
        _scorecard_report(story, report)


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


def _write_transcript(story: _Story, path: Path) -> int:
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


def _where(story: _Story, out: Path, written: Sequence[str], transcript_lines: int, weeks: int) -> None:
    stack, w = story.stack, story.world
    p = partnerships.get_partnership(stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
    assert p is not None
    folder = out.resolve()
    about = {
        "demo.db": "the partnership's database (SQLite)",
        "transcript.txt": f"everything the channel saw, every message and thread ({transcript_lines} lines)",
        "chart.png": "the last digest's 12-week trend chart",
        "report.html": f"the business-review report of {f'the {weeks} weeks' if weeks > 1 else 'the week'}: figures, "
        "chart, scorecard, goals, expectations",
        "report.csv": "the same weekly figures as CSV",
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


@dataclass(frozen=True)
class StoryPlan:
    """In which week (counting from 0) each chapter happens, so that a run of any length tells the whole story."""

    goals_week: int
    scorecard_week: int
    #: A scorecard is open for 7 days: opened on the Monday of the last week (rather than after Wednesday's
    #: results), the last digest's tick closes it and its report is part of the story.
    scorecard_on_monday: bool
    issue_week: int


def plan_story(weeks: int) -> StoryPlan:
    """The chapters of a ``weeks``-long run (ValueError when ``weeks`` < 1: there is no story without a round)."""
    if weeks < 1:
        raise ValueError(f"the demo needs at least one weekly round, not {weeks}")
    last = weeks - 1
    scorecard_week = min(2, last)
    return StoryPlan(
        goals_week=min(1, last),
        scorecard_week=scorecard_week,
        scorecard_on_monday=scorecard_week == last,
        issue_week=min(3, last),
    )


def run_demo(*, output_dir: str = "partnerpulse-demo", weeks: int = 8, verbose: bool = False) -> int:
    """Run the demo, tell its story on stdout, and leave the database, transcript and exports in ``output_dir``.

    Returns 0, or 1 when a Slack Web API call broke Slack's API description. Raises ValueError when ``weeks`` < 1.
    """
    plan = plan_story(weeks)
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="  [bot] %(levelname)s %(name)s: %(message)s"
    )
    if isinstance(sys.stdout, io.TextIOWrapper):  # a console that cannot show a character shows "?" instead
        sys.stdout.reconfigure(errors="replace")
    out = Path(output_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started = time.monotonic()
    rng = random.Random(7)
    start = _next_monday_noon(datetime.now(UTC))
    stack = start_local_stack(database_url=f"sqlite:///{(out / 'demo.db').resolve()}", start=start)
    story = _Story(stack)
    w = stack.world
    try:
        print("PartnerPulse demo: the real bot, database and scheduler, with Slack simulated on this machine (offline).")
        print(f"Slack sandbox on {stack.sandbox.api_url} · PartnerPulse serving {stack.bot_url}")
        _setup(story, start)
        people = ([w.client_lead, *w.client_members], [w.provider_lead, *w.provider_members, NEW_MEMBER])
        for week in range(weeks):
            scorecard_now = week == plan.scorecard_week
            current = _run_week(
                story, week, people, rng, detail=week == 0, scorecard_on_monday=scorecard_now and plan.scorecard_on_monday
            )
            if scorecard_now and current.scorecard_opened is not None:
                _tell_scorecard(story, current.scorecard_opened)
            if week == plan.goals_week:
                _goals_and_expectations(story)
            if scorecard_now and current.scorecard_opened is None:
                _tell_scorecard(story, _fill_scorecard(story, *people))
            if week == plan.issue_week:
                _issue_escalates(story, stack.services.clock())
                _issue_resolved(story)
        _digest(story, weeks)
        _close_scorecard_if_open(story)

        transcript_lines = _write_transcript(story, out / "transcript.txt")
        violations = stack.sandbox.violations
        written = _write_outputs(stack, out)
        _where(story, out, written, transcript_lines, weeks)
        print(
            f"\n{len(stack.sandbox.calls)} Slack Web API calls, checked against Slack's API description: "
            f"{len(violations)} violation(s). Finished in {time.monotonic() - started:.1f} s."
        )
        return 1 if violations else 0
    finally:
        stack.close()
