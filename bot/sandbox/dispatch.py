"""How the sandbox answers one Web API call: method lookup, token, faults, spec check, then the method.

:class:`WebApiDispatcher` decides in Slack's order: an unknown method fails first, then a bad token,
then an injected fault or rate limit, then arguments or scopes Slack would reject (answered as Slack
does in strict mode, only recorded otherwise), and finally the :class:`~bot.sandbox.state.Workspace`
method that serves it. It does no locking and no recording of calls: the caller does both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from .faults import Answer, Faults
from .models import SlackError
from .spec import SpecChecker, Violation
from .state import Workspace

Json = dict[str, Any]


@dataclass(eq=False)
class WebApiDispatcher:
    """Answers Web API calls made with ``bot_token`` against ``workspace``, checked by ``checker``."""

    checker: SpecChecker
    workspace: Workspace
    faults: Faults
    _: KW_ONLY
    bot_token: str
    strict: bool
    record_violation: Callable[[Violation], None]

    def answer(self, method: str, token: str | None, args: dict[str, Any]) -> Answer:
        """(HTTP status, extra headers, JSON body) for one call."""
        spec = self.checker.method(method)
        if spec is None:
            self.record_violation(Violation(method, f"{method} is not a Slack Web API method", error="unknown_method"))
            return 200, {}, {"ok": False, "error": "unknown_method", "req_method": method}
        headers = self._scope_headers(",".join(sorted(self.checker.accepted_scopes(spec))))
        failure = self._token_failure(token, spec.token_type)
        if failure is not None:
            return 200, headers, {"ok": False, "error": failure}
        faulted = self.faults.intercept(method, self.workspace.installed_team or "", args, headers)
        if faulted is not None:
            return faulted
        violation = self.checker.check_call(method, args)
        if violation is not None:
            self.record_violation(violation)
            if self.strict:
                return 200, headers, self._rejection(violation)
        handler = self.workspace.handlers.get(method)
        if handler is None:
            # A real method the sandbox does not model: accepted (and recorded) without side effects.
            return 200, headers, {"ok": True}
        try:
            return 200, headers, handler(args)
        except SlackError as exc:
            return exc.status, headers, exc.body()

    def _token_failure(self, token: str | None, token_type: str) -> str | None:
        if not token:
            return "not_authed"
        if token_type == "app":
            # The sandbox issues no app-level (xapp-) tokens; a bot token is the wrong kind.
            return "not_allowed_token_type" if token == self.bot_token else "invalid_auth"
        if token != self.bot_token or self.workspace.installed_team is None:
            return "invalid_auth"
        return self.faults.token_error

    def _scope_headers(self, accepted: str) -> dict[str, str]:
        return {"X-OAuth-Scopes": ",".join(self.checker.manifest.bot_scopes), "X-Accepted-OAuth-Scopes": accepted}

    def _rejection(self, violation: Violation) -> Json:
        """The body Slack answers a call it rejects for ``violation``."""
        if violation.error == "missing_scope":
            provided = ",".join(self.checker.manifest.bot_scopes)
            return {"ok": False, "error": "missing_scope", "needed": violation.needed, "provided": provided}
        missing = violation.details.get("missing")
        messages = (
            [f"[ERROR] missing required field: {name}" for name in missing] if missing else [f"[ERROR] {violation.reason}"]
        )
        return {"ok": False, "error": violation.error, "response_metadata": {"messages": messages}}
