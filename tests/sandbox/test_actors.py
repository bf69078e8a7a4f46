"""Actors send Slack's signed payloads to the bot and apply its answers the way Slack would."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.sandbox import ActorError, DemoWorld, SlackSandbox

from .support import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeBot,
    FakeClock,
    ReceivedRequest,
    make_sandbox,
    start_fake_bot,
    write_manifest,
)

PULSE_BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "Weekly pulse"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "How is the partnership going, <@U0PLEAD>?"}},
    {
        "type": "actions",
        "block_id": "pulse_scores",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Great"}, "action_id": "pulse_score_5", "value": "5"},
            {"type": "button", "text": {"type": "plain_text", "text": "Poor"}, "action_id": "pulse_score_1", "value": "1"},
            {"type": "button", "text": {"type": "plain_text", "text": "Comment"}, "action_id": "pulse_comment"},
        ],
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Closes Friday"}]},
]


def _verify(request: ReceivedRequest) -> bool:
    return SignatureVerifier(SIGNING_SECRET).is_valid(
        body=request.body,
        timestamp=request.headers["x-slack-request-timestamp"],
        signature=request.headers["x-slack-signature"],
    )


def _post_pulse(client: WebClient, channel: str) -> str:
    return str(client.chat_postMessage(channel=channel, text="Weekly pulse", blocks=PULSE_BLOCKS)["ts"])


# ---------------------------------------------------------------------------- signing and commands


def test_slash_command_is_signed_and_shaped_like_slack(sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot) -> None:
    answer = sandbox.actor(world.client_lead).slash_command("/partner", "status", world.channel)
    assert answer.status == 200 and answer.elapsed < 3
    request = fake_bot.requests[0]
    assert _verify(request)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = request.form
    assert form["command"] == "/partner" and form["text"] == "status"
    assert form["team_id"] == world.client_team and form["team_domain"] == "northwind"
    assert form["channel_id"] == world.channel and form["channel_name"] == "northwind-contoso"
    assert form["user_id"] == world.client_lead and form["user_name"] == "dana.whitfield"
    assert form["api_app_id"] == sandbox.app_id and form["is_enterprise_install"] == "false"
    assert form["response_url"].startswith(sandbox.base_url + "response/")
    assert form["trigger_id"]
    assert [d.kind for d in sandbox.deliveries] == ["slash_command"]


def test_forged_requests_fail_verification(sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot) -> None:
    actor = sandbox.actor(world.client_lead)
    actor.slash_command("/partner", "help", world.channel, timestamp=int(time.time()) - 301)
    actor.slash_command("/partner", "help", world.channel, signature="v0=" + "0" * 64)
    actor.slash_command("/partner", "help", world.channel, headers={"X-Extra": "1"})
    stale, forged, good = fake_bot.requests
    assert not _verify(stale)  # correct HMAC, outside the 5-minute window
    assert not _verify(forged)
    assert _verify(good) and good.headers["x-extra"] == "1"


def test_slash_command_ack_is_shown_to_the_user(sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot) -> None:
    fake_bot.answer_json({"text": "Setting things up..."})
    sandbox.actor(world.client_lead).slash_command("/partner", "setup", world.channel)
    fake_bot.respond = lambda request: (200, "plain text ack")
    sandbox.actor(world.client_lead).slash_command("/partner", "help", world.channel)
    texts = [m["text"] for m in sandbox.ephemerals(world.channel, user=world.client_lead)]
    assert texts == ["Setting things up...", "plain text ack"]


def test_slash_commands_slack_would_not_send(sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot) -> None:
    with pytest.raises(ActorError, match="not a slash command"):
        sandbox.actor(world.client_lead).slash_command("/other", "", world.channel)
    with pytest.raises(ActorError, match="has not installed"):
        sandbox.actor(world.provider_lead).slash_command("/partner", "", world.channel)
    with pytest.raises(ActorError, match="not a member"):
        sandbox.actor(world.client_members[-1]).slash_command("/partner", "", world.internal_channel)
    forced = sandbox.actor(world.provider_lead).slash_command("/partner", "", world.channel, force=True)
    assert forced.status == 200 and fake_bot.requests[0].form["team_id"] == world.provider_team


def test_response_url_allows_five_uses(sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot) -> None:
    sandbox.actor(world.client_lead).slash_command("/partner", "status", world.channel)
    url = fake_bot.requests[0].form["response_url"]
    webhook = WebhookClient(url)
    statuses = [webhook.send(text=f"reply {n}").status_code for n in range(6)]
    assert statuses == [200] * 5 + [404]
    assert json.loads(webhook.send(text="again").body)["error"] == "used_up"
    assert len(sandbox.ephemerals(world.channel, user=world.client_lead)) == 5
    posts = sandbox.response_url_posts
    assert [p.status for p in posts] == [200] * 5 + [404, 404]
    assert posts[0].user == world.client_lead and posts[0].channel == world.channel
    assert posts[0].body == {"text": "reply 0"}


def test_response_url_expires_after_30_minutes(clock: FakeClock, tmp_path: Path) -> None:
    sb = make_sandbox(clock=clock)
    bot = FakeBot()
    server = start_fake_bot(bot)
    sb.bot_endpoint = bot.url
    try:
        sb.actor("U0CLEAD").slash_command("/partner", "status", "C0JOINT")
        url = bot.requests[0].form["response_url"]
        clock.advance(30 * 60 + 1)
        answer = WebhookClient(url).send(text="late")
        assert answer.status_code == 404 and json.loads(answer.body)["error"] == "expired_url"
    finally:
        server.shutdown()
        server.server_close()
        sb.stop()


def test_response_url_in_channel_and_replace_original(
    sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot
) -> None:
    ts = _post_pulse(client, world.channel)
    sandbox.actor(world.provider_lead).click(world.channel, ts, "pulse_score_5", value="5")
    url = fake_bot.requests[0].payload["response_url"]
    WebhookClient(url).send(text="Thanks!", replace_original=True)
    assert sandbox.messages(world.channel)[0]["text"] == "Thanks!"
    assert "blocks" not in sandbox.messages(world.channel)[0]
    WebhookClient(url).send(text="Everyone sees this", response_type="in_channel")
    assert sandbox.messages(world.channel)[-1]["text"] == "Everyone sees this"
    WebhookClient(url).send(delete_original=True)
    assert [m["text"] for m in sandbox.messages(world.channel)] == ["Everyone sees this"]


# ---------------------------------------------------------------------------- block actions


def test_click_sends_block_actions(sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot) -> None:
    ts = _post_pulse(client, world.channel)
    response = sandbox.actor(world.provider_lead).click(world.channel, ts, "pulse_score_1", value="1")
    assert response.status == 200
    request = fake_bot.requests[0]
    assert _verify(request)
    payload = request.payload
    assert payload["type"] == "block_actions"
    assert payload["user"] == {
        "id": world.provider_lead,
        "username": "priya.raman",
        "name": "priya.raman",
        "team_id": world.provider_team,
    }
    assert payload["team"] == {"id": world.client_team, "domain": "northwind"}  # the installing team
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": world.channel,
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": world.channel, "name": "northwind-contoso"}
    assert payload["message"]["ts"] == ts and payload["message"]["blocks"][2]["block_id"] == "pulse_scores"
    assert payload["api_app_id"] == sandbox.app_id and payload["trigger_id"] and payload["response_url"]
    assert payload["state"] == {"values": {}}
    action = payload["actions"][0]
    assert action["type"] == "button" and action["action_id"] == "pulse_score_1"
    assert action["block_id"] == "pulse_scores" and action["value"] == "1"
    assert action["text"] == {"type": "plain_text", "text": "Poor"} and action["action_ts"]


def test_click_uses_the_generated_block_id(
    sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot
) -> None:
    blocks = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Open?"},
            "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "action_id": "open"},
        }
    ]
    ts = client.chat_postMessage(channel=world.channel, text="Open?", blocks=blocks)["ts"]
    sandbox.actor(world.client_lead).click(world.channel, ts, "open")
    stored_block_id = sandbox.messages(world.channel)[0]["blocks"][0]["block_id"]
    assert fake_bot.requests[0].payload["actions"][0]["block_id"] == stored_block_id


def test_click_on_a_missing_button_is_an_error(
    sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot
) -> None:
    ts = _post_pulse(client, world.channel)
    actor = sandbox.actor(world.provider_lead)
    with pytest.raises(ActorError, match="action_id='nope'"):
        actor.click(world.channel, ts, "nope")
    with pytest.raises(ActorError, match="value='9'"):
        actor.click(world.channel, ts, "pulse_score_5", value="9")
    with pytest.raises(ActorError, match="no message"):
        actor.click(world.channel, "1.000000", "pulse_score_5")
    assert fake_bot.requests == []


def test_click_ephemeral(sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot) -> None:
    answer = client.chat_postEphemeral(channel=world.channel, user=world.client_lead, text="Pulse", blocks=PULSE_BLOCKS)
    ts = answer["message_ts"]
    sandbox.actor(world.client_lead).click_ephemeral(world.channel, ts, "pulse_score_5", value="5")
    payload = fake_bot.requests[0].payload
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload  # Slack does not send ephemeral messages back
    with pytest.raises(ActorError):
        sandbox.actor(world.provider_lead).click_ephemeral(world.channel, ts, "pulse_score_5", value="5")
    WebhookClient(payload["response_url"]).send(text="Recorded", replace_original=True)
    assert sandbox.ephemerals(world.channel, user=world.client_lead)[0]["text"] == "Recorded"


# ---------------------------------------------------------------------------- views


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _option(text: str) -> dict[str, Any]:
    return {"text": _plain(text), "value": text.lower()}


def _input(block_id: str, element_type: str, *, optional: bool = False, **element: Any) -> dict[str, Any]:
    """An input block labelled after its block id, its element's action id ``<block_id>_input``."""
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "label": _plain(block_id.capitalize())}
    if optional:
        block["optional"] = True
    block["element"] = {"type": element_type, "action_id": f"{block_id}_input", **element}
    return block


