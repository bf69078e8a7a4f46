"""What the KPI ledger shows (DESIGN 3.6): the ledger, one KPI with its versions and latest figures, and the
message of one proposal. Each figure is judged once, by ``kpi_rows.figure_of``; the writes are ``kpis``."""

from __future__ import annotations

from collections import defaultdict

from bot.services.errors import Conflict
from bot.services.kpi_ledger_models import FIGURES_SHOWN, KpiCard, KpiDetail, KpiLedger
from bot.services.kpi_models import KpiFigure, KpiView
from bot.services.kpi_rows import figure_of, kpi_view, version_view
from bot.services.kpis import card_of, check_responder, kpi_by_key, version_in_channel
from bot.services.partnership_guards import require_partnership
from bot.services.read_models_from_rows import partnership_view
from storage.models import KpiVersion
from storage.uow import UnitOfWork


def ledger(uow: UnitOfWork, *, team_id: str, channel_id: str) -> KpiLedger:
    """``/partner kpi``: every KPI with its version in force and any version awaiting an answer (two reads)."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        kpis = uow.kpis.of_partnership(p.id)
        versions: dict[int, list[KpiVersion]] = defaultdict(list)
        for v in uow.kpi_versions.of_kpis([k.id for k in kpis]):
            versions[v.kpi_id].append(v)
        return KpiLedger(partnership=partnership_view(p), kpis=tuple(kpi_view(k, versions[k.id]) for k in kpis))


def detail(uow: UnitOfWork, *, team_id: str, channel_id: str, key: str) -> KpiDetail:
    """``/partner kpi show KEY``: the KPI, its versions and its last ``FIGURES_SHOWN`` figures.

    Raises:
        NotFound (no partnership, or no KPI with that key).
    """
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        kpi = kpi_by_key(uow, p, key)
        rows = uow.kpi_versions.of_kpi(kpi.id)
        versions = tuple(version_view(v, kpi.delivered_by) for v in rows)
        judged = (figure_of(value, versions) for value in uow.kpis.recent_values(kpi.id, FIGURES_SHOWN))
        figures: tuple[KpiFigure, ...] = tuple(f for f in judged if f is not None)
        return KpiDetail(partnership=partnership_view(p), kpi=kpi_view(kpi, rows), versions=versions, figures=figures)


def proposal_card(uow: UnitOfWork, *, version_id: int) -> KpiCard | None:
    """What a proposal's channel message shows now (None when it is gone)."""
    with uow.read_only():
        v = uow.kpi_versions.get(version_id)
        kpi = uow.kpis.get(v.kpi_id) if v is not None else None
        p = uow.partnerships.get(kpi.partnership_id) if kpi is not None else None
        if v is None or kpi is None or p is None:
            return None
        return card_of(uow, p, kpi, v)


def card_to_answer(uow: UnitOfWork, *, team_id: str, channel_id: str, kpi_id: int, version: int, actor: str) -> KpiCard:
    """The proposal, if the actor may answer it (the "Discuss" button checks before its form opens).

    Raises:
        NotFound, NotAllowed, Conflict (as ``kpis.respond``).
    """
    with uow.read_only():
        v, kpi, p = version_in_channel(uow, team_id, channel_id, kpi_id, version)
        check_responder(uow, p, kpi, v, actor)
        return card_of(uow, p, kpi, v)


def kpi_to_change(uow: UnitOfWork, *, team_id: str, channel_id: str, key: str) -> KpiView:
    """The KPI whose change form opens (prefilled with the version in force); anyone may open it, a lead proposes.

    Raises:
        NotFound (no such KPI), Conflict (retired).
    """
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        kpi = kpi_by_key(uow, p, key)
        if kpi.retired_at is not None:
            raise Conflict(f"KPI #{kpi.number} ({kpi.key}) is retired; propose a new KPI instead.")
        return kpi_view(kpi, uow.kpi_versions.of_kpi(kpi.id))
