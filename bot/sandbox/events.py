"""Delivering to the bot: Events API events, and the hooks actors use for commands and interactions.

:class:`~bot.sandbox.actors.SandboxActor` signs and posts slash commands, clicks and submissions; it
reads users and channels and issues trigger_ids and response_urls through the hooks here. The events a
change in the world causes (a member joins, a user group changes, a Home tab opens) are built here and
delivered, signed, by :func:`~bot.sandbox.signed_requests.deliver_event`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, Unpack, cast

from .blocks import view_errors
from .inspection import Inspection
from .models import ActorError, ActorResponse, Channel, Delivery, SandboxError, SlackError, Team, User
from .world_setup import WorldSetup

if TYPE_CHECKING:
    from .actors import SandboxActor
    from .server import SlackSandbox
    from .signed_requests import Signing

Json = dict[str, Any]
_Known = TypeVar("_Known", User, Team)


class EventDelivery(WorldSetup, Inspection):
    """Events delivered to :attr:`bot_endpoint`, and the support actors need to build their requests."""

    # ------------------------------------------------------------------ support for actors

    def _snapshot(self, known: Mapping[str, _Known], key: str, what: str) -> _Known:
        with self._lock:
            found = known.get(key)
            if found is None:
                raise SandboxError(f"unknown {what} {key}")
            return copy.copy(found)

    def snapshot_user(self, user_id: str) -> User:
        """A copy of a user (SandboxError if unknown)."""
        return self._snapshot(self.workspace.users, user_id, "user")

    def snapshot_team(self, team_id: str) -> Team:
        """A copy of a team (SandboxError if unknown)."""
        return self._snapshot(self.workspace.teams, team_id, "team")

    def snapshot_channel(self, channel_id: str) -> Channel:
        """A copy of a channel (SandboxError if unknown)."""
        with self._lock:
            return copy.deepcopy(self._channel(channel_id))

    def installation(self) -> tuple[str, str, str]:
        """(team id, bot user id, bot id) of the installation (SandboxError before install())."""
        with self._lock:
            try:
                return self.workspace.require_installed()
            except SlackError as exc:
                raise SandboxError("the app is not installed; call install() first") from exc

    def issue_trigger_id(self, user_id: str) -> str:
        """A fresh trigger_id for an interaction by ``user_id``."""
        with self._lock:
            return self.workspace.issue_trigger(user_id)

    def issue_response_url(
        self,
        user_id: str,
        channel_id: str,
        source_ts: str | None = None,
        ephemeral: bool = False,
        team_id: str | None = None,
    ) -> str:
        """A fresh response_url for an interaction by ``user_id`` in ``channel_id`` (answered as ``team_id``'s
        installation; default: the default one)."""
        with self._lock:
            return self.workspace.issue_response_url(
                user_id, channel_id, source_ts=source_ts, ephemeral=ephemeral, team_id=team_id
            )

    def apply_command_ack(self, response_url: str, body: Json) -> None:
        """Show a slash command's ack body the way Slack does (an ephemeral reply, or in channel)."""
        with self._lock:
            record = self.workspace.response_urls.get(response_url.rstrip("/").rsplit("/", 1)[-1])
            if record is not None:
                with self.workspace.acting_as(record.team_id):
                    self.workspace.apply_reply(record, body, count_use=False)

    def open_modal_for(self, view_in: Json, user_id: str, *, push: bool) -> Json:
        """Open (or push) a view as a ``response_action`` does; returns the stored view."""
        with self._lock:
            if push:
                return copy.deepcopy(self.workspace.push_modal(view_in, user_id))
            return copy.deepcopy(self.workspace.open_modal(view_in, user_id))

    def replace_view_content(self, view_id: str, view_in: Json) -> Json:
        """Replace a view's content as ``response_action: update`` does."""
        with self._lock:
            return copy.deepcopy(self.workspace.replace_view(view_id, view_in))

    def close_modal(self, view_id: str) -> None:
        """Close one modal view."""
        with self._lock:
            self.workspace.close_view(view_id)

    def clear_modals(self, user_id: str) -> None:
        """Close all of a user's modal views."""
        with self._lock:
            self.workspace.clear_views(user_id)

    def set_view_state(self, view_id: str, values: Json) -> None:
        """Store the state a user typed into a view (sent with view_submission)."""
        with self._lock:
            self.workspace.views[view_id]["state"] = {"values": copy.deepcopy(values)}

    def apply_submission_answer(self, view: Json, user_id: str, response: ActorResponse) -> None:
        """Apply the bot's answer to a ``view_submission`` as Slack does (close, show errors, update, push, clear)."""
        view_id = str(view["id"])
        if not 200 <= response.status < 300:
            return  # Slack shows "We had some trouble connecting" and keeps the view open
        if not response.body.strip():
            self.close_modal(view_id)
            return
        answer = response.json
        if answer is None:
            self.record_violation("view_submission", f"the response to {view_id}'s submission is not JSON")
            return
        action = answer.get("response_action")
        if action is None:
            self.close_modal(view_id)
        elif action == "errors":
            errors = answer.get("errors")
            inputs = {str(b.get("block_id")) for b in view.get("blocks") or [] if b.get("type") == "input"}
            if not isinstance(errors, dict) or not errors:
                self.record_violation("view_submission", "response_action errors without an errors object")
                return
            stray = sorted(set(errors) - inputs)
            if stray:
                # Slack only shows errors keyed by an input block's block_id; others are silently lost.
                self.record_violation("view_submission", f"errors keyed by non-input blocks {stray} of {view_id}")
        elif action in ("update", "push"):
            new_view = answer.get("view")
            problem = view_errors(new_view)
            if problem is None and isinstance(new_view, dict) and new_view.get("type") != "modal":
                problem = ("invalid_arguments", ["must be modal [json-pointer:/view/type]"])
            if problem is not None:
                code, messages = problem
                self.record_violation("view_submission", f"response_action {action}: {code} {messages}")
                return
            assert isinstance(new_view, dict)
            if action == "update":
                self.replace_view_content(view_id, new_view)
            else:
                try:
                    self.open_modal_for(new_view, user_id, push=True)
                except SlackError as exc:
                    self.record_violation("view_submission", f"response_action push: {exc.error}")
        elif action == "clear":
            self.clear_modals(user_id)
        else:
            self.record_violation("view_submission", f"unknown response_action {action!r}")

    # ------------------------------------------------------------------ actors and events

    def record_delivery(self, delivery: Delivery) -> None:
        """Remember a request delivered to the bot (actors call this)."""
        with self._lock:
            self._deliveries.append(delivery)

    @property
    def deliveries(self) -> list[Delivery]:
        """Requests delivered to the bot, with its status and time to answer."""
        with self._lock:
            return list(self._deliveries)

    def new_event_id(self) -> str:
        """A fresh Events API ``event_id``."""
        with self._lock:
            return f"Ev{self.workspace.next_id():08d}SBX"

    def _as_sandbox(self) -> SlackSandbox:
        # This part exists only as a base of SlackSandbox, which actors are written against.
        return cast("SlackSandbox", self)

    def actor(self, user_id: str) -> SandboxActor:
        """A user who sends signed requests (commands, clicks, submissions) to :attr:`bot_endpoint`."""
        from .actors import SandboxActor

        self.snapshot_user(user_id)
        return SandboxActor(self._as_sandbox(), user_id)

    def event(
        self,
        event: Json,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        force: bool = False,
        context: tuple[str, str] | None = None,
        **signing: Unpack[Signing],
    ) -> ActorResponse:
        """Deliver an Events API ``event_callback`` envelope, signed, to :attr:`bot_endpoint`.

        ``context``: (team id, bot user id) of the installation it is for (default: see ``event_context``).

        A delivery made as Slack makes it (no ``retry_num``, ``timestamp``, ``signature`` or ``headers`` given)
        that gets no 2xx is retried as Slack retries it, on :attr:`event_retry_delays` (see :mod:`.event_retry`).
        """
        from .signed_requests import deliver_event

        sandbox = self._as_sandbox()
        event = dict(event)
        event.setdefault("event_ts", f"{time.time():.6f}")
        eid = event_id or self.new_event_id()

        def attempt(number: int | None, reason: str) -> ActorResponse:
            return deliver_event(
                sandbox, event, event_id=eid, retry_num=number, retry_reason=reason, force=force, context=context, **signing
            )

        if retry_num is not None or any(value is not None for value in signing.values()):
            return attempt(retry_num, retry_reason)
        try:
            first = attempt(None, retry_reason)
        except OSError:
            sandbox.event_retries.schedule(attempt, sandbox.event_retry_delays, None)
            raise
        sandbox.event_retries.schedule(attempt, sandbox.event_retry_delays, first)
        return first

    def member_joined(self, channel_id: str, user_id: str, inviter: str | None = None) -> ActorResponse:
        """``join`` the user, then deliver ``member_joined_channel``."""
        self.join(channel_id, user_id)
        channel = self.snapshot_channel(channel_id)
        event: Json = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": channel_id,
            "channel_type": "G" if channel.is_private else "C",
            "team": self.snapshot_user(user_id).team_id,
        }
        if inviter is not None:
            event["inviter"] = inviter
        return self.event(event)

    def member_left(self, channel_id: str, user_id: str) -> ActorResponse:
        """``leave`` the user, then deliver ``member_left_channel``."""
        self.leave(channel_id, user_id)
        channel = self.snapshot_channel(channel_id)
        return self.event(
            {
                "type": "member_left_channel",
                "user": user_id,
                "channel": channel_id,
                "channel_type": "G" if channel.is_private else "C",
                "team": self.snapshot_user(user_id).team_id,
            }
        )

    def subteam_members_changed(
        self, usergroup_id: str, *, added: list[str] | None = None, removed: list[str] | None = None
    ) -> ActorResponse:
        """Change a user group's members, then deliver ``subteam_members_changed`` with the difference."""
        with self._lock:
            group = self._usergroup(usergroup_id)
            unknown = [u for u in added or [] if u not in self.workspace.users]
            if unknown:
                raise SandboxError(f"unknown users {unknown}; add_user() first")
            previous = int(self.wall_clock()) - 1
            gained = [u for u in added or [] if u not in group.users]
            lost = [u for u in removed or [] if u in group.users]
            group.users = [u for u in group.users if u not in lost] + gained
            team_id = group.team_id
        return self.event(
            {
                "type": "subteam_members_changed",
                "subteam_id": usergroup_id,
                "team_id": team_id,
                "date_previous_update": previous,
                "date_update": int(self.wall_clock()),
                "added_users": gained,
                "added_users_count": str(len(gained)),
                "removed_users": lost,
                "removed_users_count": str(len(lost)),
            }
        )

    def home_opened(self, user_id: str, *, force: bool = False) -> ActorResponse:
        """The user opens the app's Home tab: deliver ``app_home_opened`` (with the published view, if any).

        Only people of an organisation that installed the app have its Home tab; Slack Connect guests do not.
        """
        user = self.snapshot_user(user_id)
        team_id = self._as_sandbox().home_team(user_id)
        if not force and user.team_id != team_id:
            raise ActorError(f"{user_id} is from {user.team_id}; only {team_id}'s people have this app's Home tab")
        event: Json = {"type": "app_home_opened", "user": user_id, "channel": self.dm_channel(user_id), "tab": "home"}
        home = self.home_view(user_id)
        if home is not None:
            event["view"] = {k: v for k, v in home.items() if k != "user_id"}
        return self.event(event, force=force)
