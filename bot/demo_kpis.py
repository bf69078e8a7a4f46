"""The demo's agreed KPIs (issue 14): the script (three KPIs, their weekly figures, how each side rates the
dimensions they relate to) and its chapters: the KPIs proposed with ``/partner kpi propose`` and agreed by the
other side's lead, the figures pushed each week through the HTTP endpoint (one recorded in Slack from its owner's
request), and the watermelon check's two signals as the leads got them."""

from __future__ import annotations

import functools
import json
import re
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.demo_actors import ephemerals_since, find_one, newest_message, person_named, submit_new_view, wait_for_bot
from bot.demo_story import CLIENT_ORG, PROVIDER_ORG, Story, Week
from bot.kpi_api import VALUES_PATH
from bot.services import kpi_rules
from bot.services.kpi_format import PAIRING_LABELS
from bot.services.kpi_models import KpiPeriod
from bot.services.schedule import zone
from bot.services.watermelon_models import Pairing

TIMEZONE = "America/New_York"


@dataclass(frozen=True)
class DemoKpi:
    """A KPI of the script: the proposal form's fields, and its figure for a week of a run."""

    key: str
    fields: Mapping[str, str]
    #: Figures by week, repeated for longer runs; ``red_figures`` replace them in the run's last two weeks.
    figures: tuple[float, ...]
    red_figures: tuple[float, ...] = ()

    def figure(self, week: int, weeks: int) -> float:
        if self.red_figures and week >= weeks - len(self.red_figures):
            return self.red_figures[week - (weeks - len(self.red_figures))]
        return self.figures[week % len(self.figures)]


def _fields(name: str, measure: str, target: str, amber: str, red: str, dimension: str, side: str) -> dict[str, str]:
    return {
        "name": name,
        "measure": measure,
        "unit": "%",
        "direction": "higher",
        "target": target,
        "amber": amber,
        "red": red,
        "period": "weekly",
        "dimension": dimension,
        "delivered_by": side,
    }


#: Goes red in the run's last two weeks (below 60) while both sides rate responsiveness 4 or 5: "people happy,
#: KPIs red". Two red weeks, not the three that would escalate it (the policy's default).
FCR = DemoKpi(
    "first-contact-resolution",
    _fields(
        "First-contact resolution",
        "Tickets closed on the first contact / all tickets closed, from the service desk",
        "75",
        "70",
        "60",
        "responsiveness",
        "provider",
    ),
    figures=(78, 77, 76, 74, 73, 71, 76, 75),
    red_figures=(58, 55),
)
#: Green every week (at or above 90) while the client's rating of communication falls: "KPIs green, people unhappy".
UPDATES = DemoKpi(
    "incident-updates",
    _fields(
        "Incident updates on time",
        "Major incidents with a status update to the client within 30 minutes / all major incidents",
        "95",
        "90",
        "80",
        "communication",
        "provider",
    ),
    figures=(96, 100, 97, 100, 98, 100, 96, 100),
)
#: The client's KPI: amber every week (below 85, not below 70), so its dimension pairs with nothing.
DECISIONS = DemoKpi(
    "change-decisions",
    _fields(
        "Change decisions within 2 working days",
        "Change-board decisions the client made within 2 working days of the request / all decisions requested",
        "90",
        "85",
        "70",
        "collaboration",
        "client",
    ),
    figures=(84, 82, 83, 81, 83, 84, 82, 84),
)
KPIS = (FCR, UPDATES, DECISIONS)


def dimension_scores(side: str, week: int, weeks: int) -> dict[str, int]:
    """How a side rates the KPIs' dimensions in a week, whatever its mood about the rest: both sides rate
    responsiveness well throughout; the client's rating of communication falls to 2 in the run's last four weeks."""
    scores = {"responsiveness": 4 if side == "client" else 5}
    if side == "client":
        scores["communication"] = 2 if week >= weeks - 4 else (4 if week < 2 else 3)
    return scores


def period_end_of_week(story: Story) -> date:
    """The end of the weekly period running now (the Sunday of this local week)."""
    today = story.stack.services.clock().astimezone(zone(TIMEZONE)).date()
    return kpi_rules.period_end_of(today, KpiPeriod.WEEKLY)


