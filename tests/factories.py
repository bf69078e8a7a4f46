"""Small builders of test inputs (no hidden state)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine

from bot.services.issue_models import ActionInput, ActionStatus, ActionView, IssueInput, IssueStatus, IssueView
from bot.services.partnership_models import PartnershipView, SetupInput, Side, SlackProfile

#: The schedule every test partnership starts with: weekly pulse Mondays 09:00 New York, digest Fridays 16:00,
#: results shown from 3 answers.
WEEKLY_SCHEDULE: dict[str, Any] = {
    "timezone": "America/New_York",
    "pulse_weekday": 0,
    "pulse_hour": 9,
    "pulse_minute": 0,
    "pulse_every_weeks": 1,
    "digest_weekday": 4,
    "digest_hour": 16,
    "digest_minute": 0,
    "anonymity_threshold": 3,
}


def setup_input(**overrides: Any) -> SetupInput:
    """A valid setup form: weekly pulse Mondays 09:00 New York, digest Fridays 16:00, threshold 3."""
    values: dict[str, Any] = {
        "name": "Northwind service desk",
        "client_org": "Northwind Retail",
        "provider_org": "Contoso Services",
        "installing_side": Side.CLIENT,
        "client_leads": (),
        "provider_leads": (),
        "client_sponsors": (),
        "provider_sponsors": (),
        "client_members": (),
        "provider_members": (),
        **WEEKLY_SCHEDULE,
    }
    values.update(overrides)
    return SetupInput(**values)


def partnership_view(**overrides: Any) -> PartnershipView:
    """A partnership as the builders get it: "Northwind desk" (Northwind the client, which installed the app, and
    Contoso) in team T1, channel C1, New York; weekly pulse Mondays 09:00, digest Fridays 16:00, threshold 3."""
    values: dict[str, Any] = {
        "id": 1,
        "team_id": "T1",
        "channel_id": "C1",
        "name": "Northwind desk",
        "client_org": "Northwind",
        "provider_org": "Contoso",
        "installing_side": Side.CLIENT,
        "is_connect": True,
        **WEEKLY_SCHEDULE,
        "anonymous": True,
        "status": "active",
        "pause_reason": None,
        "next_pulse_at": None,
        "menu_ts": None,
    }
    values.update(overrides)
    return PartnershipView(**values)


# --- the issue log (issue 3) ------------------------------------------------------------------------------


def issue_input(**overrides: Any) -> IssueInput:
    """A valid issue form: S2 timeliness issue owned by the client side's member ``UC1``, no due date."""
    values: dict[str, Any] = {
        "title": "Month-end report arrived late",
        "details": "The November report came two days after the agreed date.",
        "severity": "S2",
        "category": "Timeliness",
        "owning_side": Side.CLIENT,
        "owner_id": "UC1",
        "due_on": None,
    }
    values.update(overrides)
    return IssueInput(**values)


def action_input(**overrides: Any) -> ActionInput:
    """A valid action form, owned by ``UC1`` and due on 31 Dec 2026."""
    values: dict[str, Any] = {"title": "Agree a report checklist", "owner_id": "UC1", "due_on": date(2026, 12, 31)}
    values.update(overrides)
    return ActionInput(**values)


def issue_view(*, created_at: datetime, **overrides: Any) -> IssueView:
    """An open S2 timeliness issue of partnership 1, owned by the provider's ``UP1``, raised by the client's ``UC1``
    at ``created_at``, not acknowledged nor escalated."""
    values: dict[str, Any] = {
        "id": 1,
        "partnership_id": 1,
        "number": 1,
        "title": "Issue 1",
        "details": "",
        "severity": "S2",
        "category": "Timeliness",
        "owning_side": Side.PROVIDER,
        "owner_id": "UP1",
        "raised_by": "UC1",
        "raised_by_side": Side.CLIENT,
        "due_on": None,
        "status": IssueStatus.OPEN,
        "created_at": created_at,
        "opened_at": created_at,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "resolved_at": None,
        "resolved_by": None,
        "escalation_level": 0,
        "next_escalation_at": None,
        "card_ts": None,
        "source_permalink": None,
    }
    values.update(overrides)
    return IssueView(**values)


def action_view(n: int = 1, *, created_at: datetime, **overrides: Any) -> ActionView:
    """Open action ``n`` ("Action n") of partnership 1, created by ``UC1`` at ``created_at``, owned by the client's
    ``UC1``, due 4 Dec 2026, on no issue."""
    values: dict[str, Any] = {
        "id": n,
        "partnership_id": 1,
        "issue_id": None,
        "issue_number": None,
        "followup_id": None,
        "title": f"Action {n}",
        "owner_id": "UC1",
        "side": Side.CLIENT,
        "due_on": date(2026, 12, 4),
        "status": ActionStatus.OPEN,
        "created_by": "UC1",
        "created_at": created_at,
        "closed_at": None,
    }
    values.update(overrides)
    return ActionView(**values)


