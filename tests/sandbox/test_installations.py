"""Several installations: each token sees Slack from its own team; lifecycle events; whose team requests carry."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.sandbox import ActorError, DemoWorld, SlackSandbox

from .oauth_support import error_of, install_by_oauth, web
from .support import SIGNING_SECRET, FakeBot, ReceivedRequest

PROVIDER_BOT = "U0PROVIDBOT"
BUTTON: list[dict[str, Any]] = [
    {
        "type": "actions",
        "block_id": "b",
        "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "go", "value": "1"}],
    }
]
MODAL: dict[str, Any] = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Form"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
}


@pytest.fixture
def provider(sandbox: SlackSandbox, world: DemoWorld) -> WebClient:
    """Contoso (the provider) installs the app too, by OAuth."""
    return web(sandbox, install_by_oauth(sandbox, world.provider_team)["access_token"])


def _signed(request: ReceivedRequest) -> bool:
    return SignatureVerifier(SIGNING_SECRET).is_valid(
        body=request.body,
        timestamp=request.headers["x-slack-request-timestamp"],
        signature=request.headers["x-slack-signature"],
    )


def test_each_token_answers_auth_test_for_its_own_team(client: WebClient, provider: WebClient, world: DemoWorld) -> None:
    assert (client.auth_test()["team_id"], client.auth_test()["user_id"]) == (world.client_team, world.bot_user)
    who = provider.auth_test()
    assert (who["team_id"], who["user_id"], who["bot_id"], who["team"]) == (
        world.provider_team,
        PROVIDER_BOT,
        "B0PROVIDBOT",
        "Contoso Services",
    )


def test_each_installation_has_dms_with_its_own_people_only(
    sandbox: SlackSandbox, client: WebClient, provider: WebClient, world: DemoWorld
) -> None:
    assert error_of(client.chat_postMessage, channel=world.provider_lead, text="hi") == "channel_not_found"
    assert error_of(provider.chat_postMessage, channel=world.client_lead, text="hi") == "channel_not_found"
    posted = provider.chat_postMessage(channel=world.provider_lead, text="Your pulse is open")
    assert posted["message"]["user"] == PROVIDER_BOT and posted["message"]["team"] == world.provider_team
    dm = sandbox.dm_channel(world.provider_lead)
    assert posted["channel"] == dm
    assert sandbox.members(dm) == [PROVIDER_BOT, world.provider_lead]
    assert [m["text"] for m in sandbox.messages(dm)] == ["Your pulse is open"]


def test_users_info_and_user_groups_are_seen_from_the_calling_installation(
    sandbox: SlackSandbox, client: WebClient, provider: WebClient, world: DemoWorld
) -> None:
    assert client.users_info(user=world.provider_lead)["user"].get("is_stranger") is True
    assert "is_stranger" not in provider.users_info(user=world.provider_lead)["user"]
    assert provider.users_info(user=world.client_lead)["user"].get("is_stranger") is True
    sandbox.add_usergroup("S0PTEAM", world.provider_team, "delivery", [world.provider_lead])
    assert provider.usergroups_users_list(usergroup="S0PTEAM")["users"] == [world.provider_lead]
    assert error_of(client.usergroups_users_list, usergroup="S0PTEAM") == "no_such_subteam"


def test_both_bots_post_in_the_channel_they_share_and_edit_only_their_own_messages(
    sandbox: SlackSandbox, client: WebClient, provider: WebClient, world: DemoWorld
) -> None:
    assert error_of(provider.chat_postMessage, channel=world.channel, text="hello") == "not_in_channel"
    sandbox.join(world.channel, PROVIDER_BOT)
    theirs = provider.chat_postMessage(channel=world.channel, text="From Contoso's PartnerPulse")
    ours = client.chat_postMessage(channel=world.channel, text="From Northwind's PartnerPulse")
    assert [(m["user"], m["team"]) for m in sandbox.messages(world.channel)] == [
        (PROVIDER_BOT, world.provider_team),
        (world.bot_user, world.client_team),
    ]
    assert error_of(client.chat_update, channel=world.channel, ts=theirs["ts"], text="x") == "cant_update_message"
    assert provider.chat_update(channel=world.channel, ts=theirs["ts"], text="edited")["ok"]
    assert provider.conversations_info(channel=world.channel)["channel"]["context_team_id"] == world.provider_team
    assert client.conversations_info(channel=world.channel)["channel"]["context_team_id"] == world.client_team
    assert ours["ok"]
    assert [call.team_id for call in sandbox.calls_to("chat.postMessage")][-2:] == [world.provider_team, world.client_team]


def test_a_second_team_installed_directly_gets_its_own_bot_and_token(sandbox: SlackSandbox, world: DemoWorld) -> None:
    token = sandbox.install(world.provider_team)
    assert token not in (sandbox.bot_token, "")
    assert web(sandbox, token).auth_test()["user_id"] == PROVIDER_BOT
    assert sandbox.installation() == (world.client_team, world.bot_user, world.bot_id)  # the default is unchanged
    with pytest.raises(Exception, match="bot user"):
        sandbox.install(world.provider_team, bot_user_id=world.bot_user)


def test_uninstall_revokes_the_tokens_and_delivers_tokens_revoked_and_app_uninstalled(
    sandbox: SlackSandbox, provider: WebClient, world: DemoWorld, fake_bot: FakeBot
) -> None:
    sandbox.join(world.channel, PROVIDER_BOT)
    answer = sandbox.uninstall(world.provider_team)
    assert answer.status == 200
    assert all(_signed(request) for request in fake_bot.requests)
    events = [request.payload for request in fake_bot.requests]
    assert [e["event"]["type"] for e in events] == ["tokens_revoked", "app_uninstalled"]
    assert events[0]["event"]["tokens"] == {"bot": [PROVIDER_BOT]}
    for envelope in events:
        assert envelope["team_id"] == world.provider_team
        assert envelope["authorizations"][0]["team_id"] == world.provider_team
        assert envelope["authorizations"][0]["user_id"] == PROVIDER_BOT
    assert error_of(provider.auth_test) == "token_revoked"
    assert PROVIDER_BOT not in sandbox.members(world.channel)
    assert sandbox.installed_teams() == [world.client_team]
    assert web(sandbox, sandbox.bot_token).auth_test()["ok"]


def test_revoke_tokens_delivers_tokens_revoked_and_the_token_stops_working(
    sandbox: SlackSandbox, provider: WebClient, world: DemoWorld, fake_bot: FakeBot
) -> None:
    answer = sandbox.revoke_tokens(world.provider_team)
    assert answer.status == 200
    (request,) = fake_bot.requests
    envelope = request.payload
    assert envelope["event"] == {
        "type": "tokens_revoked",
        "tokens": {"bot": [PROVIDER_BOT]},
        "event_ts": envelope["event"]["event_ts"],
    }
    assert envelope["team_id"] == world.provider_team
    assert error_of(provider.auth_test) == "token_revoked"


def test_events_carry_the_host_teams_installation_else_the_other_one(
    sandbox: SlackSandbox, provider: WebClient, world: DemoWorld, fake_bot: FakeBot
) -> None:
    sandbox.add_user("U0PNEW", world.provider_team, "new.person")
    sandbox.member_joined(world.channel, "U0PNEW")
    assert fake_bot.requests[-1].payload["team_id"] == world.client_team  # the channel's host installed the app
    sandbox.uninstall(world.client_team)
    sandbox.member_left(world.channel, "U0PNEW")
    last = fake_bot.requests[-1].payload
    assert last["event"]["type"] == "member_left_channel"
    assert (last["team_id"], last["authorizations"][0]["user_id"]) == (world.provider_team, PROVIDER_BOT)


def test_people_act_from_their_own_installation(
    sandbox: SlackSandbox, client: WebClient, world: DemoWorld, fake_bot: FakeBot
) -> None:
    with pytest.raises(ActorError, match="not installed"):
        sandbox.actor(world.provider_lead).slash_command("/partner", "status", world.channel)
    with pytest.raises(ActorError):
        sandbox.home_opened(world.provider_lead)
    provider = web(sandbox, install_by_oauth(sandbox, world.provider_team)["access_token"])

    sandbox.actor(world.provider_lead).slash_command("/partner", "status", world.channel)
    command = fake_bot.requests[-1].form
    assert (command["team_id"], command["team_domain"]) == (world.provider_team, "contoso")
    sandbox.home_opened(world.provider_lead)
    home = fake_bot.requests[-1].payload
    assert home["team_id"] == world.provider_team
    assert home["event"]["channel"] == sandbox.dm_channel(world.provider_lead)

    ts = str(client.chat_postMessage(channel=world.channel, text="Pulse", blocks=BUTTON)["ts"])
    sandbox.actor(world.provider_lead).click(world.channel, ts, "go")
    click = fake_bot.requests[-1].payload
    assert click["team"]["id"] == world.client_team  # the installation that posted the message
    assert click["user"]["team_id"] == world.provider_team

    sandbox.actor(world.provider_lead).message_shortcut("log-partnership-issue", world.channel, ts)
    assert fake_bot.requests[-1].payload["team"]["id"] == world.provider_team

    trigger = click["trigger_id"]
    view = provider.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["app_installed_team_id"] == world.provider_team and view["bot_id"] == "B0PROVIDBOT"
    fake_bot.answer_json({"response_action": "update", "view": MODAL})
    sandbox.actor(world.provider_lead).submit_view(view["id"])
    assert fake_bot.requests[-1].payload["team"]["id"] == world.provider_team
    assert sandbox.view(view["id"])["app_installed_team_id"] == world.provider_team  # kept by the update
