"""How the sandbox answers one Web API call: method lookup, token, faults, spec check, then the method.

:class:`WebApiDispatcher` decides in Slack's order: an unknown method fails first, then a bad token,
then an injected fault or rate limit, then arguments or scopes Slack would reject (answered as Slack
does in strict mode, only recorded otherwise), and finally the :class:`~bot.sandbox.state.Workspace`
method that serves it, acting as the installation the token belongs to (:mod:`.installations`). It does
no locking and no recording of calls: the caller does both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from .faults import Answer, Faults
from .installations import Installation
from .models import SlackError
from .spec import SpecChecker, Violation, normalise_scope
from .state import Workspace

Json = dict[str, Any]


@dataclass(eq=False)
class WebApiDispatcher:
    """Answers Web API calls against ``workspace``, each as the installation its token belongs to."""

    checker: SpecChecker
    workspace: Workspace
    faults: Faults
    _: KW_ONLY
    strict: bool
    record_violation: Callable[[Violation], None]

    def answer(self, method: str, token: str | None, args: dict[str, Any]) -> Answer:
        """(HTTP status, extra headers, JSON body) for one call."""
        spec = self.checker.method(method)
        if spec is None:
            self.record_violation(Violation(method, f"{method} is not a Slack Web API method", error="unknown_method"))
            return 200, {}, {"ok": False, "error": "unknown_method", "req_method": method}
        accepted = ",".join(sorted(self.checker.accepted_scopes(spec)))
        installation: Installation | None = None
        if spec.token_type != "none":  # oauth.v2.access: the client authenticates itself, with no token
            try:
                installation = self._authenticate(token, spec.token_type)
            except SlackError as exc:
                return 200, self._scope_headers(None, accepted), exc.body()
        headers = self._scope_headers(installation, accepted)
        team_id = installation.team_id if installation is not None else self.workspace.installed_team
        faulted = self.faults.intercept(method, team_id or "", args, headers)
        if faulted is not None:
            return faulted
        violation = self.checker.check_call(method, args, self._granted(installation))
        if violation is not None:
            self.record_violation(violation)
            if self.strict:
                return 200, headers, self._rejection(violation, headers["X-OAuth-Scopes"])
        handler = self.workspace.handlers.get(method)
        if handler is None:
            # A real method the sandbox does not model: accepted (and recorded) without side effects.
            return 200, headers, {"ok": True}
        try:
            with self.workspace.acting_as(installation.team_id if installation else None, token):
                return 200, headers, handler(args)
        except SlackError as exc:
            return exc.status, headers, exc.body()

    def _authenticate(self, token: str | None, token_type: str) -> Installation:
        """The installation a token acts as, or SlackError: a missing, unknown, revoked or expired token."""
        if not token:
            raise SlackError("not_authed")
        installations = self.workspace.installations
        if token_type == "app":
            # The sandbox issues no app-level (xapp-) tokens; a bot token is the wrong kind.
            raise SlackError("not_allowed_token_type" if installations.is_issued(token) else "invalid_auth")
        installation = installations.authenticate(token, self.workspace.clock())
        if self.faults.token_error is not None:
            raise SlackError(self.faults.token_error)
        return installation

    @staticmethod
    def _granted(installation: Installation | None) -> frozenset[str] | None:
        if installation is None:
            return None
        return frozenset(normalise_scope(scope) for scope in installation.scopes)

    def _scope_headers(self, installation: Installation | None, accepted: str) -> dict[str, str]:
        scopes = installation.scopes if installation is not None else self.checker.manifest.bot_scopes
        return {"X-OAuth-Scopes": ",".join(scopes), "X-Accepted-OAuth-Scopes": accepted}

    @staticmethod
    def _rejection(violation: Violation, provided: str) -> Json:
        """The body Slack answers a call it rejects for ``violation`` (``provided``: the token's scopes)."""
        if violation.error == "missing_scope":
            return {"ok": False, "error": "missing_scope", "needed": violation.needed, "provided": provided}
        missing = violation.details.get("missing")
        messages = (
            [f"[ERROR] missing required field: {name}" for name in missing] if missing else [f"[ERROR] {violation.reason}"]
        )
        return {"ok": False, "error": violation.error, "response_metadata": {"messages": messages}}
