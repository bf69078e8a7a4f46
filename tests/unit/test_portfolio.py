"""The portfolio's risk score (pure, from hand-built digests) and its message: caps, reasons, anonymity, escaping,
and a thousand partnerships split within Slack's limits."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot.blocks.portfolio import DETAILED, build_portfolio_messages
from bot.blocks.pulse import MAX_BLOCKS_PER_MESSAGE, MAX_MESSAGE_TEXT, text_length
from bot.services.digest_models import ActionSummary, DigestAction, DigestIssue, IssueSummary, SeverityAges, SideDigest
from bot.services.figures import Comparison, HealthIndex, SideFigure
from bot.services.issue_models import IssueStatus
from bot.services.partnership_models import Side
from bot.services.portfolio_models import PortfolioView, RiskLevel
from bot.services.portfolio_risk import assess, rank
from bot.services.pulse_models import Participation
from tests.factories import digest_view as factory_view


def digest_view(**overrides: Any) -> Any:
    """The factory's digest without its perception gaps unless a test gives some."""
    overrides.setdefault("gaps", ())
    return factory_view(**overrides)


def _health(client: str | None, provider: str | None, *, before: tuple[str | None, str | None] = (None, None)) -> Any:
    """Both sides' health index (four weeks) and the four weeks before, as ``figures`` computes them."""
    values = (client, provider)
    return tuple(
        HealthIndex(side, _d(values[i]), 8, 8, 8, _d(before[i])) for i, side in enumerate((Side.CLIENT, Side.PROVIDER))
    )


