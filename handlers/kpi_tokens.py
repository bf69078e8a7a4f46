"""The API tokens at the Slack edge: ``/partner kpi token create LABEL``, ``/partner kpi token revoke ID`` and
``/partner kpi tokens`` (leads). Every answer is an ephemeral reply to the lead who asked; the new token is in that
reply and nowhere else."""

from __future__ import annotations

from bot.blocks.common import build_notice
from bot.blocks.kpi_tokens import build_token_created, build_token_list, token_revoked_text
from bot.services import api_tokens
from handlers.command_registry import CommandContext, handles
from handlers.command_types import KpiTokenCreate, KpiTokenRevoke, KpiTokensShow
from handlers.ui import reply, require_partnership


def create_token(command: KpiTokenCreate, ctx: CommandContext) -> None:
    created = api_tokens.create_token(
        ctx.services.uow_factory, **ctx.place(actor=ctx.user_id), label=command.label, now=ctx.services.clock()
    )
    reply(ctx.respond, build_token_created(created))


def revoke_token(command: KpiTokenRevoke, ctx: CommandContext) -> None:
    revoked = api_tokens.revoke_token(
        ctx.services.uow_factory, **ctx.place(actor=ctx.user_id), token_id=command.token_id, now=ctx.services.clock()
    )
    reply(ctx.respond, build_notice(token_revoked_text(revoked)))


def list_tokens(command: KpiTokensShow, ctx: CommandContext) -> None:
    tokens = api_tokens.list_tokens(ctx.services.uow_factory, **ctx.place(actor=ctx.user_id))
    p = require_partnership(ctx.services, ctx.team_id, ctx.channel_id)
    reply(ctx.respond, build_token_list(tokens, p.timezone))


COMMAND_HANDLERS = dict(
    [
        handles(KpiTokenCreate, create_token),
        handles(KpiTokenRevoke, revoke_token),
        handles(KpiTokensShow, list_tokens),
    ]
)
