"""Block Kit checks Slack applies to messages and views, and helpers to walk blocks.

Slack rejects a message whose blocks break its limits with ``invalid_blocks`` and a view with
``invalid_arguments``; both carry ``[ERROR] ... [json-pointer:/...]`` messages, reproduced here so the
bot's tests fail the way production would.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_FIELD_TEXT = 2_000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_ID = 255
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2_000
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OVERFLOW_OPTIONS = 5
MAX_VIEW_BYTES = 250_000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3_000

BLOCK_TYPES = frozenset(
    {
        "section",
        "divider",
        "image",
        "actions",
        "context",
        "input",
        "file",
        "header",
        "rich_text",
        "video",
        "markdown",
        "call",
        "table",
    }
)

# Elements that carry an action_id and can appear in actions blocks, accessories or inputs.
INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "timepicker",
        "email_text_input",
        "url_text_input",
        "number_input",
        "plain_text_input",
        "radio_buttons",
        "overflow",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "rich_text_input",
        "file_input",
        "workflow_button",
    }
)


def _err(message: str, pointer: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


def _text_value(obj: object) -> str | None:
    if isinstance(obj, dict):
        text = obj.get("text")
        return text if isinstance(text, str) else None
    return None


def _check_text_object(obj: object, pointer: str, limit: int, errors: list[str], *, plain_only: bool = False) -> None:
    if not isinstance(obj, dict):
        errors.append(_err("must provide an object", pointer))
        return
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        errors.append(_err(f"must be one of {'/'.join(allowed)}", pointer + "/type"))
    text = obj.get("text")
    if not isinstance(text, str):
        errors.append(_err("must provide a string", pointer + "/text"))
    elif len(text) > limit:
        errors.append(_err(f"must be less than {limit + 1} characters", pointer + "/text"))


def _check_options(options: object, pointer: str, errors: list[str]) -> None:
    if not isinstance(options, list):
        errors.append(_err("must provide an array", pointer))
        return
    if len(options) > MAX_OPTIONS:
        errors.append(_err(f"no more than {MAX_OPTIONS} items allowed", pointer))
    for index, option in enumerate(options):
        here = f"{pointer}/{index}"
        if not isinstance(option, dict):
            errors.append(_err("must provide an object", here))
            continue
        _check_text_object(option.get("text"), here + "/text", MAX_OPTION_TEXT, errors)
        value = option.get("value")
        if isinstance(value, str) and len(value) > MAX_OPTION_VALUE:
            errors.append(_err(f"must be less than {MAX_OPTION_VALUE + 1} characters", here + "/value"))


def _check_element(element: object, pointer: str, errors: list[str], action_ids: set[str]) -> None:
    if not isinstance(element, dict):
        errors.append(_err("must provide an object", pointer))
        return
    action_id = element.get("action_id")
    if isinstance(action_id, str):
        if len(action_id) > MAX_ID:
            errors.append(_err(f"must be less than {MAX_ID + 1} characters", pointer + "/action_id"))
        if action_id in action_ids:
            # Slack's wording: `action_id` "x" already exists (ids must be unique within a block).
            errors.append(_err(f'`action_id` "{action_id}" already exists', pointer + "/action_id"))
        action_ids.add(action_id)
    kind = element.get("type")
    if kind == "button":
        _check_text_object(element.get("text"), pointer + "/text", MAX_BUTTON_TEXT, errors, plain_only=True)
        value = element.get("value")
        if isinstance(value, str) and len(value) > MAX_BUTTON_VALUE:
            errors.append(_err(f"must be less than {MAX_BUTTON_VALUE + 1} characters", pointer + "/value"))
    for key in ("options",):
        if key in element:
            _check_options(element[key], f"{pointer}/{key}", errors)
    if kind == "overflow" and isinstance(element.get("options"), list) and len(element["options"]) > MAX_OVERFLOW_OPTIONS:
        errors.append(_err(f"no more than {MAX_OVERFLOW_OPTIONS} items allowed", pointer + "/options"))
    groups = element.get("option_groups")
    if isinstance(groups, list):
        for index, group in enumerate(groups):
            if isinstance(group, dict):
                _check_options(group.get("options"), f"{pointer}/option_groups/{index}/options", errors)


def block_errors(blocks: object, pointer: str, max_blocks: int) -> list[str]:
    """Slack's complaints about a ``blocks`` array (empty when Slack would accept it)."""
    errors: list[str] = []
    if not isinstance(blocks, list):
        return [_err("must provide an array", pointer)]
    if len(blocks) > max_blocks:
        errors.append(_err(f"no more than {max_blocks} items allowed", pointer))
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        here = f"{pointer}/{index}"
        if not isinstance(block, dict):
            errors.append(_err("must provide an object", here))
            continue
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            errors.append(_err("failed to match all allowed schemas", here))
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > MAX_ID:
                errors.append(_err(f"must be less than {MAX_ID + 1} characters", here + "/block_id"))
            elif block_id in block_ids:
                errors.append(_err(f'`block_id` "{block_id}" already exists', here + "/block_id"))
            else:
                block_ids.add(block_id)
        action_ids: set[str] = set()
        if kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(_err("must provide text or fields", here))
            if "text" in block:
                _check_text_object(block["text"], here + "/text", MAX_SECTION_TEXT, errors)
            fields = block.get("fields")
            if fields is not None:
                if not isinstance(fields, list):
                    errors.append(_err("must provide an array", here + "/fields"))
                else:
                    if len(fields) > MAX_FIELDS:
                        errors.append(_err(f"no more than {MAX_FIELDS} items allowed", here + "/fields"))
                    for f_index, item in enumerate(fields):
                        _check_text_object(item, f"{here}/fields/{f_index}", MAX_FIELD_TEXT, errors)
            if "accessory" in block:
                _check_element(block["accessory"], here + "/accessory", errors, action_ids)
        elif kind == "header":
            _check_text_object(block.get("text"), here + "/text", MAX_HEADER_TEXT, errors, plain_only=True)
        elif kind == "actions":
            for e_index, element in enumerate(_block_elements(block, here, MAX_ACTIONS_ELEMENTS, errors)):
                _check_element(element, f"{here}/elements/{e_index}", errors, action_ids)
        elif kind == "context":
            _block_elements(block, here, MAX_CONTEXT_ELEMENTS, errors)
        elif kind == "input":
            _check_text_object(block.get("label"), here + "/label", 2_000, errors, plain_only=True)
            if not isinstance(block.get("element"), dict):
                errors.append(_err("must provide an object", here + "/element"))
            else:
                _check_element(block["element"], here + "/element", errors, action_ids)
    return errors


