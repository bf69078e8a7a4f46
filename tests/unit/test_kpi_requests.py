"""Asking a KPI's owner for each period's figure: in the delivering side's working hours, once per period, the
leads when the owner is gone, and nobody for a period already recorded.

The world's partnership is in New York, working 09:00-17:00 Monday to Friday. The KPI is agreed in the week ending
Sunday 6 December 2026; its first request falls on Monday 7 December at 09:00 New York (14:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.services import kpi_requests
from storage.models import Kpi, OutboxMessage
from storage.uow import UnitOfWorkFactory
from tests.factories import make_issue_world
from tests.kpi_factories import add_kpi

AGREED = datetime(2026, 12, 2, 15, tzinfo=UTC)
MONDAY_9AM = datetime(2026, 12, 7, 14, tzinfo=UTC)


def _asked(uow_factory: UnitOfWorkFactory) -> list[tuple[str | None, str | None]]:
    with uow_factory() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "kpi-figure-request"))
        return sorted((r.user_id, (r.extra or {}).get("period_end")) for r in rows)


def _next_request_at(uow_factory: UnitOfWorkFactory, kpi_id: int) -> datetime | None:
    with uow_factory() as uow:
        kpi = uow.session.get(Kpi, kpi_id)
        assert kpi is not None
        return kpi.next_request_at


def test_a_late_tick_outside_working_hours_waits_for_the_next_working_morning(uow_factory: UnitOfWorkFactory) -> None:
    partnership_id = make_issue_world(uow_factory, now=AGREED).partnership_id
    kpi_id = add_kpi(uow_factory, partnership_id, key="fcr", now=AGREED, owner_id="UP1")
    assert kpi_requests.request_due_figures(uow_factory, now=AGREED) == 0
    assert _next_request_at(uow_factory, kpi_id) == MONDAY_9AM
    # The heartbeat was down all Monday; at 20:00 New York nobody is asked, but at 09:00 on Tuesday they are.
    monday_evening = datetime(2026, 12, 8, 1, tzinfo=UTC)
    assert kpi_requests.request_due_figures(uow_factory, now=monday_evening) == 0
    assert _next_request_at(uow_factory, kpi_id) == MONDAY_9AM + timedelta(days=1)
    assert kpi_requests.request_due_figures(uow_factory, now=MONDAY_9AM + timedelta(days=1)) == 1
    assert _asked(uow_factory) == [("UP1", "2026-12-06")]
    # Next: Monday 14 December, 09:00 New York.
    assert _next_request_at(uow_factory, kpi_id) == MONDAY_9AM + timedelta(days=7)


def test_the_leads_are_asked_when_the_owner_has_left_the_channel(uow_factory: UnitOfWorkFactory) -> None:
    partnership_id = make_issue_world(uow_factory, now=AGREED).partnership_id
    add_kpi(uow_factory, partnership_id, key="fcr", now=AGREED, owner_id="UP1")
    add_kpi(uow_factory, partnership_id, key="access", number=2, now=AGREED, delivered_by="client")
    with uow_factory() as uow:
        member = uow.members.get(partnership_id, "UP1")
        assert member is not None
        member.in_channel = False
        uow.commit()
    kpi_requests.request_due_figures(uow_factory, now=AGREED)
    assert kpi_requests.request_due_figures(uow_factory, now=MONDAY_9AM) == 2
    # The provider KPI's owner left: the provider lead; the client KPI has no owner: the client lead.
    assert _asked(uow_factory) == [("UCL", "2026-12-06"), ("UPL", "2026-12-06")]


def test_a_period_that_ended_before_the_agreement_is_not_asked_for(uow_factory: UnitOfWorkFactory) -> None:
    """Agreed effective from the week ending 6 December, with its first request set for now (as a ledger may set
    it on agreeing): the week ending 29 November predates it, so nobody is asked until 7 December."""
    partnership_id = make_issue_world(uow_factory, now=AGREED).partnership_id
    kpi_id = add_kpi(uow_factory, partnership_id, key="fcr", now=AGREED, effective_from=date(2026, 12, 6))
    with uow_factory() as uow:
        kpi = uow.session.get(Kpi, kpi_id)
        assert kpi is not None
        kpi.next_request_at = AGREED
        uow.commit()
    assert kpi_requests.request_due_figures(uow_factory, now=AGREED) == 0
    assert _next_request_at(uow_factory, kpi_id) == MONDAY_9AM
    assert kpi_requests.request_due_figures(uow_factory, now=MONDAY_9AM) == 1
    assert _asked(uow_factory) == [("UPL", "2026-12-06")]