@dataclass(frozen=True)
class IssueWorld:
    """A Slack Connect partnership set up through the service layer, for issue, action and signal tests.

    Client (team TCLIENT): lead UCL, sponsor UCS, members UC1-UC3. Provider (TPROV): lead UPL, sponsor UPS
    (not in the channel, as sponsors often are not), members UP1-UP3. Partnership time zone: New York.
    """

    uow_factory: Any
    partnership_id: int
    team_id: str = "TCLIENT"
    channel_id: str = "C100"
    client_lead: str = "UCL"
    provider_lead: str = "UPL"
    client_sponsor: str = "UCS"
    provider_sponsor: str = "UPS"

    @property
    def where(self) -> dict[str, str]:
        """The partnership's workspace and channel, as a service call in its channel names them."""
        return {"team_id": self.team_id, "channel_id": self.channel_id}


@contextmanager
def issue_world_at_revision(database_url: str, revision: str, *, now: datetime) -> Iterator[tuple[Engine, int]]:
    """The partnership of :class:`IssueWorld`, set up with today's models, then the schema taken back to ``revision``
    (what later migrations added is dropped, the partnership stays): yields an engine on it and the partnership's
    id, so the caller writes rows as they were before the next migration; the engine is disposed after."""
    from alembic import command

    from storage import migrate
    from storage.db import make_engine, make_session_factory
    from storage.uow import UnitOfWorkFactory

    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        pid = make_issue_world(UnitOfWorkFactory(make_session_factory(engine)), now=now).partnership_id
        engine.dispose()
        command.downgrade(migrate.alembic_config(database_url), revision)
        yield engine, pid
    finally:
        engine.dispose()


def _profile(user_id: str) -> SlackProfile:
    team = "TCLIENT" if user_id.startswith("UC") else "TPROV"
    return SlackProfile(user_id=user_id, team_id=team, display_name=user_id.lower())


def make_issue_world(
    uow_factory: Any, *, now: datetime, channel_id: str = "C100", name: str = "Northwind desk"
) -> IssueWorld:
    """Set up the partnership of :class:`IssueWorld` in ``channel_id`` (the workspace is created if needed)."""
    from bot.services import installs, partnership_setup, question_bank

    installs.workspace_installed(uow_factory(), team_id="TCLIENT", name="Northwind", bot_user_id="UBOT", now=now)
    question_bank.sync_bank(uow_factory(), now=now)
    people = ("UCL", "UCS", "UC1", "UC2", "UC3", "UPL", "UP1", "UP2", "UP3")
    result = partnership_setup.configure_partnership(
        uow_factory(),
        team_id="TCLIENT",
        channel_id=channel_id,
        user_id="UCL",
        data=setup_input(
            name=name,
            client_org="Northwind",
            provider_org="Contoso",
            client_leads=("UCL",),
            provider_leads=("UPL",),
            client_sponsors=("UCS",),
            provider_sponsors=("UPS",),
        ),
        is_connect=True,
        channel_members=[_profile(u) for u in people] + [SlackProfile("UBOT", "TCLIENT", "bot", is_bot=True)],
        now=now,
    )
    return IssueWorld(uow_factory=uow_factory, partnership_id=result.partnership.id, channel_id=channel_id)


def put_provider_in_kolkata(world: IssueWorld, *, now: datetime) -> None:
    """The provider lead sets the provider side's calendar: Asia/Kolkata, 09:00-17:00, Monday to Friday (the client
    side keeps the partnership's New York hours)."""
    from bot.services import calendar_settings

    calendar_settings.set_calendar(
        world.uow_factory(),
        **world.where,
        actor=world.provider_lead,
        side=Side.PROVIDER,
        timezone="Asia/Kolkata",
        workdays=range(5),
        day_start=time(9),
        day_end=time(17),
        now=now,
    )


# --- the weekly digest (issue 4) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Answered:
    """One person's answers in a seeded round: a 1–5 score per dimension, and comments per dimension."""

    side: Side
    person: str
    scores: dict[str, int]
    comments: dict[str, str] = field(default_factory=dict)