FORM_BLOCKS: list[dict[str, Any]] = [
    _input("comment", "plain_text_input", max_length=20),
    _input("score", "radio_buttons", options=[_option("Good"), _option("Bad")]),
    _input(
        "cadence",
        "static_select",
        options=[_option("Weekly"), _option("Biweekly")],
        initial_option=_option("Weekly"),
    ),
    _input("people", "multi_users_select"),
    _input("owner", "users_select", optional=True),
    _input("topics", "multi_static_select", optional=True, options=[_option("Quality"), _option("Speed")]),
    _input("time", "timepicker", initial_time="09:00"),
    _input("day", "datepicker", optional=True),
    _input("threshold", "number_input", optional=True, is_decimal_allowed=False),
    _input("flags", "checkboxes", optional=True, options=[{"text": _plain("Anonymous"), "value": "anon"}]),
    {
        "type": "actions",
        "block_id": "tools",
        "elements": [{"type": "button", "text": _plain("Preview"), "action_id": "preview"}],
    },
]


def _open_form(sandbox: SlackSandbox, client: WebClient, user: str, **extra: Any) -> str:
    view = {
        "type": "modal",
        "callback_id": "setup",
        "title": {"type": "plain_text", "text": "Setup"},
        "submit": {"type": "plain_text", "text": "Save"},
        "private_metadata": "meta",
        "blocks": FORM_BLOCKS,
        **extra,
    }
    return str(client.views_open(trigger_id=sandbox.issue_trigger_id(user), view=view)["view"]["id"])


