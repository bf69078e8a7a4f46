"""What the CSV import and the HTTP endpoint share when they turn text into figures to record: a period end date
written as YYYY-MM-DD, and a problem of one entry named the way the service names its own (``ValueProblem``)."""

from __future__ import annotations

import re
from datetime import date

from bot.services.kpi_value_models import ValueProblem

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def period_end_from(text: str) -> date | None:
    """The date written as YYYY-MM-DD, or None for anything else."""
    text = text.strip()
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def bad_date(index: int, kpi_key: str, text: str) -> ValueProblem:
    return ValueProblem(
        index=index, kpi_key=kpi_key, period_end=None, reason=f"'{text}' is not a date written as YYYY-MM-DD."
    )
