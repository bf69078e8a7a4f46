"""A human-readable rendering of a channel, as a person would read it in Slack.

Messages are rendered from their blocks (what users see), not only from the fallback ``text``;
buttons show as ``[Label]``; thread replies are indented under their parent; ephemeral messages are
marked with who can see them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Json = dict[str, Any]

_MENTION = re.compile(r"<([@#!])([^|>]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_mrkdwn(text: str, user_name: Callable[[str], str]) -> str:
    """Mentions and links as a reader sees them; Slack's three escapes undone."""

    def mention(match: re.Match[str]) -> str:
        sigil, target, label = match.group(1), match.group(2), match.group(3)
        if sigil == "@":
            return "@" + (label or user_name(target))
        if sigil == "#":
            return "#" + (label or target)
        # <!here>, <!channel>, <!subteam^S1|@team>
        return "@" + (label.lstrip("@") if label else target.split("^")[0])

    def link(match: re.Match[str]) -> str:
        url, label = match.group(1), match.group(2)
        return f"{label} ({url})" if label else url

    return _unescape(_MENTION.sub(mention, _LINK.sub(link, text)))


#: Emoji the bot uses, as characters (for a terminal or a summary); others keep their ``:name:``.
EMOJI = {
    "warning": "⚠️",
    "rotating_light": "🚨",
    "small_orange_diamond": "🔸",
    "lock": "🔒",
    "eyes": "👀",
    "white_check_mark": "✅",
    "red_circle": "🔴",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "large_orange_circle": "🟠",
    "heavy_minus_sign": "➖",
    "tada": "🎉",
    "memo": "📝",
    "mag": "🔍",
    "leftwards_arrow_with_hook": "↩️",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "envelope": "✉️",
    "dart": "🎯",
    "chart_with_upwards_trend": "📈",
    "bulb": "💡",
    "arrows_counterclockwise": "🔄",
    "speech_balloon": "💬",
    "handshake": "🤝",
}
_EMOJI_CODE = re.compile(r":([a-z][a-z0-9_+-]*):")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")
_CODE = re.compile(r"`{1,3}([^`\n]+)`{1,3}")


def readable(rendered: str, user_name: Callable[[str], str]) -> str:
    """A line already rendered for a reader (by :func:`render_mrkdwn` or :func:`render_message`) as plain prose.

    For a terminal or a summary rather than Slack: bold, italic, strike-through and code markers are dropped,
    the bot's emoji become characters, and mention syntax a person typed as text (Slack shows an escaped
    ``&lt;!channel&gt;`` literally as ``<!channel>``) reads as the mention it looks like (``@channel``,
    ``@name``), so no raw ``<@U…>`` or ``<!…>`` is left.
    """
    text = render_mrkdwn(rendered.replace("&", "&amp;"), user_name)  # typed mentions; "&" stays as typed
    text = _CODE.sub(r"\1", text)
    for pattern in (_BOLD, _ITALIC, _STRIKE):
        text = pattern.sub(r"\1", text)
    return _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def plain_text(text: str, user_name: Callable[[str], str]) -> str:
    """Slack mrkdwn as plain prose: :func:`render_mrkdwn`, then :func:`readable`."""
    return readable(render_mrkdwn(text, user_name), user_name)


def plain_lines(message: Mapping[str, Any], user_name: Callable[[str], str]) -> list[str]:
    """A message's lines as :func:`render_message` shows them, each made plain by :func:`readable`."""
    return [readable(line, user_name) for line in render_message(message, user_name)]


def _text(obj: object, user_name: Callable[[str], str]) -> str:
    if not isinstance(obj, dict):
        return ""
    text = obj.get("text")
    if not isinstance(text, str):
        return ""
    if obj.get("type") == "mrkdwn":
        return render_mrkdwn(text, user_name)
    return text


def _element(element: object, user_name: Callable[[str], str]) -> str:
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind == "button":
        return f"[{_text(element.get('text'), user_name)}]"
    if kind in ("image",):
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("plain_text", "mrkdwn"):
        return _text(element, user_name)
    if kind == "overflow":
        return "[...]"
    if kind in ("static_select", "external_select", "users_select", "conversations_select", "channels_select") or (
        isinstance(kind, str) and kind.startswith("multi_")
    ):
        label = _text(element.get("placeholder"), user_name) or "Select"
        initial = element.get("initial_option")
        if isinstance(initial, dict):
            label = _text(initial.get("text"), user_name)
        return f"[{label} v]"
    if kind in ("radio_buttons", "checkboxes"):
        marks = "( )" if kind == "radio_buttons" else "[ ]"
        options = element.get("options") or []
        return "  ".join(f"{marks} {_text(o.get('text'), user_name)}" for o in options if isinstance(o, dict))
    if kind in ("datepicker", "timepicker", "datetimepicker"):
        return f"[{element.get('initial_date') or element.get('initial_time') or kind}]"
    if isinstance(kind, str) and kind.endswith("_input"):
        return "[____]"
    return f"[{kind}]"