def agree_kpis(story: Story) -> str:
    """The client lead proposes the three KPIs with ``/partner kpi propose``; the provider lead agrees each from
    its message in the channel. Then the client lead creates the API token for the service desk's tools (shown
    once, to them) and returns it."""
    stack, sb, w = story.stack, story.sb, story.world
    lead, other = stack.actor(w.client_lead), stack.actor(w.provider_lead)
    owners = {"provider": w.provider_members[0], "client": w.client_members[2]}
    for number, kpi in enumerate(KPIS, start=1):
        seen = set(sb.views)
        lead.slash_command("/partner", "kpi propose", w.channel)
        values: dict[str, object] = {**kpi.fields, "key": kpi.key, "owner_id": owners[kpi.fields["delivered_by"]]}
        submit_new_view(stack, w.client_lead, "kpi-propose-submit", seen, values)
        proposal = newest_message(stack, f"KPI #{number} ")
        other.click(w.channel, str(proposal["ts"]), "kpi-agree")
        agreed = functools.partial(_agreed, story, str(proposal["ts"]))
        wait_for_bot(agreed, what="the agreement")
    notes = len(sb.ephemerals(w.channel, user=w.client_lead))
    lead.slash_command("/partner", "kpi token create Service desk tools", w.channel)
    created = find_one(lambda: ephemerals_since(stack, w.client_lead, notes), "the API token")
    token = re.search(r"```(\S+)```", json.dumps(created))
    if token is None:
        raise RuntimeError(f"no token in {created.get('text')}")
    names = [f"{k.fields['name']} ({PROVIDER_ORG if k.fields['delivered_by'] == 'provider' else CLIENT_ORG})" for k in KPIS]
    story.say(
        f"{story.name(w.client_lead)} proposes three weekly KPIs with /partner kpi propose: {'; '.join(names)}. {story.name(w.provider_lead)} agrees each with one "
        f"click. An API token (shown once) lets {person_named(PROVIDER_ORG)} tools push each week's figures to POST "
        f"{VALUES_PATH}."
    )
    story.new()
    return token.group(1)


def _agreed(story: Story, ts: str) -> bool:
    return "Agreed by" in str(story.sb.message(story.channel, ts))


def push_figures(story: Story, token: str, week: int, weeks: int, *, client_kpi: bool) -> None:
    """The service desk's tools push this week's figures through the HTTP endpoint (the client KPI's too unless
    ``client_kpi`` is False)."""
    end = period_end_of_week(story).isoformat()
    entries = [
        {"kpi": k.key, "period_end": end, "value": k.figure(week, weeks)}
        for k in KPIS
        if client_kpi or k.fields["delivered_by"] == "provider"
    ]
    request = urllib.request.Request(
        story.stack.base_url + VALUES_PATH,
        data=json.dumps({"values": entries}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + token},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as answer:
        if answer.status != 200:
            raise RuntimeError(f"the figures were refused: {answer.status} {answer.read()!r}")
    story.new()


def record_in_slack(story: Story, current: Week, week: int, weeks: int) -> None:
    """The client KPI's owner had no figure in on Monday, so was asked for last week's in their working hours: they
    record it from the request's button (or with ``/partner kpi record KEY`` if no request came)."""
    stack, sb, w = story.stack, story.sb, story.world
    owner = w.client_members[2]
    requests = [m for m in current.private if m.get("recipient") == owner and "kpi-record" in json.dumps(m)]
    seen = set(sb.views)
    if requests and requests[-1].get("dm_channel"):
        stack.actor(owner).click(str(requests[-1]["dm_channel"]), str(requests[-1]["ts"]), "kpi-record")
    elif requests:
        stack.actor(owner).click_ephemeral(w.channel, str(requests[-1]["ts"]), "kpi-record")
    else:
        stack.actor(owner).slash_command("/partner", f"kpi record {DECISIONS.key}", w.channel)
    notes = len(sb.ephemerals(w.channel, user=owner))
    last_sunday = kpi_rules.previous_period_end(period_end_of_week(story), KpiPeriod.WEEKLY)
    values: dict[str, object] = {"period_end": last_sunday.isoformat(), "value": str(DECISIONS.figure(week - 1, weeks))}
    submit_new_view(stack, owner, "kpi-record-submit", seen, values | {"note": "Two decisions waited for the CFO."})
    confirmation = find_one(
        lambda: [m for m in ephemerals_since(stack, owner, notes) if "You recorded" in json.dumps(m)], "the figure"
    )
    how = "from her request" if requests else "with /partner kpi record"
    recorded = story.lines(confirmation)[0].rsplit(": ", 1)[-1]
    story.say(f"{story.name(owner)} records the client KPI's week-{week} figure in Slack, {how}: {recorded}.")
    story.new()


def tell_pairings(story: Story, current: Week, told: set[str]) -> None:
    """The watermelon check's note to the leads, once per kind of pairing in the story: its first sentence."""
    for kind in (Pairing.GREEN_UNHAPPY.value, Pairing.RED_HAPPY.value):
        label = PAIRING_LABELS[kind]
        notes = [m for m in current.private if "Early warning" in json.dumps(m) and label in json.dumps(m)]
        if notes and kind not in told:
            told.add(kind)
            story.say(f"The watermelon check, to both leads: {story.lines(notes[0])[1].split('. ')[0]}.")


def short_pairing(row: str) -> str:
    """A headline row of a watermelon pairing cut to its first sentence (the dimension and the pairing)."""
    return row.split(". ")[0] if any(label in row for label in PAIRING_LABELS.values()) else row
