"""The demo's chapters: both organisations installing the app (``--both-installed``), setup, goals and expectations, the bilateral scorecard, and the two issues (one escalates,
one is resolved with the blameless follow-up)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.demo_actors import (
    ephemerals_since,
    find_one,
    issue_card,
    log_issue,
    newest_ephemeral,
    newest_message,
    person_named,
    replies_with,
    submit_new_view,
    thread_of,
    wait_for_bot,
)
from bot.demo_story import CHANNEL_NAME, CLIENT_ORG, NEW_MEMBER, PARTNERSHIP, PROVIDER_ORG, Json, Story, Week, titled
from bot.services import partnerships, scorecard
from bot.services.figures_format import FLAG_ICONS
from bot.services.pulse_models import DIMENSIONS


def install_both(story: Story) -> None:
    """Each organisation's lead installs PartnerPulse from its install page (OAuth); the provider's app joins the
    shared channel, so each side's people are reached through their own organisation's installation."""
    stack, sb, w = story.stack, story.sb, story.world
    story.step("Both organisations install PartnerPulse")
    for lead, team, org in ((w.client_lead, w.client_team, CLIENT_ORG), (w.provider_lead, w.provider_team, PROVIDER_ORG)):
        page = stack.install(team, user_id=lead)
        if "is installed in" not in page:
            raise RuntimeError(f"the install for {org} did not complete")
        story.say(
            f"{story.name(lead)} opens {stack.base_url}/slack/install, clicks Add to Slack and Allow: installed in {org}."
        )
    sb.join(w.channel, sb.installation_of(w.provider_team).bot_user_id)
    story.say(
        f"{PROVIDER_ORG} adds its PartnerPulse to {CHANNEL_NAME} too: its people use /partner from their own workspace "
        "and get the app's messages there; there is still one partnership and one set of data."
    )


def set_up_partnership(story: Story, start: datetime) -> None:
    """Dana sets up the partnership; a new provider engineer joins and is counted at once."""
    stack, sb, w = story.stack, story.sb, story.world
    lead = stack.actor(w.client_lead)
    story.step(f"{start:%a %d %b %Y}: setting up the partnership")
    story.say(
        f"{story.name(w.client_lead)}, the client lead at {CLIENT_ORG}, types /partner setup in {CHANNEL_NAME}, "
        f"a Slack Connect channel shared with the provider, {PROVIDER_ORG}, and fills in the form."
    )
    lead.slash_command("/partner", "setup", w.channel)
    view = find_one(
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
    wait_for_bot(lambda: len(sb.messages(w.channel)) >= 2, what="the setup message and the menu")
    messages, _ = story.new()
    story.say("PartnerPulse confirms in the channel, and pins a menu of buttons for the people of both sides:")
    story.show(story.lines(messages[0])[:1])

    sb.add_user(NEW_MEMBER, w.provider_team, "lena.fischer", "Lena Fischer", tz="Europe/Berlin")
    sb.member_joined(w.channel, NEW_MEMBER)
    uow = stack.services.uow_factory
    wait_for_bot(
        lambda: partnerships.status(uow(), team_id=w.client_team, channel_id=w.channel).members_by_side["provider"] == 7,
        what="the new member to be counted",
    )
    story.say(f"{story.name(NEW_MEMBER)}, new at {PROVIDER_ORG}, joins the channel and is counted at once. /partner status:")
    posts = len(sb.response_url_posts)
    lead.slash_command("/partner", "status", w.channel)
    wait_for_bot(lambda: len(sb.response_url_posts) > posts, what="the status reply")
    status_reply = sb.response_url_posts[-1].body or {}
    status_text = status_reply.get("blocks", [{}])[-1].get("text", {}).get("text", "")
    story.show(line for line in story.plain(status_text).splitlines() if not line.startswith("Next pulse"))
    story.new()


def goals_and_expectations(story: Story) -> None:
    """A shared goal with an owner on each side, and an expectation the other side agrees to."""
    stack, sb, w = story.stack, story.sb, story.world
    client_owner, provider_owner = w.client_members[1], w.provider_members[1]
    story.step("A shared goal and an expectation, agreed in the channel")
    seen = set(sb.views)
    stack.actor(w.client_lead).slash_command("/partner", "goal add Cut the ticket backlog below 50", w.channel)
    submit_new_view(
        stack, w.client_lead, "goal-add-submit", seen, {"client_owner_id": client_owner, "provider_owner_id": provider_owner}
    )
    newest_ephemeral(stack, w.client_lead, "Goal #1 added")  # saved after the form closed
    story.say(
        f"{story.name(w.client_lead)} adds a shared goal, “Cut the ticket backlog below 50”, with an owner on each "
        f"side: {story.name(client_owner)} ({CLIENT_ORG}) and {story.name(provider_owner)} ({PROVIDER_ORG})."
    )
    # The provider owner is in the other organisation: the menu's "Shared goals" button is their way in.
    stack.actor(w.client_lead).slash_command("/partner", "menu", w.channel)
    menu = newest_message(stack, "menu-everyone")
    stack.actor(provider_owner).click(w.channel, str(menu["ts"]), "goals-list")
    listing = newest_ephemeral(stack, provider_owner, "Shared goals")
    seen = set(sb.views)
    stack.actor(provider_owner).click_ephemeral(w.channel, str(listing["ts"]), "goal-status")
    note = "Two engineers are on leave until the 15th."
    submit_new_view(stack, provider_owner, "goal-status-submit", seen, {"status": "at_risk", "note": note})
    newest_ephemeral(stack, provider_owner, "Goal #1 is now")
    story.say(f"{story.name(provider_owner)} marks it at risk from the menu's Shared goals button: “{note}”")

    seen = set(sb.views)
    stack.actor(w.client_lead).slash_command("/partner", "expect A written status report every Friday by noon", w.channel)
    submit_new_view(stack, w.client_lead, "expectation-add-submit", seen, {})
    posted = newest_message(stack, "Expectation #1")
    stack.actor(w.provider_lead).click(w.channel, str(posted["ts"]), "expectation-agree")
    wait_for_bot(lambda: "Agreed by" in str(sb.message(w.channel, str(posted["ts"]))), what="the expectation to be agreed")
    story.say(
        f"{story.name(w.client_lead)} records an expectation of {PROVIDER_ORG}: “A written status report every "
        f"Friday by noon”. {story.name(w.provider_lead)} agrees with one click, and the message says so."
    )
    story.new()


def fill_scorecard(story: Story, client_people: list[str], provider_people: list[str]) -> datetime:
    """A lead opens the bilateral scorecard; three people per side rate their own side and the other. Returns when."""
    stack, sb, w = story.stack, story.sb, story.world
    opened = stack.services.clock()
    stack.actor(w.client_lead).slash_command("/partner", "scorecard start", w.channel)
    invite = newest_message(stack, "scorecard-fill")
    for people, own, other in ((client_people[:3], 4, 3), (provider_people[:3], 4, 4)):
        for user_id in people:
            seen = set(sb.views)
            stack.actor(user_id).click(w.channel, str(invite["ts"]), "scorecard-fill")
            values: dict[str, object] = {f"self-{d}": str(own) for d in DIMENSIONS}
            values |= {f"other-{d}": str(other) for d in DIMENSIONS}
            notes = len(sb.ephemerals(w.channel, user=user_id))
            submit_new_view(stack, user_id, "scorecard-submit", seen, values)
            find_one(functools.partial(ephemerals_since, stack, user_id, notes), "the scorecard to be saved")
    story.new()
    return opened


def tell_scorecard(story: Story, when: datetime) -> None:
    w = story.world
    story.step(f"{when:%a %d %b}: the bilateral scorecard, each side rating itself and the other")
    story.say(
        f"{story.name(w.client_lead)} opens this quarter's scorecard: three people on each side rate their own side "
        f"and the other on the same {len(DIMENSIONS)} dimensions. It closes after 7 days."
    )


GAP_PATTERN = re.compile(r"gap ([+−-]?\d+(?:\.\d+)?)")


def gap_of(line: str) -> float:
    """The size of the gap a results or report line shows (-1 when it shows none)."""
    match = GAP_PATTERN.search(line)
    return abs(float(match.group(1).replace("−", "-"))) if match else -1.0


def scorecard_report(story: Story, report: Json) -> None:
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
            widest = max(rows, key=gap_of)
            story.show([f"{heading}: {flagged} of {len(rows)} dimensions differ by 1 point or more, e.g. {widest}"])
        else:
            story.show([f"{heading}: no dimension differs by 1 point or more."])


def escalation_messages(story: Story, messages: Iterable[Json]) -> list[Json]:
    """The channel's escalation messages (level 2 and above) among ``messages``."""
    return [m for m in messages if str(m.get("text", "")).startswith("Escalation (")]


