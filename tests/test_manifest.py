"""app_manifest.yml against the registered listeners and the Web API methods the code calls."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

import handlers
from bot.blocks import ids
from bot.sandbox.spec import SpecChecker, normalise_scope

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = yaml.safe_load((ROOT / "app_manifest.yml").read_text(encoding="utf-8"))
CLIENT_NAMES = {"client", "web_client"}


@pytest.fixture(scope="module")
def app() -> App:
    app = App(token="xox" + "b-test", signing_secret="x", token_verification_enabled=False)
    handlers.register_all(app)
    return app


def _manifest_commands() -> set[str]:
    return {c["command"] for c in MANIFEST["features"].get("slash_commands") or []}


def _manifest_events() -> set[str]:
    return set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])


def _matching(app: App, body: dict[str, Any]) -> list[str]:
    req = BoltRequest(body=body, mode="socket_mode")
    return [lst.ack_function.__name__ for lst in app._listeners if lst.matches(req=req, resp=BoltResponse(status=404))]


def _command_body(command: str) -> dict[str, Any]:
    return {"command": command, "text": "", "team_id": "T1", "user_id": "U1", "channel_id": "C1"}


def _event_body(event_type: str) -> dict[str, Any]:
    return {
        "type": "event_callback",
        "team_id": "T1",
        "event_id": "Ev1",
        "event": {"type": event_type, "user": "U1", "channel": "C1"},
    }


def _registered(app: App, kind: str) -> set[str]:
    """Literal ids the builtin matchers of ``kind`` (command, event, ...) were registered with."""
    found: set[str] = set()
    for lst in app._listeners:
        for matcher in lst.matchers:
            func = getattr(matcher, "func", None)
            if func is None or not func.__qualname__.startswith(f"{kind}.<locals>"):
                continue
            for cell in func.__closure__ or ():
                if isinstance(cell.cell_contents, str):
                    found.add(str(cell.cell_contents))
    return found


def test_manifest_commands_have_listeners(app: App) -> None:
    assert _manifest_commands(), "the manifest declares no slash command"
    for command in _manifest_commands():
        assert _matching(app, _command_body(command)), f"no listener for {command}"
    assert _matching(app, _command_body("/not-ours")) == []


def test_registered_commands_are_in_the_manifest(app: App) -> None:
    registered = _registered(app, "command")
    assert registered, "found no registered slash command"
    assert registered == _manifest_commands()
    assert {c.value for c in ids.Command} <= _manifest_commands()


def test_manifest_events_have_specific_listeners(app: App) -> None:
    for event in _manifest_events():
        matches = _matching(app, _event_body(event))
        assert matches, f"no listener for {event}"
        # Bolt runs the first match: it must be a real handler, not the acknowledge-everything catch-all.
        assert matches[0] not in _matching(app, _event_body("pp_no_such_event")), (event, matches)
    assert _registered(app, "event") - {"message"} <= _manifest_events()


def test_unknown_events_are_still_acknowledged(app: App) -> None:
    assert _matching(app, _event_body("reaction_added")), "an unhandled event would get Bolt's 404"


def _manifest_shortcuts() -> set[tuple[str, str]]:
    return {(s.get("type", "global"), s["callback_id"]) for s in MANIFEST["features"].get("shortcuts") or []}


def _shortcut_body(kind: str, callback_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message_action" if kind == "message" else "shortcut",
        "callback_id": callback_id,
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "trigger_id": "1.2.3",
    }
    if kind == "message":
        body.update({"channel": {"id": "C1"}, "message_ts": "1.2", "message": {"text": "x", "ts": "1.2"}})
    return body


def test_manifest_shortcuts_have_listeners_and_listeners_are_in_the_manifest(app: App) -> None:
    shortcuts = _manifest_shortcuts()
    assert ("message", ids.Shortcut.LOG_ISSUE.value) in shortcuts
    for kind, callback_id in shortcuts:
        assert _matching(app, _shortcut_body(kind, callback_id)), f"no listener for the {kind} shortcut {callback_id}"
    registered = {("message", c) for c in _registered(app, "message_shortcut")} | {
        ("global", c) for c in _registered(app, "global_shortcut")
    }
    assert registered == shortcuts
    assert {("message", s.value) for s in ids.Shortcut} <= shortcuts
    # The shortcut's name is what people see in the message menu; Slack allows 30 characters.
    assert all(len(s["name"]) <= 30 for s in MANIFEST["features"]["shortcuts"])


def test_home_tab_is_enabled_and_published_on_app_home_opened(app: App) -> None:
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert ids.Event.APP_HOME_OPENED.value in _manifest_events()
    assert _matching(app, _event_body("app_home_opened"))[0] == "ack_home_opened"


def test_socket_mode_and_interactivity_are_on() -> None:
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["settings"].get("token_rotation_enabled") is False


def _api_method(python_name: str) -> str:
    source = inspect.getsource(getattr(WebClient, python_name))
    match = re.search(r'api_call\(\s*"([^"]+)"', source)
    if match:
        return match.group(1)
    if python_name == "files_upload_v2":  # composed of two calls, each checked on its own
        return "files.getUploadURLExternal"
    raise AssertionError(f"cannot map WebClient.{python_name} to a Web API method")


#: Calls that return a workspace's client (``clients.client_for(team)``, the sender's ``self._client(item)``).
CLIENT_GETTERS = ("client_for", "_client")


def _is_client(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in CLIENT_NAMES
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Attribute) and node.func.attr in CLIENT_GETTERS
    return isinstance(node, ast.Attribute) and node.attr in CLIENT_NAMES


def _client_calls() -> dict[str, list[str]]:
    """Web API method → where the code calls it, from ``client.<method>(`` in bot/ (not the sandbox) and handlers/."""
    calls: dict[str, list[str]] = {}
    files = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]
    for path in files:
        if "sandbox" in path.relative_to(ROOT).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_client(node.func.value):
                name = node.func.attr
                if hasattr(WebClient, name) and callable(getattr(WebClient, name)) and not name.startswith("_"):
                    if name in ("api_call",):
                        continue
                    calls.setdefault(_api_method(name), []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return calls


@pytest.fixture(scope="module")
def checker() -> SpecChecker:
    return SpecChecker.load(manifest_path=ROOT / "app_manifest.yml")


def test_the_scan_finds_the_calls() -> None:
    calls = _client_calls()
    for expected in ("chat.postMessage", "chat.postEphemeral", "views.open", "users.info"):
        assert expected in calls, sorted(calls)


def test_every_needed_scope_is_requested_and_none_unused(checker: SpecChecker) -> None:
    requested = {normalise_scope(s) for s in MANIFEST["oauth_config"]["scopes"]["bot"]}
    used: set[str] = set()
    problems: list[str] = []
    for method, where in sorted(_client_calls().items()):
        spec = checker.method(method)
        if spec is None:
            problems.append(f"{method} ({where[0]}) is not a Slack Web API method")
            continue
        if not spec.needs_scope:
            continue
        accepted = checker.accepted_scopes(spec)
        granted = accepted & requested
        if not granted:
            problems.append(f"{method} ({where[0]}) needs one of {sorted(accepted)}")
        used |= granted
    assert not problems, "\n".join(problems)
    unused = requested - used - {"commands"}
    assert not unused, f"scopes requested but not used by any call: {sorted(unused)}"
    assert "commands" in requested  # slash commands need it, though no Web API method does


def test_partner_command_escapes_mentions_so_side_can_find_people() -> None:
    """`/partner side @person …` needs Slack to send <@U…|name>; that only happens with should_escape."""
    import yaml

    from bot.services.partnership_models import Side
    from handlers.command_parser import parse_command
    from handlers.command_types import SideAssign

    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "app_manifest.yml").read_text())
    command = next(c for c in manifest["features"]["slash_commands"] if c["command"] == "/partner")
    assert command["should_escape"] is True
    assert parse_command("side <@U0CLEAD|dana> provider") == SideAssign("U0CLEAD", Side.PROVIDER)


HISTORY_METHODS = ("conversations.history", "conversations.replies")


def test_19_no_code_path_reads_a_channels_history_or_a_threads_replies() -> None:
    """Check 19 of a trustworthy Slack bot: PartnerPulse keeps what it needs (message ts, outbox rows) and never reads
    history, which is Tier 1 (one call a minute) for apps outside the Marketplace. Neither method is called, named
    (``api_call``, a string) or granted a scope."""
    assert not set(HISTORY_METHODS) & set(_client_calls())
    product = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py"), *(ROOT / "storage").rglob("*.py")]
    for path in product:
        if "sandbox" in path.relative_to(ROOT).parts:
            continue
        text = path.read_text(encoding="utf-8")
        for method in HISTORY_METHODS:
            assert method not in text and method.replace(".", "_") not in text, f"{path.relative_to(ROOT)} names {method}"
    assert not [s for s in MANIFEST["oauth_config"]["scopes"]["bot"] if s.endswith(":history")]


def test_an_oauth_install_asks_for_the_manifests_scopes_and_the_install_page_explains_each() -> None:
    from bot.install_pages import SCOPE_PURPOSES
    from bot.oauth_app import BOT_SCOPES

    assert list(BOT_SCOPES) == MANIFEST["oauth_config"]["scopes"]["bot"]
    assert set(SCOPE_PURPOSES) == set(BOT_SCOPES)
