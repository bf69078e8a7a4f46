"""Every text field a person fills, driven through the real handler path with control and bidirectional formatting
characters: what is stored and what Slack receives is the cleaned text, newlines and tabs kept.

On PostgreSQL (TEST_DATABASE_URL) a NUL used to lose the issue or the answer. ``test_every_text_input_is_covered``
fails when a builder gains a plain-text input that no case here fills.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.harness import LocalStack
from storage.models import (
    Action,
    Answer,
    EscalationPolicyRow,
    Expectation,
    Followup,
    Goal,
    Holiday,
    Issue,
    IssueEvent,
    Kpi,
    KpiValue,
    KpiVersion,
    Member,
    Partnership,
    Question,
    ScorecardResponse,
)
from tests.conftest import START
from tests.helpers import ephemeral_with, new_view, setup_partnership, view_ids
from tests.kpi_factories import add_kpi
from tests.text_field_support import (
    CLEAN,
    CLEAN_LINE,
    DIRTY,
    DIRTY_LINE,
    FORBIDDEN,
    Run,
    builder_text_inputs,
    initial_value,
    inputs_of_type,
    message_with,
    newest_row,
    sent_to_slack,
    text_inputs,
)

# --- one case per form (and per other way text comes in) -------------------------------------------------------


def _command_form(run: Run, user_id: str, command: str, callback: str) -> dict[str, Any]:
    """The form ``/partner <command>`` opens for the person."""
    before = view_ids(run.stack)
    run.command(user_id, command)
    return new_view(run.stack, user_id, callback, before)


def _card_form(run: Run, card: dict[str, Any], user_id: str, action_id: str, callback: str) -> dict[str, Any]:
    """The form a button on a channel message opens for the person."""
    before = view_ids(run.stack)
    run.stack.actor(user_id).click(run.stack.world.channel, card["ts"], action_id)
    return new_view(run.stack, user_id, callback, before)


def _posted_form(run: Run, command: str, action_id: str, user_id: str, callback: str) -> dict[str, Any]:
    """The form a button opens on the message the lead's ``/partner <command>`` posts in the channel."""
    run.command(run.stack.world.client_lead, command)
    return _card_form(run, message_with(run.stack, action_id), user_id, action_id, callback)


def _ephemeral_form(run: Run, user_id: str, action_id: str, callback: str) -> dict[str, Any]:
    """The form a button on the person's newest ephemeral message opens."""
    listing = ephemeral_with(run.stack, user_id, action_id)
    before = view_ids(run.stack)
    run.stack.actor(user_id).click_ephemeral(run.stack.world.channel, listing["ts"], action_id)
    return new_view(run.stack, user_id, callback, before)


