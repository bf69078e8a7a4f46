"""What the leads configure for issues (DESIGN 3.3): the category list and the escalation deadlines per severity.

Every change is made under the partnership's row lock and may queue a notice to the channel in the same
transaction. A changed policy reschedules the partnership's unresolved issues at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.services import outbox_notices
from bot.services.errors import InvalidInput
from bot.services.escalation import reschedule_all
from bot.services.escalation_policy import DEFAULT_POLICY, policy_from_rows
from bot.services.issue_models import DEFAULT_CATEGORIES, MAX_CATEGORY, SEVERITIES, PolicyChange, PolicyView, SeverityPolicy
from bot.services.partnership_guards import (
    categories_of,
    partnership_a_lead_changes,
    partnership_to_change,
    require_lead,
    require_partnership,
)
from bot.services.read_models_from_rows import partnership_view
from storage.models import EscalationPolicyRow, Partnership
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

MAX_CATEGORIES = 25
#: Bounds of a lead's policy, in working time: escalating twice the resolve time must stay computable.
MAX_RESOLVE = timedelta(hours=8 * 250)


def get_categories(uow: UnitOfWork, *, team_id: str, channel_id: str) -> tuple[str, ...]:
    """The partnership's issue categories, in order."""
    with uow.read_only():
        return categories_of(require_partnership(uow, team_id, channel_id))


