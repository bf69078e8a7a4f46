"""Expected, user-facing failures. Handlers turn these into ephemeral replies or modal errors."""

from __future__ import annotations


class DomainError(Exception):
    """Base of expected failures; ``str()`` is shown to the user as it is."""


class NotFound(DomainError):
    """The thing asked for does not exist (in this partnership)."""


class NotAllowed(DomainError):
    """The user may not do this."""


class Conflict(DomainError):
    """The request clashes with the current state (for example a round that has closed)."""


class InvalidInput(DomainError):
    """A form value is wrong. ``field`` names the input (a modal block id) when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