def case_setup(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    stack.actor(w.client_lead).slash_command("/partner", "setup", w.channel)
    view = new_view(stack, w.client_lead, "setup-submit", set())
    values = run.fill(
        view,
        DIRTY_LINE,
        timezone="\u202eAmerica/New\x00_York\x1b",
        provider_leads=[w.provider_lead],
        client_sponsors=[w.client_sponsor],
        provider_sponsors=[w.provider_sponsor],
    )
    run.submit(w.client_lead, view, values)
    p = newest_row(stack, select(Partnership))
    for block, stored in (("name", p.name), ("client_org", p.client_org), ("provider_org", p.provider_org)):
        run.expect(view, block, stored, CLEAN_LINE)
    run.expect(view, "timezone", p.timezone, "America/New_York")
    run.shown.append(CLEAN_LINE)


def case_display_names_from_users_info(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    person = w.client_members[0]
    user = stack.sandbox.snapshot_user(person)
    stack.sandbox.add_user(person, user.team_id, DIRTY_LINE, real_name=DIRTY_LINE, tz=user.tz)
    setup_partnership(stack)
    member = newest_row(stack, select(Member).where(Member.user_id == person))
    run.stored["users.info:display_name"] = (member.display_name, CLEAN_LINE)


def case_question(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    run.command(w.client_lead, "questions")
    view = _ephemeral_form(run, w.client_lead, "question-add", "question-add-submit")
    run.submit(w.client_lead, view, run.fill(view, dimension="trust"))
    q = newest_row(stack, select(Question).where(Question.key.like("custom-%")))
    run.expect(view, "text_client", q.text_client, CLEAN)
    run.expect(view, "text_provider", q.text_provider, CLEAN)


def case_pulse_answer(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    view = _posted_form(run, "pulse now", "pulse-answer", w.client_members[0], "pulse-answer-submit")
    scores = {
        b["block_id"]: "8" if b["element"]["type"] == "static_select" else "4"
        for b in view["blocks"]
        if str(b.get("block_id", "")).startswith("score-")
    }
    run.submit(w.client_members[0], view, run.fill(view, **scores))
    newest_row(stack, select(Answer))
    with stack.services.uow_factory() as uow:
        by_question = {qid: comment for qid, comment in uow.session.execute(select(Answer.question_id, Answer.comment))}
    for block in text_inputs(view):
        run.expect(view, block, by_question.get(int(block.removeprefix("comment-"))), CLEAN)


def _logged_issue(run: Run, title: str = DIRTY_LINE) -> tuple[dict[str, Any], Issue]:
    """``/partner issue <title>``, the form filled with dirty text everywhere: the card and the stored issue."""
    stack, w = run.stack, run.stack.world
    view = _command_form(run, w.client_members[0], f"issue {title}", "issue-log-submit")
    if title == DIRTY_LINE:
        assert initial_value(view, "title") == CLEAN_LINE  # the command's text, cleaned before it is shown
    values = run.fill(
        view,
        title=DIRTY_LINE,
        details=DIRTY,
        severity="S2",
        category="Timeliness",
        owning_side="provider",
        owner_id=w.provider_members[0],
    )
    run.submit(w.client_members[0], view, values)
    issue = newest_row(stack, select(Issue))
    run.expect(view, "title", issue.title, CLEAN_LINE)
    run.expect(view, "details", issue.details, CLEAN)
    card = message_with(stack, "issue-actions")
    return card, issue


def case_issue_log(run: Run) -> None:
    setup_partnership(run.stack)
    _logged_issue(run)
    run.shown.append(CLEAN_LINE)


def case_issue_from_message_shortcut(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    ts = stack.sandbox.user_message(w.channel, w.provider_members[1], DIRTY_LINE + "\r\n" + DIRTY)
    before = view_ids(stack)
    assert stack.actor(w.client_members[0]).message_shortcut("log-partnership-issue", w.channel, ts).status == 200
    view = new_view(stack, w.client_members[0], "issue-log-submit", before)
    assert initial_value(view, "title") == CLEAN_LINE
    assert initial_value(view, "details") == CLEAN_LINE + "\n" + CLEAN
    values = run.fill(view, severity="S3", category="Other", owning_side="client", owner_id=w.client_lead)
    del values["title"], values["details"]  # submitted as prefilled
    run.filled.update(("issue-log-submit:title", "issue-log-submit:details"))
    run.submit(w.client_members[0], view, values)
    issue = newest_row(stack, select(Issue))
    run.expect(view, "title", issue.title, CLEAN_LINE)
    run.expect(view, "details", issue.details.split("\n\n")[0], CLEAN_LINE + "\n" + CLEAN)


def _event(stack: LocalStack, kind: str) -> IssueEvent:
    return newest_row(stack, select(IssueEvent).where(IssueEvent.kind == kind))


def _report_late_card(run: Run) -> tuple[dict[str, Any], str]:
    """The partnership set up and an issue logged: its card, and its owner (the provider's first member)."""
    setup_partnership(run.stack)
    card, _ = _logged_issue(run, "Report late")
    return card, run.stack.world.provider_members[0]


def case_issue_update_and_resolve(run: Run) -> None:
    stack = run.stack
    card, owner = _report_late_card(run)
    view = _card_form(run, card, owner, "issue-update", "issue-update-submit")
    run.submit(owner, view, run.fill(view))
    run.expect(view, "comment", _event(stack, "updated").detail, CLEAN)
    view = _card_form(run, card, owner, "issue-resolve", "issue-resolve-submit")
    run.submit(owner, view, run.fill(view))
    run.expect(view, "comment", _event(stack, "resolved").detail, CLEAN)
    run.shown.append("Payment late again")


def case_followup(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    card, owner = _report_late_card(run)
    view = _card_form(run, card, owner, "issue-resolve", "issue-resolve-submit")
    run.submit(owner, view, {"comment": "Fixed"})
    question = message_with(stack, "followup-contribute-client")
    view = _card_form(run, question, w.client_members[1], "followup-contribute-client", "followup-add-submit")
    run.submit(w.client_members[1], view, run.fill(view))
    run.expect(view, "text", newest_row(stack, select(Followup)).text, CLEAN)
    run.shown.append("Payment late again")


def case_action(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    view = _command_form(run, w.client_lead, f"action {DIRTY_LINE}", "action-add-submit")
    assert initial_value(view, "title") == CLEAN_LINE
    run.submit(w.client_lead, view, run.fill(view, DIRTY_LINE, owner_id=w.provider_members[0]))
    run.expect(view, "title", newest_row(stack, select(Action)).title, CLEAN_LINE)
    run.shown.append(CLEAN_LINE)


def case_policy(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    run.command(w.client_lead, "policy")
    view = _ephemeral_form(run, w.client_lead, "policy-change", "policy-submit")
    durations = {
        b: "\u202e1\x00h\x85" if b.startswith("acknowledge") else "\u20672\x1bd\u200f"
        for b in text_inputs(view)
        if b != "categories"
    }
    categories = "\u202eData\x00 quality\x1b\r\nTime\x7fliness\u2067\rOther"
    run.submit(w.client_lead, view, run.fill(view, **durations, categories=categories))
    p = newest_row(stack, select(Partnership))
    run.expect(view, "categories", p.issue_categories, ["Data quality", "Timeliness", "Other"])
    with stack.services.uow_factory() as uow:
        rows = {
            r.severity: (r.acknowledge_minutes, r.resolve_minutes) for r in uow.session.scalars(select(EscalationPolicyRow))
        }
    for block in durations:
        field, severity = block.split("-")
        stored = rows.get(severity, (None, None))[0 if field == "acknowledge" else 1]
        run.expect(view, block, stored, 60 if field == "acknowledge" else 2 * 8 * 60)  # 2 working days of 8 hours
    run.shown.append("Data quality")


def case_categories_and_holiday_commands(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    run.command(w.client_lead, "categories add \u202eData\x00 quality\x1b")
    run.command(w.client_lead, "holiday client 2026-12-25 \u2067Christmas\x00 Day\x85")
    stack.settle()
    run.stored["command:categories"] = (
        "Data quality" in (newest_row(stack, select(Partnership)).issue_categories or []),
        True,
    )
    run.stored["command:holiday"] = (newest_row(stack, select(Holiday)).name, "Christmas Day")
    run.shown.append("Christmas Day")


def case_goal(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    member, owner = w.client_members[0], w.client_members[1]
    view = _command_form(run, member, f"goal add {DIRTY_LINE}", "goal-add-submit")
    assert initial_value(view, "title") == CLEAN_LINE
    run.submit(member, view, run.fill(view, DIRTY_LINE, client_owner_id=owner, provider_owner_id=w.provider_members[0]))
    run.expect(view, "title", newest_row(stack, select(Goal)).title, CLEAN_LINE)
    run.command(owner, "goals")
    view = _ephemeral_form(run, owner, "goal-status", "goal-status-submit")
    run.submit(owner, view, run.fill(view, status="at_risk"))
    run.expect(view, "note", newest_row(stack, select(Goal)).note, CLEAN)
    run.shown.append(CLEAN_LINE)


def case_expectation(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    client, provider = w.client_members[0], w.provider_members[0]
    view = _command_form(run, client, "expect Status reports", "expectation-add-submit")
    run.submit(client, view, run.fill(view))
    run.expect(view, "text", newest_row(stack, select(Expectation)).text, CLEAN)
    posted = message_with(stack, "expectation-discuss")
    view = _card_form(run, posted, provider, "expectation-discuss", "expectation-discuss-submit")
    run.submit(provider, view, run.fill(view))
    run.expect(view, "reason", newest_row(stack, select(Expectation)).response, CLEAN)
    run.shown.append("Payment late again")


def case_scorecard(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    view = _posted_form(run, "scorecard start", "scorecard-fill", w.client_members[0], "scorecard-submit")
    ratings = {b: "4" for b in inputs_of_type(view, "static_select")}
    assert len(ratings) == 16  # 8 dimensions, each rated for one's own side and for the other
    run.submit(w.client_members[0], view, run.fill(view, **ratings))
    run.expect(view, "comment", newest_row(stack, select(ScorecardResponse)).comment, CLEAN)


def case_kpi_figure(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    p = newest_row(stack, select(Partnership))
    add_kpi(stack.services.uow_factory, p.id, key="decisions", now=START, delivered_by="client")
    member = w.client_members[0]
    before = view_ids(stack)
    run.command(member, "kpi record decisions")
    view = new_view(stack, member, "kpi-record-submit", before)
    run.submit(member, view, run.fill(view, value="\u202e81\x00.5\u2067", period_end="2026-11-29"))
    stored = newest_row(stack, select(KpiValue))
    run.expect(view, "value", stored.value, 81.5)
    run.expect(view, "note", stored.note, CLEAN)


def case_kpi(run: Run) -> None:
    stack, w = run.stack, run.stack.world
    setup_partnership(stack)
    before = view_ids(stack)
    run.command(w.client_lead, "kpi propose")
    view = new_view(stack, w.client_lead, "kpi-propose-submit", before)
    numbers = {"target": "\u202e75\x00", "amber": "7\x1b0", "red": "\u200f60\x85"}
    values = run.fill(view, DIRTY_LINE, measure=DIRTY, key="\u202efcr\x00", unit="\u2067%\x01", dimension="value", **numbers)
    run.submit(w.client_lead, view, values)
    v = newest_row(stack, select(KpiVersion))
    run.expect(view, "name", v.name, CLEAN_LINE)
    run.expect(view, "key", newest_row(stack, select(Kpi)).key, "fcr")
    run.expect(view, "measure", v.measure, CLEAN)
    run.expect(view, "unit", v.unit, "%")
    for block, stored, expected in (("target", v.target, 75), ("amber", v.amber, 70), ("red", v.red, 60)):
        run.expect(view, block, stored, expected)
    posted = message_with(stack, "kpi-discuss")
    before = view_ids(stack)
    stack.actor(w.provider_lead).click(w.channel, posted["ts"], "kpi-discuss")
    view = new_view(stack, w.provider_lead, "kpi-discuss-submit", before)
    run.submit(w.provider_lead, view, run.fill(view))
    run.expect(view, "reason", newest_row(stack, select(KpiVersion)).response, CLEAN)
    run.shown.extend([CLEAN_LINE, "Payment late again"])


CASES: dict[str, Callable[[Run], None]] = {
    name.removeprefix("case_"): fn for name, fn in globals().items() if name.startswith("case_") and callable(fn)
}

#: Each builder's plain-text input (function:block_id expression, see ``_builder_text_inputs``; no module name, so
#: moving a builder to another module changes nothing here) and the modal fields (callback_id:block_id) the cases
#: fill for it.
COVERED = {
    "_text:block": {
        "setup-submit:name",
        "setup-submit:client_org",
        "setup-submit:provider_org",
        "setup-submit:timezone",
    },
    "build_question_modal:Q.TEXT_CLIENT": {"question-add-submit:text_client"},
    "build_question_modal:Q.TEXT_PROVIDER": {"question-add-submit:text_provider"},
    "build_answer_modal:f'{ids.COMMENT_PREFIX}{q.id}'": {"pulse-answer-submit:comment-"},
    "build_issue_modal:B.TITLE": {"issue-log-submit:title"},
    "build_issue_modal:B.DETAILS": {"issue-log-submit:details"},
    "build_update_modal:B.COMMENT": {"issue-update-submit:comment"},
    "build_resolve_modal:ids.IssueUpdateBlock.COMMENT": {"issue-resolve-submit:comment"},
    "build_action_modal:B.TITLE": {"action-add-submit:title"},
    "build_followup_modal:ids.FollowupBlock.TEXT": {"followup-add-submit:text"},
    "build_policy_modal:ids.policy_block(field, s.severity)": {
        "policy-submit:acknowledge-",
        "policy-submit:resolve-",
    },
    "build_policy_modal:ids.PolicyBlock.CATEGORIES": {"policy-submit:categories"},
    "build_goal_modal:B.TITLE": {"goal-add-submit:title"},
    "build_goal_status_modal:B.NOTE": {"goal-status-submit:note"},
    "build_expectation_modal:ids.ExpectationBlock.TEXT": {"expectation-add-submit:text"},
    "build_discuss_modal:ids.ExpectationBlock.REASON": {"expectation-discuss-submit:reason"},
    "build_scorecard_modal:ids.SCORECARD_COMMENT": {"scorecard-submit:comment"},
    "build_record_modal:ids.KpiFigureBlock.VALUE": {"kpi-record-submit:value"},
    "build_record_modal:ids.KpiFigureBlock.NOTE": {"kpi-record-submit:note"},
    "build_kpi_modal:B.NAME": {"kpi-propose-submit:name"},
    "build_kpi_modal:B.KEY": {"kpi-propose-submit:key"},
    "build_kpi_modal:B.MEASURE": {"kpi-propose-submit:measure"},
    "build_kpi_modal:B.UNIT": {"kpi-propose-submit:unit"},
    "_number_input:block": {"kpi-propose-submit:target", "kpi-propose-submit:amber", "kpi-propose-submit:red"},
    "build_kpi_discuss_modal:ids.KpiBlock.REASON": {"kpi-discuss-submit:reason"},
}


def _covered(field: str) -> bool:
    """``callback_id:block_id`` is one of COVERED's fields (an entry ending in ``-`` is a prefix: ``comment-12``)."""
    entries = set().union(*COVERED.values())
    return field in entries or any(e.endswith("-") and field.startswith(e) for e in entries)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_text_field_is_stored_and_sent_clean_with_newlines_and_tabs_kept(stack: LocalStack, name: str) -> None:
    run = Run(stack, filled=set(), stored={}, shown=[])
    CASES[name](run)
    stack.settle()
    # Every plain-text input of the case's forms was filled with dirty text, listed in COVERED, and checked.
    assert all(_covered(f) for f in run.filled), f"not in COVERED: {sorted(f for f in run.filled if not _covered(f))}"
    assert run.filled <= set(run.stored), f"filled but not checked: {sorted(run.filled - set(run.stored))}"
    assert run.stored, "the case checked nothing"
    for field, (stored, expected) in run.stored.items():
        assert stored == expected, f"{field}: stored {stored!r}, expected {expected!r}"
    sent = sent_to_slack(stack)
    bad = sorted({repr(s) for s in sent if FORBIDDEN & set(s)})
    assert not bad, f"sent to Slack with control or bidi characters: {bad}"
    for text in run.shown:
        assert any(text in s for s in sent), f"{text!r} never reached Slack"
    assert stack.sandbox.violations == []


def test_every_text_input_is_covered() -> None:
    """A new plain-text input in a builder fails here until a case above fills it and checks what is stored."""
    found = builder_text_inputs()
    assert len(found) == len(set(found))
    assert set(found) == set(COVERED), (
        f"not covered: {sorted(set(found) - set(COVERED))}; gone from the builders: {sorted(set(COVERED) - set(found))}"
    )
    cases = "".join(inspect.getsource(fn) for fn in CASES.values())
    for fields in COVERED.values():
        for field in fields:
            assert field.split(":")[0] in cases, f"no case opens the form of {field}"
