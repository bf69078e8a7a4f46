"""The shapes every modal repeats: an input block around one element, its options, and the modal around them.

Each input element uses ``ids.VALUE`` as its action id; the block id says which field it is (what
``InvalidInput.field`` names). Arguments left as None are left out of the payload, as Slack's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    InputInteractiveElement,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.text import SECTION_TEXT_MAX, escape, truncate

#: Slack's limit for an option's text and description.
OPTION_TEXT_MAX = 75


V = TypeVar("V", covariant=True)


@dataclass(frozen=True)
class Refill(Generic[V]):
    """A form opened with values: again after the server refused what it said (the form had closed), with the values
    the person gave and why they were refused; or prefilled by the app (``error`` None)."""

    values: V
    error: str | None = None


def refilled(refill: Refill[V] | None) -> tuple[V | None, str | None]:
    """The values to fill a form with and the refusal to show above it; (None, None) for a new form."""
    return (refill.values, refill.error) if refill else (None, None)


def error_blocks(error: str | None, *, escaped: bool) -> list[Block]:
    """A refusal shown above the form, or nothing. ``escaped``: the message may quote what the person typed."""
    if not error:
        return []
    text = f":warning: {escape(error) if escaped else error}"
    return [SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_MAX)))]


def option(text: str, value: str, description: str | None = None) -> Option:
    return Option(
        text=truncate(text, OPTION_TEXT_MAX),
        value=value,
        description=truncate(description, OPTION_TEXT_MAX) if description else None,
    )


def initial_option(options: list[Option], value: str | None) -> Option | None:
    """The option with ``value``, or None (nothing chosen)."""
    return next((o for o in options if o.value == value), None)


def _input(
    block_id: str, label: str, element: InputInteractiveElement, optional: bool | None, hint: str | None = None
) -> InputBlock:
    return InputBlock(block_id=block_id, label=label, optional=optional, hint=hint, element=element)


def text_input(
    block_id: str,
    label: str,
    *,
    max_length: int,
    multiline: bool | None = None,
    optional: bool | None = None,
    hint: str | None = None,
    initial: str | None = None,
    placeholder: str | None = None,
) -> InputBlock:
    element = PlainTextInputElement(
        action_id=ids.VALUE, multiline=multiline, max_length=max_length, initial_value=initial, placeholder=placeholder
    )
    return _input(block_id, label, element, optional, hint)


def user_input(
    block_id: str,
    label: str,
    *,
    initial: str | None = None,
    placeholder: str | None = None,
    hint: str | None = None,
    optional: bool | None = None,
) -> InputBlock:
    return _input(
        block_id,
        label,
        UserSelectElement(action_id=ids.VALUE, placeholder=placeholder, initial_user=initial),
        optional,
        hint,
    )


def date_input(
    block_id: str, label: str, *, initial: str | None = None, optional: bool | None = None, placeholder: str | None = None
) -> InputBlock:
    return _input(
        block_id, label, DatePickerElement(action_id=ids.VALUE, placeholder=placeholder, initial_date=initial), optional
    )


def radio_input(
    block_id: str,
    label: str,
    options: list[Option],
    *,
    initial: Option | None = None,
    optional: bool | None = None,
    hint: str | None = None,
) -> InputBlock:
    element = RadioButtonsElement(action_id=ids.VALUE, options=options, initial_option=initial)
    return _input(block_id, label, element, optional, hint)


def select_input(
    block_id: str,
    label: str,
    options: list[Option],
    *,
    placeholder: str,
    initial: Option | None = None,
    optional: bool | None = None,
    hint: str | None = None,
) -> InputBlock:
    element = StaticSelectElement(action_id=ids.VALUE, placeholder=placeholder, options=options, initial_option=initial)
    return _input(block_id, label, element, optional, hint)


def modal(callback_id: str, *, title: str, submit: str, private_metadata: str, blocks: list[Block]) -> View:
    """A modal with a "Cancel" button."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=title,
        submit=submit,
        close="Cancel",
        private_metadata=private_metadata,
        blocks=blocks,
    )
