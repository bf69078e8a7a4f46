"""The setup modal and the custom-question modal."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.form_inputs import modal
from bot.blocks.metadata import ChannelRef, encode
from bot.services.partnership_models import WEEKDAYS, MemberView, PartnershipView, Role, Side
from bot.services.pulse_models import DIMENSION_LABELS, DIMENSIONS

B = ids.SetupBlock


def _users(block: B, label: str, initial: list[str], *, optional: bool = True, hint: str | None = None) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=label,
        optional=optional,
        hint=hint,
        element=UserMultiSelectElement(action_id=ids.VALUE, placeholder="Choose people", initial_users=initial or None),
    )


def _text(block: B, label: str, initial: str | None, placeholder: str, max_length: int = 150) -> InputBlock:
    return InputBlock(
        block_id=block,
        label=label,
        element=PlainTextInputElement(
            action_id=ids.VALUE, initial_value=initial or None, placeholder=placeholder, max_length=max_length
        ),
    )


def _weekday(block: B, label: str, initial: int) -> InputBlock:
    options = [Option(text=day, value=str(i)) for i, day in enumerate(WEEKDAYS)]
    return InputBlock(
        block_id=block,
        label=label,
        element=StaticSelectElement(action_id=ids.VALUE, options=options, initial_option=options[initial]),
    )


def _time(block: B, label: str, hour: int, minute: int) -> InputBlock:
    return InputBlock(
        block_id=block, label=label, element=TimePickerElement(action_id=ids.VALUE, initial_time=f"{hour:02d}:{minute:02d}")
    )


def build_setup_modal(
    *,
    team_id: str,
    channel_id: str,
    existing: PartnershipView | None,
    members: list[MemberView],
    default_tz: str,
    user_id: str,
    min_threshold: int,
) -> View:
    """The setup form, prefilled from the existing partnership (editing) or sensible defaults (creating).

    ``min_threshold``: the lowest anonymity threshold allowed, also the default (``anonymity.MIN_THRESHOLD``).
    """
    p = existing

    def people(role: Role, side: Side) -> list[str]:
        return [m.user_id for m in members if m.role is role and m.side is side]

    def assigned(side: Side) -> list[str]:
        return [m.user_id for m in members if m.role is Role.MEMBER and m.side is side and not p_is_connect]

    p_is_connect = bool(p and p.is_connect)
    installing = p.installing_side if p else Side.CLIENT
    side_options = [
        Option(text="Client (we buy the service)", value=Side.CLIENT.value),
        Option(text="Provider (we deliver the service)", value=Side.PROVIDER.value),
    ]
    client_leads = people(Role.LEAD, Side.CLIENT) if p else ([user_id] if installing is Side.CLIENT else [])
    every_options = [Option(text="every week" if n == 1 else f"every {n} weeks", value=str(n)) for n in (1, 2, 3, 4)]
    blocks: list[Block] = [
        _text(B.NAME, "Partnership name", p.name if p else None, "e.g. Northwind service desk"),
        _text(B.CLIENT_ORG, "Client organisation", p.client_org if p else None, "who buys the service"),
        _text(B.PROVIDER_ORG, "Provider organisation", p.provider_org if p else None, "who delivers it"),
        InputBlock(
            block_id=B.INSTALLING_SIDE,
            label="Our organisation (this Slack workspace) is the",
            element=RadioButtonsElement(
                action_id=ids.VALUE, options=side_options, initial_option=side_options[0 if installing is Side.CLIENT else 1]
            ),
        ),
        HeaderBlock(text="People"),
        _users(B.CLIENT_LEADS, "Client leads", client_leads, optional=False, hint="Leads can change this setup."),
        _users(B.PROVIDER_LEADS, "Provider leads", people(Role.LEAD, Side.PROVIDER)),
        _users(B.CLIENT_SPONSORS, "Client executive sponsors", people(Role.SPONSOR, Side.CLIENT)),
        _users(B.PROVIDER_SPONSORS, "Provider executive sponsors", people(Role.SPONSOR, Side.PROVIDER)),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="In a Slack Connect channel each person's side follows from their organisation. "
                    "If both sides share one workspace, put people on their side below; choices here always win."
                )
            ]
        ),
        _users(B.CLIENT_MEMBERS, "Client-side members", assigned(Side.CLIENT)),
        _users(B.PROVIDER_MEMBERS, "Provider-side members", assigned(Side.PROVIDER)),
        HeaderBlock(text="Schedule"),
        _text(B.TIMEZONE, "Time zone (IANA name)", p.timezone if p else default_tz, "e.g. America/New_York", 64),
        _weekday(B.PULSE_WEEKDAY, "Pulse day", p.pulse_weekday if p else 0),
        _time(B.PULSE_TIME, "Pulse time", p.pulse_hour if p else 9, p.pulse_minute if p else 0),
        InputBlock(
            block_id=B.PULSE_EVERY_WEEKS,
            label="Pulse cadence",
            element=StaticSelectElement(
                action_id=ids.VALUE,
                options=every_options,
                initial_option=every_options[(p.pulse_every_weeks if p else 1) - 1],
            ),
        ),
        _weekday(B.DIGEST_WEEKDAY, "Digest day", p.digest_weekday if p else 0),
        _time(B.DIGEST_TIME, "Digest time", p.digest_hour if p else 9, p.digest_minute if p else 0),
        InputBlock(
            block_id=B.ANONYMITY_THRESHOLD,
            label="Anonymity threshold",
            hint=f"A side's results show only when at least this many of its people answer ({min_threshold} or more).",
            element=NumberInputElement(
                action_id=ids.VALUE,
                is_decimal_allowed=False,
                min_value=min_threshold,
                max_value=50,
                initial_value=p.anonymity_threshold if p else min_threshold,
            ),
        ),
    ]
    return modal(
        ids.View.SETUP,
        title="Partnership setup",
        submit="Save",
        private_metadata=encode(ChannelRef(team_id=team_id, channel_id=channel_id)),
        blocks=blocks,
    )


def build_question_modal(*, team_id: str, channel_id: str) -> View:
    """A lead's own question, worded once for each side."""
    options = [Option(text=DIMENSION_LABELS[d], value=d) for d in DIMENSIONS]
    subjects = [
        Option(text="The provider", value="provider"),
        Option(text="The client", value="client"),
        Option(text="The relationship (both sides)", value="relationship"),
    ]
    Q = ids.QuestionBlock
    return modal(
        ids.View.QUESTION_ADD,
        title="Add a question",
        submit="Add",
        private_metadata=encode(ChannelRef(team_id=team_id, channel_id=channel_id)),
        blocks=[
            InputBlock(
                block_id=Q.DIMENSION, label="Dimension", element=StaticSelectElement(action_id=ids.VALUE, options=options)
            ),
            InputBlock(
                block_id=Q.SUBJECT,
                label="What it rates",
                hint="Both wordings must be about this same subject, so the sides' answers can be compared.",
                element=StaticSelectElement(action_id=ids.VALUE, options=subjects, initial_option=subjects[2]),
            ),
            InputBlock(
                block_id=Q.TEXT_CLIENT,
                label="Wording for the client side",
                hint="A statement people rate from 1 (strongly disagree) to 5 (strongly agree).",
                element=PlainTextInputElement(action_id=ids.VALUE, max_length=300, placeholder="The provider ..."),
            ),
            InputBlock(
                block_id=Q.TEXT_PROVIDER,
                label="Wording for the provider side",
                element=PlainTextInputElement(action_id=ids.VALUE, max_length=300, placeholder="We ..."),
            ),
        ],
    )
