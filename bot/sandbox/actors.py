"""The sandbox playing Slack's side of interactivity: users who type commands, click and submit.

Each action builds the payload Slack would send (same fields, same nesting, the installing team in
``team`` and the user's home team in ``user.team_id``), signs it with the app's signing secret as Slack
does (``v0=HMAC-SHA256(secret, "v0:<ts>:<body>")``) and POSTs it to ``sandbox.bot_endpoint``. The
bot's answer is then applied as Slack would apply it (a slash command's ephemeral reply, a modal
closing, updating or showing errors).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from .blocks import block_elements, element_options, view_errors
from .models import SandboxError, SlackError

if TYPE_CHECKING:
    from .server import SlackSandbox

Json = dict[str, Any]

REQUEST_TIMEOUT = 10.0
ACK_DEADLINE = 3.0


class ActorError(SandboxError):
    """The requested interaction is impossible in Slack (no such button, a user outside the channel, ...)."""


@dataclass(frozen=True)
class ActorResponse:
    """The bot's HTTP answer to a delivered request."""

    status: int
    body: str
    json: Json | None
    elapsed: float

    @property
    def acked_in_time(self) -> bool:
        """True when the bot answered 2xx within Slack's 3-second deadline."""
        return 200 <= self.status < 300 and self.elapsed <= ACK_DEADLINE


@dataclass(frozen=True)
class Delivery:
    """One request the sandbox delivered to the bot."""

    kind: str
    user_id: str | None
    status: int
    elapsed: float
    event_id: str | None = None


def _opener() -> urllib.request.OpenerDirector:
    # The bot listens on localhost: never route through a proxy from the environment.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_signed(
    sandbox: SlackSandbox,
    body: str,
    content_type: str,
    *,
    kind: str,
    user_id: str | None,
    timestamp: int | str | None = None,
    signature: str | None = None,
    headers: Mapping[str, str] | None = None,
    event_id: str | None = None,
) -> ActorResponse:
    """Sign ``body`` like Slack and POST it to the bot; returns the bot's answer."""
    if not sandbox.bot_endpoint:
        raise ActorError("sandbox.bot_endpoint is not set: point it at the bot's /slack/events URL")
    # Bolt checks the timestamp against the real clock, so sign with real time even if the sandbox's is fake.
    stamp = str(timestamp) if timestamp is not None else str(int(time.time()))
    if signature is None:
        signature = SignatureVerifier(sandbox.signing_secret).generate_signature(timestamp=stamp, body=body) or ""
    request_headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    request_headers.update(headers or {})
    request = urllib.request.Request(sandbox.bot_endpoint, data=body.encode("utf-8"), headers=request_headers, method="POST")
    started = time.monotonic()
    try:
        with _opener().open(request, timeout=REQUEST_TIMEOUT) as answer:
            status = int(answer.status)
            text = answer.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        status = int(error.code)
        text = error.read().decode("utf-8", errors="replace")
    elapsed = time.monotonic() - started
    parsed: Json | None = None
    if text.strip():
        try:
            decoded = json.loads(text)
            parsed = decoded if isinstance(decoded, dict) else None
        except json.JSONDecodeError:
            parsed = None
    sandbox.record_delivery(Delivery(kind=kind, user_id=user_id, status=status, elapsed=elapsed, event_id=event_id))
    return ActorResponse(status=status, body=text, json=parsed, elapsed=elapsed)


# ---------------------------------------------------------------------------- view state


def _option_by_value(element: Json, value: object, block_id: str) -> Json:
    for option in element_options(element):
        if option.get("value") == value:
            return option
    values = [o.get("value") for o in element_options(element)]
    raise ActorError(f"{block_id}: no option with value {value!r} (options: {values})")


