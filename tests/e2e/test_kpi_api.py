"""``POST /api/v1/kpis/values`` through the real HTTP server of ``serve`` (bot/http.py with bot/kpi_api.py): a
good push is saved whole and a repeat replaces; a wrong, revoked or other partnership's token, an oversized,
non-JSON or malformed body are refused with nothing saved, and the log never holds the token or the body.

The stack's clock is Monday 30 November 2026, 12:00 UTC (07:00 in New York): the last complete week ended on
Sunday 29 November and the current one ends on Sunday 6 December.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import Any

import pytest

from bot.harness import LocalStack
from bot.kpi_api import MAX_API_BODY_BYTES
from bot.services import api_tokens
from tests.conftest import START
from tests.factories import make_issue_world
from tests.helpers import ephemeral_with, partner_command, post_kpi_values, setup_partnership
from tests.kpi_factories import add_kpi, stored_values

NOV_29 = date(2026, 11, 29)
MARKER = "PPMARKER-kpi-9c1e"


@pytest.fixture(autouse=True)
def every_log_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def _partnership_id(stack: LocalStack) -> int:
    with stack.services.uow_factory() as uow:
        p = uow.partnerships.get_by_channel(stack.world.client_team, stack.world.channel)
        assert p is not None
        return p.id


def _token(stack: LocalStack, channel_id: str | None = None, team_id: str | None = None, actor: str | None = None) -> str:
    w = stack.world
    return api_tokens.create_token(
        stack.services.uow_factory,
        team_id=team_id or w.client_team,
        channel_id=channel_id or w.channel,
        actor=actor or w.provider_lead,
        label="Ticketing",
        now=START,
    ).token


def _values(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"values": list(entries)}).encode()


def _fcr(value: Any, period_end: str = "2026-11-29", **more: Any) -> dict[str, Any]:
    return {"kpi": "fcr", "period_end": period_end, "value": value, **more}


def _world(stack: LocalStack) -> tuple[int, str]:
    """The partnership with the agreed weekly KPI ``fcr`` (target 80, amber 75, red 65) and a token; the KPI's id."""
    setup_partnership(stack)
    kpi_id = add_kpi(stack.services.uow_factory, _partnership_id(stack), key="fcr", now=START)
    return kpi_id, _token(stack)


def test_a_push_is_saved_and_a_repeat_replaces(stack: LocalStack, caplog: pytest.LogCaptureFixture) -> None:
    kpi_id, token = _world(stack)
    status, answer, _ = post_kpi_values(stack, _values(_fcr(81.5, note=MARKER), _fcr(70, "2026-11-22")), token=token)
    assert (status, answer) == (200, {"ok": True, "new": 2, "replaced": 0})
    status, answer, _ = post_kpi_values(stack, _values(_fcr(79)), token=token)
    assert (status, answer) == (200, {"ok": True, "new": 0, "replaced": 1})
    assert stored_values(stack.services.uow_factory, kpi_id) == [
        (date(2026, 11, 22), 70.0, None, "api"),
        (NOV_29, 79.0, None, "api"),
    ]
    with stack.services.uow_factory() as uow:
        tokens = uow.api_tokens.of_partnership(_partnership_id(stack))
        assert [t.last_used_at for t in tokens] == [START]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert token not in logged and MARKER not in logged


def test_wrong_revoked_and_other_partnerships_tokens_are_refused(stack: LocalStack) -> None:
    kpi_id, token = _world(stack)
    body = _values(_fcr(81.5))
    other = make_issue_world(stack.services.uow_factory, now=START, channel_id="C0OTHER", name="Other desk")
    add_kpi(stack.services.uow_factory, other.partnership_id, key="other-kpi", now=START)
    other_token = _token(stack, channel_id="C0OTHER", team_id="TCLIENT", actor="UPL")
    for presented in (None, "", token[:-2] + "zz", "ppk_" + "x" * 43, token.upper()):
        status, answer, headers = post_kpi_values(stack, body, token=presented)
        assert status == 401 and answer["ok"] is False, (presented, answer)
        assert headers.get("www-authenticate") == "Bearer"
    status, answer, _ = post_kpi_values(stack, body, token=other_token)
    assert status == 400
    assert answer["errors"] == [
        {
            "index": 0,
            "kpi": "fcr",
            "period_end": "2026-11-29",
            "error": "There is no KPI with the key 'fcr' in this partnership.",
        }
    ]
    w = stack.world
    token_id = api_tokens.list_tokens(
        stack.services.uow_factory, team_id=w.client_team, channel_id=w.channel, actor=w.client_lead
    )[0].id
    api_tokens.revoke_token(
        stack.services.uow_factory,
        team_id=w.client_team,
        channel_id=w.channel,
        actor=w.client_lead,
        token_id=token_id,
        now=START,
    )
    status, _, _ = post_kpi_values(stack, body, token=token)
    assert status == 401
    assert stored_values(stack.services.uow_factory, kpi_id) == []