def _rich_text(elements: object, user_name: Callable[[str], str]) -> str:
    parts: list[str] = []
    if not isinstance(elements, list):
        return ""
    for element in elements:
        if not isinstance(element, dict):
            continue
        kind = element.get("type")
        if kind == "text":
            parts.append(str(element.get("text", "")))
        elif kind == "link":
            parts.append(str(element.get("text") or element.get("url", "")))
        elif kind == "user":
            parts.append("@" + user_name(str(element.get("user_id", ""))))
        elif kind == "channel":
            parts.append("#" + str(element.get("channel_id", "")))
        elif kind == "emoji":
            parts.append(f":{element.get('name', '')}:")
        elif kind == "broadcast":
            parts.append("@" + str(element.get("range", "")))
        elif kind == "rich_text_section":
            parts.append(_rich_text(element.get("elements"), user_name))
        elif kind == "rich_text_list":
            items = [_rich_text(item.get("elements"), user_name) for item in element.get("elements") or []]
            parts.append("\n".join(f"- {item}" for item in items))
        elif kind == "rich_text_quote":
            parts.append("> " + _rich_text(element.get("elements"), user_name))
        elif kind == "rich_text_preformatted":
            parts.append("```" + _rich_text(element.get("elements"), user_name) + "```")
    return "".join(parts)


def render_blocks(blocks: list[Any], user_name: Callable[[str], str]) -> list[str]:
    """Lines of text for a list of blocks."""
    lines: list[str] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {_text(block.get('text'), user_name)} ==")
        elif kind == "section":
            text = _text(block.get("text"), user_name)
            accessory = block.get("accessory")
            if isinstance(accessory, dict):
                text = f"{text}  {_element(accessory, user_name)}".strip()
            if text:
                lines.extend(text.splitlines() or [""])
            for item in block.get("fields") or []:
                # A field may span lines (a value, then a note under it): continuation lines stay indented.
                first, *rest = _text(item, user_name).splitlines() or [""]
                lines.append("  " + first)
                lines.extend("    " + line for line in rest)
        elif kind == "divider":
            lines.append("-" * 20)
        elif kind == "context":
            lines.append(" | ".join(_element(e, user_name) for e in block.get("elements") or []))
        elif kind == "actions":
            lines.append(" ".join(_element(e, user_name) for e in block.get("elements") or []))
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        elif kind == "rich_text":
            text = "\n".join(_rich_text([e], user_name) for e in block.get("elements") or [])
            lines.extend(text.splitlines())
        elif kind == "input":
            label = _text(block.get("label"), user_name)
            lines.append(f"{label}: {_element(block.get('element'), user_name)}")
        elif kind == "markdown":
            lines.extend(str(block.get("text", "")).splitlines())
        else:
            lines.append(f"[{kind} block]")
    return lines


def render_message(message: Mapping[str, Any], user_name: Callable[[str], str]) -> list[str]:
    """A message's body lines (blocks when it has them, else its text), plus attachments and files."""
    blocks = message.get("blocks")
    lines = render_blocks(blocks, user_name) if isinstance(blocks, list) and blocks else []
    if not lines:
        lines = render_mrkdwn(str(message.get("text", "")), user_name).splitlines()
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            lines.append("| " + render_mrkdwn(str(attachment.get("text") or attachment.get("fallback") or ""), user_name))
    for file in message.get("files") or []:
        if isinstance(file, dict):
            lines.append(f"[file: {file.get('name', '')}]")
    return lines


def render_channel(
    title: str,
    messages: list[Json],
    ephemerals: list[Json],
    user_name: Callable[[str], str],
) -> str:
    """The whole channel: top-level messages in order, replies indented, ephemerals marked."""
    entries: list[Json] = [*messages, *ephemerals]

    def key(message: Json) -> tuple[float, str]:
        return (float(message.get("ts", 0)), str(message.get("ts", "")))

    top = sorted(
        (m for m in entries if not m.get("thread_ts") or m.get("thread_ts") == m.get("ts")),
        key=key,
    )
    replies: dict[str, list[Json]] = {}
    for message in entries:
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message.get("ts"):
            replies.setdefault(str(thread_ts), []).append(message)

    out = [title, "=" * len(title)]

    def emit(message: Json, indent: str) -> None:
        author = "@" + user_name(str(message.get("user", "")))
        suffix = ""
        if message.get("recipient"):
            suffix = f" (only visible to @{user_name(str(message['recipient']))})"
        if message.get("edited"):
            suffix += " (edited)"
        body = render_message(message, user_name)
        first = body[0] if body else ""
        out.append(f"{indent}{author}{suffix}: {first}".rstrip())
        for line in body[1:]:
            out.append(f"{indent}    {line}".rstrip())

    seen: set[str] = set()
    for message in top:
        emit(message, "")
        ts = str(message.get("ts"))
        seen.add(ts)
        for reply in sorted(replies.get(ts, []), key=key):
            emit(reply, "    > ")
    # Replies whose parent is gone (deleted, or never existed) still belong in the transcript.
    for thread_ts, orphans in sorted(replies.items()):
        if thread_ts not in seen:
            for reply in sorted(orphans, key=key):
                emit(reply, "    > ")
    if len(out) == 2:
        out.append("(no messages)")
    return "\n".join(out) + "\n"