def _initial_entry(element: Json) -> Json:
    kind = str(element.get("type"))
    entry: Json = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        entry["value"] = element.get("initial_value")
    elif kind in ("static_select", "radio_buttons", "external_select"):
        entry["selected_option"] = element.get("initial_option")
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        entry["selected_options"] = list(element.get("initial_options") or [])
    elif kind == "users_select":
        entry["selected_user"] = element.get("initial_user")
    elif kind == "multi_users_select":
        entry["selected_users"] = list(element.get("initial_users") or [])
    elif kind == "conversations_select":
        entry["selected_conversation"] = element.get("initial_conversation")
    elif kind == "multi_conversations_select":
        entry["selected_conversations"] = list(element.get("initial_conversations") or [])
    elif kind == "channels_select":
        entry["selected_channel"] = element.get("initial_channel")
    elif kind == "multi_channels_select":
        entry["selected_channels"] = list(element.get("initial_channels") or [])
    elif kind == "datepicker":
        entry["selected_date"] = element.get("initial_date")
    elif kind == "timepicker":
        entry["selected_time"] = element.get("initial_time")
    elif kind == "datetimepicker":
        entry["selected_date_time"] = element.get("initial_date_time")
    elif kind == "rich_text_input":
        entry["rich_text_value"] = element.get("initial_value")
    return entry


def _as_list(value: object) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _given_entry(element: Json, value: object, block_id: str, *, force: bool) -> Json:
    kind = str(element.get("type"))
    entry: Json = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input"):
        text = None if value is None else str(value)
        if text is not None and not force:
            max_length = element.get("max_length")
            min_length = element.get("min_length")
            if isinstance(max_length, int) and len(text) > max_length:
                raise ActorError(f"{block_id}: Slack's client refuses more than {max_length} characters")
            if isinstance(min_length, int) and 0 < len(text) < min_length:
                raise ActorError(f"{block_id}: Slack's client refuses fewer than {min_length} characters")
        entry["value"] = text
    elif kind == "number_input":
        if value is not None and not force:
            try:
                float(str(value))
            except ValueError as exc:
                raise ActorError(f"{block_id}: {value!r} is not a number") from exc
        entry["value"] = None if value is None else str(value)
    elif kind in ("static_select", "radio_buttons"):
        entry["selected_option"] = None if value is None else _option_by_value(element, value, block_id)
    elif kind == "external_select":
        entry["selected_option"] = (
            None if value is None else {"text": {"type": "plain_text", "text": str(value)}, "value": value}
        )
    elif kind in ("multi_static_select", "checkboxes"):
        entry["selected_options"] = [_option_by_value(element, v, block_id) for v in _as_list(value) if v is not None]
    elif kind == "users_select":
        entry["selected_user"] = value
    elif kind == "multi_users_select":
        entry["selected_users"] = [v for v in _as_list(value) if v is not None]
    elif kind == "conversations_select":
        entry["selected_conversation"] = value
    elif kind == "multi_conversations_select":
        entry["selected_conversations"] = [v for v in _as_list(value) if v is not None]
    elif kind == "channels_select":
        entry["selected_channel"] = value
    elif kind == "multi_channels_select":
        entry["selected_channels"] = [v for v in _as_list(value) if v is not None]
    elif kind == "datepicker":
        entry["selected_date"] = value
    elif kind == "timepicker":
        entry["selected_time"] = value
        if element.get("timezone"):
            entry["timezone"] = element["timezone"]
    elif kind == "datetimepicker":
        entry["selected_date_time"] = None if value is None else int(str(value))
    else:
        raise ActorError(f"{block_id}: the sandbox cannot fill a {kind} element")
    return entry


def _is_empty(entry: Json) -> bool:
    values = [v for k, v in entry.items() if k not in ("type", "timezone")]
    return all(v in (None, "", []) for v in values)


def build_view_state(view: Json, values: Mapping[str, object], *, force: bool = False) -> Json:
    """Slack's ``view.state.values`` for a submission: given values, else each element's initial value."""
    inputs = {
        str(block.get("block_id")): block
        for block in view.get("blocks") or []
        if isinstance(block, dict) and block.get("type") == "input"
    }
    unknown = sorted(set(values) - set(inputs))
    if unknown:
        raise ActorError(f"{unknown} are not input blocks of view {view.get('id')} (input blocks: {sorted(inputs)})")
    state: Json = {}
    for block_id, block in inputs.items():
        element = block.get("element") or {}
        action_id = str(element.get("action_id"))
        if block_id in values:
            entry = _given_entry(element, values[block_id], block_id, force=force)
        else:
            entry = _initial_entry(element)
        if not force and not block.get("optional") and _is_empty(entry):
            raise ActorError(f"{block_id} is a required input; Slack would not let the user submit it empty")
        state[block_id] = {action_id: entry}
    return state


