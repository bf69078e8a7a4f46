"""The issue log's Slack edge without Slack: the /partner grammar, form parsing and checks, and every modal, list
and Home tab builder against the sandbox's copy of Slack's Block Kit limits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from bot.blocks.action_form import build_action_modal
from bot.blocks.home import build_home
from bot.blocks.issue_forms import (
    build_followup_modal,
    build_issue_modal,
    build_reassign_modal,
    build_resolve_modal,
    build_update_modal,
    safe_permalink,
)
from bot.blocks.issue_lists import ITEMS_PER_PAGE, build_action_list, build_issue_list
from bot.blocks.issue_refs import ListPage
from bot.blocks.metadata import decode
from bot.blocks.policy import build_policy, format_duration
from bot.blocks.policy_form import build_policy_modal
from bot.blocks.pulse import MAX_MESSAGE_TEXT, text_length
from bot.sandbox.block_input import build_view_state
from bot.sandbox.blocks import message_errors, view_errors
from bot.services.issue_models import (
    DEFAULT_CATEGORIES,
    SEVERITIES,
    ActionStatus,
    ActionView,
    CalendarView,
    HolidayView,
    IssueDraft,
    IssueStatus,
    IssueView,
    PolicyView,
    SeverityPolicy,
)
from bot.services.partnership_models import PartnershipView, Side
from handlers.command_text import parse_duration, plain_text_from_slack
from handlers.issues.log import issue_form_errors
from handlers.policy import policy_form_errors
from tests.factories import action_view, issue_view, partnership_view
from tests.helpers import mrkdwn_texts

AT = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
INJECTION = "<!channel> <@UEVIL> <https://evil.example|click> & <!here>"


def _issue(n: int = 1, **kw: Any) -> IssueView:
    return issue_view(created_at=AT, **{"id": n, "number": n, "title": f"Issue {n}", **kw})


def _action(n: int = 1, **kw: Any) -> ActionView:
    return action_view(n, created_at=AT, **kw)


def _policy(p: PartnershipView | None = None) -> PolicyView:
    return PolicyView(
        p or partnership_view(),
        tuple(SeverityPolicy(s, timedelta(hours=4), timedelta(hours=24), s == "S2") for s in SEVERITIES),
    )


def _assert_inert(blocks: Any) -> None:
    for text in mrkdwn_texts(blocks):
        for raw in ("<!channel>", "<!here>", "<@UEVIL>", "<https://evil"):
            assert raw not in text, text


# --- the text formats a lead types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("4h", timedelta(hours=4)),
        ("3d", timedelta(hours=24)),
        ("1d 4h", timedelta(hours=12)),
        ("1d4h30m", timedelta(hours=12, minutes=30)),
        ("90 min", timedelta(minutes=90)),
        ("2 working days", timedelta(hours=16)),
        ("1 hour", timedelta(hours=1)),
    ],
)
def test_durations_read_as_working_time(text: str, amount: timedelta) -> None:
    assert parse_duration(text) == amount
    assert parse_duration(format_duration(amount)) == amount


@pytest.mark.parametrize("text", ["", "4", "h", "4x", "1dm", "-1h", "soon", "4h later"])
def test_other_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("&lt;b&gt; &amp; c", "<b> & c"),
        ("ask <@U1|dana> in <#C1|ops>", "ask @dana in #ops"),
        ("<!here> <!channel>", "@here @channel"),
        ("<!subteam^S1|@oncall> now", "@oncall now"),
        ("see <https://x.example|the doc> or <https://y.example>", "see the doc (https://x.example) or https://y.example"),
    ],
)
def test_slack_text_becomes_plain_text_for_a_form(slack: str, plain: str) -> None:
    assert plain_text_from_slack(slack) == plain


def test_only_slack_https_links_are_shown() -> None:
    assert safe_permalink("https://n.slack.com/archives/C1/p1?thread_ts=1.2&cid=C1") != ""
    for bad in ("http://n.slack.com/x", "https://evil|x", "https://a b", "javascript:alert(1)", "https://" + "x" * 600):
        assert safe_permalink(bad) == ""


# --- modals ------------------------------------------------------------------------------------------------------


def _issue_modal(**kw: Any) -> dict[str, Any]:
    return dict(build_issue_modal(partnership_view(), DEFAULT_CATEGORIES, **kw).to_dict())


def test_every_modal_is_one_slack_accepts_even_with_extreme_input() -> None:
    long = partnership_view(name=INJECTION * 20, client_org="N" * 200, provider_org=INJECTION)
    categories = tuple(f"{'C' * 57} {n:02d}" for n in range(25))
    issue = _issue(title=INJECTION + "x" * 150, status=IssueStatus.RESOLVED)
    views = [
        build_issue_modal(
            long,
            categories,
            draft=IssueDraft(title="t" * 500, details="d" * 5000, category=categories[3], severity="S1"),
            permalink="https://northwind.slack.com/archives/C1/p1700000000000100?thread_ts=1700000000.000001&cid=C1",
        ),
        build_update_modal(issue, long),
        build_update_modal(_issue(status=IssueStatus.OPEN), long),
        build_resolve_modal(issue, long),
        build_reassign_modal(issue, long),
        build_action_modal(
            long, issues=tuple(_issue(n, title="i" * 150) for n in range(1, 150)), issue_id=7, today=date(2026, 11, 30)
        ),
        build_followup_modal(issue, long, Side.CLIENT),
        build_policy_modal(_policy(long), categories),
    ]
    for view in views:
        data = view.to_dict()
        assert view_errors(data) is None, (data.get("callback_id"), view_errors(data))
        _assert_inert(data["blocks"])


def test_issue_modal_shows_severity_definitions_and_prefills() -> None:
    view = _issue_modal(draft=IssueDraft("Badges expire", "Since Monday", "Access and dependencies", "S3"))
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    severity = inputs["severity"]
    assert [o["description"]["text"] for o in severity["options"]] == [
        "Service down, customers or contract at risk",
        "A commitment will be missed without action",
        "Friction that costs time or trust",
        "Worth fixing, no deadline pressure",
    ]
    assert severity["initial_option"]["value"] == "S3"
    assert inputs["category"]["initial_option"]["value"] == "Access and dependencies"
    assert [o["value"] for o in inputs["owning_side"]["options"]] == ["client", "provider"]
    assert inputs["title"]["max_length"] == 150 and inputs["details"]["max_length"] == 3000


def _state(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    return {**view, "state": {"values": build_view_state(view, values, force=True)}}


GOOD = {"severity": "S2", "category": "Timeliness", "owning_side": "provider", "owner_id": "UP1", "title": "Late"}


def test_issue_form_errors_are_all_reported_at_their_fields() -> None:
    view = _issue_modal()
    assert issue_form_errors(_state(view, GOOD), timezone="America/New_York", now=AT) == {}
    errors = issue_form_errors(
        _state(view, {**GOOD, "title": " ", "details": "x" * 3001, "due_on": "2026-11-29"}),
        timezone="America/New_York",
        now=AT,
    )
    assert set(errors) == {"title", "details", "due_on"}
    # In New York it is still 29 Nov at 01:00 UTC on the 30th: that day is not in the past there.
    early = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert issue_form_errors(_state(view, {**GOOD, "due_on": "2026-11-29"}), timezone="America/New_York", now=early) == {}
    assert set(issue_form_errors(_state(view, {**GOOD, "owner_id": None}), timezone="UTC", now=AT)) == {"owner_id"}
    assert set(issue_form_errors(_state(view, {**GOOD, "owning_side": None}), timezone="UTC", now=AT)) == {"owning_side"}


def _policy_values(**kw: str) -> dict[str, str]:
    values = {f"{f}-{s}": "4h" if f == "acknowledge" else "3d" for s in SEVERITIES for f in ("acknowledge", "resolve")}
    values["categories"] = "A\nB"
    values.update(kw)
    return values


def test_policy_form_errors() -> None:
    view = dict(build_policy_modal(_policy(), ("A", "B")).to_dict())
    assert policy_form_errors(_state(view, _policy_values())) == {}
    assert set(policy_form_errors(_state(view, _policy_values(**{"resolve-S4": "forever"})))) == {"resolve-S4"}
    errors = policy_form_errors(_state(view, _policy_values(**{"acknowledge-S3": "4d", "resolve-S3": "1d"})))
    assert "longer than the time to resolve" in errors["acknowledge-S3"]
    assert set(policy_form_errors(_state(view, _policy_values(**{"resolve-S1": "300d"})))) == {"resolve-S1"}
    assert set(policy_form_errors(_state(view, _policy_values(categories="  \n ")))) == {"categories"}
    assert policy_form_errors({**view, "private_metadata": "{}"}) == {
        "acknowledge-S1": "This form is out of date; close it and open it again."
    }


# --- lists, the policy message, the Home tab --------------------------------------------------------------------


def _message_ok(message: Any) -> list[dict[str, Any]]:
    blocks = [b.to_dict() for b in message.blocks]
    assert message_errors(message.text, blocks) is None, message_errors(message.text, blocks)
    _assert_inert(blocks)
    assert all(raw not in message.text for raw in ("<!channel>", "<@UEVIL>"))
    return blocks


def _more(blocks: list[dict[str, Any]]) -> ListPage | None:
    for block in blocks:
        if block.get("block_id") == "list-more":
            return decode(block["elements"][0]["value"], ListPage)
    return None


def test_lists_page_within_slack_limits_with_menus_of_at_most_five_options() -> None:
    p = partnership_view()
    short = tuple(_issue(n, due_on=date(2026, 12, 1)) for n in range(1, 41))
    blocks = _message_ok(
        build_issue_list(p, short, heading="All issues", page=ListPage("C1", "issues", "all", 0), has_more=True)
    )
    assert len(blocks) == ITEMS_PER_PAGE + 2 and _more(blocks) == ListPage("C1", "issues", "all", 40)
    menus = [b["accessory"] for b in blocks if b.get("accessory")]
    assert all(2 <= len(m["options"]) <= 5 for m in menus)
    # Long titles fill the message's text before 40 issues: the next page starts after the last one shown.
    long = tuple(_issue(n, title=INJECTION * 3, escalation_level=n % 4) for n in range(1, 41))
    blocks = _message_ok(build_issue_list(p, long, heading="All issues", page=ListPage("C1", "issues", "all", 80)))
    shown = len([b for b in blocks if b.get("accessory")])
    assert 10 < shown < 40 and text_length(blocks) <= MAX_MESSAGE_TEXT
    assert _more(blocks) == ListPage("C1", "issues", "all", 80 + shown)
    last = _message_ok(build_issue_list(p, short[:5], heading="All issues", page=ListPage("C1", "issues", "all", 40)))
    assert _more(last) is None
    resolved = _message_ok(build_issue_list(p, (_issue(status=IssueStatus.RESOLVED),), heading="All issues"))
    assert [o["text"]["text"] for o in resolved[1]["accessory"]["options"]] == ["Update", "Add action", "Reopen"]
    counted = _message_ok(build_issue_list(p, short + short[:15], heading="All issues"))  # no page: counted
    assert len(counted) == 50 and "…and 7 more." in json.dumps(counted, ensure_ascii=False)
    actions = tuple(_action(n, title=INJECTION, status=list(ActionStatus)[n % 3], overdue=n % 2 == 0) for n in range(1, 60))
    blocks = _message_ok(build_action_list(p, actions, heading="All actions", page=ListPage("C1", "actions", "all", 0)))
    assert len(blocks) <= 50 and text_length(blocks) <= MAX_MESSAGE_TEXT and ":hourglass: overdue" in json.dumps(blocks)
    assert _more(blocks) is not None


def test_policy_message_shows_deadlines_hours_holidays_and_categories() -> None:
    p = partnership_view(client_org=INJECTION)
    calendars = (
        CalendarView(Side.CLIENT, "America/New_York", (0, 1, 2, 3, 4), time(9), time(17), ()),
        CalendarView(
            Side.PROVIDER,
            "Asia/Kolkata",
            (0, 1, 2, 3, 6),
            time(9, 30),
            time(18),
            (HolidayView(Side.PROVIDER, date(2026, 12, 25), INJECTION),),
        ),
    )
    blocks = _message_ok(build_policy(_policy(p), (INJECTION, "Other"), calendars))
    text = "\n".join(mrkdwn_texts(blocks))
    assert "*S2 high* — a commitment will be missed without action: acknowledge within 4 working hours" in text
    assert "resolve within 3 working days _(changed by a lead)_" in text
    assert "Mon–Fri 09:00–17:00 America/New_York" in text and "Mon, Tue, Wed, Thu, Sun 09:30–18:00 Asia/Kolkata" in text
    assert "Fri 25 Dec 2026" in text


def test_home_tab_stays_within_slack_limits() -> None:
    partnerships = [
        (replace(partnership_view(), id=n, channel_id=f"C{n}", name=INJECTION), {"S1": n, "S2": 0, "S3": 1, "S4": 0})
        for n in range(1, 21)
    ]
    issues = [replace(_issue(n, title=INJECTION), partnership_id=(n % 20) + 1) for n in range(1, 16)]
    actions = [replace(_action(n, title=INJECTION, overdue=True), partnership_id=(n % 20) + 1) for n in range(1, 16)]
    view = build_home(
        partnerships=partnerships, issues=issues, actions=actions, more_issues=True, more_actions=True
    ).to_dict()
    assert view_errors(view) is None and view["type"] == "home" and len(view["blocks"]) <= 100
    _assert_inert(view["blocks"])
    text = json.dumps(view["blocks"], ensure_ascii=False)
    assert "open issues: S1 1 · S2 0 · S3 1 · S4 0" in text and "<#C1>" in text and ":hourglass: overdue" in text
    empty = build_home(partnerships=[], issues=[], actions=[]).to_dict()
    assert "not part of a partnership yet" in json.dumps(empty["blocks"]) and view_errors(empty) is None
