"""The App Home tab (issue 3): one person's open actions, the issues they own or raised, and the partnerships
they are part of with their open issues by severity. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.issue_models import SEVERITIES, ActionView, IssueView
from bot.services.issue_queries import action_view, issue_view
from bot.services.partnership_guards import today_in
from bot.services.partnership_models import PartnershipView
from bot.services.read_models_from_rows import partnership_view
from storage.uow import UnitOfWork

MAX_PARTNERSHIPS = 20
MAX_ITEMS = 15


@dataclass(frozen=True)
class HomePartnership:
    partnership: PartnershipView
    open_by_severity: dict[str, int]


@dataclass(frozen=True)
class HomeView:
    """What one person's Home tab shows. ``more_issues``/``more_actions``: there are more than shown."""

    user_id: str
    partnerships: tuple[HomePartnership, ...]
    issues: tuple[IssueView, ...]
    actions: tuple[ActionView, ...]
    more_issues: bool
    more_actions: bool


def home(uow: UnitOfWork, *, team_id: str, user_id: str, now: datetime) -> HomeView:
    """The person's Home tab: partnerships of this workspace they are in (or lead, or sponsor), their unresolved
    issues (owned or raised, most severe first) and their open actions (soonest due first, overdue marked)."""
    with uow.read_only():
        q = uow.home
        rows = q.memberships(team_id, user_id, MAX_PARTNERSHIPS)
        by_id = {p.id: p for p, _ in rows}
        ids = list(by_id)
        counts = q.open_issue_counts(ids)
        issue_rows = list(q.issues_involving(ids, user_id, MAX_ITEMS + 1))
        action_rows = list(q.open_actions_of(ids, user_id, MAX_ITEMS + 1))
        numbers = {i.id: i.number for i in issue_rows}
        for a in action_rows:
            if a.issue_id is not None and a.issue_id not in numbers and (linked := uow.issues.get(a.issue_id)):
                numbers[a.issue_id] = linked.number
        actions = tuple(
            action_view(
                a,
                issue_number=numbers.get(a.issue_id or 0),
                today=today_in(by_id[a.partnership_id], now, a.side),
            )
            for a in action_rows[:MAX_ITEMS]
        )
        return HomeView(
            user_id=user_id,
            partnerships=tuple(
                HomePartnership(
                    partnership=partnership_view(p),
                    open_by_severity={s: counts.get((p.id, s), 0) for s in SEVERITIES},
                )
                for p, _ in rows
            ),
            issues=tuple(issue_view(i) for i in issue_rows[:MAX_ITEMS]),
            actions=actions,
            more_issues=len(issue_rows) > MAX_ITEMS,
            more_actions=len(action_rows) > MAX_ITEMS,
        )
