"""The KPI ledger's checks (DESIGN 3.6): a definition's text and levels, a key, a reason to discuss, the owner, and
who may act (the ledger is the leads'). Refusals are the house's service errors, ``field`` naming the form's block.
Used by ``kpis`` (the writes) and, for what needs no database, by the form's acknowledgement."""

from __future__ import annotations

from dataclasses import replace

from bot.services import kpi_rules
from bot.services.errors import InvalidInput
from bot.services.goals import require_side_member
from bot.services.kpi_models import MAX_KPI_KEY, MAX_KPI_NAME, MAX_KPI_TEXT, MAX_KPI_UNIT, KpiDefinition
from bot.services.partnership_guards import active_member, check_text, org_of, require_lead
from bot.services.partnership_models import Side
from bot.services.pulse_models import DIMENSIONS
from bot.text_hygiene import clean_text
from storage.models import Partnership
from storage.uow import UnitOfWork

#: A key made from a name that is taken gets ``-2``, ``-3``... up to this.
_KEY_SUFFIXES = 99


def check_definition(d: KpiDefinition) -> KpiDefinition:
    """The definition with its text cleaned (no control or bidirectional formatting characters; the name and unit
    on one line), checked without the database: lengths, the dimension, the target and levels (``kpi_rules``).

    Raises:
        InvalidInput: ``field`` names the form's block (``name``, ``measure``, ``unit``, ``dimension``, ``amber``).
    """
    name = " ".join(clean_text(d.name).split())
    name = check_text(name, field="name", label="KPI name", limit=MAX_KPI_NAME, required=True)
    measure = check_text(clean_text(d.measure), field="measure", label="measure", limit=MAX_KPI_TEXT, required=True)
    unit = check_text(" ".join(clean_text(d.unit).split()), field="unit", label="unit", limit=MAX_KPI_UNIT, required=False)
    if d.dimension not in DIMENSIONS:
        raise InvalidInput("Choose the dimension of the relationship this KPI relates to.", "dimension")
    checked = replace(d, name=name, measure=measure, unit=unit, owner_id=d.owner_id or None)
    problem = kpi_rules.levels_problem(checked)
    if problem is not None:
        raise InvalidInput(problem, "amber")
    return checked


def check_reason(text: str) -> str:
    """Raises InvalidInput (field ``reason``) for an empty or too long reason to discuss."""
    return check_text(clean_text(text), field="reason", label="short reason", limit=MAX_KPI_TEXT, required=True)


def check_key(key: str) -> str:
    """A key as the person typed it, lower-cased; InvalidInput (field ``key``) when it cannot name a KPI."""
    cleaned = clean_text(key).strip().lower()
    problem = kpi_rules.key_problem(cleaned)
    if problem is not None:
        raise InvalidInput(problem, "key")
    return cleaned


def lead_side(uow: UnitOfWork, p: Partnership, actor: str, what: str) -> Side:
    """The side of a lead; NotAllowed for anyone else (the ledger is the leads' to define)."""
    require_lead(uow, p, actor, what)
    return require_side_member(uow, p, actor, what)


def check_owner(uow: UnitOfWork, p: Partnership, d: KpiDefinition) -> None:
    """An owner, if named, is someone in the channel on the delivering side (they record its figures)."""
    if d.owner_id is None:
        return
    m = active_member(uow, p, d.owner_id, field="owner_id", role="owner")
    if m.side != d.delivered_by.value:
        raise InvalidInput(
            f"The owner records the KPI's figures, so they are on the delivering side ({org_of(p, d.delivered_by.value)}). "
            "Choose someone from that side, or nobody (its leads then).",
            "owner_id",
        )


def new_key(uow: UnitOfWork, p: Partnership, name: str, given: str | None) -> str:
    if given:
        key = check_key(given)
        taken = uow.kpis.get_by_key(p.id, key)
        if taken is not None:
            raise InvalidInput(f"KPI #{taken.number} has the key `{key}` already. Choose another key.", "key")
        return key
    base = kpi_rules.key_from_name(name)
    key = base
    for n in range(2, _KEY_SUFFIXES + 1):
        if uow.kpis.get_by_key(p.id, key) is None:
            return key
        key = f"{base[: MAX_KPI_KEY - len(str(n)) - 1].rstrip('-')}-{n}"
    raise InvalidInput("Too many KPIs have a key like this name's. Give it a key of its own.", "key")
