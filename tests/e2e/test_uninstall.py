"""Slack's ``app_uninstalled`` and ``tokens_revoked`` events, signed and posted to the running app: the workspace's
partnerships pause, its sending is held (nothing is sent, the queued messages stay in the outbox), the operator is
told once; people's tokens alone pause nothing; a reinstall sends what waited."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from slack_bolt import BoltContext

from bot.harness import LocalStack
from bot.sandbox.signed_requests import post_signed
from bot.services import installs, outbox_hold, partnerships
from handlers import events
from tests.conftest import START
from tests.helpers import menus_posted, setup_partnership

MENU_KEY = "before-uninstall"


def _installs_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == installs.logger.name]


def _status(stack: LocalStack) -> tuple[str, str | None]:
    p = partnerships.get_partnership(
        stack.services.uow_factory(), team_id=stack.world.client_team, channel_id=stack.world.channel
    )
    assert p is not None
    return p.status, p.pause_reason


def _outbox_status(stack: LocalStack, key: str) -> str:
    with stack.services.uow_factory().read_only() as uow:
        row = uow.outbox.get_by_key(key)
        assert row is not None
        return row.status


@pytest.mark.fault
def test_app_uninstalled_pauses_holds_sending_and_keeps_the_queued_messages(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    menus = menus_posted(stack)
    # A message queued (by scheduled work, say) and not sent yet when the app is uninstalled.
    partnerships.request_menu(
        stack.services.uow_factory(), team_id=w.client_team, channel_id=w.channel, request_key=MENU_KEY, now=START
    )
    with stack.services.uow_factory().read_only() as uow:
        p = uow.partnerships.get_by_channel(w.client_team, w.channel)
        assert p is not None
        key = f"menu:{p.id}:{MENU_KEY}"

    caplog.clear()
    with caplog.at_level(logging.INFO, logger=installs.logger.name):
        assert sb.event({"type": "app_uninstalled"}).status == 200
    assert _installs_lines(caplog) == [
        (
            logging.WARNING,
            f"workspace {w.client_team}: Slack sent app_uninstalled; sending held and 1 partnership(s) paused until "
            "PartnerPulse is reinstalled",
        )
    ]
    assert _status(stack) == ("paused", installs.UNINSTALLED)
    held = outbox_hold.sending_held(stack.services.uow_factory(), team_id=w.client_team)
    assert held is not None and held.needs_reinstall

    # Nothing is sent after, nor is the token re-checked, however long the heartbeat runs (the next Monday's pulse
    # is due on 7 December): not one call to Slack. The queued menu waits in the outbox.
    calls = len(sb.calls)
    for later in (timedelta(minutes=1), timedelta(hours=2), timedelta(days=8)):
        stack.tick(START + later)
    assert len(sb.calls) == calls, [c.method for c in sb.calls[calls:]]
    assert _outbox_status(stack, key) == "pending"
    assert menus_posted(stack) == menus

    # Slack's tokens_revoked that comes with an uninstall (and any repeat) changes nothing more: said at info.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=installs.logger.name):
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [w.client_lead], "bot": [w.bot_user]}}
        assert sb.event(revoked).status == 200
    assert [level for level, _ in _installs_lines(caplog)] == [logging.INFO]

    # Reinstalled: the partnership resumes and what waited is posted once.
    assert installs.workspace_installed(
        stack.services.uow_factory(), team_id=w.client_team, name="Northwind", bot_user_id=w.bot_user, now=START
    ) == installs.InstallResult(workspace_id=1, resumed=1)
    stack.tick(START + timedelta(days=8, minutes=1))
    assert _outbox_status(stack, key) == "sent"
    assert menus_posted(stack) == menus + 1


def test_tokens_revoked_for_people_only_pauses_nothing(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    assert stack.sandbox.event({"type": "tokens_revoked", "tokens": {"oauth": [w.client_lead]}}).status == 200
    assert _status(stack) == ("active", None)
    assert outbox_hold.sending_held(stack.services.uow_factory(), team_id=w.client_team) is None


@pytest.mark.parametrize("kind", ["app_uninstalled", "tokens_revoked"])
def test_an_uninstall_of_an_unknown_team_is_acknowledged(stack: LocalStack, kind: str) -> None:
    event: dict[str, Any] = {"type": kind, "tokens": {"bot": ["U0OTHER"]}} if kind == "tokens_revoked" else {"type": kind}
    body = json.dumps(
        {
            "token": stack.sandbox.verification_token,
            "team_id": "T0NOBODY",
            "api_app_id": stack.sandbox.app_id,
            "event": {**event, "event_ts": "1.0"},
            "type": "event_callback",
            "event_id": "Ev0NOBODY",
            "event_time": 1,
            "authorizations": [{"team_id": "T0NOBODY", "user_id": "U0OTHER", "is_bot": True}],
        }
    )
    response = post_signed(stack.sandbox, body, "application/json", kind="event", user_id=None)
    assert response.status == 200, response.body


class _Forgotten:
    """Records what the installation hooks were asked to forget."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool, bool]] = []

    def forget(self, team_id: str, *, bot: bool, user: bool) -> None:
        self.calls.append((team_id, bot, user))


def test_revoked_tokens_are_forgotten_by_the_installation_hooks(stack: LocalStack) -> None:
    setup_partnership(stack)
    team = stack.world.client_team
    hooks = _Forgotten()
    services = dataclasses.replace(stack.services, oauth=hooks)  # type: ignore[arg-type] # only its forget() is used
    context = BoltContext({"team_id": team})
    acked: list[bool] = []

    def ack() -> None:
        acked.append(True)

    events.ack_tokens_revoked(ack, {"tokens": {"oauth": ["U0CLEAD"]}}, context, services)  # type: ignore[arg-type]
    assert hooks.calls == [(team, False, True)] and _status(stack) == ("active", None)
    events.ack_tokens_revoked(ack, {"tokens": {"bot": ["U0BOT"]}}, context, services)  # type: ignore[arg-type]
    assert hooks.calls[-1] == (team, True, False) and _status(stack) == ("paused", installs.UNINSTALLED)
    events.ack_app_uninstalled(ack, context, services)  # type: ignore[arg-type]
    assert hooks.calls[-1] == (team, True, True)
    assert acked == [True, True, True]