def clean_categories(categories: Sequence[str]) -> tuple[str, ...]:
    """The category list as it would be stored (blank lines dropped, spaces tidied), or InvalidInput
    (``field`` "categories")."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in categories:
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_CATEGORY:
            raise InvalidInput(f"Keep each category under {MAX_CATEGORY} characters.", "categories")
        if name.casefold() in seen:
            raise InvalidInput(f"“{name}” is in the list twice.", "categories")
        seen.add(name.casefold())
        cleaned.append(name)
    if not cleaned:
        raise InvalidInput("Keep at least one category.", "categories")
    if len(cleaned) > MAX_CATEGORIES:
        raise InvalidInput(f"Use at most {MAX_CATEGORIES} categories.", "categories")
    return tuple(cleaned)


def _store_categories(p: Partnership, cleaned: tuple[str, ...], now: datetime) -> None:
    p.issue_categories = None if cleaned == DEFAULT_CATEGORIES else list(cleaned)
    p.updated_at = now


def edited_categories(current: Sequence[str], verb: str, names: Sequence[str]) -> list[str]:
    """The list after ``/partner categories add|remove|set``: ``add`` appends one name, ``remove`` drops one
    (any case), ``set`` replaces the list. Raises InvalidInput (``field`` "categories") for a name already there
    (add) or not there (remove)."""
    if verb == "set":
        return list(names)
    name = names[0]
    known = {c.casefold(): c for c in current}
    if verb == "add":
        if name.casefold() in known:
            raise InvalidInput(f"“{name}” is already a category.", "categories")
        return [*current, name]
    if name.casefold() not in known:
        raise InvalidInput(f"“{name}” is not one of the categories: {', '.join(current)}.", "categories")
    return [c for c in current if c.casefold() != name.casefold()]


def edit_categories(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    verb: str,
    names: Sequence[str],
    now: datetime,
    announce: outbox_notices.Notice[tuple[str, ...]] | None = None,
) -> tuple[str, ...]:
    """A lead adds, removes or replaces categories (``verb`` "add", "remove" or "set", as ``edited_categories``).

    The list is read and written in one transaction under the partnership's lock, so two leads editing at once
    both keep their change: the second edit starts from the first one's list.

    Raises:
        NotFound, NotAllowed, InvalidInput (``field`` "categories"); every InvalidInput before NotAllowed.
    """
    with uow:
        p = partnership_to_change(uow, team_id, channel_id)
        cleaned = clean_categories(edited_categories(categories_of(p), verb, names))
        require_lead(uow, p, actor, "change the issue categories")
        _store_categories(p, cleaned, now)
        return outbox_notices.commit_saved(uow, p, announce, cleaned, now=now)


def _policy_view(uow: UnitOfWork, p: Partnership) -> PolicyView:
    rows = {row.severity: row for row in uow.policies.for_partnership(p.id)}
    policy = policy_from_rows(rows.values())
    return PolicyView(
        partnership=partnership_view(p),
        severities=tuple(
            SeverityPolicy(
                severity=s,
                acknowledge=policy.for_severity(s).acknowledge,
                resolve=policy.for_severity(s).resolve,
                custom=s in rows,
            )
            for s in SEVERITIES
        ),
    )


def get_policy(uow: UnitOfWork, *, team_id: str, channel_id: str) -> PolicyView:
    """The escalation deadlines per severity, in working time (defaults unless a lead changed them)."""
    with uow.read_only():
        p = require_partnership(uow, team_id, channel_id)
        return _policy_view(uow, p)


def validate_policy(severity: str, acknowledge: timedelta, resolve: timedelta) -> None:
    """Raises InvalidInput (``field`` "severity", "acknowledge" or "resolve")."""
    if severity not in SEVERITIES:
        raise InvalidInput("Choose a severity from S1 to S4.", "severity")
    for field, value in (("acknowledge", acknowledge), ("resolve", resolve)):
        if value < timedelta(minutes=1) or value % timedelta(minutes=1):
            raise InvalidInput("Give a whole number of minutes, hours or days, at least one minute.", field)
    if acknowledge > resolve:
        raise InvalidInput("The time to acknowledge cannot be longer than the time to resolve.", "acknowledge")
    if resolve > MAX_RESOLVE:
        raise InvalidInput("The time to resolve can be at most 250 working days.", "resolve")


def _store_deadlines(
    uow: UnitOfWork, p: Partnership, severity: str, acknowledge: timedelta, resolve: timedelta, actor: str, now: datetime
) -> None:
    row = uow.policies.get(p.id, severity)
    if row is None:
        row = uow.policies.add(
            EscalationPolicyRow(
                partnership_id=p.id,
                severity=severity,
                acknowledge_minutes=1,
                resolve_minutes=1,
                updated_by=actor,
                updated_at=now,
            )
        )
    row.acknowledge_minutes = acknowledge // timedelta(minutes=1)
    row.resolve_minutes = resolve // timedelta(minutes=1)
    row.updated_by, row.updated_at = actor, now
    uow.flush()


def set_policy(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    severity: str,
    acknowledge: timedelta,
    resolve: timedelta,
    now: datetime,
    announce: outbox_notices.Notice[PolicyView] | None = None,
) -> PolicyView:
    """A lead changes one severity's deadlines (working time). Unresolved issues are rescheduled at once;
    levels that already fired stay fired. ``announce``: a notice about the saved policy, queued for the channel in
    the same transaction.

    Raises:
        NotFound, NotAllowed (not a lead), InvalidInput.
    """
    validate_policy(severity, acknowledge, resolve)
    with uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "change the escalation policy")
        _store_deadlines(uow, p, severity, acknowledge, resolve, actor, now)
        reschedule_all(uow, p)
        view = outbox_notices.commit_saved(uow, p, announce, _policy_view(uow, p), now=now)
        logger.info("partnership %s: %s policy set by %s", p.id, severity, actor)
        return view


def reset_policy(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    severity: str,
    now: datetime,
    announce: outbox_notices.Notice[PolicyView] | None = None,
) -> PolicyView:
    """A lead returns one severity to the default deadlines (``announce`` as for ``set_policy``).

    Raises:
        NotFound, NotAllowed, InvalidInput.
    """
    if severity not in SEVERITIES:
        raise InvalidInput("Choose a severity from S1 to S4.", "severity")
    with uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "change the escalation policy")
        uow.policies.delete(p.id, severity)
        reschedule_all(uow, p)
        return outbox_notices.commit_saved(uow, p, announce, _policy_view(uow, p), now=now)


def change_policy(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    actor: str,
    categories: Sequence[str],
    deadlines: Mapping[str, tuple[timedelta, timedelta]],
    now: datetime,
    announce: outbox_notices.Notice[PolicyChange] | None = None,
) -> PolicyChange:
    """The policy form: a lead saves the categories and every severity's (acknowledge, resolve) deadlines at once.

    Only what differs from the stored policy changes; deadlines equal to a severity's default return it to the
    default. All of it is one transaction, with one notice (``announce``) when anything changed: a refusal part-way
    changes nothing. Unresolved issues are rescheduled once.

    Raises:
        NotFound, NotAllowed, InvalidInput (``field`` "categories", "severity", "acknowledge" or "resolve").
    """
    cleaned = clean_categories(categories)
    for severity, (acknowledge, resolve) in deadlines.items():
        validate_policy(severity, acknowledge, resolve)
    with uow:
        p = partnership_a_lead_changes(uow, team_id, channel_id, actor, "change the escalation policy")
        current = policy_from_rows(uow.policies.for_partnership(p.id))
        new_categories = cleaned if cleaned != categories_of(p) else None
        if new_categories is not None:
            _store_categories(p, new_categories, now)
        changed: list[str] = []
        for severity in SEVERITIES:
            if severity not in deadlines:
                continue
            acknowledge, resolve = deadlines[severity]
            stored = current.for_severity(severity)
            if (acknowledge, resolve) == (stored.acknowledge, stored.resolve):
                continue
            default = DEFAULT_POLICY.for_severity(severity)
            if (acknowledge, resolve) == (default.acknowledge, default.resolve):
                uow.policies.delete(p.id, severity)
            else:
                _store_deadlines(uow, p, severity, acknowledge, resolve, actor, now)
            changed.append(severity)
        if changed:
            reschedule_all(uow, p)
        result = PolicyChange(policy=_policy_view(uow, p), categories=new_categories, severities=tuple(changed))
        if not result.changed:
            return result
        outbox_notices.commit_saved(uow, p, announce, result, now=now)
        logger.info("partnership %s: policy form saved by %s (%s)", p.id, actor, ", ".join(changed) or "categories")
        return result
