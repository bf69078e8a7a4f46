"""The API tokens a lead sees: the new token (shown once, only to them) and the list of tokens by their hints."""

from __future__ import annotations

from bot.blocks.layout import mrkdwn_context, mrkdwn_section
from bot.blocks.pulse import Message
from bot.blocks.text import escape, local_time_label
from bot.services.kpi_value_models import ApiTokenView, CreatedApiToken

ENDPOINT = "POST /api/v1/kpis/values"


def _token_line(t: ApiTokenView, timezone: str) -> str:
    used = f"last used {local_time_label(t.last_used_at, timezone)}" if t.last_used_at else "never used"
    state = f"revoked {local_time_label(t.revoked_at, timezone)}" if t.revoked_at else used
    return f"• *{t.id}* · {escape(t.label)} · ends `…{escape(t.hint)}` · made by <@{t.created_by}> · {state}"


def build_token_created(created: CreatedApiToken) -> Message:
    """The token, once: the lead copies it into the ticketing or monitoring system now."""
    v = created.view
    return Message(
        text=f"API token {v.id} ({v.label}) created; copy it now, it is not shown again.",
        blocks=[
            mrkdwn_section(
                f":key: API token *{v.id}* for *{escape(v.label)}*. Copy it now: it is shown only this once and "
                "PartnerPulse keeps only its hash."
            ),
            mrkdwn_section(f"```{created.token}```"),
            mrkdwn_context(
                f"Send it as `Authorization: Bearer <token>` with `{ENDPOINT}`. Revoke it with "
                f"`/partner kpi token revoke {v.id}`."
            ),
        ],
    )


def build_token_list(tokens: tuple[ApiTokenView, ...], timezone: str) -> Message:
    if not tokens:
        return Message(
            text="No API tokens yet.",
            blocks=[mrkdwn_section("No API tokens yet. A lead makes one with `/partner kpi token create LABEL`.")],
        )
    lines = "\n".join(_token_line(t, timezone) for t in tokens)
    return Message(
        text=f"{len(tokens)} API token(s)",
        blocks=[mrkdwn_section(f"*API tokens* for `{ENDPOINT}`\n{lines}")],
    )


def token_revoked_text(t: ApiTokenView) -> str:
    return f"API token *{t.id}* ({escape(t.label)}, ends `…{escape(t.hint)}`) is revoked; requests with it are refused."