def show_escalations(story: Story, messages: Iterable[Json], private: Iterable[Json] = ()) -> int:
    """Show the escalations among ``messages`` (the roles needed and the next step) and the owner's private nudge
    among ``private``."""
    shown = 0
    for nudge in titled(private, story, "is waiting for you"):
        how = "a message from the app" if nudge.get("dm_channel") else "a note in the channel only they see"
        story.say(f"Level 1 nudges the owner, {story.name(str(nudge['recipient']))}, privately ({how}):")
        story.show(story.lines(nudge)[:2])
        shown += 1
    for message in escalation_messages(story, messages):
        lines = story.lines(message)
        story.show([lines[0], *(line for line in lines if line.startswith("Needed"))])
        shown += 1
    return shown


def issue_escalates(story: Story, now: datetime) -> None:
    """An issue is logged and nobody acknowledges it: the owner is nudged, then both leads are brought in."""
    stack, w = story.stack, story.world
    client_person, provider_person = w.client_members[0], w.provider_members[0]
    story.step(f"{now:%a %d %b}: an issue is raised early, and escalates as working hours pass")
    details = "Standard change tickets wait two days before anyone triages them; releases slip."
    log_issue(stack, client_person, "Change tickets wait for triage", details, "S2", provider_person)
    card = issue_card(stack, 1)
    story.say(
        f"{story.name(client_person)} ({CLIENT_ORG}) logs “{story.plain(str(card.get('text', '')))}” for "
        f"{story.name(provider_person)} ({PROVIDER_ORG}); S2 means acknowledge within 4 working hours."
    )
    story.new()
    for hours, label in ((4, "4 working hours later, not yet acknowledged"), (24, "The next day, still waiting")):
        report = stack.tick(now + timedelta(hours=hours, minutes=1))
        messages, private = story.new()
        story.say(f"{label}:")
        if not show_escalations(story, messages, private):
            story.show([f"({report.escalations} escalation(s), none in the channel)"])
    story.say(
        "The channel, shared by both organisations, sees level 2 and above: the issue and the roles it needs, "
        "never who is at fault."
    )


