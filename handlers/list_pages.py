"""One page of a list (issues, actions) as an ephemeral reply, with a "More" button when there are more."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import TypeVar

from slack_bolt import Respond

from bot.blocks.issue_lists import ITEMS_PER_PAGE
from bot.blocks.issue_refs import ListPage
from bot.blocks.pulse import Message
from bot.services.errors import DomainError
from bot.services.partnership_models import PartnershipView
from handlers.ui import STALE, reply

T = TypeVar("T")
F = TypeVar("F", bound=Enum)


def chosen_filter(value: str, filters: type[F]) -> F:
    """The list a command or a "More" button names (``filters`` member of that value); one this version does not
    know is out of date."""
    for f in filters:
        if f.value == value:
            return f
    raise DomainError(STALE)


def fetch_limit(offset: int) -> int:
    """How many rows to read for the page from ``offset``: one more than it shows, to know whether there are more."""
    return offset + ITEMS_PER_PAGE + 1


def reply_page(
    respond: Respond,
    build: Callable[..., Message],
    p: PartnershipView,
    found: Sequence[T],
    *,
    heading: str,
    page: ListPage,
) -> None:
    """The page of ``found`` (read with ``fetch_limit(page.offset)``) from ``page.offset`` on, built by ``build``;
    a later page says where on the list it starts."""
    offset = page.offset
    shown = tuple(found[offset : offset + ITEMS_PER_PAGE])
    reply(
        respond,
        build(
            p,
            shown,
            heading=heading + (f", from number {offset + 1} on the list" if offset else ""),
            page=page,
            has_more=len(found) > offset + ITEMS_PER_PAGE,
        ),
    )
