"""A KPI's figure recorded in Slack (DESIGN 3.6): the form, and asking the KPI's owner for it each period.

Anyone on the side that delivers a KPI may record its figure with the form (``/partner kpi record KEY``, or the
button in the owner's request); the figure is saved by ``kpi_values.record_values``, the one path of every source,
so the same checks apply. Each period, once it has ended, the KPI's owner on the delivering side (the version's
``owner_id``, else that side's leads) is asked for the figure in their side's working hours: ``request_due_figures``
claims the KPIs whose ``next_request_at`` has come, queues a private message per person through the outbox, and
sets the time of the next request (the first working window after the next period's end). A period whose figure
is already recorded (pushed by the API, imported) is not asked for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.services import kpi_rows, kpi_rules, outbox
from bot.services.batches import claimed_batches
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.goals import require_side_member
from bot.services.kpi_models import KpiFigure, KpiSource, KpiValueInput, KpiView
from bot.services.kpi_value_models import KpiFormInput, KpiRecordForm, RecordedFromForm
from bot.services.kpi_values import FiguresRefused, record_values, version_views
from bot.services.partnership_guards import org_of, require_partnership, today_in
from bot.services.partnership_models import Role
from bot.services.working_calendar import WorkingCalendar, first_window, load_calendar
from storage.models import Kpi, Partnership
from storage.uow import UnitOfWork, UowFactory

BATCH = 100
#: Periods the form offers: the one asked for and the ones before it (a missed week can still be filled in).
FORM_PERIODS = 6
#: The latest figures a form or a confirmation lists.
RECENT_FIGURES = 4
#: When a side's calendar has no working window ahead (or the partnership is paused), look again after this.
RETRY_LATER = timedelta(days=1)


def _kpi_view(uow: UnitOfWork, kpi: Kpi) -> KpiView:
    return kpi_rows.kpi_view(kpi, uow.kpi_versions.of_kpi(kpi.id))


def _recent(uow: UnitOfWork, kpi: Kpi, view: KpiView) -> tuple[KpiFigure, ...]:
    versions = version_views(uow, kpi)
    figures = (kpi_rows.figure_of(row, versions) for row in uow.kpi_values.latest(kpi.id, RECENT_FIGURES))
    return tuple(f for f in figures if f is not None)


def _form(uow: UnitOfWork, p: Partnership, kpi: Kpi, view: KpiView, ends: list[date]) -> KpiRecordForm:
    return KpiRecordForm(
        team_id=p.workspace.team_id,
        channel_id=p.channel_id,
        kpi=view,
        delivering_org=org_of(p, kpi.delivered_by),
        timezone=p.timezone,
        period_ends=tuple(ends),
        recent=_recent(uow, kpi, view),
    )


def last_complete_period_end(p: Partnership, kpi: KpiView, now: datetime) -> date:
    """The end of the delivering side's last complete period of the KPI at ``now``."""
    assert kpi.current is not None
    period = kpi.current.definition.period
    current_end = kpi_rules.period_end_of(today_in(p, now, kpi.delivered_by.value), period)
    return kpi_rules.previous_period_end(current_end, period)


def _recordable_kpi(uow: UnitOfWork, p: Partnership, kpi_id: int | None, key: str | None, actor: str) -> Kpi:
    """The agreed, unretired KPI, for someone on its delivering side (NotFound, NotAllowed otherwise)."""
    kpi = uow.kpis.get(kpi_id) if kpi_id is not None else uow.kpis.get_by_key(p.id, key or "")
    if kpi is None or kpi.partnership_id != p.id:
        raise NotFound(f"This partnership has no KPI with the key '{key}'." if key else "This KPI no longer exists.")
    if kpi.retired_at is not None:
        raise NotFound(f"KPI '{kpi.key}' is retired; it takes no more figures.")
    if kpi.current_version is None:
        raise NotFound(f"KPI '{kpi.key}' is not agreed yet; figures are recorded once both sides agree it.")
    side = require_side_member(uow, p, actor, "record a KPI's figure")
    if side.value != kpi.delivered_by:
        raise NotAllowed(
            f"KPI '{kpi.key}' is delivered by {org_of(p, kpi.delivered_by)}; someone on that side records its figure."
        )
    return kpi


def record_form(
    uow_factory: UowFactory,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    now: datetime,
    key: str | None = None,
    kpi_id: int | None = None,
    period_end: date | None = None,
) -> KpiRecordForm:
    """The form for a KPI (by key or id) for ``actor``; ``period_end`` (the one asked for) first, else the last
    complete period."""
    with uow_factory() as uow:
        p = require_partnership(uow, team_id, channel_id)
        kpi = _recordable_kpi(uow, p, kpi_id, key, actor)
        view = _kpi_view(uow, kpi)
        assert view.current is not None
        period = view.current.definition.period
        last = last_complete_period_end(p, view, now)
        ends = kpi_rules.period_ends_back(last, period, FORM_PERIODS)[::-1]
        if period_end is not None and period_end in ends:
            ends.remove(period_end)
            ends.insert(0, period_end)
        return _form(uow, p, kpi, view, ends)


