"""The issue log's Block Kit builders, from plain read models: escaping, buttons by state, limits, wording."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.blocks import ids
from bot.blocks.issue_card import build_issue_card
from bot.blocks.issue_lists import build_action_list, build_issue_list
from bot.blocks.issue_refs import ActionRef, FollowupAsk, FollowupRef, IssueRef, SignalRef
from bot.blocks.issue_text import working_time_label
from bot.blocks.issue_thread import build_escalation, build_followup_question, build_history_reply, build_owner_nudge
from bot.blocks.metadata import decode
from bot.blocks.overdue_reminder import build_overdue_reminder
from bot.blocks.pulse import Message
from bot.blocks.signals import build_signal
from bot.services.issue_models import (
    ActionView,
    EscalationNotice,
    FollowupQuestion,
    FollowupView,
    HistoryItem,
    IssueCard,
    IssueEventView,
    IssueStatus,
    IssueView,
    OverdueReminder,
    SignalKind,
    SignalView,
)
from bot.services.partnership_models import Side
from tests.factories import action_view, issue_view, partnership_view
from tests.helpers import mrkdwn_texts

AT = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
INJECTION = "<!channel> <!here> <@UEVIL> <https://evil.example|click> & co"


def _issue(**kw: Any) -> IssueView:
    """Issue #3 (id 7): "Report late", due 4 Dec, next escalation in 4 hours, its card posted."""
    values: dict[str, Any] = {
        "id": 7,
        "number": 3,
        "title": "Report late",
        "details": "Two days late.",
        "due_on": date(2026, 12, 4),
        "next_escalation_at": AT + timedelta(hours=4),
        "card_ts": "1700000000.000100",
    }
    return issue_view(created_at=AT, **(values | kw))


def _action(i: int = 1, **kw: Any) -> ActionView:
    """Action ``i`` on issue #3, owned by the provider's UP1, due 1 Dec."""
    values: dict[str, Any] = {
        "issue_id": 7,
        "issue_number": 3,
        "owner_id": "UP1",
        "side": Side.PROVIDER,
        "due_on": date(2026, 12, 1),
    }
    return action_view(i, created_at=AT, **(values | kw))


def _card(issue: IssueView | None = None, actions: tuple[ActionView, ...] = ()) -> IssueCard:
    return IssueCard(issue=issue or _issue(), partnership=partnership_view(), actions=actions, timezone="Asia/Kolkata")


def _mrkdwn_texts(message: Message) -> list[str]:
    """Every mrkdwn string of a message, and its fallback text (which Slack also formats)."""
    return [message.text, *mrkdwn_texts([b.to_dict() for b in message.blocks])]


def _buttons(message: Message) -> dict[str, str]:
    """action_id -> value of every button."""
    found: dict[str, str] = {}
    for block in message.blocks:
        data = block.to_dict()
        elements = list(data.get("elements", []))
        if "accessory" in data:
            elements.append(data["accessory"])
        for el in elements:
            if el.get("type") == "button":
                found[el["action_id"]] = el.get("value", "")
    return found


def _assert_inert(message: Message) -> None:
    for text in _mrkdwn_texts(message):
        for raw in ("<!channel>", "<!here>", "<@UEVIL>", "<https://evil"):
            assert raw not in text, text
    assert len(message.blocks) <= 50
    for block in message.blocks:
        assert len(json.dumps(block.to_dict())) < 12000


# --- escaping -----------------------------------------------------------------------------------------------


def test_the_card_renders_every_user_text_inert() -> None:
    issue = _issue(title=INJECTION, details=INJECTION + "\nsecond line", category=INJECTION)
    card = replace(_card(issue, (_action(title=INJECTION),)), partnership=partnership_view(client_org=INJECTION))
    message = build_issue_card(card)
    _assert_inert(message)
    assert any("&lt;!channel&gt;" in t for t in _mrkdwn_texts(message))
    header = message.blocks[0].to_dict()
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"  # plain text never mentions


