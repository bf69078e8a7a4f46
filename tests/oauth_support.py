"""The bot as a distributed app in the sandbox, for OAuth tests: rotating tokens, a clock that moves the real time
forward for the sandbox and PartnerPulse together, and both organisations installed through /slack/install."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from bot.delivery.pacer import Pacer
from bot.harness import SANDBOX_BOT_TOKEN, SANDBOX_SIGNING_SECRET, LocalStack, start_local_stack
from bot.sandbox import SlackSandbox
from tests.conftest import STACK_PACER_SPEEDUP, START

#: Slack's rotating tokens last 12 hours; PartnerPulse refreshes one expiring within 2 hours (its default).
TOKEN_LIFETIME = timedelta(hours=12)


class Later:
    """The real time, moved forward by a test: the sandbox's token clock and PartnerPulse's move together."""

    def __init__(self) -> None:
        self.ahead = 0.0
        self._lock = threading.Lock()

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self.ahead += by.total_seconds()

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.ahead)


def start_oauth_stack(database_url: str, later: Later) -> LocalStack:
    """The bot as a distributed app (no static token) with rotating tokens, at ``later``'s time; nobody installed."""
    sandbox = SlackSandbox(
        signing_secret=SANDBOX_SIGNING_SECRET,
        bot_token=SANDBOX_BOT_TOKEN,
        token_rotation=True,
        token_lifetime_seconds=TOKEN_LIFETIME.total_seconds(),
        clock=later.monotonic,
    )
    return start_local_stack(
        database_url=database_url,
        start=START,
        pacer=Pacer(speedup=STACK_PACER_SPEEDUP),
        sandbox=sandbox,
        oauth=True,
        token_clock=later.now,
    )


def install_both(stack: LocalStack) -> None:
    """Each organisation's lead installs the app through /slack/install; the provider's bot joins the shared channel."""
    w, sb = stack.world, stack.sandbox
    assert "PartnerPulse is installed in Northwind Retail" in stack.install(w.client_team, user_id=w.client_lead)
    assert "PartnerPulse is installed in Contoso Services" in stack.install(w.provider_team, user_id=w.provider_lead)
    sb.join(w.channel, sb.installation_of(w.provider_team).bot_user_id)
