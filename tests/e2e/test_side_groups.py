"""`/partner side @group client|provider|auto`: user groups assigned to sides in a single-workspace channel, through
the real handlers against the sandbox (usergroups.users.list, member_joined_channel, subteam_members_changed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.harness import SANDBOX_BOT_TOKEN, SANDBOX_SIGNING_SECRET, LocalStack, start_local_stack
from bot.sandbox import SlackSandbox
from bot.services import partnership_setup, partnerships
from storage.models import SideGroup
from tests.conftest import START
from tests.factories import setup_input
from tests.helpers import wait_for
from tests.sandbox.support import write_manifest

LEAD, SPONSOR = "U0CLEAD", "U0CSPON"
MAYA, LUIS, GRACE, TOM = "U0CMEM1", "U0CMEM2", "U0CMEM3", "U0CMEM4"
OPS, DEV = "S0OPS", "S0DEV"
OPS_TOKEN, DEV_TOKEN = "<!subteam^S0OPS|@ops>", "<!subteam^S0DEV|@dev>"


def _setup(stack: LocalStack) -> None:
    """A single-workspace partnership in the internal channel: the lead (client, by role), the sponsor, Maya, Luis
    and Grace in the channel, nobody else on a side; Tom outside. @ops = lead, Maya, Luis, Tom; @dev = Luis, Grace."""
    w, sb = stack.world, stack.sandbox
    for uid in (LUIS, GRACE):
        sb.join(w.internal_channel, uid)
    members = [m for m in sb.members(w.internal_channel) if m != w.bot_user]
    partnership_setup.configure_partnership(
        stack.services.uow_factory(),
        team_id=w.client_team,
        channel_id=w.internal_channel,
        user_id=LEAD,
        data=setup_input(name="Internal review", provider_org="Northwind IT", client_leads=(LEAD,)),
        is_connect=False,
        channel_members=[stack.services.directory.profile(uid) for uid in members],
        now=stack.clock(),
    )
    stack.services.sender.deliver_pending()
    sb.add_usergroup(OPS, w.client_team, "ops", users=[LEAD, MAYA, LUIS, TOM])
    sb.add_usergroup(DEV, w.client_team, "dev", users=[LUIS, GRACE])


@pytest.fixture
def groups(stack: LocalStack) -> LocalStack:
    _setup(stack)
    return stack


def _side(stack: LocalStack, text: str, user: str = LEAD) -> str:
    """Run ``/partner side <text>`` in the internal channel; the ephemeral reply's text."""
    sb = stack.sandbox
    before = len(sb.response_url_posts)
    response = stack.actor(user).slash_command("/partner", f"side {text}", stack.world.internal_channel)
    assert response.status == 200 and not response.body.strip(), response.body
    wait_for(lambda: len(sb.response_url_posts) > before, what="the reply")
    body = sb.response_url_posts[before].body or {}
    assert body.get("response_type") == "ephemeral"
    return str(body["text"])


def _sides(stack: LocalStack) -> dict[str, str | None]:
    w = stack.world
    with stack.services.uow_factory() as uow:
        p = uow.partnerships.get_by_channel(w.client_team, w.internal_channel)
        assert p is not None
        return {m.user_id: m.side for m in uow.members.list(p.id)}


def _group_rows(stack: LocalStack) -> int:
    with stack.services.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(SideGroup)) or 0)


def test_assigning_a_group_moves_its_members_in_the_channel(groups: LocalStack) -> None:
    sb = groups.sandbox
    assert _sides(groups) == {LEAD: "client", SPONSOR: None, MAYA: None, LUIS: None, GRACE: None}
    reply = _side(groups, f"{OPS_TOKEN} provider")
    assert reply.startswith("@ops (4 people, 3 in this channel) is now on the provider side.")
    assert "Personal assignments still win (1 person)." in reply  # the lead, on the client side by role
    assert "<!subteam" not in reply
    # Maya and Luis move; the lead keeps the personal side; Tom is not in the channel, so has no row yet.
    assert _sides(groups) == {LEAD: "client", SPONSOR: None, MAYA: "provider", LUIS: "provider", GRACE: None}
    calls = sb.calls_to("usergroups.users.list")
    assert [c.args.get("usergroup") for c in calls] == [OPS] and calls[0].ok
    assert sb.violations == []
    status = partnerships.status(
        groups.services.uow_factory(), team_id=groups.world.client_team, channel_id=groups.world.internal_channel
    )
    assert status.members_by_side == {"client": 1, "provider": 2}