@pytest.mark.parametrize(
    "kind", ["updated", "acknowledged", "resolved", "reopened", "reassigned", "action_added", "followup_added"]
)
def test_thread_lines_render_comments_inert(kind: str) -> None:
    event = IssueEventView(
        id=1,
        issue_id=7,
        at=AT,
        actor="UC1",
        kind=kind,
        level=None,
        detail=INJECTION,
        data={"from": "UP1", "to": "UC2", "from_side": "provider", "to_side": "client", "followup_id": 5},
    )
    followup = FollowupView(5, 7, 3, Side.CLIENT, "UC1", INJECTION, AT, None) if kind == "followup_added" else None
    action = _action(title=INJECTION) if kind == "action_added" else None
    item = HistoryItem(
        event=event,
        issue=_issue(title=INJECTION),
        partnership=partnership_view(),
        timezone="UTC",
        followup=followup,
        action=action,
    )
    message = build_history_reply(item)
    _assert_inert(message)
    if kind == "followup_added":
        assert decode(_buttons(message)[ids.Action.FOLLOWUP_TO_ACTION], FollowupRef) == FollowupRef(5)
        assert "Northwind (client)" in message.blocks[0].to_dict()["text"]["text"]


def test_a_follow_up_that_became_an_action_has_no_button() -> None:
    event = IssueEventView(1, 7, AT, "UC1", "followup_added", None, None, {"followup_id": 5})
    followup = FollowupView(5, 7, 3, Side.CLIENT, "UC1", "Share the calendar", AT, action_id=9)
    message = build_history_reply(
        HistoryItem(event=event, issue=_issue(), partnership=partnership_view(), timezone="UTC", followup=followup)
    )
    assert _buttons(message) == {}


# --- the card's buttons -------------------------------------------------------------------------------------


def test_card_buttons_follow_the_state() -> None:
    A = ids.Action
    open_buttons = _buttons(build_issue_card(_card()))
    assert list(open_buttons) == [
        A.ISSUE_ACKNOWLEDGE,
        A.ISSUE_UPDATE,
        A.ISSUE_ADD_ACTION,
        A.ISSUE_RESOLVE,
        A.ISSUE_REASSIGN,
        A.ISSUE_ESCALATE,
    ]
    assert {decode(v, IssueRef) for v in open_buttons.values()} == {IssueRef(7)}
    acked = _buttons(build_issue_card(_card(_issue(status=IssueStatus.ACKNOWLEDGED, acknowledged_by="UP1"))))
    assert A.ISSUE_ACKNOWLEDGE not in acked and A.ISSUE_RESOLVE in acked
    top = _buttons(build_issue_card(_card(_issue(escalation_level=3, next_escalation_at=None))))
    assert A.ISSUE_ESCALATE not in top
    resolved = _buttons(build_issue_card(_card(_issue(status=IssueStatus.RESOLVED, resolved_by="UP1", resolved_at=AT))))
    assert list(resolved) == [A.ISSUE_UPDATE, A.ISSUE_ADD_ACTION, A.ISSUE_REOPEN]


def test_the_card_shows_owner_side_due_date_escalation_and_actions() -> None:
    card = _card(_issue(escalation_level=1), tuple(_action(i) for i in range(1, 13)))
    texts = "\n".join(_mrkdwn_texts(build_issue_card(card)))
    assert "<@UP1> · Contoso (provider)" in texts
    assert "Fri 4 Dec 2026" in texts
    assert "level 1: owner nudged" in texts and "Contoso's working hours" in texts
    assert "Action 10" in texts and "Action 11" not in texts and "…and 2 more" in texts
    assert "S2 high" in build_issue_card(card).text


def test_only_a_slack_permalink_becomes_a_link() -> None:
    link = "https://northwind.slack.com/archives/C1/p1700000000000100"
    texts = "\n".join(_mrkdwn_texts(build_issue_card(_card(_issue(source_permalink=link)))))
    assert f"<{link}|The message this came from>" in texts


# --- escalation --------------------------------------------------------------------------------------------


def _notice(level: int, reason: str, **kw: Any) -> EscalationNotice:
    values: dict[str, Any] = {
        "event": IssueEventView(1, 7, AT, None, "escalated", level, None, {"reason": reason}),
        "issue": _issue(title=INJECTION),
        "partnership": partnership_view(),
        "level": level,
        "reason": reason,
        "recipients": ("UP1",) if level == 1 else ("UCL", "UPL"),
        "missing_sides": (),
        "acknowledge_within": timedelta(hours=4),
        "resolve_within": timedelta(hours=24),
        "timezone": "Asia/Kolkata",
    }
    values.update(kw)
    return EscalationNotice(**values)


