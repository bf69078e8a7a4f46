"""The KPI ledger's forms: proposing a KPI (or a change to one, prefilled with the version in force) and the short
reason to discuss a proposal."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.form_inputs import (
    error_blocks,
    initial_option,
    modal,
    option,
    radio_input,
    select_input,
    text_input,
    user_input,
)
from bot.blocks.kpi_ledger import KpiVersionRef, number, version_blocks
from bot.blocks.layout import mrkdwn_context
from bot.blocks.metadata import encode
from bot.blocks.text import escape, truncate
from bot.services.kpi_ledger_models import KpiCard
from bot.services.kpi_models import MAX_KPI_KEY, MAX_KPI_NAME, MAX_KPI_TEXT, MAX_KPI_UNIT, KpiDefinition
from bot.services.partnership_models import PartnershipView, Side
from bot.services.pulse_models import DIMENSION_LABELS, DIMENSIONS

#: How long a typed level may be ("1,000,000.25" and then some).
MAX_NUMBER_TEXT = 24


@dataclass(frozen=True)
class KpiFormRef:
    """The proposal form: its channel, and for a change the KPI's key and the side that delivers it ("" for a new
    KPI: the form asks both)."""

    team_id: str
    channel_id: str
    key: str = ""
    delivered_by: str = ""


def build_kpi_modal(
    p: PartnershipView,
    *,
    values: KpiDefinition | None = None,
    key: str = "",
    change: bool = False,
    error: str | None = None,
) -> View:
    """A new KPI (``change`` False; ``key`` optional), or a change to the KPI ``key`` prefilled with ``values`` (its
    delivering side fixed). The other side's lead agrees to it or asks to discuss it."""
    B = ids.KpiBlock
    directions = [option("Higher is better", "higher"), option("Lower is better", "lower")]
    periods = [
        option("Weekly (periods end on Sunday)", "weekly"),
        option("Monthly (periods end on the last day)", "monthly"),
    ]
    dimensions = [option(DIMENSION_LABELS[d], d) for d in DIMENSIONS]
    sides = [option(f"{p.client_org} (client)", "client"), option(f"{p.provider_org} (provider)", "provider")]
    v = values
    blocks: list[Block] = [
        *error_blocks(error, escaped=True),
        mrkdwn_context(
            f"*{escape(p.name)}* · "
            + (
                f"a change to `{escape(key)}`: a new version. The version in force stays in force until a lead of "
                "the other side agrees to this one."
                if change
                else "a KPI for the service or the client's contribution. It is posted in the channel, where a lead "
                "of the other side agrees or asks to discuss it."
            )
        ),
        text_input(
            B.NAME,
            "Name",
            max_length=MAX_KPI_NAME,
            initial=truncate(v.name, MAX_KPI_NAME) if v else None,
            placeholder="First-contact resolution",
        ),
    ]
    if not change:
        blocks.append(
            text_input(
                B.KEY,
                "Key",
                max_length=MAX_KPI_KEY,
                optional=True,
                initial=key or None,
                hint="What the CSV import and the API call it: lower-case letters, digits and dashes. Left empty, "
                "it is made from the name.",
            )
        )
    blocks += [
        text_input(
            B.MEASURE,
            "What is measured, and how",
            multiline=True,
            max_length=MAX_KPI_TEXT,
            initial=truncate(v.measure, MAX_KPI_TEXT) if v else None,
            placeholder="Tickets closed on the first contact / all tickets closed, from the service desk",
        ),
        text_input(
            B.UNIT, "Unit", max_length=MAX_KPI_UNIT, optional=True, initial=v.unit if v and v.unit else None, placeholder="%"
        ),
        radio_input(
            B.DIRECTION, "Direction", directions, initial=initial_option(directions, v.direction.value if v else "higher")
        ),
        _number_input(B.TARGET, "Target", v.target if v else None, "75"),
        _number_input(B.AMBER, "Amber level (a figure worse than this is amber)", v.amber if v else None, "70"),
        _number_input(B.RED, "Red level (a figure worse than this is red)", v.red if v else None, "60"),
        radio_input(B.PERIOD, "Measured", periods, initial=initial_option(periods, v.period.value if v else "weekly")),
        select_input(
            B.DIMENSION,
            "Dimension of the relationship it relates to",
            dimensions,
            placeholder="Choose a dimension",
            initial=initial_option(dimensions, v.dimension if v else None),
        ),
    ]
    if change and v is not None:
        blocks.append(mrkdwn_context(f"Delivered by {escape(p.org(v.delivered_by))} (which side delivers it stays)."))
    else:
        blocks.append(
            radio_input(
                B.DELIVERED_BY,
                "Delivered by",
                sides,
                initial=initial_option(sides, v.delivered_by.value if v else Side.PROVIDER.value),
            )
        )
    blocks.append(
        user_input(
            B.OWNER,
            "Who records its figures (on the delivering side)",
            initial=v.owner_id if v and v.owner_id else None,
            placeholder="Nobody: the delivering side's leads",
            optional=True,
        )
    )
    delivered_by = v.delivered_by.value if change and v is not None else ""
    return modal(
        ids.KpiModal.PROPOSE,
        title="Propose a change" if change else "Propose a KPI",
        submit="Propose",
        private_metadata=encode(KpiFormRef(p.team_id, p.channel_id, key if change else "", delivered_by)),
        blocks=blocks,
    )


def _number_input(block: str, label: str, value: float | None, placeholder: str) -> Block:
    initial = number(value).replace(",", "") if value is not None else None
    return text_input(block, label, max_length=MAX_NUMBER_TEXT, initial=initial, placeholder=placeholder)


def build_kpi_discuss_modal(card: KpiCard) -> View:
    """A short reason to discuss a proposed KPI version, posted in the proposal's thread."""
    p, kpi, v = card.partnership, card.kpi, card.version
    return modal(
        ids.KpiModal.DISCUSS,
        title="Discuss a KPI",
        submit="Send",
        private_metadata=encode(KpiVersionRef(p.team_id, p.channel_id, kpi.id, v.version)),
        blocks=[
            *version_blocks(p, kpi, v),
            text_input(ids.KpiBlock.REASON, "What should be discussed?", multiline=True, max_length=MAX_KPI_TEXT),
        ],
    )
