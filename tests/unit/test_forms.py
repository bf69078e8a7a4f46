"""Parsing Slack-shaped modal state (the /partner grammar is in test_command_parser)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services.errors import InvalidInput
from bot.services.partnership_models import Side
from bot.services.pulse_models import AnswerInput
from handlers.pulse import parse_answers
from handlers.setup import parse_setup
from handlers.ui import actor_profile

# --- modal state ----------------------------------------------------------------------------------------


def _text(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def _option(value: str) -> dict[str, Any]:
    return {
        "value": {
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        }
    }


def _radio(value: str) -> dict[str, Any]:
    return {
        "value": {
            "type": "radio_buttons",
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        }
    }


def _users(*users: str) -> dict[str, Any]:
    return {"value": {"type": "multi_users_select", "selected_users": list(users)}}


def _time(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "timepicker", "selected_time": value}}


def _number(value: str | None) -> dict[str, Any]:
    return {"value": {"type": "number_input", "value": value}}


def _setup_state(**overrides: Any) -> dict[str, Any]:
    state = {
        "name": _text("Northwind desk"),
        "client_org": _text("Northwind"),
        "provider_org": _text("Contoso"),
        "installing_side": _radio("provider"),
        "client_leads": _users("UC1"),
        "provider_leads": _users("UP1", "UP2"),
        "client_sponsors": _users(),
        "provider_sponsors": _users("UP9"),
        "client_members": _users("UC5"),
        "provider_members": {"value": {"type": "multi_users_select", "selected_users": None}},
        "timezone": _text("  Europe/Berlin "),
        "pulse_weekday": _option("2"),
        "pulse_time": _time("09:05"),
        "pulse_every_weeks": _option("2"),
        "digest_weekday": _option("4"),
        "digest_time": _time("17:30"),
        "anonymity_threshold": _number("5"),
    }
    state.update(overrides)
    return {k: v for k, v in state.items() if v is not None}


def test_parse_setup_reads_every_field() -> None:
    data = parse_setup(_setup_state())
    assert data.name == "Northwind desk" and data.client_org == "Northwind" and data.provider_org == "Contoso"
    assert data.installing_side is Side.PROVIDER
    assert data.client_leads == ("UC1",) and data.provider_leads == ("UP1", "UP2")
    assert data.client_sponsors == () and data.provider_sponsors == ("UP9",)
    assert data.client_members == ("UC5",) and data.provider_members == ()
    assert data.timezone == "Europe/Berlin"
    assert (data.pulse_weekday, data.pulse_hour, data.pulse_minute, data.pulse_every_weeks) == (2, 9, 5, 2)
    assert (data.digest_weekday, data.digest_hour, data.digest_minute) == (4, 17, 30)
    assert data.anonymity_threshold == 5


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"installing_side": None}, "installing_side"),
        ({"installing_side": _radio("both")}, "installing_side"),
        ({"pulse_time": _time("9am")}, "pulse_time"),
        ({"pulse_time": _time(None)}, "pulse_time"),
        ({"digest_time": _time("25")}, "digest_time"),
        ({"anonymity_threshold": _number("three")}, "anonymity_threshold"),
        ({"anonymity_threshold": _number(None)}, "anonymity_threshold"),
        ({"pulse_weekday": None}, "pulse_weekday"),
        ({"pulse_every_weeks": _option("x")}, "pulse_every_weeks"),
    ],
)
def test_parse_setup_errors_name_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_setup(_setup_state(**overrides))
    assert info.value.field == field


def test_parse_setup_null_selected_option_is_invalid_input() -> None:
    state = _setup_state(pulse_weekday={"value": {"type": "static_select", "selected_option": None}})
    with pytest.raises(InvalidInput) as info:
        parse_setup(state)
    assert info.value.field == "pulse_weekday"


def test_parse_answers_reads_scores_and_comments() -> None:
    state = {
        "score-11": _radio("4"),
        "comment-11": _text("fine <!channel>"),
        "score-12": _option("0"),
        "comment-12": _text(None),
        "score-13": _radio("5"),
        "score-abc": _radio("3"),  # not ours: ignored
        "other": _text("x"),
    }
    answers = sorted(parse_answers(state), key=lambda a: a.question_id)
    assert answers == [
        AnswerInput(11, 4, "fine <!channel>"),
        AnswerInput(12, 0, None),
        AnswerInput(13, 5, None),
    ]


@pytest.mark.parametrize("bad", ["four", "", "4.5"])
def test_parse_answers_rejects_non_numeric_score(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_answers({"score-11": _radio("4"), "score-12": _radio(bad)})
    assert info.value.field == "score-12"


def test_parse_answers_missing_selection() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_answers({"score-7": {"value": {"type": "radio_buttons", "selected_option": None}}})
    assert info.value.field == "score-7"


def test_actor_profile_from_interaction_payload() -> None:
    body = {"user": {"id": "U1", "team_id": "T2", "username": "dana"}, "team": {"id": "T1"}}
    profile = actor_profile(body)
    assert (profile.user_id, profile.team_id, profile.display_name) == ("U1", "T2", "dana")