# ---------------------------------------------------------------------------- actors


def _public_view(view: Json) -> Json:
    return {k: v for k, v in view.items() if k != "user_id"}


def _action_for(element: Json, block_id: str, value: str | None, action_ts: str) -> Json:
    kind = str(element.get("type"))
    action: Json = {"type": kind, "action_id": element.get("action_id"), "block_id": block_id}
    if kind == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons"):
        if value is None:
            raise ActorError(f"choose an option: give value= for the {kind} {element.get('action_id')}")
        action["selected_option"] = _option_by_value(element, value, block_id)
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
    elif kind == "users_select":
        action["selected_user"] = value
    elif kind == "conversations_select":
        action["selected_conversation"] = value
    elif kind == "checkboxes":
        action["selected_options"] = [_option_by_value(element, value, block_id)] if value is not None else []
    elif kind == "datepicker":
        action["selected_date"] = value
    else:
        raise ActorError(f"the sandbox cannot click a {kind} element")
    action["action_ts"] = action_ts
    return action


def _find_element(
    blocks: object, action_id: str, *, value: str | None, block_id: str | None, where: str
) -> tuple[Json, str]:
    candidates: list[tuple[Json, str]] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in block_elements(block):
            if element.get("action_id") == action_id:
                candidates.append((element, str(block.get("block_id"))))
    if value is not None:
        narrowed = [
            (element, bid)
            for element, bid in candidates
            if element.get("value") == value or any(o.get("value") == value for o in element_options(element))
        ]
        candidates = narrowed
    if not candidates:
        raise ActorError(
            f"no element with action_id={action_id!r}"
            + (f" and value={value!r}" if value is not None else "")
            + (f" in block {block_id!r}" if block_id is not None else "")
            + f" in {where}"
        )
    return candidates[0]


