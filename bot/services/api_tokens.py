"""A partnership's bearer tokens for ``POST /api/v1/kpis/values`` (DESIGN 3.6): made and revoked by a lead.

A token is ``ppk_`` (so secret scanners can recognise it) and 43 URL-safe characters from 32 random bytes of
``secrets``. It is shown once, to the lead who made it; only its SHA-256 is stored, with its last four characters
as a hint for telling tokens apart. A presented token is found by its hash and the hashes compared in constant
time; a revoked token, or one of a partnership that no longer exists, is refused like an unknown one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from bot.services.errors import NotFound
from bot.services.kpi_value_models import ApiCaller, ApiTokenView, CreatedApiToken
from bot.services.partnership_guards import (
    check_text,
    partnership_a_lead_changes,
    require_lead,
    require_partnership,
)
from bot.services.read_models_from_rows import view_from_row
from storage.models import ApiToken
from storage.uow import UowFactory

TOKEN_PREFIX = "ppk_"
TOKEN_BYTES = 32
HINT_CHARS = 4
MAX_LABEL = 80
#: A presented token longer than this is not one of ours; it is refused before it is hashed.
MAX_TOKEN_CHARS = 200


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_view(row: ApiToken) -> ApiTokenView:
    return view_from_row(ApiTokenView, row)


def create_token(
    uow_factory: UowFactory, *, team_id: str, channel_id: str, actor: str, label: str, now: datetime
) -> CreatedApiToken:
    """A new token for the channel's partnership, made by a lead (NotAllowed otherwise); the token is in the answer
    and nowhere else. InvalidInput (field ``label``) for a missing or too long label."""
    label = check_text(label, field="label", label="label for the token", limit=MAX_LABEL, required=True)
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with uow_factory() as uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "create API tokens")
        row = uow.api_tokens.add(
            ApiToken(
                partnership_id=p.id,
                label=label,
                token_hash=token_hash(token),
                hint=token[-HINT_CHARS:],
                created_by=actor,
                created_at=now,
            )
        )
        view = token_view(row)
        uow.commit()
    return CreatedApiToken(view=view, token=token)


def revoke_token(
    uow_factory: UowFactory, *, team_id: str, channel_id: str, actor: str, token_id: int, now: datetime
) -> ApiTokenView:
    """Revoke the partnership's token ``token_id`` (a lead only); revoking it again changes nothing."""
    with uow_factory() as uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "revoke API tokens")
        row = uow.api_tokens.get(token_id)
        if row is None or row.partnership_id != p.id:
            raise NotFound(f"This partnership has no API token {token_id}. `/partner kpi tokens` lists them.")
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = now, actor
        view = token_view(row)
        uow.commit()
    return view


def list_tokens(uow_factory: UowFactory, *, team_id: str, channel_id: str, actor: str) -> tuple[ApiTokenView, ...]:
    """The partnership's tokens, oldest first, for a lead (NotAllowed otherwise)."""
    with uow_factory() as uow:
        p = require_partnership(uow, team_id, channel_id)
        require_lead(uow, p, actor, "see the API tokens")
        return tuple(token_view(row) for row in uow.api_tokens.of_partnership(p.id))


def authenticate(uow_factory: UowFactory, token: str, *, now: datetime) -> ApiCaller | None:
    """Whom ``token`` speaks for, recording that it was used; None for an unknown or revoked token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_CHARS:
        return None
    presented = token_hash(token)
    with uow_factory() as uow:
        row = uow.api_tokens.get_by_hash(presented)
        if row is None or not hmac.compare_digest(row.token_hash, presented) or row.revoked_at is not None:
            return None
        row.last_used_at = now
        caller = ApiCaller(token_id=row.id, partnership_id=row.partnership_id, label=row.label)
        uow.commit()
    return caller
