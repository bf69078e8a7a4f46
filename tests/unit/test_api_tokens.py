"""API tokens: made and revoked by a lead, shown once, stored only as a hash, refused once revoked."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.services import api_tokens
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.kpi_value_models import CreatedApiToken
from storage.models import ApiToken
from storage.uow import UnitOfWorkFactory
from tests.factories import make_issue_world

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


def _create(uow_factory: UnitOfWorkFactory, actor: str = "UPL", channel_id: str = "C100") -> CreatedApiToken:
    return api_tokens.create_token(
        uow_factory, team_id="TCLIENT", channel_id=channel_id, actor=actor, label="Ticketing", now=NOW
    )


def test_a_token_is_shown_once_and_stored_only_as_its_hash(uow_factory: UnitOfWorkFactory) -> None:
    world = make_issue_world(uow_factory, now=NOW)
    created = _create(uow_factory)
    token = created.token
    # "ppk_" and 32 random bytes in URL-safe base64: ceil(32 * 4 / 3) = 43 characters.
    assert token.startswith("ppk_") and len(token) == 4 + 43
    assert created.view.hint == token[-4:]
    with uow_factory() as uow:
        rows = [(r.token_hash, r.hint, r.label) for r in uow.session.scalars(select(ApiToken))]
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), token[-4:], "Ticketing")]
    caller = api_tokens.authenticate(uow_factory, token, now=NOW + timedelta(hours=1))
    assert caller is not None and (caller.partnership_id, caller.label) == (world.partnership_id, "Ticketing")
    listed = api_tokens.list_tokens(uow_factory, team_id="TCLIENT", channel_id="C100", actor="UCL")
    assert [(t.id, t.last_used_at) for t in listed] == [(created.view.id, NOW + timedelta(hours=1))]


def test_two_tokens_differ(uow_factory: UnitOfWorkFactory) -> None:
    make_issue_world(uow_factory, now=NOW)
    assert _create(uow_factory).token != _create(uow_factory).token


def test_only_a_lead_makes_revokes_or_lists_tokens(uow_factory: UnitOfWorkFactory) -> None:
    make_issue_world(uow_factory, now=NOW)
    with pytest.raises(NotAllowed):
        _create(uow_factory, actor="UP1")
    token_id = _create(uow_factory).view.id
    with pytest.raises(NotAllowed):
        api_tokens.revoke_token(uow_factory, team_id="TCLIENT", channel_id="C100", actor="UC1", token_id=token_id, now=NOW)
    with pytest.raises(NotAllowed):
        api_tokens.list_tokens(uow_factory, team_id="TCLIENT", channel_id="C100", actor="UP1")
    with pytest.raises(InvalidInput):
        api_tokens.create_token(uow_factory, team_id="TCLIENT", channel_id="C100", actor="UPL", label=" ", now=NOW)


def test_a_revoked_token_and_unknown_tokens_are_refused(uow_factory: UnitOfWorkFactory) -> None:
    make_issue_world(uow_factory, now=NOW)
    created = _create(uow_factory)
    revoked = api_tokens.revoke_token(
        uow_factory, team_id="TCLIENT", channel_id="C100", actor="UCL", token_id=created.view.id, now=NOW
    )
    assert revoked.revoked_at == NOW
    assert api_tokens.authenticate(uow_factory, created.token, now=NOW) is None
    assert api_tokens.authenticate(uow_factory, created.token[:-1] + "x", now=NOW) is None
    assert api_tokens.authenticate(uow_factory, "", now=NOW) is None


def test_a_token_of_another_partnership_cannot_be_revoked_here(uow_factory: UnitOfWorkFactory) -> None:
    make_issue_world(uow_factory, now=NOW)
    make_issue_world(uow_factory, now=NOW, channel_id="C200", name="Other desk")
    other = _create(uow_factory, channel_id="C200")
    with pytest.raises(NotFound):
        api_tokens.revoke_token(
            uow_factory, team_id="TCLIENT", channel_id="C100", actor="UPL", token_id=other.view.id, now=NOW
        )
    assert api_tokens.authenticate(uow_factory, other.token, now=NOW) is not None
