"""The sandbox playing Slack's side of interactivity: users who type commands, click and submit.

Each action builds the payload Slack would send (same fields, same nesting, the installation's team in
``team`` and the user's home team in ``user.team_id``) and has it signed and POSTed to
``sandbox.bot_endpoint`` (:mod:`.signed_requests`). The bot's answer is then applied as Slack would
apply it (a slash command's ephemeral reply, a modal closing, updating or showing errors).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Unpack
from urllib.parse import urlencode

# post_signed is looked up on its module at call time, so a benchmark can capture requests instead.
from . import signed_requests
from .block_input import action_for, build_view_state, find_element, public_view
from .models import ActorError, ActorResponse
from .signed_requests import Signing

if TYPE_CHECKING:
    from .server import SlackSandbox

Json = dict[str, Any]

#: What every interactive payload of a workspace that is not part of an Enterprise Grid says about it.
NOT_ENTERPRISE: Json = {"is_enterprise_install": False, "enterprise": None}


class SandboxActor:
    """A user of the sandbox who sends Slack's signed requests to the bot."""

    def __init__(self, sandbox: SlackSandbox, user_id: str) -> None:
        self.sandbox = sandbox
        self.user_id = user_id

    # -------------------------------------------------------------- shared pieces

    def _user_obj(self) -> Json:
        user = self.sandbox.snapshot_user(self.user_id)
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}

    def _team_obj(self, team_id: str | None = None) -> Json:
        """The installation's workspace the request goes to: the person's own if it installed the app (commands,
        shortcuts), the poster's for a click on a message, the opener's for a view; else the default one."""
        team = self.sandbox.snapshot_team(self.sandbox.context_team(team_id))
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
        signing: Signing,
    ) -> ActorResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return signed_requests.post_signed(
            self.sandbox,
            body,
            "application/x-www-form-urlencoded",
            kind=kind,
            user_id=self.user_id,
            **signing,
        )

    # -------------------------------------------------------------- slash commands

    def slash_command(
        self,
        command: str,
        text: str = "",
        channel_id: str = "",
        *,
        force: bool = False,
        **signing: Unpack[Signing],
    ) -> ActorResponse:
        """Type ``/command text`` in a channel. The ack body, if any, is shown like Slack shows it."""
        sandbox = self.sandbox
        team_id = sandbox.home_team(self.user_id)
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
        response_url = sandbox.issue_response_url(self.user_id, channel_id, team_id=team_id)
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
        response = signed_requests.post_signed(
            sandbox,
            urlencode(fields),
            "application/x-www-form-urlencoded",
            kind="slash_command",
            user_id=self.user_id,
            **signing,
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
        force: bool = False,
        **signing: Unpack[Signing],
    ) -> ActorResponse:
        """Click a button (or choose an option) in a channel message."""
        message = self.sandbox.message(channel_id, message_ts)
        if message is None:
            raise ActorError(f"no message {message_ts} in {channel_id}")
        self._require_member(channel_id, force)
        return self._click_in_message(channel_id, message_ts, message, action_id, value, block_id, signing, ephemeral=False)

    def _click_in_message(
        self,
        channel_id: str,
        message_ts: str,
        message: Json,
        action_id: str,
        value: str | None,
        block_id: str | None,
        signing: Signing,
        *,
        ephemeral: bool,
    ) -> ActorResponse:
        """The ``block_actions`` of a click in ``message`` (a channel message or an ephemeral one), for the
        installation that posted it; Slack sends the ``message`` itself only for a channel message."""
        sandbox = self.sandbox
        element, real_block_id = find_element(
            message.get("blocks"),
            action_id,
            value=value,
            block_id=block_id,
            where=f"{'ephemeral' if ephemeral else 'message'} {message_ts}",
        )
        team_id = sandbox.context_team(message.get("team"))  # the installation that posted the message
        shown: Json = {} if ephemeral else {"message": message}
        payload = self._block_actions(
            {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": ephemeral},
            action_for(element, real_block_id, value, self._action_ts()),
            team_id,
            channel=self._channel_obj(channel_id),
            **shown,
            state={"values": {}},
            response_url=sandbox.issue_response_url(
                self.user_id, channel_id, source_ts=message_ts, ephemeral=ephemeral, team_id=team_id
            ),
        )
        return self._post_payload(payload, "block_actions", signing)

    def _block_actions(self, container: Json, action: Json, team_id: str | None, **extra: Any) -> Json:
        """The common shape of a ``block_actions`` payload for ``team_id``'s installation; ``extra`` adds the
        container-specific fields."""
        sandbox = self.sandbox
        return {
            "type": "block_actions",
            "user": self._user_obj(),
            "api_app_id": sandbox.app_id,
            "token": sandbox.verification_token,
            "container": container,
            "trigger_id": sandbox.issue_trigger_id(self.user_id),
            "team": self._team_obj(team_id),
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
        **signing: Unpack[Signing],
    ) -> ActorResponse:
        """Click a button in an ephemeral message shown to this user (Slack sends no ``message`` then)."""
        candidates = [m for m in self.sandbox.ephemerals(channel_id, user=self.user_id) if m.get("ts") == message_ts]
        if not candidates:
            raise ActorError(f"no ephemeral message {message_ts} for {self.user_id} in {channel_id}")
        return self._click_in_message(
            channel_id, message_ts, candidates[0], action_id, value, block_id, signing, ephemeral=True
        )

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
        **signing: Unpack[Signing],
    ) -> ActorResponse:
        """Click a button (or choose an option) inside an open modal or the Home tab."""
        view = self._own_open_view(view_id)
        element, real_block_id = find_element(
            view.get("blocks"), action_id, value=value, block_id=block_id, where=f"view {view_id}"
        )
        payload = self._block_actions(
            {"type": "view", "view_id": view_id},
            action_for(element, real_block_id, value, self._action_ts()),
            view.get("app_installed_team_id"),
            view=public_view(view),
        )
        return self._post_payload(payload, "block_actions", signing)

    # -------------------------------------------------------------- views

    def _view_payload_head(self, kind: str, view: Json) -> Json:
        """The fields a ``view_submission`` and a ``view_closed`` payload of ``view`` start with."""
        sandbox = self.sandbox
        return {
            "type": kind,
            "team": self._team_obj(view.get("app_installed_team_id")),
            "user": self._user_obj(),
            "api_app_id": sandbox.app_id,
            "token": sandbox.verification_token,
        }

    def submit_view(
        self,
        view_id: str,
        values: Mapping[str, object] | None = None,
        *,
        force: bool = False,
        **signing: Unpack[Signing],
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
            **self._view_payload_head("view_submission", view),
            "trigger_id": sandbox.issue_trigger_id(self.user_id),
            "view": public_view(view),
            "response_urls": [],
            **NOT_ENTERPRISE,
        }
        response = self._post_payload(payload, "view_submission", signing)
        sandbox.apply_submission_answer(view, self.user_id, response)
        return response

    def close_view(
        self,
        view_id: str,
        **signing: Unpack[Signing],
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
            **self._view_payload_head("view_closed", view),
            "view": public_view(view),
            "is_cleared": cleared,
            **NOT_ENTERPRISE,
        }
        return self._post_payload(payload, "view_closed", signing)

    # -------------------------------------------------------------- shortcuts

    def message_shortcut(
        self,
        callback_id: str,
        channel_id: str,
        message_ts: str,
        *,
        force: bool = False,
        **signing: Unpack[Signing],
    ) -> ActorResponse:
        """Run a message shortcut on a message (``message_action`` payload)."""
        self._require_shortcut("message", callback_id, force)
        sandbox = self.sandbox
        message = sandbox.message(channel_id, message_ts)
        if message is None:
            raise ActorError(f"no message {message_ts} in {channel_id}")
        self._require_member(channel_id, force)
        payload = self._shortcut_payload("message_action", callback_id, channel_id)
        payload["response_url"] = sandbox.issue_response_url(
            self.user_id, channel_id, team_id=sandbox.home_team(self.user_id)
        )
        payload["message_ts"] = message_ts
        payload["message"] = message
        return self._post_payload(payload, "message_action", signing)

    def global_shortcut(
        self,
        callback_id: str,
        *,
        force: bool = False,
        **signing: Unpack[Signing],
    ) -> ActorResponse:
        """Run a global shortcut (``shortcut`` payload)."""
        self._require_shortcut("global", callback_id, force)
        return self._post_payload(self._shortcut_payload("shortcut", callback_id), "shortcut", signing)

    def _require_shortcut(self, where: str, callback_id: str, force: bool) -> None:
        if not force and (where, callback_id) not in self.sandbox.manifest.shortcuts:
            raise ActorError(f"{callback_id} is not a {where} shortcut in app_manifest.yml")

    def _shortcut_payload(self, kind: str, callback_id: str, channel_id: str | None = None) -> Json:
        """The common shape of a shortcut's payload (``channel`` only for a message shortcut)."""
        sandbox = self.sandbox
        payload: Json = {
            "type": kind,
            "token": sandbox.verification_token,
            "action_ts": self._action_ts(),
            "team": self._team_obj(sandbox.home_team(self.user_id)),
            "user": self._user_obj(),
        }
        if channel_id is not None:
            payload["channel"] = self._channel_obj(channel_id)
        payload |= {
            **NOT_ENTERPRISE,
            "callback_id": callback_id,
            "trigger_id": sandbox.issue_trigger_id(self.user_id),
        }
        return payload
