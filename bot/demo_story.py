"""The demo's cast and script (the partnership, how each side tends to score, their comments) and the story
teller: what the terminal shows, in short steps of plain English with people by name."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.harness import LocalStack
from bot.jobs import TickReport
from bot.sandbox import SandboxError
from bot.sandbox.transcript import plain_lines, plain_text

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


class Story:
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


def titled(messages: Iterable[Json], story: Story, marker: str) -> list[Json]:
    """Messages whose first plain line contains ``marker``."""
    return [m for m in messages if (lines := story.lines(m)) and marker in lines[0]]


class Week:
    """What one week's ticks reported and what appeared in the channel, for its summary line."""

    def __init__(self, story: Story) -> None:
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