def test_submit_view_builds_slack_state(
    sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot
) -> None:
    view_id = _open_form(sandbox, client, world.client_lead)
    response = sandbox.actor(world.client_lead).submit_view(
        view_id,
        {
            "comment": "All good",
            "score": "bad",
            "people": [world.client_lead, world.provider_lead],
            "topics": ["speed"],
            "day": "2025-03-09",
            "threshold": 3,
            "flags": ["anon"],
        },
    )
    assert response.status == 200
    payload = fake_bot.requests[0].payload
    assert _verify(fake_bot.requests[0])
    assert payload["type"] == "view_submission"
    assert payload["team"] == {"id": world.client_team, "domain": "northwind"}
    assert payload["user"]["id"] == world.client_lead and payload["user"]["team_id"] == world.client_team
    assert payload["response_urls"] == [] and payload["trigger_id"]
    view = payload["view"]
    assert view["id"] == view_id and view["callback_id"] == "setup" and view["private_metadata"] == "meta"
    assert view["app_installed_team_id"] == world.client_team and view["hash"]
    values = view["state"]["values"]
    assert values["comment"] == {"comment_input": {"type": "plain_text_input", "value": "All good"}}
    assert values["score"]["score_input"] == {
        "type": "radio_buttons",
        "selected_option": {"text": {"type": "plain_text", "text": "Bad"}, "value": "bad"},
    }
    assert values["cadence"]["cadence_input"]["selected_option"]["value"] == "weekly"  # initial_option
    assert values["people"]["people_input"] == {
        "type": "multi_users_select",
        "selected_users": [world.client_lead, world.provider_lead],
    }
    assert values["owner"]["owner_input"] == {"type": "users_select", "selected_user": None}
    assert values["topics"]["topics_input"]["selected_options"] == [
        {"text": {"type": "plain_text", "text": "Speed"}, "value": "speed"}
    ]
    assert values["time"]["time_input"] == {"type": "timepicker", "selected_time": "09:00"}
    assert values["day"]["day_input"] == {"type": "datepicker", "selected_date": "2025-03-09"}
    assert values["threshold"]["threshold_input"] == {"type": "number_input", "value": "3"}
    assert values["flags"]["flags_input"]["selected_options"][0]["value"] == "anon"
    assert "tools" not in values
    # An empty ack closes the modal.
    assert sandbox.open_views(world.client_lead) == []
    assert sandbox.violations == []


