"""User groups on sides: the precedence rule (personal > group > home team), the services against a real database,
the reply's wording, and the schema the migrations build."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import storage.models  # noqa: F401  (registers every table)
from bot.blocks.common import side_group_text
from bot.services import channel_membership, installs, partnership_setup, partnerships, side_groups
from bot.services.errors import NotAllowed
from bot.services.partnership_models import Side, SideGroupResult, SlackProfile
from storage import migrate
from storage.base import Base
from storage.db import make_engine
from storage.models import Member, Partnership, Workspace
from storage.uow import UnitOfWorkFactory
from tests.factories import setup_input

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CLIENT_TEAM, PROVIDER_TEAM, CHANNEL = "TCLIENT", "TPROV", "C100"
LEAD = "UCL"


# --- the precedence rule -------------------------------------------------------------------------------------


def _connect_partnership() -> Partnership:
    p = Partnership(is_connect=True, installing_side="client")
    p.workspace = Workspace(team_id=CLIENT_TEAM)
    return p


@pytest.mark.parametrize(
    ("team_id", "group_side", "override", "expected"),
    [
        (PROVIDER_TEAM, None, None, "provider"),  # home team only
        (PROVIDER_TEAM, "client", None, "client"),  # the group beats the home team
        (PROVIDER_TEAM, "client", "provider", "provider"),  # the personal assignment beats the group
        (CLIENT_TEAM, None, "provider", "provider"),
        (None, "provider", None, "provider"),  # no home team known
        (None, None, None, None),
    ],
)
def test_personal_assignment_beats_group_beats_home_team(
    team_id: str | None, group_side: str | None, override: str | None, expected: str | None
) -> None:
    member = Member(team_id=team_id, group_side=group_side, side_override=override)
    assert partnerships.effective_side(_connect_partnership(), member) == expected


def test_single_workspace_channel_has_no_home_team_side() -> None:
    p = Partnership(is_connect=False, installing_side="client")
    p.workspace = Workspace(team_id=CLIENT_TEAM)
    assert partnerships.effective_side(p, Member(team_id=CLIENT_TEAM)) is None
    assert partnerships.effective_side(p, Member(team_id=CLIENT_TEAM, group_side="provider")) == "provider"


# --- the services --------------------------------------------------------------------------------------------

PEOPLE = ("UC1", "UC2", "UP1", "UP2")


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """A Slack Connect partnership: the lead and UC1, UC2 of the client team, UP1, UP2 of the provider team."""
    installs.workspace_installed(uow_factory(), team_id=CLIENT_TEAM, name="Northwind", bot_user_id="UBOT", now=NOW)
    profiles = [
        SlackProfile(uid, CLIENT_TEAM if uid.startswith(("UC", LEAD)) else PROVIDER_TEAM, uid) for uid in (LEAD, *PEOPLE)
    ]
    partnership_setup.configure_partnership(
        uow_factory(),
        team_id=CLIENT_TEAM,
        channel_id=CHANNEL,
        user_id=LEAD,
        data=setup_input(client_leads=(LEAD,)),
        is_connect=True,
        channel_members=profiles,
        now=NOW,
    )
    return uow_factory


def _sides(uow_factory: UnitOfWorkFactory) -> dict[str, str | None]:
    with uow_factory() as uow:
        p = uow.partnerships.get_by_channel(CLIENT_TEAM, CHANNEL)
        assert p is not None
        return {m.user_id: m.side for m in uow.members.list(p.id)}


def _assign(uow_factory: UnitOfWorkFactory, group: str, side: Side, members: list[str], actor: str = LEAD):
    return side_groups.assign_side_group(
        uow_factory(),
        team_id=CLIENT_TEAM,
        channel_id=CHANNEL,
        actor=actor,
        usergroup_id=group,
        handle="@" + group.lower(),
        side=side,
        member_ids=members,
        now=NOW,
    )


def test_group_side_beats_the_home_team_and_falls_back_when_removed(world: UnitOfWorkFactory) -> None:
    assert _sides(world) == {LEAD: "client", "UC1": "client", "UC2": "client", "UP1": "provider", "UP2": "provider"}
    result = _assign(world, "S1", Side.CLIENT, ["UP1", "UP2", "UX9"])
    assert (result.group_size, result.in_channel, result.moved, result.personal, result.conflicts) == (3, 2, 2, 0, 0)
    assert _sides(world)["UP1"] == "client" and _sides(world)["UP2"] == "client"
    partnerships.set_side_override(
        world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor=LEAD, user_id="UP1", side=Side.PROVIDER, now=NOW
    )
    assert _sides(world)["UP1"] == "provider"
    removed = side_groups.remove_side_group(
        world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor=LEAD, usergroup_id="S1", handle="@s1", now=NOW
    )
    assert removed.existed and removed.side is None and removed.moved == 1
    assert _sides(world)["UP1"] == "provider" and _sides(world)["UP2"] == "provider"
    # The personal assignment removed too: the home team decides.
    partnerships.set_side_override(
        world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor=LEAD, user_id="UP1", side=None, now=NOW
    )
    assert _sides(world)["UP1"] == "provider"


def test_most_recent_group_wins_and_members_changed_falls_back(world: UnitOfWorkFactory) -> None:
    _assign(world, "S1", Side.PROVIDER, ["UC1", "UC2"])
    result = _assign(world, "S2", Side.CLIENT, ["UC2", "UP1"])
    assert result.conflicts == 1 and result.other_handles == ("@s1",)
    assert _sides(world)["UC2"] == "client" and _sides(world)["UC1"] == "provider"
    changed = side_groups.usergroup_members_changed(
        world(), team_id=CLIENT_TEAM, usergroup_id="S2", added=["UP2"], removed=["UC2"], event_id="Ev1", now=NOW
    )
    assert changed == 1
    sides = _sides(world)
    assert sides["UC2"] == "provider", "falls back to S1"
    assert sides["UP2"] == "client" and sides["UP1"] == "client"
    # The same event again changes nothing; another workspace's or an unassigned group's events change nothing.
    again = dict(team_id=CLIENT_TEAM, usergroup_id="S2", added=["UC2"], removed=[], event_id="Ev1", now=NOW)
    assert side_groups.usergroup_members_changed(world(), **again) == 0  # type: ignore[arg-type]
    assert side_groups.usergroup_members_changed(world(), **{**again, "event_id": "Ev2", "team_id": "TOTHER"}) == 0  # type: ignore[arg-type]
    assert side_groups.usergroup_members_changed(world(), **{**again, "event_id": "Ev3", "usergroup_id": "S9"}) == 0  # type: ignore[arg-type]
    assert _sides(world) == sides


def _join(world: UnitOfWorkFactory, user_id: str, event_id: str) -> None:
    assert channel_membership.record_join(
        world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, user_id=user_id, event_id=event_id, now=NOW
    )


def test_a_person_joining_gets_the_side_of_their_groups(world: UnitOfWorkFactory) -> None:
    _assign(world, "S1", Side.PROVIDER, ["UC1"])
    _join(world, "UC7", "EvJ")
    joined = channel_membership.fill_member_profile(
        world(),
        team_id=CLIENT_TEAM,
        channel_id=CHANNEL,
        profile=SlackProfile("UC7", CLIENT_TEAM, "uc7"),
        now=NOW,
        group_members={"S1": ["UC1", "UC7"]},
    )
    assert joined and _sides(world)["UC7"] == "provider"
    # Without a fresh list (Slack failed), the stored members are used.
    _join(world, "UC8", "EvK")
    channel_membership.fill_member_profile(
        world(),
        team_id=CLIENT_TEAM,
        channel_id=CHANNEL,
        profile=SlackProfile("UC8", CLIENT_TEAM, "uc8"),
        now=NOW,
        group_members={},
    )
    assert _sides(world)["UC8"] == "client" and _sides(world)["UC7"] == "provider"


def test_only_leads_assign_groups(world: UnitOfWorkFactory) -> None:
    with pytest.raises(NotAllowed):
        _assign(world, "S1", Side.PROVIDER, ["UC1"], actor="UC1")
    with pytest.raises(NotAllowed):
        side_groups.remove_side_group(
            world(), team_id=CLIENT_TEAM, channel_id=CHANNEL, actor="UC1", usergroup_id="S1", handle="@s1", now=NOW
        )
    assert _sides(world)["UC1"] == "client"


# --- the reply -----------------------------------------------------------------------------------------------


def _result(**kw: object) -> SideGroupResult:
    values: dict[str, object] = dict(
        usergroup_id="S1",
        handle="@ops",
        side=Side.PROVIDER,
        existed=False,
        group_size=7,
        in_channel=5,
        moved=5,
        personal=2,
        conflicts=0,
    )
    return SideGroupResult(**{**values, **kw})  # type: ignore[arg-type]


def test_reply_wording() -> None:
    assert side_group_text(_result()) == (
        "@ops (7 people, 5 in this channel) is now on the provider side. Personal assignments still win (2 people)."
    )
    assert side_group_text(_result(group_size=1, in_channel=1, personal=0)) == (
        "@ops (1 person, 1 in this channel) is now on the provider side."
    )
    conflict = side_group_text(_result(personal=0, conflicts=3, other_handles=("@dev", "@qa")))
    assert "3 people are also in @dev, @qa on the client side: the most recent group wins" in conflict
    assert "A personal assignment" in conflict
    assert "had no side" in side_group_text(_result(side=None, existed=False))
    assert "(2 people changed side)" in side_group_text(_result(side=None, existed=True, moved=2))
    evil = side_group_text(_result(handle="@x <!channel> & <@U1>", personal=0, conflicts=1, other_handles=("<!here>",)))
    assert "<!" not in evil and "<@" not in evil and "&lt;!channel&gt; &amp; &lt;@U1&gt;" in evil and "&lt;!here&gt;" in evil


# --- the schema ----------------------------------------------------------------------------------------------


def test_the_migrations_build_the_models_schema(empty_database_url: str) -> None:
    """Alembic's autogenerate finds nothing to do after the migrations: models and migrations agree."""
    database_url = empty_database_url
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert [d for d in diff if "apscheduler" not in repr(d)] == []
        # The latest migration goes down and up again.
        command.downgrade(migrate.alembic_config(database_url), "-1")
        command.upgrade(migrate.alembic_config(database_url), "head")
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_an_event_id_is_recorded_once(uow_factory: UnitOfWorkFactory) -> None:
    """The Events API dedupe the group events rely on (it once counted every retry as new on PostgreSQL)."""
    for expected in (True, False):
        with uow_factory() as uow:
            assert uow.events.record_once("EvONCE", NOW) is expected
            uow.commit()
