"""The demo world has the people, teams and channels the demo and the end-to-end tests rely on."""

from __future__ import annotations

import dataclasses

import pytest
from slack_sdk import WebClient

from bot.sandbox import DemoWorld, SandboxError, SlackSandbox


def test_demo_world(sandbox: SlackSandbox, world: DemoWorld, client: WebClient) -> None:
    assert (world.client_team, world.provider_team) == ("T0CLIENT", "T0PROVID")
    assert (world.channel, world.internal_channel) == ("C0JOINT", "C0INTERN")
    assert len(world.client_members) == 4 and len(world.provider_members) == 4
    assert len(world.all_users) == 12 and len(set(world.all_users)) == 12
    assert world.client_lead in world.all_users and world.provider_sponsor in world.all_users
    assert set(sandbox.members(world.channel)) == {world.bot_user, *world.all_users}
    internal = sandbox.members(world.internal_channel)
    assert [m for m in internal if m != world.bot_user] == [world.client_lead, world.client_sponsor, world.client_members[0]]
    assert client.users_info(user=world.client_lead)["user"]["real_name"] == "Dana Whitfield"
    assert client.users_info(user=world.provider_lead)["user"]["real_name"] == "Priya Raman"
    assert client.users_info(user=world.client_sponsor)["user"]["real_name"] == "Sam Ortega"
    assert client.users_info(user=world.provider_sponsor)["user"]["real_name"] == "Vikram Shah"
    assert "tz" not in client.users_info(user=world.user_without_tz)["user"]
    assert world.user_without_tz in world.provider_members
    with pytest.raises(dataclasses.FrozenInstanceError):
        world.channel = "C1"  # type: ignore[misc]


def test_single_workspace_channel_refuses_outsiders(sandbox: SlackSandbox, world: DemoWorld) -> None:
    with pytest.raises(SandboxError):
        sandbox.join(world.internal_channel, world.provider_lead)
