"""Both organisations of a Slack Connect channel installed PartnerPulse: one partnership, reached from either
workspace (its commands, its Home tab), each side's people messaged through their own installation; with one side
installed, everything is as before."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services import digest_requests, home, installs, partnerships, recipients
from bot.services.errors import NotAllowed
from storage.uow import UnitOfWorkFactory
from tests.factories import make_issue_world

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _install_provider(uow_factory: UnitOfWorkFactory) -> None:
    installs.workspace_installed(uow_factory(), team_id="TPROV", name="Contoso", bot_user_id="UPBOT", now=NOW)


def test_the_shared_channels_partnership_is_reached_from_the_other_workspace_only_once_it_installed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = make_issue_world(uow_factory, now=NOW)
    assert partnerships.get_partnership(uow_factory(), team_id="TPROV", channel_id="C100") is None
    _install_provider(uow_factory)
    from_provider = partnerships.get_partnership(uow_factory(), team_id="TPROV", channel_id="C100")
    from_client = partnerships.get_partnership(uow_factory(), team_id="TCLIENT", channel_id="C100")
    assert from_provider is not None and from_client is not None
    assert from_provider.id == from_client.id == world.partnership_id  # one partnership, not two
    # A workspace that installed but shares no channel with it reaches nothing there; another channel stays apart.
    installs.workspace_installed(uow_factory(), team_id="TTHIRD", name="Third", bot_user_id="U3BOT", now=NOW)
    assert partnerships.get_partnership(uow_factory(), team_id="TPROV", channel_id="C999") is None


def test_an_uninstalled_workspace_no_longer_reaches_the_partnership(uow_factory: UnitOfWorkFactory) -> None:
    make_issue_world(uow_factory, now=NOW)
    _install_provider(uow_factory)
    with uow_factory() as uow:
        ws = uow.workspaces.get_by_team("TPROV")
        assert ws is not None
        ws.uninstalled_at = NOW
        uow.commit()
    assert partnerships.get_partnership(uow_factory(), team_id="TPROV", channel_id="C100") is None


def test_a_channel_of_one_workspace_is_not_reached_from_another_even_if_installed(uow_factory: UnitOfWorkFactory) -> None:
    world = make_issue_world(uow_factory, now=NOW)
    with uow_factory() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert p is not None
        p.is_connect = False
        uow.commit()
    _install_provider(uow_factory)
    assert partnerships.get_partnership(uow_factory(), team_id="TPROV", channel_id="C100") is None


def test_each_persons_messages_go_through_their_own_organisations_installation(uow_factory: UnitOfWorkFactory) -> None:
    world = make_issue_world(uow_factory, now=NOW)
    before = recipients.recipient(uow_factory(), partnership_id=world.partnership_id, user_id="UPL")
    assert before is not None and (before.direct, before.via_team) == (False, "TCLIENT")
    _install_provider(uow_factory)
    provider = recipients.recipient(uow_factory(), partnership_id=world.partnership_id, user_id="UPL")
    client = recipients.recipient(uow_factory(), partnership_id=world.partnership_id, user_id="UCL")
    assert provider is not None and (provider.direct, provider.via_team) == (True, "TPROV")
    assert client is not None and (client.direct, client.via_team) == (True, "TCLIENT")


def test_the_other_organisations_lead_can_subscribe_to_digest_copies_once_it_installed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    make_issue_world(uow_factory, now=NOW)
    where = {"team_id": "TPROV", "channel_id": "C100", "user_id": "UPL", "subscribe": True, "now": NOW}
    # Asked from the client's workspace (the only one installed), the provider's lead cannot get direct messages.
    try:
        digest_requests.set_digest_copy(uow_factory(), **{**where, "team_id": "TCLIENT"})
    except NotAllowed as refused:
        assert "install" in str(refused)
    else:
        raise AssertionError("the provider's lead was subscribed although nothing can reach them")
    _install_provider(uow_factory)
    assert digest_requests.set_digest_copy(uow_factory(), **where) is True


def test_the_home_tab_lists_the_shared_partnership_in_the_other_workspace_once_it_installed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = make_issue_world(uow_factory, now=NOW)
    assert home.home(uow_factory(), team_id="TPROV", user_id="UPL", now=NOW).partnerships == ()
    _install_provider(uow_factory)
    seen = home.home(uow_factory(), team_id="TPROV", user_id="UPL", now=NOW).partnerships
    assert [h.partnership.id for h in seen] == [world.partnership_id]