def test_submit_view_refuses_what_slack_would_not_send(
    sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot
) -> None:
    view_id = _open_form(sandbox, client, world.client_lead)
    actor = sandbox.actor(world.client_lead)
    required = {"comment": "x", "score": "good", "people": [world.client_lead]}
    with pytest.raises(ActorError, match="not input blocks"):
        actor.submit_view(view_id, {**required, "tools": "x"})
    with pytest.raises(ActorError, match="required"):
        actor.submit_view(view_id, {"score": "good", "people": [world.client_lead]})
    with pytest.raises(ActorError, match="no option"):
        actor.submit_view(view_id, {**required, "score": "meh"})
    with pytest.raises(ActorError, match="20 characters"):
        actor.submit_view(view_id, {**required, "comment": "x" * 21})
    with pytest.raises(ActorError, match="belongs to"):
        sandbox.actor(world.provider_lead).submit_view(view_id, required)
    assert fake_bot.requests == []


def test_response_action_errors_keep_the_view_open(
    sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot
) -> None:
    view_id = _open_form(sandbox, client, world.client_lead)
    fake_bot.answer_json({"response_action": "errors", "errors": {"comment": "Too vague"}})
    actor = sandbox.actor(world.client_lead)
    response = actor.submit_view(view_id, {"comment": "meh", "score": "good", "people": [world.client_lead]})
    assert response.json == {"response_action": "errors", "errors": {"comment": "Too vague"}}
    assert [v["id"] for v in sandbox.open_views(world.client_lead)] == [view_id]
    assert sandbox.violations == []
    fake_bot.answer_json({"response_action": "errors", "errors": {"tools": "Not an input"}})
    actor.submit_view(view_id, {"comment": "meh", "score": "good", "people": [world.client_lead]})
    assert [v.method for v in sandbox.violations] == ["view_submission"]
    assert "tools" in sandbox.violations[0].reason


def test_response_action_update_push_clear(
    sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot
) -> None:
    values = {"comment": "ok", "score": "good", "people": [world.client_lead]}
    thanks = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Thanks"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Saved"}}],
    }
    actor = sandbox.actor(world.client_lead)
    view_id = _open_form(sandbox, client, world.client_lead)
    fake_bot.answer_json({"response_action": "update", "view": thanks})
    actor.submit_view(view_id, values)
    stack = sandbox.open_views(world.client_lead)
    assert [v["id"] for v in stack] == [view_id] and stack[0]["title"]["text"] == "Thanks"

    view_id = _open_form(sandbox, client, world.client_lead)
    fake_bot.answer_json({"response_action": "push", "view": thanks})
    actor.submit_view(view_id, values)
    stack = sandbox.open_views(world.client_lead)
    assert len(stack) == 2 and stack[1]["previous_view_id"] == view_id

    fake_bot.answer_json({"response_action": "clear"})
    actor.submit_view(view_id, values)
    assert sandbox.open_views(world.client_lead) == []
    # The closed view can no longer be updated.
    with pytest.raises(Exception, match="not_found"):
        client.views_update(view_id=view_id, view=thanks)


def test_click_in_view_and_close(sandbox: SlackSandbox, world: DemoWorld, client: WebClient, fake_bot: FakeBot) -> None:
    view_id = _open_form(sandbox, client, world.client_lead, notify_on_close=True)
    actor = sandbox.actor(world.client_lead)
    actor.click_in_view(view_id, "preview")
    payload = fake_bot.requests[0].payload
    assert payload["container"] == {"type": "view", "view_id": view_id}
    assert payload["view"]["id"] == view_id and payload["actions"][0]["block_id"] == "tools"
    closed = actor.close_view(view_id)
    assert closed is not None and closed.status == 200
    assert fake_bot.requests[1].payload["type"] == "view_closed"
    assert sandbox.open_views(world.client_lead) == []
    quiet = _open_form(sandbox, client, world.client_lead)
    assert actor.close_view(quiet) is None  # no notify_on_close: Slack tells the app nothing
    assert len(fake_bot.requests) == 2


# ---------------------------------------------------------------------------- shortcuts and events


