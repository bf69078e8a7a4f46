"""Escaping and truncation of user text, and the Block Kit builders' output within Slack's limits."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.blocks.common import build_help, build_menu, build_setup_done, build_status
from bot.blocks.metadata import ChannelRef, RoundRef, decode
from bot.blocks.pulse import (
    MAX_MESSAGE_TEXT,
    Message,
    build_answer_modal,
    build_pulse_message,
    build_reminder,
    build_results_messages,
    text_length,
)
from bot.blocks.setup import build_setup_modal
from bot.blocks.text import SECTION_TEXT_MAX, escape, quote, truncate
from bot.services.anonymity import MIN_THRESHOLD
from bot.services.figures import WITHHELD, Comparison, SideFigure
from bot.services.partnership_models import MemberView, PartnershipView, Role, SetupResult, Side
from bot.services.pulse_models import (
    AnswerForm,
    Participation,
    PreviousAnswer,
    QuestionView,
    RoundResults,
    RoundView,
    StatusView,
)
from tests.factories import partnership_view
from tests.helpers import mrkdwn_texts

INJECTIONS = ["<!channel>", "<!here>", "<!everyone>", "<@U123>", "<!subteam^S1>", "<https://evil|Open>"]
NOW = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
EVIL = "Acme <!channel> & <@U999>"


def _partnership(**kw: Any) -> PartnershipView:
    """A partnership whose names carry mentions and links, to be shown inert."""
    values: dict[str, Any] = {
        "id": 7,
        "name": EVIL,
        "client_org": "Client <!here>",
        "provider_org": "Provider <!everyone>",
        "digest_minute": 30,
        "next_pulse_at": NOW + timedelta(days=7),
    }
    return partnership_view(**(values | kw))


def _question(qid: int, dimension: str = "trust", kind: str = "scale") -> QuestionView:
    return QuestionView(
        qid, f"q{qid}", dimension, f"Client wording {qid}", f"Provider wording {qid}", kind, "mirrored", False
    )


def _round(questions: tuple[QuestionView, ...], rid: int = 42) -> RoundView:
    return RoundView(rid, 7, 3, NOW, NOW + timedelta(hours=48), "open", questions)


def _message_dicts(message: Message) -> list[dict[str, Any]]:
    assert message.text.strip(), "every message needs fallback text"
    assert len(message.blocks) <= 50
    return [b.to_dict() for b in message.blocks]  # slack_sdk validates lengths here


def _assert_no_raw_control(texts: list[str]) -> None:
    for text in texts:
        for bad in INJECTIONS:
            assert bad not in text, (bad, text)


# --- escape / truncate ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", INJECTIONS)
def test_escape_neutralises_mentions_and_links(raw: str) -> None:
    out = escape(raw)
    assert "<" not in out and ">" not in out
    assert out.replace("&lt;", "<").replace("&gt;", ">") == raw


def test_escape_only_encodes_three_characters_and_doubles_ampersands() -> None:
    assert escape("&amp;") == "&amp;amp;"
    assert escape("a & b < c > d \"e\" 'f'") == "a &amp; b &lt; c &gt; d \"e\" 'f'"
    assert escape("<&>") == "&lt;&amp;&gt;"
    assert escape("plain :smile: *bold*") == "plain :smile: *bold*"


def test_truncate_never_exceeds_limit_nor_cuts_an_entity() -> None:
    texts = [escape("<" * 60), escape("a<b&c>" * 30), "x" * 200, escape("<!channel> " * 20)]
    for text in texts:
        for limit in range(2, len(text) + 2):
            out = truncate(text, limit)
            assert len(out) <= limit
            if len(text) <= limit:
                assert out == text
                continue
            assert out.endswith("…")
            body = out[:-1]
            assert text.startswith(body)
            amp = body.rfind("&")
            assert amp == -1 or ";" in body[amp:], (limit, out)


def test_quote_escapes_and_fits() -> None:
    out = quote("hi <!channel>\n\n second line " + "z" * 5000, 3000)
    assert len(out) <= 3000 and out.startswith("> ")
    assert "<!channel>" not in out and "&lt;!channel&gt;" in out


# --- results ------------------------------------------------------------------------------------------------


def _results(dimensions: int, comments: int, *, withheld: tuple[Side, ...] = ()) -> RoundResults:
    dims = tuple(
        Comparison(
            "relationship",
            f"dimension-{i}",
            SideFigure(Decimal("3.5"), 4),
            WITHHELD if Side.PROVIDER in withheld else SideFigure(Decimal("1.5"), 4),
        )
        for i in range(dimensions)
    )
    long = "<!channel> please look " + "&<>" * 1500
    comment_map = {
        Side.CLIENT: tuple(f"client comment {i} <@U123> {long if i == 0 else ''}" for i in range(comments)),
        Side.PROVIDER: () if Side.PROVIDER in withheld else tuple(f"provider says {i} <!here>" for i in range(comments)),
    }
    return RoundResults(
        round=_round(tuple(_question(i) for i in range(3))),
        partnership=_partnership(),
        items=dims,
        participation={Side.CLIENT: Participation(4, 5), Side.PROVIDER: Participation(1 if withheld else 4, 5)},
        withheld=withheld,
        comments=comment_map,
    )


def test_results_with_long_comments_stay_under_slacks_total_text_limit() -> None:
    # Ten 3,000-character comments per side fit in 50 blocks but not in one message: Slack answers
    # msg_blocks_too_long for ~12,000 characters of block text.
    r = _results(3, 0)
    r = replace(r, comments={side: tuple(f"{side.value} {i} " + "x" * 2990 for i in range(10)) for side in Side})
    messages = build_results_messages(r)
    assert len(messages) > 1
    for message in messages:
        assert text_length(_message_dicts(message)) <= MAX_MESSAGE_TEXT
    everything = json.dumps([b.to_dict() for m in messages for b in m.blocks])
    assert all(f"{side.value} {i} " in everything for side in Side for i in range(10)), "no comment may be lost"


def test_results_split_into_messages_within_limits() -> None:
    messages = build_results_messages(_results(60, 60))
    assert len(messages) >= 2
    total = 0
    for message in messages:
        blocks = _message_dicts(message)
        total += len(blocks)
        for block in blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
        rendered = json.dumps(blocks)
        _assert_no_raw_control([message.text, *mrkdwn_texts(blocks)])
        assert "<@U123>" not in rendered and "<!here>" not in rendered
    assert total > 50
    everything = json.dumps([b.to_dict() for m in messages for b in m.blocks])
    assert "client comment 1 &lt;@U123&gt;" in everything
    assert "provider says 1 &lt;!here&gt;" in everything
    assert "3.5" in everything and "gap \\u22122.0" in everything  # provider − client, JSON-escaped minus


def test_results_withheld_side_shows_no_averages_or_comments() -> None:
    messages = build_results_messages(_results(3, 2, withheld=(Side.PROVIDER,)))
    rendered = json.dumps([b.to_dict() for m in messages for b in m.blocks])
    assert "provider says" not in rendered
    assert ":lock:" in rendered and "Provider &lt;!everyone&gt;" in rendered
    lines = [t for t in mrkdwn_texts([b.to_dict() for m in messages for b in m.blocks]) if "dimension-" in t]
    assert lines and all("provider withheld" in t and "gap –" in t for t in lines)


def test_results_builder_withholds_even_if_given_data_for_withheld_side() -> None:
    r = _results(3, 2)
    r = RoundResults(r.round, r.partnership, r.items, r.participation, (Side.PROVIDER,), r.comments)
    rendered = json.dumps([b.to_dict() for m in build_results_messages(r) for b in m.blocks])
    assert "provider says" not in rendered
    assert "provider 1.5" not in rendered and "provider withheld" in rendered


# --- answer modal ----------------------------------------------------------------------------------------


def _answer_form(previous: dict[int, PreviousAnswer] | None = None) -> AnswerForm:
    questions = (_question(11, "trust"), _question(12, "value"), _question(13, "alignment"), _question(14, "nps", "nps"))
    return AnswerForm(_round(questions), EVIL, Side.PROVIDER, "Client <!here>", previous or {})


def test_answer_modal_elements_and_metadata() -> None:
    view: View = build_answer_modal(_answer_form())
    d = view.to_dict()
    assert len(d["blocks"]) <= 100
    assert decode(d["private_metadata"], RoundRef) == RoundRef(42)
    inputs = {b["block_id"]: b for b in d["blocks"] if b["type"] == "input"}
    assert set(inputs) == {f"{p}-{i}" for p in ("score", "comment") for i in (11, 12, 13, 14)}
    nps = inputs["score-14"]["element"]
    assert nps["type"] == "static_select"
    assert [o["value"] for o in nps["options"]] == [str(i) for i in range(11)]
    for qid in (11, 12, 13):
        radio = inputs[f"score-{qid}"]["element"]
        assert radio["type"] == "radio_buttons"
        assert [o["value"] for o in radio["options"]] == ["1", "2", "3", "4", "5"]
        assert "initial_option" not in radio
        assert inputs[f"score-{qid}"]["label"]["text"] == f"Provider wording {qid}"
    for qid in (11, 12, 13, 14):
        comment = inputs[f"comment-{qid}"]
        assert comment["optional"] is True
        assert comment["element"]["type"] == "plain_text_input" and comment["element"]["max_length"] == 3000
    _assert_no_raw_control(mrkdwn_texts(d["blocks"]))


def test_answer_modal_prefills_previous_answers() -> None:
    form = _answer_form({11: PreviousAnswer(4, "good <!channel>"), 14: PreviousAnswer(0, None)})
    d = build_answer_modal(form).to_dict()
    inputs = {b["block_id"]: b for b in d["blocks"] if b["type"] == "input"}
    assert inputs["score-11"]["element"]["initial_option"]["value"] == "4"
    assert inputs["comment-11"]["element"]["initial_value"] == "good <!channel>"  # plain_text input: shown as typed
    assert inputs["score-14"]["element"]["initial_option"]["value"] == "0"
    assert "initial_option" not in inputs["score-12"]["element"]
    assert d["submit"]["text"] == "Update"


def test_answer_modal_with_many_questions_stays_within_100_blocks() -> None:
    questions = tuple(_question(i) for i in range(1, 40))
    form = AnswerForm(_round(questions), "x", Side.CLIENT, "y", {})
    d = build_answer_modal(form).to_dict()
    assert len(d["blocks"]) <= 100


# --- other builders -----------------------------------------------------------------------------------------


def test_pulse_message_open_and_closed() -> None:
    r, p = _round((_question(1), _question(2, "value"))), _partnership()
    for closed in (False, True):
        message = build_pulse_message(r, p, closed=closed)
        blocks = _message_dicts(message)
        _assert_no_raw_control([message.text, *mrkdwn_texts(blocks)])
        assert "Acme &lt;!channel&gt; &amp; &lt;@U999&gt;" in message.text
        buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
        if closed:
            assert buttons == []
        else:
            assert [decode(b["value"], RoundRef) for b in buttons] == [RoundRef(42)]


def test_reminder_escapes_name() -> None:
    message = build_reminder(_round((_question(1),)), _partnership())
    blocks = _message_dicts(message)
    _assert_no_raw_control([message.text, *mrkdwn_texts(blocks)])
    assert "&lt;!channel&gt;" in json.dumps(blocks)


def test_setup_modal_new_and_existing() -> None:
    new = build_setup_modal(
        team_id="T1",
        channel_id="C1",
        existing=None,
        members=[],
        default_tz="Europe/Berlin",
        user_id="U1",
        min_threshold=MIN_THRESHOLD,
    )
    d = new.to_dict()
    assert decode(d["private_metadata"], ChannelRef) == ChannelRef("T1", "C1")
    blocks = {b.get("block_id"): b for b in d["blocks"]}
    assert blocks["client_leads"]["element"]["initial_users"] == ["U1"]
    assert blocks["timezone"]["element"]["initial_value"] == "Europe/Berlin"
    members = [
        MemberView("U1", "T1", "a", Side.CLIENT, Role.LEAD, True, None),
        MemberView("U2", "T2", "b", Side.PROVIDER, Role.LEAD, True, None),
        MemberView("U3", "T2", "c", Side.PROVIDER, Role.SPONSOR, False, None),
    ]
    p = _partnership(pulse_every_weeks=4, anonymity_threshold=5, installing_side=Side.PROVIDER)
    d = build_setup_modal(
        team_id="T1",
        channel_id="C1",
        existing=p,
        members=members,
        default_tz="UTC",
        user_id="U1",
        min_threshold=MIN_THRESHOLD,
    ).to_dict()
    blocks = {b.get("block_id"): b for b in d["blocks"]}
    assert blocks["name"]["element"]["initial_value"] == EVIL
    assert blocks["provider_leads"]["element"]["initial_users"] == ["U2"]
    assert blocks["provider_sponsors"]["element"]["initial_users"] == ["U3"]
    assert blocks["pulse_every_weeks"]["element"]["initial_option"]["value"] == "4"
    assert blocks["installing_side"]["element"]["initial_option"]["value"] == "provider"
    assert blocks["anonymity_threshold"]["element"]["initial_value"] == "5"
    assert blocks["digest_time"]["element"]["initial_time"] == "16:30"
    assert len(d["blocks"]) <= 100
    _assert_no_raw_control(mrkdwn_texts(d["blocks"]))


def test_menu_buttons_carry_channel_ref() -> None:
    message = build_menu(_partnership())
    blocks = _message_dicts(message)
    _assert_no_raw_control([message.text, *mrkdwn_texts(blocks)])
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(values) == 14
    assert {decode(v, ChannelRef) for v in values} == {ChannelRef("T1", "C1")}


def _status(p: PartnershipView) -> StatusView:
    lead = MemberView("U1", "T1", "a", Side.CLIENT, Role.LEAD, True, None)
    return StatusView(
        partnership=p,
        members_by_side={"client": 4, "provider": 3},
        unassigned=2,
        leads=(lead,),
        sponsors=(),
        open_round=_round((_question(1),)),
        last_round=_round((_question(1),), rid=41),
        last_participation={Side.CLIENT: Participation(3, 4), Side.PROVIDER: Participation(1, 3)},
    )


def test_status_escapes_names_and_reports_numbers() -> None:
    message = build_status(_status(_partnership()))
    blocks = _message_dicts(message)
    texts = mrkdwn_texts(blocks)
    _assert_no_raw_control([message.text, *texts])
    body = "\n".join(texts)
    assert "Client &lt;!here&gt; 4" in body and "Provider &lt;!everyone&gt; 3" in body
    assert "2 without a side" in body and "<@U1>" in body
    assert "3 of 4 (75%)" in body and "1 of 3 (33%)" in body


def test_status_of_paused_partnership_mentions_who_paused() -> None:
    message = build_status(_status(_partnership(status="paused", pause_reason="paused by a lead", paused_by="U1")))
    body = "\n".join(mrkdwn_texts(_message_dicts(message)))
    assert "paused by <@U1>" in body and "&lt;@" not in body
    # A reason from elsewhere (Slack's error text) is escaped.
    message = build_status(_status(_partnership(status="paused", pause_reason="Slack answered <is_archived>")))
    body = "\n".join(mrkdwn_texts(_message_dicts(message)))
    assert "Slack answered &lt;is_archived&gt;" in body


def test_setup_done_and_help() -> None:
    result = SetupResult(_partnership(), True, {"client": 3, "provider": 4})
    message = build_setup_done(result, user_id="U1")
    blocks = _message_dicts(message)
    _assert_no_raw_control([message.text, *mrkdwn_texts(blocks)])
    assert "<@U1> set up" in blocks[0]["text"]["text"]
    help_message = build_help()
    _message_dicts(help_message)
    sections = [block.to_dict()["text"]["text"] for block in help_message.blocks]
    assert "/partner setup" in sections[0] and "/partner scorecard" in sections[-1]
    # One section per group, each within a section's limit.
    assert all(len(section) <= SECTION_TEXT_MAX for section in sections)
    assert len(sections) == 6
    assert any(section.startswith("*KPI figures*") and "/partner kpi record KEY" in section for section in sections)


def test_long_names_are_truncated_not_rejected() -> None:
    p = _partnership(name="<!channel>" * 15, client_org="&" * 150, provider_org="<" * 150)
    for message in (build_pulse_message(_round((_question(1),)), p), build_menu(p), build_status(_status(p))):
        blocks = _message_dicts(message)
        _assert_no_raw_control([message.text, *mrkdwn_texts(blocks)])
    for message in build_results_messages(_results(5, 12)):
        _message_dicts(message)
