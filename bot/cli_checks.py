"""What a command checks before it starts: its database and Slack reachable, a read-only database at this
version's schema; and the one-line failure ``main`` prints."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from storage.uow import UnitOfWorkFactory


class CommandFailed(Exception):
    """A command cannot go on; ``main`` prints ``partnerpulse[ <command>]: <message>`` and exits 2."""

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.prefix = f"partnerpulse {command}" if command else "partnerpulse"


def check_before_start(settings: Settings, args: argparse.Namespace) -> None:
    """Fail fast, in one line, when the command's database or Slack cannot be used (bot/operator_checks.py).

    Raises:
        CommandFailed: the database cannot be opened or reached, Slack cannot be reached or rejects the token.
    """
    if not (args.database or args.slack):
        return
    from bot.operator_checks import OperatorError, check_database, check_slack

    try:
        if args.database:
            check_database(settings.database_url)
        if args.slack and not settings.oauth_enabled:  # OAuth mode has no token until a workspace installs
            check_slack(settings.secret("slack_bot_token"), settings.slack_api_url)
    except OperatorError as exc:
        raise CommandFailed(str(exc)) from None


@contextmanager
def reading_database(settings: Settings, command: str) -> Iterator[UnitOfWorkFactory]:
    """A unit-of-work factory on the database for a command that only reads it: never migrates.

    Raises:
        CommandFailed: the database is behind (or ahead of) this version's schema.
    """
    from storage.db import make_session_factory
    from storage.uow import UnitOfWorkFactory

    with database_at_head(settings, command) as engine:
        yield UnitOfWorkFactory(make_session_factory(engine))


@contextmanager
def database_at_head(settings: Settings, command: str) -> Iterator[Engine]:
    """An engine on the database, checked to be at this version's schema: a command never migrates it.

    Raises:
        CommandFailed: the database is behind (or ahead of) this version's schema.
    """
    from storage import migrate
    from storage.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        # A database behind this version is told, not half-read.
        if (found := migrate.current_revision(engine)) != (needed := migrate.head_revision()):
            raise CommandFailed(
                f"the database is at schema revision {found or 'none'}, this version needs {needed}: "
                "run `partnerpulse db upgrade` first.",
                command,
            )
        yield engine
    finally:
        engine.dispose()