def add_closed_round(
    uow_factory: Any,
    *,
    partnership_id: int,
    closed_at: datetime,
    answers: Sequence[Answered],
    asked: tuple[int, int] = (5, 4),
    secret_key: str = "s" * 40,
) -> int:
    """Store a closed round with its answers straight in the database (exact times, any dimensions, fast).

    Each dimension is asked with the first 1–5 question of the built-in bank for it (``sync_bank`` must have
    run); the dimension ``"nps"`` is the bank's 0–10 NPS item. ``asked`` is (client, provider). Returns the round id.
    """
    from bot.services.anonymity import respondent_hash
    from storage.models import Answer, PulseRound, Response, RoundQuestion

    with uow_factory() as uow:
        bank: dict[str, int] = {}
        for q in uow.questions.bank():
            if q.kind == "scale" or (q.kind == "nps" and q.active):  # "nps": the 0–10 NPS item
                bank.setdefault(q.dimension, q.id)
        dimensions = sorted({d for a in answers for d in a.scores})
        opened = closed_at - timedelta(days=2)
        r = PulseRound(
            partnership_id=partnership_id,
            sequence=uow.rounds.count(partnership_id) + 1,
            scheduled_at=opened,
            opened_at=opened,
            remind_at=None,
            closes_at=closed_at,
            status="closed",
            is_adhoc=False,
            asked_client=asked[0],
            asked_provider=asked[1],
            closed_at=closed_at,
            questions=[RoundQuestion(position=i, question_id=bank[d]) for i, d in enumerate(dimensions)],
        )
        uow.session.add(r)
        uow.session.flush()
        for a in answers:
            uow.session.add(
                Response(
                    round_id=r.id,
                    respondent_hash=respondent_hash(secret_key, partnership_id, a.person),
                    side=a.side.value,
                    submitted_at=opened,
                    updated_at=opened,
                    answers=[
                        Answer(question_id=bank[d], score=score, comment=a.comments.get(d)) for d, score in a.scores.items()
                    ],
                )
            )
        uow.commit()
        return r.id


def answers_for(side: Side, scores: dict[str, Sequence[int]], *, prefix: str | None = None) -> list[Answered]:
    """People of one side answering: ``{"trust": [4, 5, 3]}`` is three people scoring trust 4, 5 and 3."""
    counts = {len(v) for v in scores.values()}
    assert len(counts) == 1, "every dimension needs one score per person"
    people = counts.pop()
    tag = prefix or ("C" if side is Side.CLIENT else "P")
    return [Answered(side, f"{tag}{i + 1}", {d: v[i] for d, v in scores.items()}) for i in range(people)]


def digest_view(**overrides: Any) -> Any:
    """A small, valid ``DigestView`` built by hand (no database): Northwind (client) and Contoso (provider),
    week of Fri 4 Dec 2026 in New York, one round, the provider's trust and the relationship's communication,
    nothing withheld. Override any field (``sides``, ``items``, ``issues``, ...) to shape a case.
    """
    from decimal import Decimal

    from bot.services import figures
    from bot.services.digest_models import (
        ActionSummary,
        ChartLine,
        ChartSeries,
        DigestView,
        GoalsSection,
        IssueSummary,
        SentimentSummary,
        SeverityAges,
        SideDigest,
        ThemeView,
    )
    from bot.services.figures import Comparison, HealthIndex, SideFigure
    from bot.services.pulse_models import Participation

    def d(text: str) -> Decimal:
        return Decimal(text)

    items = (
        Comparison("provider", "trust", SideFigure(d("4.5"), 4, d("4.0")), SideFigure(d("3.0"), 3, None)),
        Comparison("relationship", "communication", SideFigure(d("2.0"), 4, d("3.0")), SideFigure(d("3.0"), 3, d("4.3"))),
    )

    p = partnership_view(team_id="TCLIENT", channel_id="C100")
    weeks = tuple(date(2026, 9, 18) + timedelta(weeks=i) for i in range(12))
    values: dict[str, Any] = {
        "partnership": p,
        "week_start": date(2026, 12, 4),
        "starts_at": datetime(2026, 12, 4, 21, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 11, 21, tzinfo=UTC),
        "as_of": datetime(2026, 12, 11, 21, tzinfo=UTC),
        "rounds": 1,
        "items": items,
        "gaps": figures.widest_first(items),
        "health": (
            HealthIndex(Side.CLIENT, d("3.3"), 30, 8, 8, d("3.5")),
            HealthIndex(Side.PROVIDER, d("3.7"), 24, 8, 8, None),
        ),
        "sides": (
            SideDigest(
                Side.CLIENT,
                "Northwind",
                Participation(4, 5),
                False,
                SentimentSummary(1, -0.4, "negative", 0, 0, 1),
                (ThemeView("handover", 2),),
                ("The handover was late again",),
            ),
            SideDigest(Side.PROVIDER, "Contoso", Participation(3, 4), False, None, (), ()),
        ),
        "issues": IssueSummary((), (), (), (), tuple(SeverityAges(s, (0, 0, 0)) for s in ("S1", "S2", "S3", "S4"))),
        "actions": ActionSummary({Side.CLIENT: 0, Side.PROVIDER: 0}, (), ()),
        "goals": GoalsSection(),
        "chart": ChartSeries(
            "Northwind desk: health index by week",
            weeks,
            (
                ChartLine(Side.CLIENT, "Northwind", (None,) * 10 + (3.5, 3.25)),
                ChartLine(Side.PROVIDER, "Contoso", (None,) * 10 + (4.17, 3.0)),
            ),
        ),
    }
    values.update(overrides)
    return DigestView(**values)