def _block_elements(block: dict[str, Any], here: str, limit: int, errors: list[str]) -> list[Any]:
    """The block's ``elements``: an error unless a non-empty array of at most ``limit``; [] if not an array."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        errors.append(_err("must provide a non-empty array", here + "/elements"))
        return []
    if len(elements) > limit:
        errors.append(_err(f"no more than {limit} items allowed", here + "/elements"))
    return elements


def message_errors(text: object, blocks: object | None) -> tuple[str, list[str]] | None:
    """The Slack error code and messages for a message's text/blocks, or None when acceptable."""
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long", []
    if blocks is not None:
        errors = block_errors(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
        if errors:
            return "invalid_blocks", errors
    return None


def view_errors(view: object) -> tuple[str, list[str]] | None:
    """The Slack error code and messages for a ``view`` argument, or None when acceptable."""
    if not isinstance(view, dict):
        return "invalid_arguments", [_err("must provide an object", "/view")]
    if len(json.dumps(view, separators=(",", ":"))) > MAX_VIEW_BYTES:
        return "view_too_large", []
    errors: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        errors.append(_err("must be one of modal/home", "/view/type"))
    if kind == "modal":
        if "title" not in view:
            errors.append(_err("must provide a title", "/view/title"))
        for key in ("title", "submit", "close"):
            if key in view:
                _check_text_object(view[key], f"/view/{key}", MAX_VIEW_TITLE, errors, plain_only=True)
        blocks = view.get("blocks")
        if isinstance(blocks, list) and "submit" not in view:
            if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks):
                errors.append(_err("must provide submit when there are input blocks", "/view/submit"))
    metadata = view.get("private_metadata")
    if isinstance(metadata, str) and len(metadata) > MAX_PRIVATE_METADATA:
        errors.append(_err(f"must be less than {MAX_PRIVATE_METADATA + 1} characters", "/view/private_metadata"))
    for key in ("callback_id", "external_id"):
        value = view.get(key)
        if isinstance(value, str) and len(value) > MAX_ID:
            errors.append(_err(f"must be less than {MAX_ID + 1} characters", f"/view/{key}"))
    errors.extend(block_errors(view.get("blocks", []), "/view/blocks", MAX_VIEW_BLOCKS))
    if errors:
        return "invalid_arguments", errors
    return None


def _generated_id(seed: str) -> str:
    # Slack fills missing block_id/action_id with short random strings; a digest keeps runs repeatable.
    return hashlib.sha1(seed.encode("utf-8")).hexdigest()[:5]


def with_generated_ids(blocks: list[Any], seed: str) -> list[Any]:
    """A copy of ``blocks`` where blocks and interactive elements lacking ids get them, as Slack does."""
    result: list[Any] = json.loads(json.dumps(blocks))
    for index, block in enumerate(result):
        if not isinstance(block, dict):
            continue
        if "block_id" not in block:
            block["block_id"] = _generated_id(f"{seed}/{index}")
        for position, element in enumerate(block_elements(block)):
            if element.get("type") in INTERACTIVE_TYPES and "action_id" not in element:
                element["action_id"] = _generated_id(f"{seed}/{index}/{position}")
    return result


def block_elements(block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The interactive element slots of a block: actions elements, a section accessory, an input element."""
    kind = block.get("type")
    if kind == "actions":
        for element in block.get("elements") or []:
            if isinstance(element, dict):
                yield element
    elif kind == "section" and isinstance(block.get("accessory"), dict):
        yield block["accessory"]
    elif kind == "input" and isinstance(block.get("element"), dict):
        yield block["element"]


def element_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    """All options of a select, radio, checkbox or overflow element (option groups flattened)."""
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return options


def plain_text(obj: object) -> str:
    """The string inside a text object (or "" when there is none)."""
    return _text_value(obj) or ""
