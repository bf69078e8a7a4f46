"""Small builders of test inputs (no hidden state)."""

from __future__ import annotations

from typing import Any

from bot.services.models import SetupInput, Side


def setup_input(**overrides: Any) -> SetupInput:
    """A valid setup form: weekly pulse Mondays 09:00 New York, digest Fridays 16:00, threshold 3."""
    values: dict[str, Any] = {
        "name": "Northwind service desk",
        "client_org": "Northwind Retail",
        "provider_org": "Contoso Services",
        "installing_side": Side.CLIENT,
        "client_leads": (),
        "provider_leads": (),
        "client_sponsors": (),
        "provider_sponsors": (),
        "client_members": (),
        "provider_members": (),
        "timezone": "America/New_York",
        "pulse_weekday": 0,
        "pulse_hour": 9,
        "pulse_minute": 0,
        "pulse_every_weeks": 1,
        "digest_weekday": 4,
        "digest_hour": 16,
        "digest_minute": 0,
        "anonymity_threshold": 3,
    }
    values.update(overrides)
    return SetupInput(**values)
