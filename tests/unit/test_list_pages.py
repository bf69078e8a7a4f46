"""One page of a list: which rows it shows, its heading, whether it offers "More", and the filter it names."""

from __future__ import annotations

from typing import Any

import pytest

from bot.blocks.issue_lists import ITEMS_PER_PAGE
from bot.blocks.issue_refs import ListPage
from bot.blocks.pulse import Message
from bot.services.errors import DomainError
from bot.services.issue_models import ActionFilter, IssueFilter
from handlers.list_pages import chosen_filter, fetch_limit, reply_page
from handlers.ui import STALE
from tests.factories import partnership_view


def _page(found: tuple[int, ...], offset: int) -> dict[str, Any]:
    """What reply_page hands its builder, and that the builder's message is the reply."""
    built: dict[str, Any] = {}
    replies: list[dict[str, Any]] = []

    def build(p: Any, rows: tuple[int, ...], **kw: Any) -> Message:
        built.update(kw, rows=rows)
        return Message(text="the page", blocks=[])

    reply_page(
        lambda **kw: replies.append(kw),  # type: ignore[arg-type]
        build,
        partnership_view(),
        found,
        heading="All issues",
        page=ListPage("C1", "issues", "all", offset),
    )
    assert [r["text"] for r in replies] == ["the page"] and replies[0]["response_type"] == "ephemeral"
    return built


def test_the_first_page_shows_a_page_and_offers_more_when_a_row_is_left() -> None:
    assert ITEMS_PER_PAGE == 40 and fetch_limit(0) == 41  # one row more than a page tells whether there are more
    built = _page(tuple(range(41)), 0)
    assert built["rows"] == tuple(range(40)) and built["has_more"] is True and built["heading"] == "All issues"
    exactly_a_page = _page(tuple(range(40)), 0)
    assert exactly_a_page["rows"] == tuple(range(40)) and exactly_a_page["has_more"] is False


def test_a_later_page_says_where_it_starts_and_the_last_offers_no_more() -> None:
    assert fetch_limit(40) == 81
    built = _page(tuple(range(45)), 40)
    assert built["rows"] == (40, 41, 42, 43, 44) and built["has_more"] is False
    assert built["heading"] == "All issues, from number 41 on the list"
    assert built["page"] == ListPage("C1", "issues", "all", 40)


def test_the_filter_is_the_named_one_and_an_unknown_one_is_out_of_date() -> None:
    assert chosen_filter("overdue", ActionFilter) is ActionFilter.OVERDUE
    assert chosen_filter("mine", IssueFilter) is IssueFilter.MINE
    with pytest.raises(DomainError, match="out of date") as caught:
        chosen_filter("overdue", IssueFilter)
    assert str(caught.value) == STALE