def _d(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


AS_OF = datetime(2026, 12, 14, 14, tzinfo=UTC)


def _sides(client_withheld: bool = False, provider_withheld: bool = False, asked: tuple[int, int] = (4, 4)) -> Any:
    return (
        SideDigest(Side.CLIENT, "Northwind", Participation(4, asked[0]), client_withheld, None, (), ()),
        SideDigest(Side.PROVIDER, "Contoso", Participation(4, asked[1]), provider_withheld, None, (), ()),
    )


def _issue(number: int, severity: str) -> DigestIssue:
    return DigestIssue(number, f"Issue {number}", severity, Side.CLIENT, IssueStatus.OPEN, 0, 3)


def test_each_part_is_capped_and_the_reasons_are_in_words() -> None:
    # Health index: client 3.0 (3.5 the four weeks before), provider 4.5: health 10, trend 5, no gap.
    view = digest_view(
        health=_health("3.0", "4.5", before=("3.5", "4.5")),
        sides=_sides(),
        issues=IssueSummary(
            (),
            (),
            (),
            (_issue(1, "S1"), _issue(2, "S2"), _issue(3, "S2"), _issue(4, "S1"), _issue(5, "S3")),
            tuple(SeverityAges(s, (0, 0, 0)) for s in ("S1", "S2", "S3", "S4")),
        ),
        actions=ActionSummary(
            {Side.CLIENT: 6, Side.PROVIDER: 0},
            tuple(DigestAction(f"Action {i}", Side.CLIENT, date(2026, 12, 1)) for i in range(6)),
            (),
        ),
    )
    entry = assess(view)
    # Issues, each 3 days old and not escalated: S1 10 × (1 + min(3 ÷ 1, 3)) = 40 twice, S2 5 × (1 + 3 ÷ 3) = 10
    # twice, S3 2 × (1 + 3 ÷ 10) = 2.6: 102.6, capped at 60. Six actions 10 days overdue: 2 + 0.5 × 10 = 7 each,
    # 42, capped at 20. Health 10 + trend 5 + 60 + 20 = 95.
    assert entry.score == 95 and entry.level is RiskLevel.HIGH
    # Most points first; the S3 is counted, not named (everyday friction).
    assert entry.reasons == (
        "S1 #1 unacknowledged for 3 days; S1 #4 unacknowledged for 3 days; S2 #2 unacknowledged for 3 days; and 1 more",
        "6 actions overdue, the oldest by 10 days",
        "Northwind rates the relationship 3.0 of 5 over the last four weeks",
        "Northwind's health index fell 0.5 against the four weeks before",
    )
    assert (entry.open_s1, entry.open_s2, entry.overdue_actions) == (2, 2, 6)


def test_a_withheld_side_contributes_no_averages_whatever_the_read_model_holds() -> None:
    # A read model that (wrongly) still carries the withheld provider's 1.0: the portfolio must not use it.
    view = digest_view(
        health=_health("4.2", "1.0", before=("4.2", "4.0")),
        sides=_sides(provider_withheld=True),
    )
    entry = assess(view)
    provider = entry.sides[1]
    assert (provider.health, provider.change, provider.withheld) == (None, None, True)
    assert entry.score == 5 and entry.reasons == ("not enough answers from Contoso to show its view",)
    text = json.dumps([m.blocks[i].to_dict() for m in _messages([entry]) for i in range(len(m.blocks))])
    assert "Contoso not enough answers" in text and "1.0" not in text


def test_no_figures_at_all_is_a_blind_spot_and_the_four_week_average_stands_in() -> None:
    empty = digest_view(
        rounds=0,
        health=_health(None, None),
        sides=_sides(asked=(0, 0)),
    )
    assert assess(empty).reasons == ("no pulse results in the last four weeks",) and assess(empty).score == 5
    quiet = digest_view(
        rounds=0,
        health=_health("3.2", "3.6"),
        sides=_sides(asked=(0, 0)),
    )
    entry = assess(quiet)
    assert entry.sides[0].four_week and entry.sides[0].health == 3.2
    assert entry.score == 8 and entry.reasons == ("Northwind rates the relationship 3.2 of 5 over the last four weeks",)
    fine = assess(dataclasses.replace(quiet, health=_health("3.6", "4.1")))
    assert fine.score == 4 and fine.reasons == ()  # 3.6 is below 4 (4 points) but not below 3.5: not worth saying


def test_every_part_at_its_cap_is_100_and_ties_rank_the_lower_health_first() -> None:
    awful = digest_view(
        health=_health("1.0", "5.0", before=("5.0", "5.0")),
        gaps=(Comparison("provider", "trust", SideFigure(Decimal("1.0"), 4), SideFigure(Decimal("5.0"), 4)),),
        sides=(
            SideDigest(Side.CLIENT, "Northwind", Participation(0, 40), False, None, (), ()),
            SideDigest(Side.PROVIDER, "Contoso", Participation(40, 40), False, None, (), ()),
        ),
        issues=IssueSummary((), (), (), tuple(_issue(i, "S1") for i in range(5)), ()),
        actions=ActionSummary(
            {Side.CLIENT: 9}, tuple(DigestAction("a", Side.CLIENT, date(2026, 1, 1)) for _ in range(9)), ()
        ),
    )
    worst = assess(awful)
    assert worst.score == 100 and len(worst.reasons) == 6  # 30 + 15 + 15 + 60 + 20 + 10
    p = awful.partnership
    first = assess(
        digest_view(
            partnership=dataclasses.replace(p, id=2, name="B"),
            health=_health("3.0", None),
            sides=_sides(),
        )
    )
    second = assess(
        digest_view(
            partnership=dataclasses.replace(p, id=3, name="A"),
            health=_health(None, None),
            sides=_sides(asked=(0, 0)),
            rounds=0,
        )
    )
    assert (first.score, second.score) == (10, 5)
    assert [e.partnership.name for e in rank([second, first])] == ["B", "A"]


def _entry(i: int, score_health: float) -> Any:
    view = digest_view(
        partnership=dataclasses.replace(digest_view().partnership, id=i, name=f"Partnership {i:04d} <!channel>"),
        health=_health(str(round(score_health, 1)), "4.0"),
        sides=(
            SideDigest(Side.CLIENT, "Northwind <@U123>", Participation(4, 4), False, None, (), ()),
            SideDigest(Side.PROVIDER, "Contoso & co", Participation(4, 4), False, None, (), ()),
        ),
    )
    return assess(view)


def _messages(entries: list[Any], **kwargs: Any) -> Any:
    view = PortfolioView("TCLIENT", "Northwind", AS_OF, rank(entries), None, "America/New_York")
    return build_portfolio_messages(view, **kwargs)


def test_a_thousand_partnerships_are_split_within_slacks_limits_and_none_is_lost() -> None:
    entries = [_entry(i, 1.0 + (i % 40) / 10) for i in range(1, 1001)]
    messages = _messages(entries)
    assert len(messages) > 5
    seen: list[str] = []
    for m in messages:
        assert len(m.blocks) <= MAX_BLOCKS_PER_MESSAGE
        assert sum(text_length(b.to_dict()) for b in m.blocks) <= MAX_MESSAGE_TEXT
        for b in m.blocks:
            d = b.to_dict()
            text = d.get("text", {}).get("text", "") if isinstance(d.get("text"), dict) else ""
            assert len(text) <= 3000
            seen.extend(line for line in text.split("\n") if "Partnership " in line and line[:1] in "*0123456789")
    assert len(seen) == 1000
    detailed = [line for line in seen if line.startswith("*")]
    assert len(detailed) == DETAILED
    # Escaped: nobody can be pinged from a name.
    everything = json.dumps([b.to_dict() for m in messages for b in m.blocks])
    assert "<!channel>" not in everything and "<@U123>" not in everything
    assert "&lt;!channel&gt;" in everything and "&lt;@U123&gt;" in everything and "Contoso &amp; co" in everything


def test_an_ephemeral_portfolio_is_shortened_and_says_how_many_it_left_out() -> None:
    entries = [_entry(i, 1.0 + (i % 40) / 10) for i in range(1, 1001)]
    messages = _messages(entries, max_messages=4)
    assert len(messages) == 4
    text = "\n".join(b.to_dict().get("text", {}).get("text", "") for m in messages for b in m.blocks if b.type == "section")
    shown = sum(1 for line in text.split("\n") if "Partnership " in line)
    left = int(text.split("…and ")[1].split(" more")[0])
    assert shown + left == 1000 and left > 0
    assert len(_messages(entries[:5], max_messages=4)) == 1


def test_a_partnership_that_cannot_be_read_is_left_out_not_the_whole_portfolio(uow_factory: Any) -> None:
    from bot.services import portfolio
    from storage.models import Partnership
    from tests.factories import make_issue_world

    now = datetime(2026, 11, 1, tzinfo=UTC)
    good = make_issue_world(uow_factory, now=now, channel_id="C100", name="Good desk")
    broken = make_issue_world(uow_factory, now=now, channel_id="C200", name="Broken desk")
    with uow_factory() as uow:
        p = uow.session.get(Partnership, broken.partnership_id)
        assert p is not None
        p.timezone = "Mars/Olympus_Mons"  # a zone that no longer exists
        uow.commit()
    view = portfolio.portfolio_for(uow_factory, team_id="TCLIENT", user_id="UCS", now=AS_OF)  # a sponsor
    assert [e.partnership.name for e in view.entries] == ["Good desk"]
    assert view.entries[0].partnership.id == good.partnership_id


def test_a_health_index_change_is_written_as_the_digest_writes_it() -> None:
    # Client 3.1 against 3.0 the four weeks before: +0.1; provider 3.7 against 4.0: −0.3 (worked out by hand).
    view = digest_view(
        health=_health("3.1", "3.7", before=("3.0", "4.0")),
        sides=(
            SideDigest(Side.CLIENT, "Northwind", Participation(4, 4), False, None, (), ()),
            SideDigest(Side.PROVIDER, "Contoso", Participation(4, 4), False, None, (), ()),
        ),
    )
    text = json.dumps([b.to_dict() for m in _messages([assess(view)]) for b in m.blocks], ensure_ascii=False)
    assert "Northwind 3.1 (4 weeks) ↑ +0.1" in text
    assert "Contoso 3.7 (4 weeks) ↓ −0.3" in text