def test_oversized_non_json_and_malformed_bodies_are_refused_whole(stack: LocalStack) -> None:
    kpi_id, token = _world(stack)
    good = _fcr(81.5)
    oversized = _values(good, _fcr(1, "2026-11-22", note="n" * MAX_API_BODY_BYTES))
    assert post_kpi_values(stack, oversized, token=token)[0] == 413
    assert post_kpi_values(stack, _values(good), token=token, content_type="text/csv")[0] == 415
    assert post_kpi_values(stack, _values(good), token=token, method="PUT")[0] == 405
    status, answer, _ = post_kpi_values(stack, b'{"values": [' + MARKER.encode(), token=token)
    assert status == 400 and "not valid JSON" in answer["error"]
    assert post_kpi_values(stack, b"[1, 2]", token=token)[0] == 400
    assert post_kpi_values(stack, _values(), token=token)[0] == 400
    status, answer, _ = post_kpi_values(
        stack,
        _values(
            good,
            _fcr("81"),
            _fcr(True),
            _fcr(1, "29/11/2026"),
            {"period_end": "2026-11-29", "value": 1},
            "fcr",
            _fcr(1, note=5),
            _fcr(2, "2026-11-30"),
            _fcr(3),
        ),
        token=token,
    )
    assert status == 400 and answer["error"] == "Nothing was saved: 8 entries have a problem."
    assert [(e["index"], e["error"]) for e in answer["errors"]] == [
        (1, '"value" must be a number.'),
        (2, '"value" must be a number.'),
        (3, "'29/11/2026' is not a date written as YYYY-MM-DD."),
        (4, '"kpi" must be the KPI\'s key, as text.'),
        (5, 'Each entry must be an object with "kpi", "period_end" and "value".'),
        (6, '"note" must be text or null.'),
        (7, "2026-11-30 is not the end of a weekly period of 'fcr' (that period ends 2026-12-06)."),
        (8, "The same KPI and period are given twice."),
    ]
    assert answer["errors"][-1]["same_as_index"] == 0
    # Well-formed but refused by the rules: a Monday, a period not started, NaN (JSON's extension) - and the
    # good entry with them is not saved either.
    status, answer, _ = post_kpi_values(
        stack,
        b'{"values": [{"kpi": "fcr", "period_end": "2026-11-29", "value": 81.5},'
        b' {"kpi": "fcr", "period_end": "2026-11-30", "value": 1},'
        b' {"kpi": "fcr", "period_end": "2026-12-13", "value": 1},'
        b' {"kpi": "fcr", "period_end": "2026-11-22", "value": NaN}]}',
        token=token,
    )
    assert status == 400 and answer["error"] == "Nothing was saved: 3 entries have a problem."
    assert [e["index"] for e in answer["errors"]] == [1, 2, 3]
    assert stored_values(stack.services.uow_factory, kpi_id) == []


# --- the tokens from Slack ----------------------------------------------------------------------------------------


def test_a_lead_makes_lists_and_revokes_a_token_in_slack_and_sees_it_once(stack: LocalStack) -> None:
    setup_partnership(stack)
    w = stack.world
    kpi_id = add_kpi(stack.services.uow_factory, _partnership_id(stack), key="fcr", now=START)
    member = w.client_members[0]
    partner_command(stack, member, "kpi token create Sneaky")
    assert "Only the partnership's leads can create API tokens" in json.dumps(
        ephemeral_with(stack, member, "Only the partnership")
    )
    partner_command(stack, w.client_lead, "kpi token create Ticketing system")
    shown = ephemeral_with(stack, w.client_lead, "Copy it now")
    tokens = re.findall(r"ppk_[A-Za-z0-9_-]{43}", json.dumps(shown))
    assert len(set(tokens)) == 1
    token = tokens[0]
    others = [m for m in stack.sandbox.ephemerals(w.channel) if m.get("recipient") != w.client_lead]
    assert token not in json.dumps(others) and token not in json.dumps(stack.sandbox.messages(w.channel))
    assert post_kpi_values(stack, _values(_fcr(81.5)), token=token)[:2] == (200, {"ok": True, "new": 1, "replaced": 0})

    partner_command(stack, w.client_lead, "kpi tokens")
    listed = json.dumps(ephemeral_with(stack, w.client_lead, "*API tokens*"))
    assert "Ticketing system" in listed and token[-4:] in listed and token not in listed and "last used" in listed
    partner_command(stack, w.client_lead, "kpi token revoke 1")
    ephemeral_with(stack, w.client_lead, "is revoked")
    assert post_kpi_values(stack, _values(_fcr(60)), token=token)[0] == 401
    assert stored_values(stack.services.uow_factory, kpi_id) == [(NOV_29, 81.5, None, "api")]
