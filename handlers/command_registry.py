"""How a feature takes a ``/partner`` subcommand: the context every command handler gets, and a typed registry
entry. Each feature module lists its entries in ``COMMAND_HANDLERS``; handlers.commands joins them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.container import Services
from handlers.command_types import Command
from handlers.ui import open_modal

C = TypeVar("C", bound=Command)
R = TypeVar("R")
#: A handler as the registry stores it; ``handles`` checks each one against its command type.
CommandHandler = Callable[[Any, "CommandContext"], None]


@dataclass(frozen=True)
class CommandContext:
    """Where a subcommand was asked and by whom (the same for ``/partner`` and the menu's buttons), and what its
    handler answers with. ``trigger_id`` opens a modal; it may be empty when the request carried none."""

    team_id: str
    channel_id: str
    user_id: str
    trigger_id: str
    respond: Respond
    client: WebClient
    services: Services

    def open_form(self, title: str, form: Callable[..., View], /, **values: Any) -> None:
        """Open a feature's form where the command was asked (see handlers.ui.open_modal; ``title`` names it when it
        cannot be built): ``form`` is given the services, then the place (with ``values``) by keyword."""
        open_modal(self.client, self.trigger_id, title, lambda: form(self.services, **self.place(**values)))

    def show_list(self, show: Callable[..., None], filter: str) -> None:
        """Answer with the first page of a feature's list (``show`` takes respond and services, then the place, the
        person and the ``filter`` by keyword), seen only by the person who asked."""
        show(self.respond, self.services, **self.place(user_id=self.user_id, filter=filter))

    def act(self, service: Callable[..., R], **values: Any) -> R:
        """``service`` asked by the command's person, where it was asked, now: it takes the unit of work, then the
        place, ``actor``, ``values`` and ``now`` by keyword."""
        return service(self.services.uow_factory(), **self.place(actor=self.user_id), **values, now=self.services.clock())

    def place(self, **more: Any) -> dict[str, Any]:
        """Where the command was asked (team and channel), as keyword arguments, with ``more``."""
        return {"team_id": self.team_id, "channel_id": self.channel_id, **more}


def handles(command_type: type[C], handler: Callable[[C, CommandContext], None]) -> tuple[type[Command], CommandHandler]:
    """A registry entry: ``handler`` takes ``command_type`` (mypy checks the two agree)."""
    return command_type, handler