BLAME_WORDS = ("failed", "ignored", "neglect", "missed", "did not", "didn't")


@pytest.mark.parametrize(("level", "reason"), [(2, "acknowledge"), (2, "resolve"), (3, "resolve")])
def test_channel_escalations_name_the_issue_and_the_roles_needed_never_a_culprit(level: int, reason: str) -> None:
    message = build_escalation(_notice(level, reason))
    _assert_inert(message)
    text = "\n".join(_mrkdwn_texts(message))
    assert "#3" in text and "Mon 30 Nov, 20:30 IST" in text
    role = "the leads of both sides" if level == 2 else "the executive sponsors of both sides"
    assert f"*Issue #3 needs {role}*" in text and f"*Needed now, from {role}*" in text
    assert "<@UCL>" in text and "<@UPL>" in text
    assert "<@UP1>" not in text  # the owner is not singled out in front of both organisations
    for word in BLAME_WORDS:
        assert word not in text.lower()
    assert "not whose fault it is" in text


@pytest.mark.parametrize("reason", ["acknowledge", "resolve", "manual"])
def test_level_1_is_a_private_nudge_for_the_owner_in_their_time_zone(reason: str) -> None:
    message = build_owner_nudge(_notice(1, reason), timezone="Europe/Berlin")
    _assert_inert(message)
    text = "\n".join(_mrkdwn_texts(message))
    assert "*Issue #3 is waiting for you*" in text and "You are its owner" in text and "the card is in <#C1>" in text
    assert "Mon 30 Nov, 16:00 CET" in text and "IST" not in text  # the owner's zone, not the owning side's
    assert "Only you see this" in text
    for word in BLAME_WORDS:
        assert word not in text.lower()


def test_escalation_wording_of_the_deadlines() -> None:
    text = "\n".join(_mrkdwn_texts(build_escalation(_notice(2, "acknowledge"))))
    assert "waiting 1 working day to be acknowledged (the agreed time is 4 working hours)" in text
    text = "\n".join(_mrkdwn_texts(build_escalation(_notice(2, "resolve"))))
    assert "reached the agreed 3 working days" in text


def test_escalation_says_when_a_side_has_nobody_in_the_role() -> None:
    notice = _notice(3, "resolve", recipients=("UCS",), missing_sides=(Side.PROVIDER,), skipped_levels=(1, 2))
    text = "\n".join(_mrkdwn_texts(build_escalation(notice)))
    assert "No executive sponsor is recorded for Contoso" in text and "not running" in text


def test_manual_escalation_names_who_asked() -> None:
    notice = _notice(2, "manual", event=IssueEventView(1, 7, AT, "UC9", "escalated", 2, None, {"reason": "manual"}))
    assert "<@UC9> asked to bring it to the next level now" in "\n".join(_mrkdwn_texts(build_escalation(notice)))


# --- follow-up, reminders, signals, lists ---------------------------------------------------------------------


def test_the_follow_up_question_has_a_button_per_side() -> None:
    message = build_followup_question(FollowupQuestion(_issue(title=INJECTION), partnership_view()))
    _assert_inert(message)
    assert "What can we do to keep this from happening again?" in message.blocks[0].to_dict()["text"]["text"]
    block = message.blocks[-1].to_dict()
    assert block["block_id"] == ids.FOLLOWUP_SIDES_BLOCK
    values = [decode(el["value"], FollowupAsk) for el in block["elements"]]
    assert values == [FollowupAsk(7, "client"), FollowupAsk(7, "provider")]
    assert [el["text"]["text"] for el in block["elements"]] == ["Northwind: add ours", "Contoso: add ours"]


