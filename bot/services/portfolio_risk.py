"""The portfolio's risk score (DESIGN 3.4, issue 4 item 4): pure, from each partnership's weekly digest.

Each partnership's standing is read from its weekly digest (``bot.services.digest.build_digest``), so the portfolio
shows exactly the figures the partnership's own digest shows, with the same anonymity rule: a side withheld in the
digest contributes no averages here either, and being withheld is itself a reason ("not enough answers").

The risk score is a transparent sum of points, 0–100, each part capped so no single signal can drown the others:

============== ====== ==================================================================================
part           max    points
============== ====== ==================================================================================
health         30     10 × (4.0 − the lower side's overall health). 4.0 means "agree" on the 1–5 scale, so a
                      partnership both sides rate 4 or better scores nothing; 1.0 scores the full 30. Health
                      is what both sides feel; it is the heaviest part because the other parts explain it.
trend          15     10 × the larger drop of a side's overall health against last week (1.5 or more scores
                      15). A fast fall is the early warning the digest exists for, even from a good level.
gap            15     7.5 × the widest perception gap of the week (2.0 or more scores 15). Sides that see the
                      relationship differently drift into conflict before either side's average moves.
issues         60     per open issue: severity weight (S1 10, S2 5, S3 2, S4 1) × (1 + its age against its
                      policy's resolve time, at most 3) + 6 per escalation level reached. An issue left open
                      and escalated is the clearest risk there is; a fresh S4 is everyday friction (1 point).
                      Details in ``bot.services.portfolio_age_risk``.
overdue        20     per overdue action: 2 + 0.5 per day overdue, at most 10. Commitments not kept erode
                      trust, the more the longer they stay unkept.
participation  10     10 × (1 − the lower response rate of the sides asked this week). People who stop
                      answering are disengaging, and the figures above become less reliable.
watermelon     15     10 per dimension where the watermelon check's pairing holds this week (KPIs green while a
                      side is unhappy, or KPIs red while both sides are happy: ``bot.services.watermelon``).
                      The agreed numbers and how people feel disagree: one of them hides a problem.
blind spot     10     5 per side withheld (fewer answers than the anonymity threshold), and 5 when no
                      figures exist at all: what we cannot see is a risk, not an all-clear.
============== ====== ==================================================================================

The parts add up to more than 100 on purpose (a partnership failing everywhere is capped at 100, not averaged
down). Levels: ``high`` from 40 points (a serious problem in one part plus a second signal), ``watch`` from 20,
else ``low``. Ties rank the lower health first, then by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from bot.services import kpi_format
from bot.services import portfolio_age_risk as age_risk
from bot.services.digest_models import DigestView
from bot.services.figures import Flag
from bot.services.figures_format import format_score
from bot.services.figures_format import rated as rated_subject
from bot.services.partnership_models import Side
from bot.services.portfolio_models import PortfolioEntry, RiskLevel, SideStanding
from bot.services.schedule import zone

#: Health at or above this (the scale's "agree") carries no risk.
HEALTH_FLOOR = 4.0
HEALTH_POINTS_PER_STEP = 10.0
HEALTH_MAX = 30.0
TREND_POINTS_PER_STEP = 10.0
TREND_MAX = 15.0
GAP_POINTS_PER_STEP = 7.5
GAP_MAX = 15.0
PARTICIPATION_MAX = 10.0
BLIND_SPOT_POINTS = 5.0
WATERMELON_POINTS = 10.0
WATERMELON_MAX = 15.0
SCORE_MAX = 100
HIGH_FROM = 40
WATCH_FROM = 20

#: Thresholds for saying a part out loud as a reason (smaller contributions count, but are not news).
HEALTH_REASON_BELOW = 3.5
TREND_REASON_DROP = 0.3
PARTICIPATION_REASON_BELOW = 0.5


def _one(value: float | Decimal) -> str:
    """A figure of ``bot.services.figures`` (already rounded to one decimal) as every surface writes it."""
    return format_score(Decimal(str(value)))


def _standing(view: DigestView, side: Side) -> SideStanding:
    said = view.side(side)
    health = view.health_of(side)
    # Anonymity: a withheld side contributes no averages at all, whatever the read model holds. The health index
    # is always the four-week window (figures.HEALTH_WEEKS), its change against the four weeks before.
    value, change = None, None
    if not said.withheld and health.value is not None:
        value = float(health.value)
        change = None if health.change is None else float(health.change)
    return SideStanding(side, said.org, value, value is not None, change, said.participation, said.withheld)


def assess(view: DigestView, resolve: Mapping[str, timedelta] = age_risk.DEFAULT_RESOLVE) -> PortfolioEntry:
    """The risk score and its reasons for one partnership's digest (pure; see the module docstring). ``resolve``:
    the partnership's resolve time per severity (its escalation policy), against which an open issue's age counts."""
    sides = (_standing(view, Side.CLIENT), _standing(view, Side.PROVIDER))
    parts: list[tuple[float, str | None]] = []

    rated = [s for s in sides if s.health is not None]
    if rated:
        worst = min(rated, key=lambda s: s.health if s.health is not None else 0.0)
        assert worst.health is not None
        points = min(max(HEALTH_FLOOR - worst.health, 0.0) * HEALTH_POINTS_PER_STEP, HEALTH_MAX)
        when = " over the last four weeks" if worst.four_week else ""
        reason = f"{worst.org} rates the relationship {_one(worst.health)} of 5{when}"
        parts.append((points, reason if worst.health < HEALTH_REASON_BELOW else None))

    drops = [(-s.change, s) for s in sides if s.change is not None and s.change < 0]
    if drops:
        drop, side = max(drops, key=lambda pair: pair[0])
        points = min(drop * TREND_POINTS_PER_STEP, TREND_MAX)
        parts.append(
            (
                points,
                f"{side.org}'s health index fell {_one(drop)} against the four weeks before"
                if drop >= TREND_REASON_DROP
                else None,
            )
        )

    gap = next((g for g in view.gaps), None)  # widest first; withheld sides have no gaps
    if gap is not None:
        points = min(float(abs(gap.gap or Decimal(0))) * GAP_POINTS_PER_STEP, GAP_MAX)
        what = rated_subject(gap.subject, gap.dimension, sides[0].org, sides[1].org)
        reason = (
            f"the sides see {what} differently ({sides[0].org} {format_score(gap.client.average)}, "
            f"{sides[1].org} {format_score(gap.provider.average)})"
        )
        parts.append((points, reason if gap.flag >= Flag.WATCH else None))

    open_s1 = sum(1 for i in view.issues.open if i.severity == "S1")
    open_s2 = sum(1 for i in view.issues.open if i.severity == "S2")
    issues = age_risk.issues_part(view.issues.open, resolve)
    if issues is not None:
        parts.append(issues)

    overdue = len(view.actions.overdue)
    today = view.as_of.astimezone(zone(view.partnership.timezone)).date()
    late = age_risk.overdue_part(view.actions.overdue, today)
    if late is not None:
        parts.append(late)

    asked = [s for s in sides if s.participation.asked > 0]
    if asked:
        low = min(asked, key=lambda s: s.participation.rate)
        points = (1.0 - min(low.participation.rate, 1.0)) * PARTICIPATION_MAX
        reason = f"only {low.participation.responded} of {low.participation.asked} people at {low.org} answered this week"
        parts.append((points, reason if low.participation.rate < PARTICIPATION_REASON_BELOW else None))

    pairings = view.kpis.pairings if view.kpis is not None else ()
    earned = 0.0
    for check in pairings:
        points = min(WATERMELON_POINTS, WATERMELON_MAX - earned)
        earned += points
        parts.append((points, kpi_format.pairing_reason(check, view.week_start, sides[0].org, sides[1].org)))

    for s in sides:
        if s.withheld:
            parts.append((BLIND_SPOT_POINTS, f"not enough answers from {s.org} to show its view"))
    if not rated and not any(s.withheld for s in sides):
        parts.append((BLIND_SPOT_POINTS, "no pulse results in the last four weeks"))

    total = min(round(sum(points for points, _ in parts)), SCORE_MAX)
    level = RiskLevel.HIGH if total >= HIGH_FROM else RiskLevel.WATCH if total >= WATCH_FROM else RiskLevel.LOW
    ordered = sorted((pair for pair in parts if pair[1]), key=lambda pair: -pair[0])
    return PortfolioEntry(
        partnership=view.partnership,
        week_start=view.week_start,
        score=total,
        level=level,
        reasons=tuple(reason for _, reason in ordered if reason),
        sides=sides,
        widest_gap=gap,
        open_s1=open_s1,
        open_s2=open_s2,
        overdue_actions=overdue,
        rounds=view.rounds,
    )


def rank(entries: list[PortfolioEntry]) -> tuple[PortfolioEntry, ...]:
    """Highest score first; ties: the lower health first (unknown health last), then by name and id."""

    def key(e: PortfolioEntry) -> tuple[int, float, str, int]:
        lowest = e.lowest_health
        return (-e.score, lowest if lowest is not None else 6.0, e.partnership.name.casefold(), e.partnership.id)

    return tuple(sorted(entries, key=key))