def test_message_shortcut_must_be_in_the_manifest(tmp_path: Path) -> None:
    shortcuts = [{"name": "Raise issue", "type": "message", "callback_id": "raise_issue", "description": "Raise"}]
    sb = make_sandbox(manifest_path=write_manifest(tmp_path, features={"shortcuts": shortcuts}))
    bot = FakeBot()
    server = start_fake_bot(bot)
    sb.bot_endpoint = bot.url
    try:
        ts = WebClient(token=BOT_TOKEN, base_url=sb.api_url).chat_postMessage(channel="C0JOINT", text="late again")["ts"]
        sb.actor("U0CLEAD").message_shortcut("raise_issue", "C0JOINT", ts)
        payload = bot.requests[0].payload
        assert payload["type"] == "message_action" and payload["callback_id"] == "raise_issue"
        assert payload["message"]["text"] == "late again" and payload["message_ts"] == ts
        with pytest.raises(ActorError):
            sb.actor("U0CLEAD").message_shortcut("unknown", "C0JOINT", ts)
    finally:
        server.shutdown()
        server.server_close()
        sb.stop()


def test_event_envelope_and_retries(sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot) -> None:
    event = {"type": "member_left_channel", "user": world.client_lead, "channel": world.channel, "channel_type": "C"}
    sandbox.event(event, event_id="Ev123")
    sandbox.event(event, event_id="Ev123", retry_num=1)
    first, retry = fake_bot.requests
    assert _verify(first) and _verify(retry)
    envelope = first.payload
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev123"
    assert envelope["team_id"] == world.client_team and envelope["api_app_id"] == sandbox.app_id
    assert envelope["authorizations"] == [
        {
            "enterprise_id": None,
            "team_id": world.client_team,
            "user_id": world.bot_user,
            "is_bot": True,
            "is_enterprise_install": False,
        }
    ]
    assert envelope["is_ext_shared_channel"] is True and envelope["context_team_id"] == world.client_team
    assert envelope["event"]["event_ts"] and isinstance(envelope["event_time"], int)
    assert "x-slack-retry-num" not in first.headers
    assert retry.headers["x-slack-retry-num"] == "1" and retry.headers["x-slack-retry-reason"] == "http_timeout"
    with pytest.raises(ActorError, match="bot_events"):
        sandbox.event({"type": "app_mention", "text": "hi"})
    assert sandbox.event({"type": "app_mention", "text": "hi"}, force=True).status == 200


def test_member_joined(sandbox: SlackSandbox, world: DemoWorld, fake_bot: FakeBot) -> None:
    sandbox.add_user("U0PNEW", world.provider_team, "new.person", real_name="New Person", tz="Asia/Kolkata")
    sandbox.member_joined(world.channel, "U0PNEW", inviter=world.provider_lead)
    assert "U0PNEW" in sandbox.members(world.channel)
    event = fake_bot.requests[0].payload["event"]
    assert event["type"] == "member_joined_channel" and event["user"] == "U0PNEW"
    assert event["channel"] == world.channel and event["channel_type"] == "C"
    assert event["team"] == world.provider_team and event["inviter"] == world.provider_lead
    sandbox.member_left(world.channel, "U0PNEW")
    assert "U0PNEW" not in sandbox.members(world.channel)
    assert fake_bot.requests[1].payload["event"]["type"] == "member_left_channel"


def test_no_bot_endpoint_is_a_clear_error(sandbox: SlackSandbox, world: DemoWorld) -> None:
    with pytest.raises(ActorError, match="bot_endpoint"):
        sandbox.actor(world.client_lead).slash_command("/partner", "", world.channel)


# ---------------------------------------------------------------------------- transcript


def test_transcript_renders_blocks(sandbox: SlackSandbox, world: DemoWorld, client: WebClient) -> None:
    ts = _post_pulse(client, world.channel)
    client.chat_postMessage(channel=world.channel, text="Thanks <@U0PLEAD> &amp; team", thread_ts=ts)
    client.chat_postEphemeral(channel=world.channel, user=world.client_lead, text="Only for you")
    text = sandbox.transcript(world.channel)
    assert text.splitlines()[0] == "#northwind-contoso (C0JOINT)"
    assert "@PartnerPulse: == Weekly pulse ==" in text
    assert "How is the partnership going, @priya.raman?" in text
    assert "[Great] [Poor] [Comment]" in text
    assert "Closes Friday" in text
    assert "    > @PartnerPulse: Thanks @priya.raman & team" in text
    assert "@PartnerPulse (only visible to @dana.whitfield): Only for you" in text
    assert text.index("Weekly pulse") < text.index("Thanks") < text.index("Only for you")
