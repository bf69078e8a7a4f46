"""The golden scenario (issue 12 item 2): known people answer known items; every surface that shows a figure —
round results, the digest (its headline message and its detail), the export's CSV and HTML, the scorecard report — shows each one as the same string,
worked out here by hand. (App Home shows no pulse figures, only issues and actions: it is checked to show none.)

Partnership Northwind (client) / Contoso (provider), threshold 3, digest Fridays 16:00 New York.
One round closed Wed 9 Dec 2026 12:00 UTC, in the week that began Fri 4 Dec:

    Contoso's trust ("The provider tells us about problems early", subject: the provider)
        client   2, 2, 3      = 7/3  = 2.333… → "2.3"
        provider 4, 4, 3, 4   = 15/4 = 3.75   → "3.8"   (a half goes up)
        gap = provider − client of the rounded averages = 3.8 − 2.3 = "+1.5": flagged "act" ⚠️ (≥ 1.5)
    The relationship's communication ("Information reaches the right people", subject: the relationship)
        client   3, 4, 4      = 11/3 = 3.667… → "3.7"
        provider 3, 3, 4, 3   = 13/4 = 3.25   → "3.3"   (a half goes up, where a float printed 3.2)
        gap = 3.3 − 3.7 = "−0.4" (the CSV writes "-0.4" so spreadsheets read a number): no flag
    participation: client 3 of 3 (100%), provider 4 of 4 (100%)
    Relationship NPS (0–10; 9–10 promoters, 0–6 detractors), per side:
        client   10, 6, 9     = 2 promoters, 1 detractor of 3: (2 − 1) / 3 = 33.3… → "NPS +33"
        provider 9, 8, 7, 10  = 2 promoters, 2 passives of 4:  (2 − 0) / 4 = 50    → "NPS +50"

The bilateral scorecard closed Thu 10 Dec rates the same way how the provider is seen on trust: the provider's
people rate themselves 4, 4, 3, 4 ("3.8"), the client's people rate it 2, 2, 3 ("2.3"): gap "+1.5" ⚠️.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

from bot import export_csv, export_html
from bot.blocks.digest import build_digest_detail, build_digest_messages
from bot.blocks.digest_headline import build_digest_headline
from bot.blocks.home import build_home
from bot.blocks.pulse import build_results_messages
from bot.blocks.scorecard import build_scorecard_report
from bot.services import digest, digest_headline, export, home, pulses, scorecard, scorecard_rounds
from bot.services.partnership_models import Side
from bot.services.pulse_models import DIMENSIONS
from bot.services.review_models import ScorecardInput
from storage.uow import UnitOfWorkFactory
from tests.factories import Answered, add_closed_round, make_issue_world

SETUP = datetime(2026, 11, 1, tzinfo=UTC)
CLOSED = datetime(2026, 12, 9, 12, tzinfo=UTC)
NOW = datetime(2026, 12, 14, 12, tzinfo=UTC)
WEEK = date(2026, 12, 4)
SECRET = "s" * 40

TRUST = "client 2.3 · provider 3.8 · gap +1.5 ⚠️"
COMMUNICATION = "client 3.7 · provider 3.3 · gap −0.4"
NPS_CLIENT = "NPS +33 (3 answers: 2 promoters, 0 passives, 1 detractor)"
NPS_PROVIDER = "NPS +50 (4 answers: 2 promoters, 2 passives, 0 detractors)"


def _scenario(uow_factory: UnitOfWorkFactory) -> tuple[int, int, int]:
    world = make_issue_world(uow_factory, now=SETUP)
    pid = world.partnership_id
    client = [(2, 3, 10), (2, 4, 6), (3, 4, 9)]  # (trust, communication, NPS) per client person
    provider = [(4, 3, 9), (4, 3, 8), (3, 4, 7), (4, 3, 10)]
    answers = [
        Answered(side, f"{side.value[0].upper()}{i}", {"trust": t, "communication": c, "nps": n})
        for side, people in ((Side.CLIENT, client), (Side.PROVIDER, provider))
        for i, (t, c, n) in enumerate(people)
    ]
    round_id = add_closed_round(uow_factory, partnership_id=pid, closed_at=CLOSED, answers=answers, asked=(3, 4))

    opened = datetime(2026, 12, 3, 12, tzinfo=UTC)
    card = scorecard.start_now(uow_factory(), team_id="TCLIENT", channel_id="C100", actor="UCL", now=opened)
    ratings = {"UC1": (4, 2), "UC2": (4, 2), "UC3": (4, 3), "UPL": (4, 3), "UP1": (4, 3), "UP2": (3, 3), "UP3": (4, 3)}
    for user, (own, other) in ratings.items():
        scores = {("self", d): own for d in DIMENSIONS} | {("other", d): other for d in DIMENSIONS}
        scorecard.submit(
            uow_factory(),
            scorecard_id=card.id,
            user_id=user,
            data=ScorecardInput(scores=scores),
            secret_key=SECRET,
            now=opened,
        )
    scorecard_rounds.close_due(uow_factory, now=opened + timedelta(days=7))
    return pid, round_id, card.id


def _json(blocks: object) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_every_surface_shows_each_figure_identically(uow_factory: UnitOfWorkFactory) -> None:
    pid, round_id, card_id = _scenario(uow_factory)

    # Round results.
    results = pulses.round_results(uow_factory(), round_id=round_id)
    shown = _json([b.to_dict() for m in build_results_messages(results) for b in m.blocks])
    assert f"*Contoso's trust*: {TRUST}" in shown
    assert f"*The relationship's communication*: {COMMUNICATION}" in shown
    assert "*Northwind* 3 of 3 (100%)" in shown and "*Contoso* 4 of 4 (100%)" in shown
    assert NPS_CLIENT in shown and NPS_PROVIDER in shown

    # The weekly digest of that week: its detail (the thread) and the whole digest (the preview).
    view = digest.build_digest(uow_factory(), partnership_id=pid, week_start=WEEK, now=NOW)
    for messages in (build_digest_messages(view), build_digest_detail(view)):
        shown = _json([b.to_dict() for m in messages for b in m.blocks])
        assert f"*Contoso's trust*: {TRUST}" in shown
        assert f"*The relationship's communication*: {COMMUNICATION}" in shown
        assert "*Northwind* 3 of 3 (100%)" in shown and "*Contoso* 4 of 4 (100%)" in shown
        assert f"Northwind {NPS_CLIENT} · Contoso {NPS_PROVIDER}" in shown

    # The digest's headline message: the flagged gap needs attention, then what was measured, the same strings.
    headline = build_digest_headline(view, digest_headline.headline(view))
    sections = [b.to_dict()["text"]["text"] for b in headline.blocks if b.type == "section"]
    (attention,) = [s for s in sections if s.startswith("*Needs attention*")]
    assert attention == f"*Needs attention*\n• *Contoso's trust*: {TRUST}"
    (measured,) = [s for s in sections if s.startswith("*Measured this week*")]
    assert measured.split("\n") == [
        "*Measured this week* (1 pulse round; answered: Northwind 3 of 3 (100%) · Contoso 4 of 4 (100%))",
        f"• *Contoso's trust*: {TRUST}",
        f"• *The relationship's communication*: {COMMUNICATION}",
        f"• Relationship NPS (promoters − detractors): Northwind {NPS_CLIENT} · Contoso {NPS_PROVIDER}",
    ]

    # The export: CSV (gaps with an ASCII minus, numbers otherwise as shown) and HTML.
    report = export.build_export(uow_factory, partnership_id=pid, start=WEEK, end=WEEK, now=NOW)
    rows = {(r["side"], r["subject"], r["dimension"]): r for r in csv.DictReader(io.StringIO(export_csv.render_csv(report)))}
    assert [rows[(s, "provider", "trust")]["average"] for s in ("client", "provider")] == ["2.3", "3.8"]
    assert [rows[(s, "relationship", "communication")]["average"] for s in ("client", "provider")] == ["3.7", "3.3"]
    assert {rows[(s, "provider", "trust")]["gap"] for s in ("client", "provider")} == {"+1.5"}
    assert {rows[(s, "relationship", "communication")]["gap"] for s in ("client", "provider")} == {"-0.4"}
    page = export_html.render_html(report)
    week = page[page.index(f"Week of {WEEK.isoformat()}") :]
    assert (
        '<tr><th>Contoso&#x27;s trust</th><td class="n">2.3</td><td class="n">not enough data yet</td>'
        '<td class="n">3.8</td><td class="n">not enough data yet</td><td class="n gap2">+1.5 ⚠️</td></tr>'
    ) in week
    assert (
        '<tr><th>The relationship&#x27;s communication</th><td class="n">3.7</td><td class="n">not enough data yet</td>'
        '<td class="n">3.3</td><td class="n">not enough data yet</td><td class="n">−0.4</td></tr>'
    ) in week
    assert "Contoso&#x27;s trust +1.5 ⚠️" in page  # the summary's widest gap

    # The scorecard report, in the channel and in the export: how the provider is seen on trust.
    card = scorecard.report(uow_factory(), scorecard_id=card_id)
    assert card is not None
    shown = _json([b.to_dict() for m in build_scorecard_report(card) for b in m.blocks])
    assert "*Trust*: Contoso rates itself 3.8 · Northwind rates it 2.3 · gap +1.5 ⚠️" in shown
    assert report.scorecards and report.scorecards[0] == card
    section = page[page.index("How Contoso (provider) is seen") :]
    assert '<tr><th>Trust</th><td class="n">3.8</td><td class="n">2.3</td><td class="n gap2">+1.5 ⚠️</td></tr>' in section

    # App Home shows issues and actions only: none of these figures, so nothing to contradict them.
    tab = home.home(uow_factory(), team_id="TCLIENT", user_id="UCL", now=NOW)
    view_json = _json(
        build_home(
            partnerships=[(p.partnership, p.open_by_severity) for p in tab.partnerships],
            issues=tab.issues,
            actions=tab.actions,
        ).to_dict()
    )
    assert "Northwind desk" in view_json
    assert not any(figure in view_json for figure in ("2.3", "3.8", "3.7", "3.3", "+1.5", "−0.4"))
