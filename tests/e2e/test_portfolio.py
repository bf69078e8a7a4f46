"""The portfolio digest through the sandbox: three partnerships with seeded answers ranked by a hand-computed risk
score, anonymity (a withheld side shows no averages), permissions, the weekly post once per week, a channel the bot
is not in, and malformed commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.harness import LocalStack
from bot.services import partnership_setup, partnerships
from bot.services.partnership_models import Side
from bot.services.pulse_models import DIMENSIONS
from storage.models import OutboxMessage, Workspace
from tests.factories import add_closed_round, answers_for, setup_input
from tests.helpers import demo_channel, setup_partnership, wait_for

#: Monday 14 Dec 2026, 07:00 in New York. The joint channel's partnership (set up in the form) has its digest on
#: Mondays 09:00 New York, so its latest week ended Mon 7 Dec 14:00 UTC; the two set up by service have theirs on
#: Fridays 16:00 New York, so their latest week ended Fri 11 Dec 21:00 UTC.
NOW = datetime(2026, 12, 14, 12, 0, tzinfo=UTC)
#: The first Monday 09:00 New York after NOW: when the weekly portfolio is due.
MONDAY_9 = datetime(2026, 12, 14, 14, 0, tzinfo=UTC)
LEADERSHIP = "C0LEADS"
NO_BOT = "C0NOBOT"


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _partnership(stack: LocalStack, channel: str, name: str, client_org: str, provider_org: str, lead: str) -> int:
    """A single-workspace partnership in a new channel: ``lead`` leads it, one member on each side."""
    w = stack.world
    people = [m for m in w.client_members if m != lead][:2]
    stack.sandbox.add_channel(channel, name.lower().replace(" ", "-"), w.client_team, members=[w.bot_user, lead, *people])
    result = partnership_setup.configure_partnership(
        stack.services.uow_factory(),
        team_id=w.client_team,
        channel_id=channel,
        user_id=lead,
        data=setup_input(
            name=name,
            client_org=client_org,
            provider_org=provider_org,
            client_leads=(lead,),
            client_members=(people[0],),
            provider_members=(people[1],),
        ),
        is_connect=False,
        channel_members=[stack.services.directory.profile(u) for u in (w.bot_user, lead, *people)],
        now=stack.clock(),
    )
    return result.partnership.id


def _round(stack: LocalStack, pid: int, closed_at: datetime, client: list[int], provider: list[int], tag: str) -> None:
    add_closed_round(
        stack.services.uow_factory,
        partnership_id=pid,
        closed_at=closed_at,
        asked=(3, 3),
        answers=[
            *answers_for(Side.CLIENT, {d: client for d in DIMENSIONS}, prefix=f"{tag}C"),
            *answers_for(Side.PROVIDER, {d: provider for d in DIMENSIONS}, prefix=f"{tag}P"),
        ],
    )


def _world(stack: LocalStack) -> dict[str, int]:
    """Every round asks all eight dimensions (the bank's first item of each), so each side's health index (the
    last four weeks, which must cover every dimension) is known. Figures are rounded once, to one decimal.
    A (the joint channel): both sides 4.3 (13/3), full participation: 0 points.
    B: client 4, 4, 4 last week and 1, 2, 2 this week: health index 17 × 8 / 48 = 2.83 → 2.8, provider 4.0;
    health 10 × (4 − 2.8) = 12; no trend (nothing in the four weeks before); this week's gaps 4.0 − 1.7 = +2.3 on
    every item, the first being Litware's trust: 7.5 × 2.3 → capped 15: 27 (watch).
    C: client 2.7 (8/3), provider withheld (2 answers < 3, both scored 1): health 10 × 1.3 = 13, blind spot 5,
    participation 10 × (1 − 2/3) = 3.3: 21 (watch)."""
    setup_partnership(stack)
    w = stack.world
    a = partnerships.get_partnership(stack.services.uow_factory(), **demo_channel(w))
    assert a is not None and (a.digest_weekday, a.digest_hour) == (0, 9)
    b = _partnership(stack, "C0FABRIK", "Fabrikam rollout", "Fabrikam", "Litware", w.client_members[0])
    c = _partnership(stack, "C0TAILSP", "Tailspin support", "Tailspin", "Adatum", w.client_members[1])
    _round(stack, a.id, datetime(2026, 12, 3, 12, tzinfo=UTC), [4, 5, 4], [5, 4, 4], "a")
    _round(stack, b, datetime(2026, 12, 2, 12, tzinfo=UTC), [4, 4, 4], [4, 4, 4], "b0")
    _round(stack, b, datetime(2026, 12, 9, 12, tzinfo=UTC), [1, 2, 2], [4, 4, 4], "b1")
    _round(stack, c, datetime(2026, 12, 9, 12, tzinfo=UTC), [3, 3, 2], [1, 1], "c")
    stack.clock.set(NOW)
    return {"A": a.id, "B": b, "C": c}


def _ask(stack: LocalStack, user: str, text: str, channel: str | None = None) -> str:
    """``/partner <text>`` and the ephemeral replies it got, as one JSON string."""
    channel = channel or stack.world.channel
    before = len(stack.sandbox.ephemerals(channel, user=user))
    response = stack.actor(user).slash_command("/partner", text, channel)
    assert response.status == 200, response.body
    replies = wait_for(
        lambda: stack.sandbox.ephemerals(channel, user=user)[before:], what=f"a reply to /partner {text} for {user}"
    )
    stack.app.listener_runner.listener_executor.submit(lambda: None).result()  # let any further parts arrive
    return _text(replies + stack.sandbox.ephemerals(channel, user=user)[before + len(replies) :])


def _sections(reply: str) -> list[str]:
    return [
        b["text"]["text"]
        for m in json.loads(reply)
        for b in m.get("blocks") or []
        if b.get("type") == "section" and b.get("text")
    ]


def test_portfolio_ranks_partnerships_by_hand_computed_risk_and_hides_a_withheld_side(stack: LocalStack) -> None:
    _world(stack)
    w = stack.world
    reply = _ask(stack, w.client_sponsor, "portfolio")  # a sponsor may look
    sections = _sections(reply)
    details = [s for s in sections if s.startswith("*1.") or s.startswith("*2.")]
    assert details[0].startswith("*1. Fabrikam rollout* · :large_orange_circle: risk 27 (watch)")
    assert "Fabrikam 2.8 (4 weeks) · Litware 4.0 (4 weeks) · widest gap: Litware's trust +2.3" in details[0]
    assert "Fabrikam rates the relationship 2.8 of 5 over the last four weeks" in details[0]
    assert "the sides see Litware's trust differently (Fabrikam 1.7, Litware 4.0)" in details[0]
    assert details[1].startswith("*2. Tailspin support* · :large_orange_circle: risk 21 (watch)")
    # Anonymity: Adatum answered with two people (threshold 3): no average, no gap, and the reason says why.
    assert "Tailspin 2.7 (4 weeks) · Adatum not enough answers" in details[1]
    assert "not enough answers from Adatum to show its view" in details[1]
    assert "1.0" not in details[1]
    everyone = next(s for s in sections if s.startswith("*Everyone else*"))
    assert (
        "3. Northwind service desk · risk 0 (low risk) · Northwind Retail 4.3 (4 weeks) · Contoso Services 4.3 (4 weeks)"
        in everyone
    )
    assert "2 partnerships" not in reply and "3 partnerships ranked by risk" in reply and "*0* high, *2* to watch" in reply


def test_only_leads_and_sponsors_see_it_and_only_leads_choose_its_channel(stack: LocalStack) -> None:
    _world(stack)
    w = stack.world
    member = w.client_members[2]  # a member of partnership C, neither lead nor sponsor anywhere
    assert "only their leads and executive sponsors can see it" in _ask(stack, member, "portfolio")
    refused = _ask(stack, w.client_sponsor, "portfolio here")
    assert "Only a lead of a partnership in this workspace can choose" in refused
    assert "Only a lead" in _ask(stack, member, "portfolio off")
    # Not in a channel the other organisation reads (the joint Slack Connect channel): refused, nothing posted.
    before = len(stack.sandbox.messages(w.channel))
    shared = _ask(stack, w.client_lead, "portfolio here")
    assert "can't be posted in a channel shared with another organisation" in shared
    assert len(stack.sandbox.messages(w.channel)) == before
    # The lead of B only (not of the joint channel's partnership) sees every partnership of the workspace.
    assert "Northwind service desk" in _ask(stack, w.client_members[0], "portfolio", channel="C0FABRIK")
    with stack.services.uow_factory() as uow:
        ws = uow.session.scalars(select(Workspace)).one()
        assert ws.portfolio_channel_id is None


def test_malformed_portfolio_commands_get_the_usage(stack: LocalStack) -> None:
    _world(stack)
    lead = stack.world.client_lead
    for text in ("portfolio foo", "portfolio here please", "portfolio OFF now", "portfolio <!channel>"):
        reply = _ask(stack, lead, text)
        assert "Usage: `/partner portfolio`" in reply, text
        assert "<!channel>" not in reply
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(Workspace)).one().portfolio_channel_id is None


def _posts(stack: LocalStack, channel: str) -> list[dict[str, Any]]:
    return [m for m in stack.sandbox.messages(channel, include_thread_replies=False) if "Portfolio" in _text(m)]


def test_weekly_post_goes_out_once_per_week_and_stops_when_turned_off(stack: LocalStack) -> None:
    _world(stack)
    w, sb = stack.world, stack.sandbox
    sb.add_channel(LEADERSHIP, "leadership", w.client_team, members=[w.bot_user, w.client_lead, w.client_sponsor])
    reply = _ask(stack, w.client_lead, "portfolio here", channel=LEADERSHIP)
    assert "every Monday at 09:00 America/New_York; the first on Mon 14 Dec, 09:00 EST" in reply
    assert any("chose this channel for the weekly portfolio digest" in _text(m) for m in sb.messages(LEADERSHIP))
    with stack.services.uow_factory() as uow:
        ws = uow.session.scalars(select(Workspace)).one()
        assert (ws.portfolio_channel_id, ws.portfolio_timezone, ws.portfolio_set_by) == (
            LEADERSHIP,
            "America/New_York",
            w.client_lead,
        )
        assert ws.next_portfolio_at == MONDAY_9

    stack.tick(datetime(2026, 12, 14, 13, 59, tzinfo=UTC))
    assert _posts(stack, LEADERSHIP) == []
    report = stack.tick(MONDAY_9)
    assert report.portfolios == 1
    posts = _posts(stack, LEADERSHIP)
    assert len(posts) == 1
    body = _text(posts[0]["blocks"])
    assert body.index("Fabrikam rollout") < body.index("Tailspin support") < body.index("Northwind service desk")
    assert "Adatum not enough answers" in body
    # Again the same week (a second heartbeat, a later tick): nothing more.
    assert stack.tick(MONDAY_9).portfolios == 0
    assert stack.tick(datetime(2026, 12, 17, 12, tzinfo=UTC)).portfolios == 0
    assert len(_posts(stack, LEADERSHIP)) == 1
    # Next Monday: the next one.
    assert stack.tick(datetime(2026, 12, 21, 14, 0, 30, tzinfo=UTC)).portfolios == 1
    assert len(_posts(stack, LEADERSHIP)) == 2
    assert "is off (it went to <#C0LEADS>)" in _ask(stack, w.client_lead, "portfolio off", channel=LEADERSHIP)
    assert stack.tick(datetime(2026, 12, 28, 14, 0, 30, tzinfo=UTC)).portfolios == 0
    assert len(_posts(stack, LEADERSHIP)) == 2


def test_a_channel_the_bot_is_not_in_is_refused_then_a_failed_post_is_reported(stack: LocalStack) -> None:
    _world(stack)
    w, sb = stack.world, stack.sandbox
    sb.add_channel(NO_BOT, "no-bot", w.client_team, members=[w.client_lead])
    reply = _ask(stack, w.client_lead, "portfolio here", channel=NO_BOT)
    assert "I can't post in this channel" in reply and "/invite @PartnerPulse" in reply
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(Workspace)).one().portfolio_channel_id is None

    # Chosen while the bot was there; the bot is removed before Monday: the post fails once, clearly.
    sb.add_channel(LEADERSHIP, "leadership", w.client_team, members=[w.bot_user, w.client_lead])
    _ask(stack, w.client_lead, "portfolio here", channel=LEADERSHIP)
    sb.leave(LEADERSHIP, w.bot_user)
    report = stack.tick(MONDAY_9)
    assert report.portfolios == 1 and report.delivery.errors.get("not_in_channel") == 1
    with stack.services.uow_factory() as uow:
        row = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "portfolio")).one()
        assert (row.status, row.error, row.partnership_id) == ("failed", "not_in_channel", None)
    # No partnership was paused for it, and the joint channel still works.
    joint = partnerships.get_partnership(stack.services.uow_factory(), **demo_channel(w))
    assert joint is not None and joint.status == "active"
    assert stack.tick(datetime(2026, 12, 14, 15, tzinfo=UTC)).delivery.errors.get("not_in_channel") is None
    reply = _ask(stack, w.client_lead, "portfolio")
    assert "The last weekly post to &lt;#C0LEADS&gt;" not in reply
    assert "The last weekly post to <#C0LEADS> failed (not_in_channel)" in reply and "/invite @PartnerPulse" in reply
