"""The KPI charts in the digest's thread through the real heartbeat and sender against the sandbox (issue 14 item 5):
only the KPIs that are red or changed status, one image beside the health chart; none when no KPI qualifies.

The round opens Monday 30 Nov 2026 09:00 New York and everyone answers 4. The digest of Monday 7 Dec 09:00 covers
the week whose last whole day is Sunday 6 Dec, so each weekly KPI's latest period ends that Sunday and the one before
on Sunday 29 Nov.

    KPI                        target  amber  red   29 Nov       6 Dec        shown
    First-contact resolution   80      75     65    70 (amber)   50 (red)     yes: red
    Tickets triaged            90      80     70    95 (green)   92 (green)   no: green, unchanged
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.harness import LocalStack
from bot.services import outbox
from storage.models import OutboxMessage, Partnership
from tests.conftest import START
from tests.helpers import answer_open_round, setup_partnership
from tests.kpi_factories import add_agreed_kpi, record_figure

PULSE_AT = START.replace(hour=14, minute=0)  # Monday 30 Nov 2026, 09:00 New York
DIGEST_AT = PULSE_AT + timedelta(days=7)
LAST, BEFORE = date(2026, 12, 6), date(2026, 11, 29)


def _week_with_kpis(stack: LocalStack, figures: dict[str, tuple[float, float]]) -> None:
    """Set up, agree a KPI per name with its figures for 29 Nov and 6 Dec, run the week's round and its digest."""
    setup_partnership(stack)
    w, f = stack.world, stack.services.uow_factory
    with f() as uow:
        pid = uow.session.scalars(select(Partnership.id)).one()
    for name, (before, last) in figures.items():
        kpi = add_agreed_kpi(
            f, pid, name=name, dimension="trust", target=80 if name.startswith("First") else 90,
            amber=75 if name.startswith("First") else 80, red=65 if name.startswith("First") else 70,
            effective_from=date(2026, 11, 23), now=PULSE_AT,
        )  # fmt: skip
        record_figure(f, kpi, BEFORE, before, now=PULSE_AT)
        record_figure(f, kpi, LAST, last, now=PULSE_AT)
    people = [w.client_lead, *w.client_members[:3], w.provider_lead, *w.provider_members[:3]]
    assert stack.tick(PULSE_AT).opened == 1
    answer_open_round(stack, people, 4, now=PULSE_AT + timedelta(hours=1))
    assert stack.tick(PULSE_AT + timedelta(hours=48)).closed == 1
    assert stack.tick(DIGEST_AT).digests == 1


def _kpi_rows(stack: LocalStack) -> list[OutboxMessage]:
    with stack.services.uow_factory() as uow:
        stmt = select(OutboxMessage).where(OutboxMessage.purpose == outbox.Purpose.DIGEST_KPI_CHARTS.value)
        rows = list(uow.session.scalars(stmt))
        uow.session.expunge_all()
        return rows


def test_a_red_kpis_chart_is_uploaded_into_the_digests_thread_once(stack: LocalStack) -> None:
    _week_with_kpis(stack, {"First-contact resolution": (70, 50), "Tickets triaged": (95, 92)})
    w, sb = stack.world, stack.sandbox
    (digest,) = [m for m in sb.messages(w.channel, include_thread_replies=False) if "Weekly digest" in m.get("text", "")]
    uploads = [m for m in sb.messages(w.channel) if m.get("upload")]
    assert [m["thread_ts"] for m in uploads] == [digest["ts"], digest["ts"]]
    (kpis,) = [f for f in sb.files.values() if f.filename.startswith("partnerpulse-kpis-")]
    assert kpis.completed and kpis.content is not None and kpis.content.startswith(b"\x89PNG")
    assert kpis.channels == [w.channel]
    assert kpis.alt_txt is not None
    assert "First-contact resolution over 12 periods to 6 Dec 2026: 50%, red (target 80%)" in kpis.alt_txt
    assert "Tickets triaged" not in kpis.alt_txt
    # Both sides rated trust 4.0 this week: the score beside the KPI.
    assert "Northwind Retail rates Trust 4.0; Contoso Services rates Trust 4.0" in kpis.alt_txt
    # Once per week: another tick posts no second image.
    stack.tick(DIGEST_AT + timedelta(hours=1))
    assert len(sb.files) == 2 and [r.status for r in _kpi_rows(stack)] == ["sent"]
    assert sb.violations == []


def test_no_kpi_chart_when_every_kpi_is_unchanged_and_not_red(stack: LocalStack) -> None:
    _week_with_kpis(stack, {"Tickets triaged": (95, 92)})
    sb = stack.sandbox
    assert [f.filename for f in sb.files.values()] == ["partnerpulse-2026-11-30.png"]
    assert [r.status for r in _kpi_rows(stack)] == ["cancelled"]
    assert sb.violations == []