def test_personal_assignment_wins_and_survives_the_groups_removal(groups: LocalStack) -> None:
    _side(groups, f"{OPS_TOKEN} provider")
    assert "is now on the client side" in _side(groups, f"<@{MAYA}|maya.chen> client")
    assert _sides(groups)[MAYA] == "client"
    reply = _side(groups, f"{OPS_TOKEN} auto")
    assert reply.startswith("@ops no longer puts anyone on a side.") and "(1 person changed side)" in reply
    sides = _sides(groups)
    assert sides[MAYA] == "client", "the personal assignment survives the group's removal"
    assert sides[LUIS] is None and sides[LEAD] == "client"
    assert _group_rows(groups) == 0
    _side(groups, f"<@{MAYA}> auto")
    assert _sides(groups)[MAYA] is None
    # Removing a group that has no side changes nothing and says so.
    assert "had no side in this partnership; nothing changed" in _side(groups, f"{OPS_TOKEN} auto")


def test_a_person_joining_later_gets_the_groups_side(groups: LocalStack) -> None:
    w, sb = groups.world, groups.sandbox
    _side(groups, f"{OPS_TOKEN} provider")
    _side(groups, f"{DEV_TOKEN} client")  # Luis is in both: @dev is the most recent
    sb.clear_calls()
    response = sb.member_joined(w.internal_channel, TOM)
    assert response.status == 200
    wait_for(lambda: _sides(groups).get(TOM) == "provider", what="Tom on the provider side")
    # One usergroups.users.list per assigned group of the partnership.
    assert sorted(c.args["usergroup"] for c in sb.calls_to("usergroups.users.list")) == [DEV, OPS]
    # Someone in no assigned group gets no side from the groups.
    sb.add_user("U0CNEW1", w.client_team, "new.person")
    sb.member_joined(w.internal_channel, "U0CNEW1")
    wait_for(lambda: "U0CNEW1" in _sides(groups), what="the new person's row")
    groups.settle()  # the row is written before the answer; the profile and groups follow just after it
    assert _sides(groups)["U0CNEW1"] is None and _sides(groups)[TOM] == "provider"
    assert sb.violations == []


def test_subteam_members_changed_adds_and_removes_people(groups: LocalStack) -> None:
    sb = groups.sandbox
    _side(groups, f"{DEV_TOKEN} client")
    _side(groups, f"{OPS_TOKEN} provider")
    assert _sides(groups)[LUIS] == "provider"  # in both; @ops is the most recent
    sb.subteam_members_changed(OPS, added=[GRACE, SPONSOR], removed=[LUIS, MAYA])
    wait_for(lambda: _sides(groups)[SPONSOR] == "provider", what="the sponsor added to @ops")
    sides = _sides(groups)
    assert sides[GRACE] == "provider", "added to @ops, the most recent group"
    assert sides[LUIS] == "client", "removed from @ops, falls back to @dev"
    assert sides[MAYA] is None, "removed from @ops and in no other group: back to the home team (none here)"
    assert sides[LEAD] == "client"
    # A change to a group no partnership assigned is acknowledged and changes nothing.
    sb.add_usergroup("S0OTHER", groups.world.client_team, "other", users=[MAYA])
    assert sb.subteam_members_changed("S0OTHER", added=[LUIS]).status == 200
    assert _sides(groups) == sides
    assert sb.violations == []


def test_conflicting_groups_the_most_recent_wins_and_the_reply_says_so(groups: LocalStack) -> None:
    first = _side(groups, f"{DEV_TOKEN} client")
    assert first == "@dev (2 people, 2 in this channel) is now on the client side."
    reply = _side(groups, f"{OPS_TOKEN} provider")
    assert "1 person is also in @dev on the client side: the most recent group wins" in reply
    assert "A personal assignment (`/partner side @person client|provider`) settles it." in reply
    assert _sides(groups)[LUIS] == "provider" and _sides(groups)[GRACE] == "client"
    # Assigning @dev again makes it the most recent.
    again = _side(groups, f"{DEV_TOKEN} client")
    assert "1 person is also in @ops on the provider side" in again
    assert _sides(groups)[LUIS] == "client"
    # A personal assignment settles it: no conflict is counted for Luis any more.
    _side(groups, f"<@{LUIS}> provider")
    settled = _side(groups, f"{DEV_TOKEN} client")
    assert "also in" not in settled and "Personal assignments still win (1 person)." in settled
    assert _sides(groups)[LUIS] == "provider"


