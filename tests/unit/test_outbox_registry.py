"""Every kind of outgoing message has a complete entry: its service-side spec (``bot.services.outbox.SPECS``: the
Slack method, what to record once sent) and its renderer (``bot.delivery.renderers``). A purpose added without
one of them fails here, not when its first message is sent."""

from __future__ import annotations

import pytest

from bot.delivery.pacer import TIER_PER_MINUTE
from bot.delivery.renderers import FEATURES, RENDERERS, _merge
from bot.delivery.renderers.pulse import render_pulse
from bot.services.outbox import SPECS, Purpose, row_only

#: The methods the sender knows how to call (files.completeUploadExternal is the last call of files_upload_v2).
SENDER_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "files.completeUploadExternal"}


@pytest.mark.parametrize("purpose", list(Purpose))
def test_every_purpose_has_a_spec_with_a_method_and_a_recording_rule(purpose: Purpose) -> None:
    spec = SPECS.get(purpose)
    assert spec is not None, f"{purpose!r} has no entry in bot.services.outbox.SPECS"
    assert spec.method in SENDER_METHODS, f"{purpose!r}: the sender cannot send with {spec.method!r}"
    # Every method but chat.postMessage (paced per channel) must have its tier, or it would go out unpaced.
    assert spec.method == "chat.postMessage" or spec.method in TIER_PER_MINUTE
    assert callable(spec.records), f"{purpose!r} has no rule for what to record once sent"
    if spec.spawns_follow_ups:
        assert spec.records is not row_only, f"{purpose!r} spawns follow-ups but records nothing that would"
    if spec.dm:
        assert spec.method == "chat.postMessage", "a direct message is a chat.postMessage to the person's user id"


@pytest.mark.parametrize("purpose", list(Purpose))
def test_every_purpose_has_a_renderer(purpose: Purpose) -> None:
    assert callable(RENDERERS.get(purpose)), f"{purpose!r} has no renderer in bot.delivery.renderers"


def test_the_registries_name_only_purposes() -> None:
    assert set(SPECS) == set(Purpose)
    assert set(RENDERERS) == set(Purpose)
    assert sum(len(table) for table in FEATURES.values()) == len(Purpose), "a purpose is rendered by two features"


def test_two_features_cannot_render_one_purpose() -> None:
    with pytest.raises(ValueError, match="two renderers"):
        _merge([{Purpose.PULSE: render_pulse}, {Purpose.PULSE: render_pulse}])
