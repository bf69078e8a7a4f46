"""Driving a form's text fields with control and bidirectional formatting characters (tests/e2e/test_text_hygiene.py):
the dirty and clean texts, what the bot sent to Slack, a case's record of what it filled and found, and every
plain-text input the builders construct."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.harness import LocalStack
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parents[1]
#: Each character class the cleaning removes, inside words, plus a newline and a tab that must stay.
DIRTY = "\u202ePay\x00ment\x01 la\x1bte\x7f ag\x85ain\u2067\nsecond\tline"
CLEAN = "Payment late again\nsecond\tline"
#: For one-line fields (titles, names): the same characters, no line break.
DIRTY_LINE = "\u202eMonth\x00-end\x01 re\x1bport\x7f la\x85te\u2067\u200f"
CLEAN_LINE = "Month-end report late"
#: Characters the bot must never send to Slack (newline and tab are fine).
FORBIDDEN = {"\x00", "\x01", "\x1b", "\x7f", "\x85", "\u202e", "\u2067", "\u200f"}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from strings(v)


def sent_to_slack(stack: LocalStack) -> list[str]:
    """Every string the bot sent to Slack: Web API arguments and response_url bodies."""
    sent = [s for call in stack.sandbox.calls for s in strings(call.args)]
    return sent + [s for post in stack.sandbox.response_url_posts for s in strings(post.body)]


def inputs_of_type(view: dict[str, Any], element_type: str) -> list[str]:
    return [
        b["block_id"]
        for b in view["blocks"]
        if b.get("type") == "input" and (b.get("element") or {}).get("type") == element_type
    ]


def text_inputs(view: dict[str, Any]) -> list[str]:
    return inputs_of_type(view, "plain_text_input")


@dataclass
class Run:
    """What one case filled (block ids of plain-text inputs, per view) and found (block id → stored, expected)."""

    stack: LocalStack
    filled: set[str]
    stored: dict[str, tuple[object, object]]
    shown: list[str]

    def fill(self, view: dict[str, Any], dirty: str = DIRTY, **values: Any) -> dict[str, Any]:
        """Every plain-text input of the view gets ``dirty`` unless ``values`` says otherwise."""
        inputs = text_inputs(view)
        self.filled.update(f"{view['callback_id']}:{block}" for block in inputs)
        return {block: dirty for block in inputs} | values

    def expect(self, view: dict[str, Any], block: str, stored: object, expected: object) -> None:
        self.stored[f"{view['callback_id']}:{block}"] = (stored, expected)

    def submit(self, user_id: str, view: dict[str, Any], values: dict[str, Any]) -> None:
        response = self.stack.actor(user_id).submit_view(view["id"], values, force=True)
        assert response.status == 200 and not response.body.strip(), response.body
        self.stack.settle()

    def command(self, user_id: str, text: str) -> None:
        response = self.stack.actor(user_id).slash_command("/partner", text, self.stack.world.channel)
        assert response.status == 200, response.body


def newest_row(stack: LocalStack, query: Any) -> Any:
    """The newest row the query finds, once there is one (detached, its columns loaded)."""

    def find() -> Any:
        with stack.services.uow_factory() as uow:
            rows = uow.session.scalars(query).all()
            if rows:
                uow.session.expunge(rows[-1])
            return rows[-1] if rows else None

    return wait_for(find, what=str(query))


def message_with(stack: LocalStack, action_id: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        found = [m for m in stack.sandbox.messages(stack.world.channel) if action_id in json.dumps(m.get("blocks"))]
        return found[-1] if found else None

    return wait_for(find, what=f"a message with {action_id}")


def initial_value(view: dict[str, Any], block: str) -> str:
    return str(next(b for b in view["blocks"] if b.get("block_id") == block)["element"].get("initial_value"))


def builder_text_inputs() -> list[str]:
    """``function:block_id`` of every plain-text input the builders under bot/blocks construct: an
    ``InputBlock(element=PlainTextInputElement(...))``, or a call of the shared ``form_inputs.text_input(block_id, ...)``."""
    found: list[str] = []
    for path in sorted((ROOT / "bot" / "blocks").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        shared = [f for f in functions if path.name == "form_inputs.py" and f.name == "text_input"]
        inside_shared = {id(n) for f in shared for n in ast.walk(f)}
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        elements = [c for c in calls if getattr(c.func, "id", "") == "PlainTextInputElement" and id(c) not in inside_shared]
        in_blocks = 0
        for function in functions:
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                kw = {k.arg: k.value for k in call.keywords}
                element = kw.get("element")
                name = getattr(call.func, "id", "") or getattr(call.func, "attr", "")
                if name == "InputBlock" and element in elements:
                    in_blocks += 1
                    found.append(f"{function.name}:{ast.unparse(kw['block_id'])}")
                elif name == "text_input" and call.args:
                    found.append(f"{function.name}:{ast.unparse(call.args[0])}")
        assert in_blocks == len(elements), f"{path.name}: a plain-text input outside InputBlock(element=...)"
    return found
