"""One page of a list (issues, actions) as an ephemeral reply, with a "More" button when there are more."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from slack_bolt import Respond

from bot.blocks.issue_lists import ITEMS_PER_PAGE
from bot.blocks.issue_refs import ListPage
from bot.blocks.pulse import Message
from bot.container import Services
from bot.services.errors import DomainError
from bot.services.partnership_models import PartnershipView
from handlers.ui import STALE, reply, require_partnership

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


@dataclass(frozen=True)
class ListKind(Generic[F]):
    """A list that pages: its name on its "More" button, its filters with their headings, how it reads rows
    (``read(services, query)``: the query names the place, the person, the filter and the limit) and its builder."""

    name: str
    filters: type[F]
    headings: Mapping[F, str]
    read: Callable[[Services, dict[str, Any]], Sequence[Any]]
    build: Callable[..., Message]

    def show(
        self,
        respond: Respond,
        services: Services,
        *,
        team_id: str,
        channel_id: str,
        user_id: str,
        filter: str,
        offset: int = 0,
    ) -> None:
        """One page of the list (from ``offset``) for ``user_id``, with a "More" button when there are more."""
        chosen = chosen_filter(filter, self.filters)
        p = require_partnership(services, team_id, channel_id)
        query = {"team_id": team_id, "channel_id": channel_id, "user_id": user_id, "filter": chosen}
        found = self.read(services, {**query, "limit": fetch_limit(offset)})
        page = ListPage(channel_id, self.name, chosen.value, offset)
        reply_page(respond, self.build, p, found, heading=self.headings[chosen], page=page)
