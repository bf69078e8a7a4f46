"""A real Bolt app accepts the actors' requests and its Web API calls pass the sandbox's checks.

This is the compatibility proof for the whole fake: Bolt verifies the signatures, parses every payload
shape, and its ``say``/``respond``/``client`` calls go through the sandbox's validation.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, Respond, Say
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.sandbox import DemoWorld, SlackSandbox

from .support import BOT_TOKEN, SIGNING_SECRET

SETUP_VIEW: dict[str, Any] = {
    "type": "modal",
    "callback_id": "setup",
    "title": {"type": "plain_text", "text": "Setup"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "name_input"},
        }
    ],
}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


def _build_app(sandbox: SlackSandbox) -> App:
    app = App(
        token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        client=WebClient(token=BOT_TOKEN, base_url=sandbox.api_url),
        process_before_response=True,
    )

    @app.command("/partner")
    def partner(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        if command["text"] == "setup":
            client.views_open(trigger_id=command["trigger_id"], view=SETUP_VIEW)
        else:
            respond(text="Status: all good")

    @app.action("pulse_good")
    def pulse_good(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        respond(text=f"Thanks <@{body['user']['id']}>", replace_original=True)

    @app.view("setup")
    def setup(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        name = view["state"]["values"]["name"]["name_input"]["value"]
        if name == "bad":
            ack(response_action="errors", errors={"name": "Pick another name"})
            return
        ack()
        client.chat_postMessage(channel="C0JOINT", text=f"Partnership {name} is set up")

    @app.event("member_joined_channel")
    def joined(event: dict[str, Any], say: Say) -> None:
        say(text=f"Welcome <@{event['user']}>")

    @app.event("member_left_channel")
    def left() -> None:
        return

    return app


@pytest.fixture
def bolt(sandbox: SlackSandbox, world: DemoWorld) -> Iterator[App]:
    app = _build_app(sandbox)
    server: WSGIServer = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    sandbox.bot_endpoint = f"http://127.0.0.1:{server.server_port}/slack/events"
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()


def test_bolt_handles_every_actor_request(sandbox: SlackSandbox, world: DemoWorld, bolt: App) -> None:
    lead = sandbox.actor(world.client_lead)

    assert lead.slash_command("/partner", "status", world.channel).status == 200
    assert sandbox.ephemerals(world.channel, user=world.client_lead)[-1]["text"] == "Status: all good"

    assert lead.slash_command("/partner", "setup", world.channel).status == 200
    (view,) = sandbox.open_views(world.client_lead)
    refused = lead.submit_view(view["id"], {"name": "bad"})
    assert refused.json == {"response_action": "errors", "errors": {"name": "Pick another name"}}
    assert lead.submit_view(view["id"], {"name": "Northwind x Contoso"}).status == 200
    assert sandbox.open_views(world.client_lead) == []
    assert sandbox.messages(world.channel)[-1]["text"] == "Partnership Northwind x Contoso is set up"

    button = {"type": "button", "text": {"type": "plain_text", "text": "Good"}, "action_id": "pulse_good", "value": "5"}
    posted = WebClient(token=BOT_TOKEN, base_url=sandbox.api_url).chat_postMessage(
        channel=world.channel, text="Pulse", blocks=[{"type": "actions", "elements": [button]}]
    )
    assert sandbox.actor(world.provider_lead).click(world.channel, posted["ts"], "pulse_good").status == 200
    assert sandbox.message(world.channel, posted["ts"])["text"] == f"Thanks <@{world.provider_lead}>"  # type: ignore[index]

    sandbox.add_user("U0PNEW", world.provider_team, "new.person", tz="Asia/Kolkata")
    assert sandbox.member_joined(world.channel, "U0PNEW").status == 200
    assert sandbox.messages(world.channel)[-1]["text"] == "Welcome <@U0PNEW>"
    assert sandbox.member_left(world.channel, "U0PNEW").status == 200

    # Forged and stale requests are refused by Bolt before any listener runs.
    calls_before = len(sandbox.calls)
    assert lead.slash_command("/partner", "status", world.channel, signature="v0=" + "0" * 64).status == 401
    assert lead.slash_command("/partner", "status", world.channel, timestamp=1).status == 401
    assert len(sandbox.calls) == calls_before

    assert all(d.status == 200 or d.status == 401 for d in sandbox.deliveries)
    assert sandbox.violations == []
