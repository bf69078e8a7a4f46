"""``partnerpulse demo``: the real bot against the built-in Slack sandbox, offline, in under a minute.

A client lead sets up the partnership in a Slack Connect channel, a new provider engineer joins, and weekly
rounds (eight by default) run through the heartbeat's ``tick``: the pulse is posted, people of both sides answer
in the modal, non-responders get one reminder, and each round closes with results per side and the gaps; every
Monday the weekly digest is posted with its trend chart. Along the way the leads agree a shared goal and an
expectation, and three KPIs (two the provider delivers, one the client), whose figures the provider's tools push
through the HTTP endpoint each week (one is recorded in Slack from its owner's request): one goes red while both
sides rate its dimension well ("people happy, KPIs red"), one stays green while the client's rating of its
dimension falls ("KPIs green, people unhappy"); two issues are logged (one escalates to both leads and later to
the sponsors; the other is resolved, both sides answer the blameless follow-up question and one answer becomes an
action), and both sides fill in a bilateral scorecard.

The terminal tells that story in plain English in under 160 lines (for the default eight weeks): people by
name, figures as the channel showed them, the first week step by step and one line for each routine week. Everything the channel saw, message by message, goes to
``transcript.txt`` in the output folder, next to the database, the last digest's chart and the HTML and CSV
export.
"""

from __future__ import annotations

import io
import logging
import random
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.demo_actors import next_monday_noon
from bot.demo_chapters import (
    close_scorecard_if_open,
    fill_scorecard,
    goals_and_expectations,
    install_both,
    issue_escalates,
    issue_resolved,
    set_up_partnership,
    tell_scorecard,
)
from bot.demo_kpis import agree_kpis, push_figures, record_in_slack, tell_pairings
from bot.demo_report import tell_where, write_outputs, write_transcript
from bot.demo_story import NEW_MEMBER, Story
from bot.demo_weeks import digest_week, run_week
from bot.harness import start_local_stack


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


def run_demo(
    *, output_dir: str = "partnerpulse-demo", weeks: int = 8, verbose: bool = False, both_installed: bool = False
) -> int:
    """Run the demo, tell its story on stdout, and leave the database, transcript and exports in ``output_dir``.

    ``both_installed``: PartnerPulse runs as a distributed app (OAuth) and each organisation's lead installs it
    through ``/slack/install`` first, so each side's people are reached through their own organisation's app.

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
    start = next_monday_noon(datetime.now(UTC))
    stack = start_local_stack(database_url=f"sqlite:///{(out / 'demo.db').resolve()}", start=start, oauth=both_installed)
    story = Story(stack)
    w = stack.world
    try:
        print("PartnerPulse demo: the real bot, database and scheduler, with Slack simulated on this machine (offline).")
        print(f"Slack sandbox on {stack.sandbox.api_url} · PartnerPulse serving {stack.bot_url}")
        if both_installed:
            install_both(story)
        set_up_partnership(story, start)
        token = agree_kpis(story)
        told: set[str] = set()
        people = ([w.client_lead, *w.client_members], [w.provider_lead, *w.provider_members, NEW_MEMBER])
        for week in range(weeks):
            scorecard_now = week == plan.scorecard_week
            current = run_week(
                story,
                week,
                people,
                rng,
                detail=week == 0,
                scorecard_on_monday=scorecard_now and plan.scorecard_on_monday,
                weeks=weeks,
            )
            if scorecard_now and current.scorecard_opened is not None:
                tell_scorecard(story, current.scorecard_opened)
            if week == plan.goals_week:
                goals_and_expectations(story)
            if scorecard_now and current.scorecard_opened is None:
                tell_scorecard(story, fill_scorecard(story, *people))
            if week == plan.issue_week:
                issue_escalates(story, stack.services.clock())
                issue_resolved(story)
            if week == 1:
                record_in_slack(story, current, week, weeks)
            # The client KPI's first figure is left for its owner to record in Slack when asked (in week 2).
            push_figures(story, token, week, weeks, client_kpi=week > 0 or weeks == 1)
            tell_pairings(story, current, told)
        tell_pairings(story, digest_week(story, weeks), told)
        close_scorecard_if_open(story)

        transcript_lines = write_transcript(story, out / "transcript.txt")
        violations = stack.sandbox.violations
        written = write_outputs(stack, out)
        tell_where(story, out, written, transcript_lines, weeks)
        print(
            f"\n{len(stack.sandbox.calls)} Slack Web API calls, checked against Slack's API description: "
            f"{len(violations)} violation(s). Finished in {time.monotonic() - started:.1f} s."
        )
        return 1 if violations else 0
    finally:
        stack.close()
