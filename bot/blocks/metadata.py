"""Typed button values and ``private_metadata``: small JSON objects, encoded and decoded here only."""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any, TypeVar

T = TypeVar("T")


class MetadataError(ValueError):
    """A button value or private_metadata that is not what we wrote (forged, truncated or stale)."""


@dataclass(frozen=True)
class RoundRef:
    round_id: int


@dataclass(frozen=True)
class AnswerFormRef:
    """The answer form's metadata: its round, and the channel the person clicked Answer in, so that a failure
    after the form closed reaches them there (a direct message cannot reach the other organisation's people)."""

    round_id: int
    channel_id: str = ""


@dataclass(frozen=True)
class ChannelRef:
    team_id: str
    channel_id: str


def encode(value: Any) -> str:
    """Compact JSON of a metadata dataclass."""
    return json.dumps(asdict(value), separators=(",", ":"), sort_keys=True)


def decode(raw: str | None, cls: type[T]) -> T:
    """Parse what ``encode`` wrote, checking every field's type.

    Raises:
        MetadataError: the text is missing, not JSON, or has the wrong fields.
    """
    if not raw:
        raise MetadataError("missing metadata")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise MetadataError("metadata is not JSON") from exc
    if not isinstance(data, dict):
        raise MetadataError("metadata is not an object")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data and f.default is not MISSING:
            # A field added later, with a default: forms opened before the change still work.
            kwargs[f.name] = f.default
            continue
        value = data.get(f.name)
        if f.type in ("bool", bool):
            valid = isinstance(value, bool)
        else:
            valid = isinstance(value, int if f.type in ("int", int) else str) and not isinstance(value, bool)
        if not valid:
            raise MetadataError(f"metadata field {f.name} is missing or of the wrong type")
        kwargs[f.name] = value
    return cls(**kwargs)
