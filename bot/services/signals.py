"""Early-warning signals (DESIGN 3.3): worrying pulse results and recurring issue categories, told to the leads.

A signal suggests that the leads discuss something or log an issue; it never escalates by itself. Each one is
stored once under a dedupe key and goes, as an ephemeral message with a prefilled "Log issue" button, to each
lead in the channel.

Rules (issue 3, item 4):

- drop: a side's average on a dimension this round is 1.0 or more below that side's average over the rounds
  of the previous four weeks;
- gap: the two sides' averages on the same subject within a dimension differ by 1.5 or more (``figures.Flag.ACT``);
- recurring category: three or more issues of one category logged within 30 days (at most one such signal per
  category per 30 days).

Only figures the results message may show are used: a side below the anonymity threshold in a round has no
average there (``pulses.round_results`` withholds it), so it can neither raise a signal nor feed a baseline.
The relationship NPS (0-10, quarterly) is left out: its scale makes the thresholds meaningless.

The watermelon check's pairings ("KPIs green, people unhappy", "people happy, KPIs red"; ``bot.services.watermelon``)
are recorded here too (``record_pairing``), once per partnership, dimension and week, when the week's digest is
queued (``bot.services.watermelon_signals``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from bot.services import figures, kpi_format, outbox, pulses
from bot.services.errors import NotFound
from bot.services.figures import Flag
from bot.services.figures_format import stored_gap, stored_rated, stored_score
from bot.services.issue_models import DEFAULT_CATEGORIES, IssueDraft, SignalKind, SignalView
from bot.services.partnership_guards import row_in_channel, shown_at_send_time
from bot.services.partnership_models import PartnershipView, Role, Side
from bot.services.pulse_models import DIMENSION_LABELS, RoundResults
from bot.services.read_models_from_rows import partnership_view, view_from_row
from bot.services.watermelon_models import DimensionCheck
from storage.models import Partnership, Signal
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

DROP_THRESHOLD = Decimal("1.0")
BASELINE_WINDOW = timedelta(weeks=4)
RECURRING_COUNT = 3
RECURRING_WINDOW = timedelta(days=30)
#: Rounds looked at for the baseline; four weeks of weekly rounds with room for ad-hoc ones.
BASELINE_ROUNDS = 12
EXCLUDED_DIMENSIONS = frozenset({"nps"})
_PAIRINGS = (SignalKind.KPIS_GREEN_UNHAPPY.value, SignalKind.KPIS_RED_HAPPY.value)


@dataclass(frozen=True)
class _Found:
    kind: SignalKind
    subject: str
    side: Side | None
    key: str
    detail: dict[str, Any]


def _averages(results: RoundResults) -> dict[tuple[str, str, Side], Decimal]:
    """Each shown side's average per subject and dimension (the same thing rated), as the round's results show it."""
    found: dict[tuple[str, str, Side], Decimal] = {}
    for d in results.items:
        if d.dimension in EXCLUDED_DIMENSIONS or d.subject is None:  # not comparable across rounds
            continue
        for side in Side:
            average = d.side(side).average
            if average is not None and side not in results.withheld:
                found[(d.subject, d.dimension, side)] = average
    return found


def _leads_in_channel(uow: UnitOfWork, p: Partnership) -> list[str]:
    return [
        m.user_id
        for m in uow.members.list(p.id)
        if m.role == Role.LEAD.value and m.in_channel and not m.deleted and not m.is_bot
    ]


def _record(uow: UnitOfWork, p: Partnership, found: _Found, *, round_id: int | None, now: datetime) -> bool:
    signal = Signal(
        partnership_id=p.id,
        kind=found.kind.value,
        subject=found.subject,
        side=found.side.value if found.side else None,
        round_id=round_id,
        dedupe_key=found.key[:200],
        detail=found.detail,
        created_at=now,
    )
    if not uow.signals.add_once(signal):
        return False
    for lead in _leads_in_channel(uow, p):
        outbox.enqueue(
            uow, p, purpose=outbox.Purpose.SIGNAL, ref_id=signal.id, user_id=lead, key=f"signal:{signal.id}:{lead}", now=now
        )
    logger.info("partnership %s: %s signal on %s", p.id, found.kind.value, found.subject)
    return True


def signals_after_round(uow: UnitOfWork, *, round_id: int, now: datetime) -> int:
    """Look for drops and gaps in a closed round's results; record and send each new signal once.

    Run it after a round closes. Running it again for the same round sends nothing new. Returns how many
    signals were new.

    Raises:
        NotFound: the round does not exist.
    """
    current = pulses.round_results(uow, round_id=round_id)
    opened_at = current.round.opened_at
    with uow.read_only():
        baseline_ids = [
            r.id
            for r in uow.rounds.recent(current.partnership.id, BASELINE_ROUNDS)
            if r.id != round_id and r.status == "closed" and opened_at - BASELINE_WINDOW <= r.opened_at < opened_at
        ]
    history: dict[tuple[str, str, Side], list[Decimal]] = {}
    for rid in baseline_ids:
        for key, value in _averages(pulses.round_results(uow, round_id=rid)).items():
            history.setdefault(key, []).append(value)

    found: list[_Found] = []
    now_averages = _averages(current)
    pid = current.partnership.id
    for (subject, dimension, side), value in sorted(now_averages.items()):
        past = history.get((subject, dimension, side))
        if not past:
            continue
        # The same subject and dimension, rated by the same side, over the baseline rounds; rounded as every average is.
        baseline = figures.round_half_up(sum((Fraction(v) for v in past), Fraction(0)) / len(past))
        if baseline - value >= DROP_THRESHOLD:
            found.append(
                _Found(
                    SignalKind.DROP,
                    dimension,
                    side,
                    f"drop:{pid}:{round_id}:{side.value}:{subject}:{dimension}",
                    {
                        "dimension": dimension,
                        "subject": subject,
                        "side": side.value,
                        "current": float(value),
                        "baseline": float(baseline),
                        "baseline_rounds": len(past),
                        "round_sequence": current.round.sequence,
                    },
                )
            )
    for d in current.items:
        if d.dimension in EXCLUDED_DIMENSIONS or d.gap is None or d.flag < Flag.ACT:
            continue
        found.append(
            _Found(
                SignalKind.GAP,
                d.dimension,
                None,
                f"gap:{pid}:{round_id}:{d.subject}:{d.dimension}",
                {
                    "dimension": d.dimension,
                    "subject": d.subject,
                    "client": float(d.client.average or 0),
                    "provider": float(d.provider.average or 0),
                    "gap": float(d.gap),  # provider − client, as every surface shows it
                    "round_sequence": current.round.sequence,
                },
            )
        )
    if not found:
        return 0
    with uow:
        p = uow.partnerships.get(pid)
        if p is None:
            raise NotFound("This partnership no longer exists.")
        new = sum(_record(uow, p, f, round_id=round_id, now=now) for f in found)
        uow.commit()
        return new


def check_recurring(uow: UnitOfWork, p: Partnership, *, category: str | None, now: datetime) -> int:
    """Inside the caller's transaction: signal categories with three or more issues in the last 30 days.

    ``category`` limits the check to one category (the one just logged). A category is signalled at most once
    per 30 days. Returns how many signals were new.
    """
    counts = uow.issues.category_counts_since(p.id, now - RECURRING_WINDOW)
    new = 0
    for name, count in sorted(counts.items()):
        if count < RECURRING_COUNT or (category is not None and name != category):
            continue
        latest = uow.signals.latest(p.id, SignalKind.RECURRING_CATEGORY.value, name)
        if latest is not None and latest.created_at > now - RECURRING_WINDOW:
            continue
        found = _Found(
            SignalKind.RECURRING_CATEGORY,
            name,
            None,
            f"recurring:{p.id}:{now:%Y%m%dT%H%M%S}:{name}",
            {"category": name, "count": count, "days": RECURRING_WINDOW.days},
        )
        new += _record(uow, p, found, round_id=None, now=now)
    return new


def record_pairing(uow: UnitOfWork, p: Partnership, check: DimensionCheck, *, week_start: date, now: datetime) -> bool:
    """Inside the caller's transaction: record a dimension's watermelon pairing of a week and send it to the leads,
    once per partnership, dimension and week. Returns whether it was new."""
    assert check.pairing is not None
    found = _Found(
        SignalKind(check.pairing.value),
        check.dimension,
        check.unhappy[0] if len(check.unhappy) == 1 else None,
        f"kpis:{p.id}:{week_start.isoformat()}:{check.dimension}",
        kpi_format.detail_of(check, week_start),
    )
    return _record(uow, p, found, round_id=None, now=now)


def recurring_categories(uow: UnitOfWork, *, partnership_id: int, now: datetime) -> int:
    """Signal every category with three or more issues in the last 30 days (once per category per 30 days).

    ``issue_lifecycle.log_issue`` already checks the category it logs; this is for jobs and catch-up.
    """
    with uow:
        p = uow.partnerships.get(partnership_id)
        if p is None:
            raise NotFound("This partnership no longer exists.")
        new = check_recurring(uow, p, category=None, now=now)
        uow.commit()
        return new


def _signal_view(signal: Signal, p: PartnershipView) -> SignalView:
    return view_from_row(
        SignalView,
        signal,
        partnership=p,
        kind=SignalKind(signal.kind),
        side=Side(signal.side) if signal.side else None,
        detail=dict(signal.detail or {}),
    )


def signal_context(uow: UnitOfWork, *, signal_id: int) -> SignalView | None:
    """A stored signal and its partnership (the sender renders it), or None when it is gone."""
    return shown_at_send_time(
        uow, lambda u: u.signals, signal_id, lambda _, signal, p: _signal_view(signal, partnership_view(p))
    )


def list_signals(uow: UnitOfWork, *, partnership_id: int, since: datetime) -> tuple[SignalView, ...]:
    """Signals of a partnership since a moment (for the digest)."""
    with uow.read_only():
        p = uow.partnerships.get(partnership_id)
        if p is None:
            return ()
        pv = partnership_view(p)
        return tuple(_signal_view(s, pv) for s in uow.signals.since(partnership_id, since))


def _category_for(dimension: str, categories: tuple[str, ...]) -> str | None:
    label = DIMENSION_LABELS.get(dimension, dimension)
    for c in categories:
        if c.casefold() in (dimension.casefold(), label.casefold()):
            return c
    return None


def draft_from_signal(uow: UnitOfWork, *, channel_id: str, signal_id: int) -> IssueDraft:
    """What the "Log issue" button of a signal prefills. Raises NotFound (gone, or another channel's)."""
    with uow.read_only():
        signal, p = row_in_channel(uow, uow.signals, channel_id, signal_id, "signal", for_update=False)
        categories = tuple(str(c) for c in p.issue_categories) if p.issue_categories else DEFAULT_CATEGORIES
        d = signal.detail or {}
        what = stored_rated(d.get("subject"), signal.subject, p.client_org, p.provider_org)
        if signal.kind == SignalKind.DROP.value:
            org = p.client_org if signal.side == Side.CLIENT.value else p.provider_org
            title = f"{what}: {org}'s rating dropped"
            details = (
                f"In round {d.get('round_sequence')}, {org} rated {_in_sentence(what, d)} {stored_score(d.get('current'))} "
                f"against {stored_score(d.get('baseline'))} on average over the previous four weeks."
            )
            category = _category_for(signal.subject, categories)
        elif signal.kind in _PAIRINGS:
            title = f"{kpi_format.dimension_label(signal.subject)}: {kpi_format.PAIRING_LABELS[signal.kind]}"
            details = "\n".join(
                [kpi_format.pairing_text(signal.kind, d, p.client_org, p.provider_org), *kpi_format.kpi_texts(d)]
            )
            category = _category_for(signal.subject, categories)
        elif signal.kind == SignalKind.GAP.value:
            title = f"{what}: the two sides see it differently"
            details = (
                f"In round {d.get('round_sequence')}, {p.client_org} rated {_in_sentence(what, d)} "
                f"{stored_score(d.get('client'))} and {p.provider_org} {stored_score(d.get('provider'))} "
                f"({stored_gap(d.get('gap'), signed='subject' in d)})."
            )
            category = _category_for(signal.subject, categories)
        else:
            title = f"Recurring {signal.subject.lower()} issues"
            details = f"{d.get('count')} issues in the category {signal.subject} were logged within {d.get('days')} days."
            category = signal.subject if signal.subject in categories else None
        return IssueDraft(title=title[:150], details=details, category=category, severity="S3")


def _in_sentence(what: str, detail: dict[str, Any]) -> str:
    """``the relationship's trust`` inside a sentence; organisation names keep their case; a signal stored before
    subjects existed writes its dimension in lower case, as it did then."""
    if "subject" not in detail:
        return what.lower()
    return what[:1].lower() + what[1:] if what.startswith("The relationship") else what