def test_overdue_actions_are_grouped_in_one_message() -> None:
    reminder = OverdueReminder(
        partnership_view(), "UP1", tuple(_action(i, title=INJECTION) for i in (1, 2, 3)), date(2026, 12, 3)
    )
    message = build_overdue_reminder(reminder)
    _assert_inert(message)
    assert message.text.startswith("You have 3 overdue actions in Northwind desk")
    assert "mark each one done, or change its due date" in message.text
    done = [b.to_dict()["accessory"]["value"] for b in message.blocks if "accessory" in b.to_dict()]
    # The buttons name the channel: in the owner's direct messages the clicked channel is not the partnership's.
    assert [decode(v, ActionRef) for v in done] == [ActionRef(n, channel_id="C1") for n in (1, 2, 3)]
    assert "2 days ago" in "\n".join(_mrkdwn_texts(message))
    assert "at most once a week" in "\n".join(_mrkdwn_texts(message))


def test_one_overdue_action_is_worded_for_one() -> None:
    message = build_overdue_reminder(
        OverdueReminder(partnership_view(), "UP1", (_action(1, title="Send the rota"),), date(2026, 12, 4))
    )
    assert message.text.startswith(
        "Your action “Send the rota” in Northwind desk is 3 days overdue: mark it done, or change"
    )
    assert "them" not in message.text


def test_a_long_overdue_list_stays_within_slacks_limits() -> None:
    reminder = OverdueReminder(partnership_view(), "UP1", tuple(_action(i) for i in range(1, 71)), date(2026, 12, 3))
    message = build_overdue_reminder(reminder)
    assert len(message.blocks) <= 50
    assert "…and 30 more" in "\n".join(_mrkdwn_texts(message))


@pytest.mark.parametrize(
    ("kind", "side", "detail", "expected"),
    [
        (
            SignalKind.DROP,
            Side.PROVIDER,
            {"current": 2.5, "baseline": 4.0, "round_sequence": 5},
            "2.5 in round 5, against 4.0",
        ),
        # A signal stored before subjects (and signed gaps) is shown as it was.
        (SignalKind.GAP, None, {"client": 2.0, "provider": 4.0, "gap": 2.0, "round_sequence": 5}, "a gap of 2.0"),
        (
            SignalKind.GAP,
            None,
            {"subject": "relationship", "client": 4.0, "provider": 2.0, "gap": -2.0, "round_sequence": 5},
            "*The relationship's communication*: the sides see it differently. "
            "Northwind 4.0, Contoso 2.0 (gap −2.0, provider − client) in round 5.",
        ),
        (SignalKind.RECURRING_CATEGORY, None, {"count": 3, "days": 30}, "3 issues in this category within 30 days"),
    ],
)
def test_signals_offer_a_prefilled_log_issue_button(
    kind: SignalKind, side: Side | None, detail: dict[str, Any], expected: str
) -> None:
    subject = "Timeliness" if kind is SignalKind.RECURRING_CATEGORY else "communication"
    signal = SignalView(11, partnership_view(name=INJECTION), kind, subject, side, detail, AT)
    message = build_signal(signal)
    _assert_inert(message)
    assert expected in "\n".join(_mrkdwn_texts(message))
    assert decode(_buttons(message)[ids.Action.SIGNAL_LOG_ISSUE], SignalRef) == SignalRef(11, channel_id="C1")


def test_lists() -> None:
    p = partnership_view()
    issues_msg = build_issue_list(p, tuple(_issue(number=n, title=INJECTION) for n in range(1, 60)), heading="Open issues")
    _assert_inert(issues_msg)
    assert build_issue_list(p, (), heading="Open issues").blocks
    actions_msg = build_action_list(p, (_action(1, overdue=True), _action(2)), heading="Your actions")
    assert ":hourglass: overdue" in "\n".join(_mrkdwn_texts(actions_msg))


@pytest.mark.parametrize(
    ("amount", "label"),
    [
        (timedelta(hours=1), "1 working hour"),
        (timedelta(hours=4), "4 working hours"),
        (timedelta(hours=8), "1 working day"),
        (timedelta(hours=80), "10 working days"),
        (timedelta(minutes=30), "30 working minutes"),
        (timedelta(minutes=90), "1 h 30 min of working time"),
    ],
)
def test_working_time_label(amount: timedelta, label: str) -> None:
    assert working_time_label(amount) == label