def issue_resolved(story: Story) -> None:
    """A second issue is resolved; both sides answer the blameless question and one answer becomes an action."""
    stack, sb, w = story.stack, story.sb, story.world
    client_person, provider_person = w.client_members[0], w.provider_members[0]
    story.step("A second issue is resolved, and both sides say what they can change")
    details = "The November report came two days after the agreed date."
    log_issue(stack, w.client_lead, "Month-end report arrived late", details, "S3", provider_person)
    card = issue_card(stack, 2)
    card_ts = str(card["ts"])
    seen = set(sb.views)
    resolution = "The report job now runs at 06:00."
    stack.actor(provider_person).click(w.channel, card_ts, "issue-resolve")
    submit_new_view(stack, provider_person, "issue-resolve-submit", seen, {"comment": resolution})
    question = find_one(
        lambda: [m for m in thread_of(stack, card_ts) if "followup-sides" in str(m.get("blocks"))], "the follow-up question"
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
        submit_new_view(stack, person, "followup-add-submit", seen, {"text": text})
        contributions.append(find_one(functools.partial(replies_with, stack, card_ts, text), "the answer in the thread"))
    story.say("Each side answers in the thread:")
    for contribution in contributions:
        lines = story.lines(contribution)
        who = lines[0].removeprefix("💡").split(" — ")[0].strip()
        story.show([f"{who}: {lines[1].lstrip('> ')}" if len(lines) > 1 else lines[0]])
    stack.actor(client_person).click(w.channel, str(contributions[0]["ts"]), "followup-to-action")
    wait_for_bot(lambda: "data extract" in str(sb.message(w.channel, card_ts)), what="the action on the card")
    action = find_one(lambda: titled(thread_of(stack, card_ts), story, "added an action"), "the action in the thread")
    story.say(f"One click makes {person_named(CLIENT_ORG)} answer an action, with an owner and a due date:")
    story.show(story.lines(action))
    story.new()


def close_scorecard_if_open(story: Story) -> None:
    """In a short run the scorecard may still be open after the last digest: close it at its time."""
    w = story.world
    status = scorecard.status(story.stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel)
    current = status.current
    if story.scorecards_reported or current is None or current.status != "open":
        return
    story.step(f"{current.closes_at:%a %d %b}: seven days on, the scorecard closes")
    week = Week(story)
    week.tick(current.closes_at + timedelta(seconds=1))
    for report in titled(week.messages, story, "perception gaps"):
        scorecard_report(story, report)
