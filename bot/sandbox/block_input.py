"""What a user's input into Block Kit elements looks like to the app.

A submission carries ``view.state.values`` (:func:`build_view_state`: the values given, else each
element's initial value, refused where Slack's client would refuse them); a click carries one action
(:func:`action_for`) for the element found by its ``action_id`` (:func:`find_element`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .blocks import block_elements, element_options
from .models import ActorError

Json = dict[str, Any]


def _option_by_value(element: Json, value: object, block_id: str) -> Json:
    for option in element_options(element):
        if option.get("value") == value:
            return option
    values = [o.get("value") for o in element_options(element)]
    raise ActorError(f"{block_id}: no option with value {value!r} (options: {values})")


#: Where each kind of element carries its value in ``view.state`` and where its initial value is: (state key,
#: initial key, a list).
_INITIAL_VALUES: dict[str, tuple[str, str, bool]] = {
    **dict.fromkeys(
        ("plain_text_input", "email_text_input", "url_text_input", "number_input"), ("value", "initial_value", False)
    ),
    **dict.fromkeys(("static_select", "radio_buttons", "external_select"), ("selected_option", "initial_option", False)),
    **dict.fromkeys(
        ("multi_static_select", "multi_external_select", "checkboxes"), ("selected_options", "initial_options", True)
    ),
    "users_select": ("selected_user", "initial_user", False),
    "multi_users_select": ("selected_users", "initial_users", True),
    "conversations_select": ("selected_conversation", "initial_conversation", False),
    "multi_conversations_select": ("selected_conversations", "initial_conversations", True),
    "channels_select": ("selected_channel", "initial_channel", False),
    "multi_channels_select": ("selected_channels", "initial_channels", True),
    "datepicker": ("selected_date", "initial_date", False),
    "timepicker": ("selected_time", "initial_time", False),
    "datetimepicker": ("selected_date_time", "initial_date_time", False),
    "rich_text_input": ("rich_text_value", "initial_value", False),
}

#: The elements whose value is taken as given (ids and dates): stored at their state key, a list where it is one.
_TAKEN_AS_GIVEN = (
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "datepicker",
)


def _initial_entry(element: Json) -> Json:
    kind = str(element.get("type"))
    entry: Json = {"type": kind}
    if kind in _INITIAL_VALUES:
        state_key, initial_key, is_list = _INITIAL_VALUES[kind]
        initial = element.get(initial_key)
        entry[state_key] = list(initial or []) if is_list else initial
    return entry


def _as_list(value: object) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _given_entry(element: Json, value: object, block_id: str, *, force: bool) -> Json:
    kind = str(element.get("type"))
    entry: Json = {"type": kind}
    if kind in ("plain_text_input", "email_text_input", "url_text_input"):
        text = None if value is None else str(value)
        if text is not None and not force:
            max_length = element.get("max_length")
            min_length = element.get("min_length")
            if isinstance(max_length, int) and len(text) > max_length:
                raise ActorError(f"{block_id}: Slack's client refuses more than {max_length} characters")
            if isinstance(min_length, int) and 0 < len(text) < min_length:
                raise ActorError(f"{block_id}: Slack's client refuses fewer than {min_length} characters")
        entry["value"] = text
    elif kind == "number_input":
        if value is not None and not force:
            try:
                float(str(value))
            except ValueError as exc:
                raise ActorError(f"{block_id}: {value!r} is not a number") from exc
        entry["value"] = None if value is None else str(value)
    elif kind in ("static_select", "radio_buttons"):
        entry["selected_option"] = None if value is None else _option_by_value(element, value, block_id)
    elif kind == "external_select":
        entry["selected_option"] = (
            None if value is None else {"text": {"type": "plain_text", "text": str(value)}, "value": value}
        )
    elif kind in ("multi_static_select", "checkboxes"):
        entry["selected_options"] = [_option_by_value(element, v, block_id) for v in _as_list(value) if v is not None]
    elif kind in _TAKEN_AS_GIVEN:
        state_key, _, is_list = _INITIAL_VALUES[kind]
        entry[state_key] = [v for v in _as_list(value) if v is not None] if is_list else value
    elif kind == "timepicker":
        entry["selected_time"] = value
        if element.get("timezone"):
            entry["timezone"] = element["timezone"]
    elif kind == "datetimepicker":
        entry["selected_date_time"] = None if value is None else int(str(value))
    else:
        raise ActorError(f"{block_id}: the sandbox cannot fill a {kind} element")
    return entry


def _is_empty(entry: Json) -> bool:
    values = [v for k, v in entry.items() if k not in ("type", "timezone")]
    return all(v in (None, "", []) for v in values)


def build_view_state(view: Json, values: Mapping[str, object], *, force: bool = False) -> Json:
    """Slack's ``view.state.values`` for a submission: given values, else each element's initial value."""
    inputs = {
        str(block.get("block_id")): block
        for block in view.get("blocks") or []
        if isinstance(block, dict) and block.get("type") == "input"
    }
    unknown = sorted(set(values) - set(inputs))
    if unknown:
        raise ActorError(f"{unknown} are not input blocks of view {view.get('id')} (input blocks: {sorted(inputs)})")
    state: Json = {}
    for block_id, block in inputs.items():
        element = block.get("element") or {}
        action_id = str(element.get("action_id"))
        if block_id in values:
            entry = _given_entry(element, values[block_id], block_id, force=force)
        else:
            entry = _initial_entry(element)
        if not force and not block.get("optional") and _is_empty(entry):
            raise ActorError(f"{block_id} is a required input; Slack would not let the user submit it empty")
        state[block_id] = {action_id: entry}
    return state


def public_view(view: Json) -> Json:
    """A stored view as Slack sends it to the app (without the sandbox's ``user_id``)."""
    return {k: v for k, v in view.items() if k != "user_id"}


def action_for(element: Json, block_id: str, value: str | None, action_ts: str) -> Json:
    """The ``actions[0]`` a ``block_actions`` payload carries when a user clicks or chooses in ``element``."""
    kind = str(element.get("type"))
    action: Json = {"type": kind, "action_id": element.get("action_id"), "block_id": block_id}
    if kind == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
    elif kind in ("static_select", "overflow", "radio_buttons"):
        if value is None:
            raise ActorError(f"choose an option: give value= for the {kind} {element.get('action_id')}")
        action["selected_option"] = _option_by_value(element, value, block_id)
        if "placeholder" in element:
            action["placeholder"] = element["placeholder"]
    elif kind == "users_select":
        action["selected_user"] = value
    elif kind == "conversations_select":
        action["selected_conversation"] = value
    elif kind == "checkboxes":
        action["selected_options"] = [_option_by_value(element, value, block_id)] if value is not None else []
    elif kind == "datepicker":
        action["selected_date"] = value
    else:
        raise ActorError(f"the sandbox cannot click a {kind} element")
    action["action_ts"] = action_ts
    return action


def find_element(blocks: object, action_id: str, *, value: str | None, block_id: str | None, where: str) -> tuple[Json, str]:
    """The element with ``action_id`` (and ``value``/``block_id`` if given) and its block_id; ActorError if none."""
    candidates: list[tuple[Json, str]] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in block_elements(block):
            if element.get("action_id") == action_id:
                candidates.append((element, str(block.get("block_id"))))
    if value is not None:
        narrowed = [
            (element, bid)
            for element, bid in candidates
            if element.get("value") == value or any(o.get("value") == value for o in element_options(element))
        ]
        candidates = narrowed
    if not candidates:
        raise ActorError(
            f"no element with action_id={action_id!r}"
            + (f" and value={value!r}" if value is not None else "")
            + (f" in block {block_id!r}" if block_id is not None else "")
            + f" in {where}"
        )
    return candidates[0]