class SandboxActor:
    """A user of the sandbox who sends Slack's signed requests to the bot."""

    def __init__(self, sandbox: SlackSandbox, user_id: str) -> None:
        self.sandbox = sandbox
        self.user_id = user_id

    # -------------------------------------------------------------- shared pieces

    def _user_obj(self) -> Json:
        user = self.sandbox.snapshot_user(self.user_id)
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}

    def _team_obj(self) -> Json:
        # Slack names the installing workspace here, also when the user is from another org.
        team_id, _, _ = self.sandbox.installation()
        team = self.sandbox.snapshot_team(team_id)
        return {"id": team.id, "domain": team.domain}

    def _channel_obj(self, channel_id: str) -> Json:
        channel = self.sandbox.snapshot_channel(channel_id)
        return {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name}

    def _require_member(self, channel_id: str, force: bool) -> None:
        if force:
            return
        channel = self.sandbox.snapshot_channel(channel_id)
        if self.user_id not in channel.members:
            raise ActorError(f"{self.user_id} is not a member of {channel_id}; Slack would not show them its messages")

    def _action_ts(self) -> str:
        return f"{time.time():.6f}"

    def _post_payload(
        self,
        payload: Json,
        kind: str,
        timestamp: int | str | None,
        signature: str | None,
        headers: Mapping[str, str] | None,
    ) -> ActorResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return post_signed(
            self.sandbox,
            body,
            "application/x-www-form-urlencoded",
            kind=kind,
            user_id=self.user_id,
            timestamp=timestamp,
            signature=signature,
            headers=headers,
        )

    # -------------------------------------------------------------- slash commands

    def slash_command(
        self,
        command: str,
        text: str = "",
        channel_id: str = "",
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> ActorResponse:
        """Type ``/command text`` in a channel. The ack body, if any, is shown like Slack shows it."""
        sandbox = self.sandbox
        team_id, _, _ = sandbox.installation()
        user = sandbox.snapshot_user(self.user_id)
        if not force:
            if command not in sandbox.manifest.slash_commands:
                raise ActorError(f"{command} is not a slash command in app_manifest.yml {sandbox.manifest.slash_commands}")
            if user.team_id != team_id:
                raise ActorError(
                    f"{self.user_id} is from {user.team_id}: Slack does not offer an app's slash commands to members "
                    "of an organisation that has not installed it"
                )
        self._require_member(channel_id, force)
        team = sandbox.snapshot_team(team_id)
        response_url = sandbox.issue_response_url(self.user_id, channel_id)
        fields = {
            "token": sandbox.verification_token,
            "team_id": user.team_id,
            "team_domain": team.domain,
            "channel_id": channel_id,
            "channel_name": self._channel_obj(channel_id)["name"],
            "user_id": self.user_id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": sandbox.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": sandbox.issue_trigger_id(self.user_id),
        }
        response = post_signed(
            sandbox,
            urlencode(fields),
            "application/x-www-form-urlencoded",
            kind="slash_command",
            user_id=self.user_id,
            timestamp=timestamp,
            signature=signature,
            headers=headers,
        )
        if 200 <= response.status < 300 and response.body.strip():
            # Slack shows an ack body to the user: JSON as a message, plain text as ephemeral text.
            ack = response.json if response.json is not None else {"text": response.body}
            if ack.get("text") or ack.get("blocks"):
                sandbox.apply_command_ack(response_url, ack)
        return response

    # -------------------------------------------------------------- block actions

    def click(
        self,
        channel_id: str,
        message_ts: str,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str | None = None,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> ActorResponse:
        """Click a button (or choose an option) in a channel message."""
        sandbox = self.sandbox
        message = sandbox.message(channel_id, message_ts)
        if message is None:
            raise ActorError(f"no message {message_ts} in {channel_id}")
        self._require_member(channel_id, force)
        element, real_block_id = _find_element(
            message.get("blocks"), action_id, value=value, block_id=block_id, where=f"message {message_ts}"
        )
        payload = self._block_actions(
            {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": False},
            _action_for(element, real_block_id, value, self._action_ts()),
            channel=self._channel_obj(channel_id),
            message=message,
            state={"values": {}},
            response_url=sandbox.issue_response_url(self.user_id, channel_id, source_ts=message_ts),
        )
        return self._post_payload(payload, "block_actions", timestamp, signature, headers)

    def _block_actions(self, container: Json, action: Json, **extra: Any) -> Json:
        """The common shape of a ``block_actions`` payload; ``extra`` adds the container-specific fields."""
        sandbox = self.sandbox
        return {
            "type": "block_actions",
            "user": self._user_obj(),
            "api_app_id": sandbox.app_id,
            "token": sandbox.verification_token,
            "container": container,
            "trigger_id": sandbox.issue_trigger_id(self.user_id),
            "team": self._team_obj(),
            "enterprise": None,
            "is_enterprise_install": False,
            **extra,
            "actions": [action],
        }

    def click_ephemeral(
        self,
        channel_id: str,
        message_ts: str,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str | None = None,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ActorResponse:
        """Click a button in an ephemeral message shown to this user (Slack sends no ``message`` then)."""
        sandbox = self.sandbox
        candidates = [m for m in sandbox.ephemerals(channel_id, user=self.user_id) if m.get("ts") == message_ts]
        if not candidates:
            raise ActorError(f"no ephemeral message {message_ts} for {self.user_id} in {channel_id}")
        element, real_block_id = _find_element(
            candidates[0].get("blocks"), action_id, value=value, block_id=block_id, where=f"ephemeral {message_ts}"
        )
        payload = self._block_actions(
            {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": True},
            _action_for(element, real_block_id, value, self._action_ts()),
            channel=self._channel_obj(channel_id),
            state={"values": {}},
            response_url=sandbox.issue_response_url(self.user_id, channel_id, source_ts=message_ts, ephemeral=True),
        )
        return self._post_payload(payload, "block_actions", timestamp, signature, headers)

    def _own_open_view(self, view_id: str) -> Json:
        view = self.sandbox.view(view_id)
        if view is None:
            raise ActorError(f"no view {view_id}")
        if view.get("user_id") != self.user_id:
            raise ActorError(f"view {view_id} belongs to {view.get('user_id')}, not {self.user_id}")
        if not self.sandbox.is_view_open(view_id):
            raise ActorError(f"view {view_id} is closed")
        return view

    def click_in_view(
        self,
        view_id: str,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str | None = None,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ActorResponse:
        """Click a button (or choose an option) inside an open modal or the Home tab."""
        view = self._own_open_view(view_id)
        element, real_block_id = _find_element(
            view.get("blocks"), action_id, value=value, block_id=block_id, where=f"view {view_id}"
        )
        payload = self._block_actions(
            {"type": "view", "view_id": view_id},
            _action_for(element, real_block_id, value, self._action_ts()),
            view=_public_view(view),
        )
        return self._post_payload(payload, "block_actions", timestamp, signature, headers)

    # -------------------------------------------------------------- views

    def submit_view(
        self,
        view_id: str,
        values: Mapping[str, object] | None = None,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> ActorResponse:
        """Fill a modal's input blocks (``{block_id: value}``) and press Submit; apply the bot's response_action."""
        sandbox = self.sandbox
        view = self._own_open_view(view_id)
        if view.get("type") != "modal":
            raise ActorError(f"view {view_id} is a {view.get('type')} view; only modals are submitted")
        state = build_view_state(view, values or {}, force=force)
        sandbox.set_view_state(view_id, state)
        view["state"] = {"values": state}
        payload: Json = {
            "type": "view_submission",
            "team": self._team_obj(),
            "user": self._user_obj(),
            "api_app_id": sandbox.app_id,
            "token": sandbox.verification_token,
            "trigger_id": sandbox.issue_trigger_id(self.user_id),
            "view": _public_view(view),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        response = self._post_payload(payload, "view_submission", timestamp, signature, headers)
        self._apply_submission_response(view, response)
        return response

    def _apply_submission_response(self, view: Json, response: ActorResponse) -> None:
        sandbox = self.sandbox
        view_id = str(view["id"])
        if not 200 <= response.status < 300:
            return  # Slack shows "We had some trouble connecting" and keeps the view open
        if not response.body.strip():
            sandbox.close_modal(view_id)
            return
        answer = response.json
        if answer is None:
            sandbox.record_violation("view_submission", f"the response to {view_id}'s submission is not JSON")
            return
        action = answer.get("response_action")
        if action is None:
            sandbox.close_modal(view_id)
        elif action == "errors":
            errors = answer.get("errors")
            inputs = {str(b.get("block_id")) for b in view.get("blocks") or [] if b.get("type") == "input"}
            if not isinstance(errors, dict) or not errors:
                sandbox.record_violation("view_submission", "response_action errors without an errors object")
                return
            stray = sorted(set(errors) - inputs)
            if stray:
                # Slack only shows errors keyed by an input block's block_id; others are silently lost.
                sandbox.record_violation("view_submission", f"errors keyed by non-input blocks {stray} of {view_id}")
        elif action in ("update", "push"):
            new_view = answer.get("view")
            problem = view_errors(new_view)
            if problem is None and isinstance(new_view, dict) and new_view.get("type") != "modal":
                problem = ("invalid_arguments", ["must be modal [json-pointer:/view/type]"])
            if problem is not None:
                code, messages = problem
                sandbox.record_violation("view_submission", f"response_action {action}: {code} {messages}")
                return
            assert isinstance(new_view, dict)
            if action == "update":
                sandbox.replace_view_content(view_id, new_view)
            else:
                try:
                    sandbox.open_modal_for(new_view, self.user_id, push=True)
                except SlackError as exc:
                    sandbox.record_violation("view_submission", f"response_action push: {exc.error}")
        elif action == "clear":
            sandbox.clear_modals(self.user_id)
        else:
            sandbox.record_violation("view_submission", f"unknown response_action {action!r}")

    def close_view(
        self,
        view_id: str,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ActorResponse | None:
        """Press Cancel/X. Slack tells the app (``view_closed``) only if the view set ``notify_on_close``."""
        sandbox = self.sandbox
        view = self._own_open_view(view_id)
        if view.get("type") != "modal":
            raise ActorError(f"view {view_id} is a {view.get('type')} view; only modals are closed")
        cleared = bool(view.get("clear_on_close"))
        if cleared:
            sandbox.clear_modals(self.user_id)
        else:
            sandbox.close_modal(view_id)
        if not view.get("notify_on_close"):
            return None
        payload: Json = {
            "type": "view_closed",
            "team": self._team_obj(),
            "user": self._user_obj(),
            "api_app_id": sandbox.app_id,
            "token": sandbox.verification_token,
            "view": _public_view(view),
            "is_cleared": cleared,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self._post_payload(payload, "view_closed", timestamp, signature, headers)

    # -------------------------------------------------------------- shortcuts

    def message_shortcut(
        self,
        callback_id: str,
        channel_id: str,
        message_ts: str,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> ActorResponse:
        """Run a message shortcut on a message (``message_action`` payload)."""
        sandbox = self.sandbox
        if not force and ("message", callback_id) not in sandbox.manifest.shortcuts:
            raise ActorError(f"{callback_id} is not a message shortcut in app_manifest.yml")
        message = sandbox.message(channel_id, message_ts)
        if message is None:
            raise ActorError(f"no message {message_ts} in {channel_id}")
        self._require_member(channel_id, force)
        payload: Json = {
            "type": "message_action",
            "token": sandbox.verification_token,
            "action_ts": self._action_ts(),
            "team": self._team_obj(),
            "user": self._user_obj(),
            "channel": self._channel_obj(channel_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": sandbox.issue_trigger_id(self.user_id),
            "response_url": sandbox.issue_response_url(self.user_id, channel_id),
            "message_ts": message_ts,
            "message": message,
        }
        return self._post_payload(payload, "message_action", timestamp, signature, headers)

    def global_shortcut(
        self,
        callback_id: str,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> ActorResponse:
        """Run a global shortcut (``shortcut`` payload)."""
        sandbox = self.sandbox
        if not force and ("global", callback_id) not in sandbox.manifest.shortcuts:
            raise ActorError(f"{callback_id} is not a global shortcut in app_manifest.yml")
        payload: Json = {
            "type": "shortcut",
            "token": sandbox.verification_token,
            "action_ts": self._action_ts(),
            "team": self._team_obj(),
            "user": self._user_obj(),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": sandbox.issue_trigger_id(self.user_id),
        }
        return self._post_payload(payload, "shortcut", timestamp, signature, headers)


# ---------------------------------------------------------------------------- events


def deliver_event(
    sandbox: SlackSandbox,
    event: Json,
    *,
    event_id: str | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    timestamp: int | str | None = None,
    signature: str | None = None,
    headers: Mapping[str, str] | None = None,
    force: bool = False,
) -> ActorResponse:
    """Wrap ``event`` in Slack's ``event_callback`` envelope, sign it and POST it to the bot."""
    team_id, bot_user, _ = sandbox.installation()
    kind = str(event.get("type", ""))
    if not force and kind not in sandbox.manifest.bot_events:
        raise ActorError(f"{kind!r} is not in app_manifest.yml's bot_events; Slack would not deliver it")
    inner = dict(event)
    inner.setdefault("event_ts", f"{time.time():.6f}")
    eid = event_id or sandbox.new_event_id()
    shared = False
    channel = inner.get("channel")
    if isinstance(channel, str):
        try:
            shared = sandbox.snapshot_channel(channel).is_ext_shared
        except SandboxError:
            shared = False
    envelope: Json = {
        "token": sandbox.verification_token,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": sandbox.app_id,
        "event": inner,
        "type": "event_callback",
        "event_id": eid,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": shared,
        "event_context": f"4-sandbox-{eid}",
    }
    extra = dict(headers or {})
    if retry_num is not None:
        extra.setdefault("X-Slack-Retry-Num", str(retry_num))
        extra.setdefault("X-Slack-Retry-Reason", retry_reason)
    return post_signed(
        sandbox,
        json.dumps(envelope),
        "application/json",
        kind=f"event:{kind}",
        user_id=None,
        timestamp=timestamp,
        signature=signature,
        headers=extra,
        event_id=eid,
    )
