"""The sandbox answers slack_sdk's WebClient the way Slack does, and records everything."""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import DemoWorld, SlackSandbox

from .support import BOT_TOKEN, FakeBot, make_sandbox, write_manifest


def _error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def _raw(sandbox: SlackSandbox, method: str, *, data: bytes | None = None, query: str = "", headers: dict[str, str]) -> Any:
    url = sandbox.api_url + method + (f"?{query}" if query else "")
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_auth_test(client: WebClient, world: DemoWorld) -> None:
    answer = client.auth_test()
    assert answer.status_code == 200
    assert answer.data == {
        "ok": True,
        "url": "https://northwind.slack.com/",
        "team": "Northwind Retail",
        "user": "partnerpulse",
        "team_id": world.client_team,
        "user_id": world.bot_user,
        "bot_id": world.bot_id,
        "is_enterprise_install": False,
    }


def test_post_message_is_stored_and_recorded(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Pulse* time"}}]
    first = client.chat_postMessage(
        channel=world.channel,
        text="Pulse time",
        blocks=blocks,
        metadata={"event_type": "pulse", "event_payload": {"round": 1}},
    )
    second = client.chat_postMessage(channel=world.channel, text="reply", thread_ts=first["ts"])
    assert first["channel"] == world.channel
    assert first["ts"] < second["ts"]
    assert first["message"]["user"] == world.bot_user and first["message"]["bot_id"] == world.bot_id

    messages = sandbox.messages(world.channel)
    assert [m["ts"] for m in messages] == [first["ts"], second["ts"]]
    parent = messages[0]
    assert parent["text"] == "Pulse time"
    assert parent["blocks"][0]["text"]["text"] == "*Pulse* time"
    assert parent["blocks"][0]["block_id"]  # Slack fills a missing block_id
    assert parent["metadata"] == {"event_type": "pulse", "event_payload": {"round": 1}}
    assert parent["reply_count"] == 1 and parent["thread_ts"] == first["ts"]
    assert messages[1]["thread_ts"] == first["ts"]
    assert [m["ts"] for m in sandbox.messages(world.channel, include_thread_replies=False)] == [first["ts"]]

    call = sandbox.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == blocks  # JSON body, recorded as parsed
    assert call.http_status == 200 and call.team_id == world.client_team
    assert call.response["ts"] == first["ts"]
    assert "token" not in call.args
    assert sandbox.violations == []


def test_form_and_get_transports_are_parsed(sandbox: SlackSandbox, world: DemoWorld) -> None:
    auth = {"Authorization": f"Bearer {BOT_TOKEN}"}
    form = {"channel": world.channel, "text": "hi", "blocks": json.dumps([{"type": "divider"}])}
    body = urlencode(form).encode()
    answer = _raw(
        sandbox,
        "chat.postMessage",
        data=body,
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer["ok"] is True
    assert sandbox.calls_to("chat.postMessage")[0].args["blocks"] == [{"type": "divider"}]
    info = _raw(sandbox, "users.info", query=f"user={world.client_lead}", headers=auth)
    assert info["user"]["id"] == world.client_lead
    # The token may also arrive as an argument, as Slack allows.
    assert _raw(sandbox, "auth.test", query=f"token={BOT_TOKEN}", headers={})["ok"] is True


def test_missing_required_argument(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    error = _error(lambda: client.api_call("chat.getPermalink", params={"channel": world.channel}))
    assert error.response["error"] == "invalid_arguments"
    assert error.response["response_metadata"]["messages"] == ["[ERROR] missing required field: message_ts"]
    assert [(v.method, v.error) for v in sandbox.violations] == [("chat.getPermalink", "invalid_arguments")]


def test_scope_missing_from_manifest(tmp_path: Path) -> None:
    sb = make_sandbox(manifest_path=write_manifest(tmp_path, drop=("pins:write",)))
    try:
        client = WebClient(token=BOT_TOKEN, base_url=sb.api_url)
        posted = client.chat_postMessage(channel="C0JOINT", text="pin me")
        error = _error(lambda: client.pins_add(channel="C0JOINT", timestamp=posted["ts"]))
        assert error.response["error"] == "missing_scope"
        assert error.response["needed"] == "pins:write"
        assert "pins:write" not in error.response["provided"].split(",")
        assert [(v.method, v.needed) for v in sb.violations] == [("pins.add", "pins:write")]
        assert sb.pins("C0JOINT") == []
    finally:
        sb.stop()


def test_unknown_method(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    error = _error(lambda: client.api_call("chat.postMessages", json={"channel": world.channel}))
    assert error.response.status_code == 200
    assert error.response.data == {"ok": False, "error": "unknown_method", "req_method": "chat.postMessages"}
    assert sandbox.violations[0].error == "unknown_method"
    assert sandbox.calls[0].method == "chat.postMessages"


def test_known_but_unmodelled_method_is_accepted_and_recorded(
    sandbox: SlackSandbox, client: WebClient, world: DemoWorld
) -> None:
    assert client.api_call("api.test").data == {"ok": True}
    assert sandbox.calls_to("api.test")
    assert sandbox.violations == []


def test_link_names_is_a_violation(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    error = _error(lambda: client.chat_postMessage(channel=world.channel, text="hi @here", link_names=True))
    assert error.response["error"] == "invalid_arguments"
    assert "link_names" in sandbox.violations[0].reason
    error = _error(lambda: client.chat_postMessage(channel=world.channel, text="hi", parse="full"))
    assert "parse=full" in sandbox.violations[1].reason
    assert sandbox.messages(world.channel) == []


def test_non_strict_records_but_lets_the_call_through() -> None:
    sb = make_sandbox(strict=False)
    try:
        client = WebClient(token=BOT_TOKEN, base_url=sb.api_url)
        assert client.chat_postMessage(channel="C0JOINT", text="hi", link_names=True)["ok"]
        assert len(sb.violations) == 1
        assert len(sb.messages("C0JOINT")) == 1
    finally:
        sb.stop()


def test_channel_errors(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    assert _error(lambda: client.chat_postMessage(channel="C0NOPE", text="x")).response["error"] == "channel_not_found"
    sandbox.leave(world.internal_channel, world.bot_user)
    error = _error(lambda: client.chat_postMessage(channel=world.internal_channel, text="x"))
    assert error.response["error"] == "not_in_channel"
    sandbox.archive_channel(world.channel)
    assert _error(lambda: client.chat_postMessage(channel=world.channel, text="x")).response["error"] == "is_archived"
    assert sandbox.violations == []  # these are Slack errors, not misuse of the API


def test_private_channel_of_another_org_is_invisible(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    sandbox.add_channel("C0THEIRS", "contoso-only", world.provider_team, members=[world.provider_lead])
    assert _error(lambda: client.conversations_info(channel="C0THEIRS")).response["error"] == "channel_not_found"
    sandbox.add_channel("G0PRIV", "secret", world.client_team, members=[world.client_lead], is_private=True)
    assert _error(lambda: client.conversations_info(channel="G0PRIV")).response["error"] == "channel_not_found"


def test_auth_errors(sandbox: SlackSandbox, world: DemoWorld) -> None:
    wrong = WebClient(token="xox" + "b-wrong", base_url=sandbox.api_url)
    assert _error(wrong.auth_test).response["error"] == "invalid_auth"
    none = WebClient(base_url=sandbox.api_url)
    assert _error(none.auth_test).response["error"] == "not_authed"
    client = WebClient(token=BOT_TOKEN, base_url=sandbox.api_url)
    sandbox.revoke_token()
    assert _error(client.auth_test).response["error"] == "invalid_auth"
    sandbox.deactivate_account()
    error = _error(lambda: client.chat_postMessage(channel=world.channel, text="x"))
    assert error.response["error"] == "account_inactive"
    assert error.response.status_code == 200
    sandbox.restore_token()
    assert client.auth_test()["ok"]


def test_app_level_method_refuses_a_bot_token(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    assert _error(lambda: client.apps_connections_open(app_token=BOT_TOKEN)).response["error"] == "not_allowed_token_type"
    # The sandbox issues no app-level tokens, so any xapp- token is unknown to it.
    assert _error(lambda: client.apps_connections_open(app_token="xa" + "pp-1-A1-2-abc")).response["error"] == "invalid_auth"


def test_concurrent_posts_are_all_kept_in_order(sandbox: SlackSandbox, world: DemoWorld) -> None:
    def post(worker: int) -> list[str]:
        client = WebClient(token=BOT_TOKEN, base_url=sandbox.api_url)
        return [str(client.chat_postMessage(channel=world.channel, text=f"{worker}-{n}")["ts"]) for n in range(10)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [ts for batch in pool.map(post, range(8)) for ts in batch]
    stored = [m["ts"] for m in sandbox.messages(world.channel)]
    assert len(stored) == 80 and len(set(stored)) == 80
    assert stored == sorted(stored, key=float) and sorted(results) == sorted(stored)


def test_not_installed_is_invalid_auth(sandbox: SlackSandbox, client: WebClient) -> None:
    assert _error(client.auth_test).response["error"] == "invalid_auth"


def test_block_limits(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    too_many = [{"type": "divider"}] * 51
    error = _error(lambda: client.chat_postMessage(channel=world.channel, text="x", blocks=too_many))
    assert error.response["error"] == "invalid_blocks"
    assert error.response["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert client.chat_postMessage(channel=world.channel, text="x", blocks=too_many[:50])["ok"]

    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}]
    error = _error(lambda: client.chat_postMessage(channel=world.channel, text="x", blocks=long_section))
    assert "[json-pointer:/blocks/0/text/text]" in error.response["errors"][0]
    ok_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3000}}]
    assert client.chat_postMessage(channel=world.channel, text="x", blocks=ok_section)["ok"]

    long_id = [{"type": "divider", "block_id": "b" * 256}]
    assert _error(lambda: client.chat_postMessage(channel=world.channel, text="x", blocks=long_id)).response["error"] == (
        "invalid_blocks"
    )
    button = {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": "a" * 256}
    long_action = [{"type": "actions", "elements": [button]}]
    assert (
        _error(lambda: client.chat_postMessage(channel=world.channel, text="x", blocks=long_action)).response["error"]
        == "invalid_blocks"
    )

    twins = [{"type": "actions", "elements": [dict(button, action_id="same"), dict(button, action_id="same")]}]
    error = _error(lambda: client.chat_postMessage(channel=world.channel, text="x", blocks=twins))
    assert error.response["errors"] == ['`action_id` "same" already exists [json-pointer:/blocks/0/elements/1/action_id]']

    error = _error(lambda: client.chat_postMessage(channel=world.channel, text="x" * 40_001))
    assert error.response["error"] == "msg_too_long"
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too; Slack answers no_text
        assert _error(lambda: client.chat_postMessage(channel=world.channel)).response["error"] == "no_text"


def test_members_pagination(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    pages: list[list[str]] = []
    cursor = None
    while True:
        answer = client.conversations_members(channel=world.channel, limit=5, cursor=cursor)
        pages.append(answer["members"])
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert [len(page) for page in pages] == [5, 5, 3]
    assert [m for page in pages for m in page] == [world.bot_user, *world.all_users]
    error = _error(lambda: client.conversations_members(channel=world.channel, cursor="bogus"))
    assert error.response["error"] == "invalid_cursor"


def test_conversations_info_for_a_shared_channel(client: WebClient, world: DemoWorld) -> None:
    channel = client.conversations_info(channel=world.channel, include_num_members=True)["channel"]
    assert channel["id"] == world.channel and channel["name"] == "northwind-contoso"
    assert channel["is_ext_shared"] is True and channel["is_member"] is True
    assert set(channel["shared_team_ids"]) == {world.client_team, world.provider_team}
    assert channel["num_members"] == 13


def test_post_ephemeral(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    answer = client.chat_postEphemeral(channel=world.channel, user=world.provider_lead, text="only you")
    assert answer["message_ts"]
    assert sandbox.ephemerals(world.channel, user=world.provider_lead)[0]["text"] == "only you"
    error = _error(lambda: client.chat_postEphemeral(channel=world.internal_channel, user=world.provider_lead, text="x"))
    assert error.response["error"] == "user_not_in_channel"


def test_users_info(client: WebClient, world: DemoWorld) -> None:
    local = client.users_info(user=world.client_lead)["user"]
    assert local["tz"] == "America/New_York" and local["tz_label"] in ("Eastern Standard Time", "Eastern Daylight Time")
    assert local["tz_offset"] in (-18000, -14400)
    assert local["profile"]["real_name"] == "Dana Whitfield" and local["profile"]["display_name"] == "dana.whitfield"
    assert "is_stranger" not in local
    external = client.users_info(user=world.provider_lead)["user"]
    assert external["team_id"] == world.provider_team and external["is_stranger"] is True
    assert external["tz"] == "Asia/Kolkata" and external["tz_offset"] == 19800
    hidden = client.users_info(user=world.user_without_tz)["user"]
    assert "tz" not in hidden and "tz_offset" not in hidden
    assert _error(lambda: client.users_info(user="U0NOBODY")).response["error"] == "user_not_found"


def test_update_delete_permalink_pins(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    posted = client.chat_postMessage(channel=world.channel, text="v1", blocks=[{"type": "divider"}])
    updated = client.chat_update(channel=world.channel, ts=posted["ts"], text="v2")
    assert updated["ts"] == posted["ts"] and updated["text"] == "v2"
    stored = sandbox.messages(world.channel)[0]
    assert stored["text"] == "v2" and stored["edited"]["user"] == world.bot_user
    assert stored["blocks"][0]["type"] == "divider"  # omitted blocks are kept, as Slack documents

    link = client.chat_getPermalink(channel=world.channel, message_ts=posted["ts"])["permalink"]
    assert link == f"https://northwind.slack.com/archives/{world.channel}/p{posted['ts'].replace('.', '')}"
    assert client.pins_add(channel=world.channel, timestamp=posted["ts"])["ok"]
    assert sandbox.pins(world.channel) == [posted["ts"]]
    assert _error(lambda: client.pins_add(channel=world.channel, timestamp=posted["ts"])).response["error"] == (
        "already_pinned"
    )
    assert client.chat_delete(channel=world.channel, ts=posted["ts"])["ok"]
    assert sandbox.messages(world.channel) == []
    error = _error(lambda: client.chat_update(channel=world.channel, ts=posted["ts"], text="v3"))
    assert error.response["error"] == "message_not_found"


def test_dm_to_a_local_user_but_not_to_an_external_one(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    answer = client.chat_postMessage(channel=world.client_lead, text="hello")
    assert answer["channel"] == sandbox.dm_channel(world.client_lead)
    assert sandbox.messages(answer["channel"])[0]["text"] == "hello"
    error = _error(lambda: client.chat_postMessage(channel=world.provider_lead, text="hello"))
    assert error.response["error"] == "channel_not_found"


def test_fail_next(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    sandbox.fail_next("chat.postMessage", error="channel_not_found", times=2)
    for _ in range(2):
        error = _error(lambda: client.chat_postMessage(channel=world.channel, text="x"))
        assert error.response.status_code == 200 and error.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel=world.channel, text="x")["ok"]
    assert [c.error for c in sandbox.calls_to("chat.postMessage")] == ["channel_not_found", "channel_not_found", None]


def test_delay_next(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    sandbox.delay_next("users.info", 0.3)
    started = time.monotonic()
    client.users_info(user=world.client_lead)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    client.users_info(user=world.client_lead)
    assert time.monotonic() - started < 0.3


def test_files_upload_v2(tmp_path: Path) -> None:
    sb = make_sandbox(manifest_path=write_manifest(tmp_path, add=("files:write",)))
    try:
        client = WebClient(token=BOT_TOKEN, base_url=sb.api_url)
        answer = client.files_upload_v2(channel="C0JOINT", content=b"\x89PNG-bytes", filename="x.png", title="Chart")
        file_id = answer["file"]["id"]
        assert sb.files[file_id].content == b"\x89PNG-bytes"
        assert sb.files[file_id].title == "Chart"
        message = sb.messages("C0JOINT")[0]
        assert message["files"][0]["id"] == file_id and message["files"][0]["name"] == "x.png"
        assert [c.method for c in sb.calls] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
        assert sb.violations == []
    finally:
        sb.stop()


def test_files_upload_v2_needs_files_write(tmp_path: Path) -> None:
    # An app whose manifest lacks files:write has the upload refused like Slack would.
    sb = make_sandbox(manifest_path=write_manifest(tmp_path, drop=("files:write",)))
    try:
        client = WebClient(token=BOT_TOKEN, base_url=sb.api_url)
        error = _error(lambda: client.files_upload_v2(channel="C0JOINT", content=b"x", filename="x.png"))
        assert error.response["error"] == "missing_scope" and error.response["needed"] == "files:write"
    finally:
        sb.stop()


def test_usergroups_users_list(sandbox: SlackSandbox, client: WebClient, world: DemoWorld) -> None:
    sandbox.add_usergroup("S0OPS", world.client_team, "ops", users=[world.client_lead, world.client_members[0]])
    assert client.usergroups_users_list(usergroup="S0OPS").data == {
        "ok": True,
        "users": [world.client_lead, world.client_members[0]],
    }
    assert _error(lambda: client.usergroups_users_list(usergroup="S0NOPE")).response["error"] == "no_such_subteam"
    # Another workspace's group is unknown to this installation; a disabled one too, unless asked for.
    sandbox.add_usergroup("S0THEIRS", world.provider_team, "theirs", users=[world.provider_lead])
    assert _error(lambda: client.usergroups_users_list(usergroup="S0THEIRS")).response["error"] == "no_such_subteam"
    sandbox.disable_usergroup("S0OPS")
    assert _error(lambda: client.usergroups_users_list(usergroup="S0OPS")).response["error"] == "no_such_subteam"
    assert client.usergroups_users_list(usergroup="S0OPS", include_disabled=True)["users"] == sandbox.usergroup_members(
        "S0OPS"
    )
    # The required argument is checked against Slack's description.
    error = _error(lambda: client.api_call("usergroups.users.list", params={}))
    assert error.response["error"] == "invalid_arguments" and sandbox.violations[-1].method == "usergroups.users.list"


def test_usergroups_users_list_needs_its_scope(tmp_path: Path) -> None:
    sb = make_sandbox(manifest_path=write_manifest(tmp_path, drop=("usergroups:read",)))
    try:
        sb.add_usergroup("S0OPS", "T0CLIENT", "ops")
        error = _error(lambda: WebClient(token=BOT_TOKEN, base_url=sb.api_url).usergroups_users_list(usergroup="S0OPS"))
        assert error.response["error"] == "missing_scope" and error.response["needed"] == "usergroups:read"
    finally:
        sb.stop()


def test_subteam_members_changed_event(sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot) -> None:
    sandbox.add_usergroup("S0OPS", world.client_team, "ops", users=[world.client_lead])
    response = sandbox.subteam_members_changed(
        "S0OPS", added=[world.client_members[0], world.client_lead], removed=[world.client_sponsor]
    )
    assert response.status == 200
    assert sandbox.usergroup_members("S0OPS") == [world.client_lead, world.client_members[0]]
    event = json.loads(fake_bot.requests[-1].body)["event"]
    assert event["type"] == "subteam_members_changed" and event["subteam_id"] == "S0OPS"
    assert event["added_users"] == [world.client_members[0]] and event["added_users_count"] == "1"
    assert event["removed_users"] == [] and event["removed_users_count"] == "0"