def test_a_non_lead_is_refused_and_nothing_changes(groups: LocalStack) -> None:
    sb = groups.sandbox
    sb.clear_calls()
    for text in (f"{OPS_TOKEN} provider", f"{OPS_TOKEN} auto"):
        assert "Only the partnership's leads" in _side(groups, text, user=MAYA)
    assert sb.calls_to("usergroups.users.list") == []
    assert _group_rows(groups) == 0
    assert _sides(groups)[MAYA] is None


def test_an_unknown_or_deleted_group_gets_a_clear_message_and_changes_nothing(groups: LocalStack) -> None:
    sb = groups.sandbox
    before = _sides(groups)
    reply = _side(groups, "<!subteam^S0GHOST|@ghost> client")
    assert reply == ":warning: Slack has no user group @ghost (it may have been deleted or disabled). Nothing changed."
    assert sb.calls_to("usergroups.users.list")[-1].error == "no_such_subteam"
    sb.disable_usergroup(OPS)
    assert "Slack has no user group @ops" in _side(groups, f"{OPS_TOKEN} provider")
    assert _sides(groups) == before and _group_rows(groups) == 0


@pytest.fixture
def stack_without_scope(database_url: str, tmp_path: Path) -> Iterator[LocalStack]:
    """The real bot against a sandbox whose app manifest lacks usergroups:read (an app installed before it)."""
    manifest = write_manifest(tmp_path, drop=("usergroups:read",))
    sandbox = SlackSandbox(signing_secret=SANDBOX_SIGNING_SECRET, bot_token=SANDBOX_BOT_TOKEN, manifest_path=manifest)
    with closing(start_local_stack(database_url=database_url, start=START, sandbox=sandbox)) as s:
        yield s


def test_a_missing_scope_gets_a_clear_message_and_changes_nothing(stack_without_scope: LocalStack) -> None:
    stack = stack_without_scope
    _setup(stack)
    before = _sides(stack)
    reply = _side(stack, f"{OPS_TOKEN} provider")
    assert "`usergroups:read`" in reply and reply.endswith("Nothing changed.")
    assert stack.sandbox.calls_to("usergroups.users.list")[-1].error == "missing_scope"
    assert _sides(stack) == before and _group_rows(stack) == 0


def test_a_handle_with_mention_injection_is_shown_escaped(groups: LocalStack) -> None:
    # Slack escapes the command text; the label decodes to "@ops <!channel> <@U0PLEAD> & co".
    evil = "<!subteam^S0OPS|@ops &lt;!channel&gt; &lt;@U0PLEAD&gt; &amp; co>"
    reply = _side(groups, f"{evil} provider")
    assert reply.startswith("@ops &lt;!channel&gt; &lt;@U0PLEAD&gt; &amp; co (4 people, 3 in this channel)")
    posted = json.dumps([p.body for p in groups.sandbox.response_url_posts])
    for raw in ("<!channel>", "<@U0PLEAD>", "<!subteam"):
        assert raw not in posted
    removed = _side(groups, f"{evil} auto")
    assert removed.startswith("@ops &lt;!channel&gt;") and "<!channel>" not in removed


def test_the_same_command_and_event_twice_are_harmless(groups: LocalStack) -> None:
    sb = groups.sandbox
    first = _side(groups, f"{OPS_TOKEN} provider")
    after_first = _sides(groups)
    second = _side(groups, f"{OPS_TOKEN} provider")
    assert second == first and _sides(groups) == after_first and _group_rows(groups) == 1
    # A retried subteam_members_changed (same event id) is processed once.
    response = sb.subteam_members_changed(OPS, removed=[MAYA])
    assert response.status == 200
    wait_for(lambda: _sides(groups)[MAYA] is None, what="Maya removed")
    event_id = sb.deliveries[-1].event_id
    _side(groups, f"<@{MAYA}> provider")
    _side(groups, f"<@{MAYA}> auto")  # Maya is on no side again, and not in @ops
    replay = {"type": "subteam_members_changed", "subteam_id": OPS, "added_users": [MAYA], "removed_users": []}
    assert sb.event(replay, event_id=event_id, retry_num=1).status == 200
    groups.settle()  # the listener runs after the ack: a wrongly processed retry would show by now
    assert _sides(groups)[MAYA] is None
    # The same change with a new event id is processed.
    sb.event(replay)
    wait_for(lambda: _sides(groups)[MAYA] == "provider", what="Maya back in @ops")