def record_from_form(
    uow_factory: UowFactory,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    data: KpiFormInput,
    request_key: str,
    now: datetime,
) -> RecordedFromForm:
    """Save the form's figure (a repeat for the same period replaces it; ``request_key`` is not needed for that).

    Raises:
        InvalidInput: field ``period_end``, why the figure cannot be saved (the form opens again with it).
        NotFound, NotAllowed: the KPI cannot take figures now, or the person is not on its delivering side.
    """
    with uow_factory() as uow:
        p = require_partnership(uow, team_id, channel_id)
        kpi = _recordable_kpi(uow, p, data.kpi_id, None, actor)
        key, partnership_id = kpi.key, p.id
    entry = KpiValueInput(kpi_key=key, period_end=data.period_end, value=data.value, note=data.note)
    try:
        result = record_values(uow_factory, partnership_id, [entry], source=KpiSource.SLACK, recorded_by=actor, now=now)
    except FiguresRefused as refused:
        raise InvalidInput(refused.problems[0].reason, "period_end") from None
    with uow_factory() as uow:
        row = uow.kpis.get(data.kpi_id)
        assert row is not None
        view = _kpi_view(uow, row)
        return RecordedFromForm(
            kpi=view, figure=result.figures[0], replaced=result.replaced == 1, recent=_recent(uow, row, view)
        )


# --- asking the owner each period ----------------------------------------------------------------------------


def _request_time(cal: WorkingCalendar, period_end: date) -> datetime | None:
    """The start of the side's first working window after the local day ``period_end``."""
    day = period_end + timedelta(days=1)
    midnight = datetime.combine(day, time(0), tzinfo=cal.zone)
    window = first_window(cal, day, ending_after=midnight)
    return window[0].astimezone(UTC) if window else None


def _recipients(uow: UnitOfWork, p: Partnership, kpi: KpiView) -> list[str]:
    """The version's owner while they are a present member of the delivering side, else that side's leads."""
    assert kpi.current is not None
    side = kpi.delivered_by.value
    members = [m for m in uow.members.list(p.id) if not m.deleted and not m.is_bot and m.side == side]
    owner = kpi.current.definition.owner_id
    if owner and any(m.user_id == owner and m.in_channel for m in members):
        return [owner]
    return sorted(m.user_id for m in members if m.role == Role.LEAD.value)


def _ask(uow: UnitOfWork, p: Partnership, kpi: Kpi, cal: WorkingCalendar, now: datetime) -> int:
    """Ask for the last complete period's figure if it is not recorded yet; set the next request. How many asked."""
    view = _kpi_view(uow, kpi)
    assert view.current is not None
    due_end = last_complete_period_end(p, view, now)
    current_end = kpi_rules.period_end_of(due_end + timedelta(days=1), view.current.definition.period)
    asked = 0
    if kpi.next_request_at is not None and kpi.requested_period_end != due_end:
        window = first_window(cal, today_in(p, now, kpi.delivered_by), ending_after=now)
        if window is None or window[0] > now:  # a late tick outside working hours: ask when work starts
            kpi.next_request_at = window[0] if window else now + RETRY_LATER
            return 0
        # A period that ended before the KPI was first agreed is not asked for (kpi_rules judges it by the first
        # agreed version, effective later).
        judge = kpi_rules.version_in_force(version_views(uow, kpi), due_end)
        before_agreement = judge is not None and judge.effective_from is not None and judge.effective_from > due_end
        if not before_agreement and uow.kpi_values.get_for_period(kpi.id, due_end) is None:
            for user_id in _recipients(uow, p, view):
                asked += outbox.enqueue(
                    uow,
                    p,
                    purpose=outbox.Purpose.KPI_FIGURE_REQUEST,
                    ref_id=kpi.id,
                    user_id=user_id,
                    key=f"{outbox.Purpose.KPI_FIGURE_REQUEST.value}:{kpi.id}:{due_end.isoformat()}:{user_id}",
                    extra={"period_end": due_end.isoformat()},
                    now=now,
                )
        kpi.requested_period_end = due_end
    # A KPI agreed mid-period is first asked about the period running now, once it ends.
    kpi.next_request_at = _request_time(cal, current_end) or now + RETRY_LATER
    return asked


def request_due_figures(uow_factory: UowFactory, *, now: datetime) -> int:
    """Queue the owners' requests for every KPI whose time has come (and schedule newly agreed KPIs). How many."""
    asked = 0
    for uow, due in claimed_batches(uow_factory, lambda uow: uow.kpis.claim_due_requests(now, BATCH)):
        partnerships = uow.partnerships.get_many({k.partnership_id for k in due})
        calendars: dict[tuple[int, str], WorkingCalendar] = {}
        for kpi in due:
            p = partnerships[kpi.partnership_id]
            if p.status != "active":
                kpi.next_request_at = now + RETRY_LATER
                continue
            key = (p.id, kpi.delivered_by)
            cal = calendars.get(key) or calendars.setdefault(key, load_calendar(uow, p, kpi.delivered_by))
            asked += _ask(uow, p, kpi, cal, now)
    return asked


def figure_request(uow_factory: UowFactory, *, kpi_id: int, period_end: date) -> KpiRecordForm | None:
    """What the owner's request shows; None when it is no longer needed (the figure was recorded meanwhile, the
    KPI was retired or is gone)."""
    with uow_factory() as uow:
        kpi = uow.kpis.get(kpi_id)
        if kpi is None or kpi.retired_at is not None or kpi.current_version is None:
            return None
        if uow.kpi_values.get_for_period(kpi_id, period_end) is not None:
            return None
        p = uow.partnerships.get(kpi.partnership_id)
        assert p is not None
        return _form(uow, p, kpi, _kpi_view(uow, kpi), [period_end])
