"""What ``/partner`` can be asked: one frozen dataclass per subcommand, with its values already typed.

handlers.command_parser produces them from the command text (validated once); handlers.commands runs each with
the handler its feature registered for its type. The partnership menu's buttons produce the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from bot.services.issue_models import ActionFilter, IssueFilter
from bot.services.partnership_models import Side
from bot.services.review_models import ScorecardCadence


@dataclass(frozen=True)
class Command:
    """Base of every subcommand (only for typing: a handler registry keys on the concrete types)."""


@dataclass(frozen=True)
class Refused(Command):
    """Words a subcommand does not take, answered after the ack with ``message`` (safe mrkdwn), as a refusal from a
    service would be. The review subcommands (digest, portfolio, goals, scorecard…) have always answered so."""

    message: str


# --- the partnership and its pulse -------------------------------------------------------------------------


@dataclass(frozen=True)
class Help(Command):
    """``/partner`` or ``/partner help``: answered in the ack."""


@dataclass(frozen=True)
class Setup(Command):
    """``/partner setup``: the setup form."""


@dataclass(frozen=True)
class Status(Command):
    """``/partner status``."""


@dataclass(frozen=True)
class Menu(Command):
    """``/partner menu``: post (and pin) the partnership menu."""


@dataclass(frozen=True)
class Questions(Command):
    """``/partner questions``: the question bank."""


@dataclass(frozen=True)
class PulseNow(Command):
    """``/partner pulse now``."""


@dataclass(frozen=True)
class PulsePause(Command):
    """``/partner pulse pause``."""


@dataclass(frozen=True)
class PulseResume(Command):
    """``/partner pulse resume``."""


@dataclass(frozen=True)
class SideAssign(Command):
    """``/partner side @person client|provider|auto``; ``side`` None is ``auto`` (their organisation decides)."""

    user_id: str
    side: Side | None


@dataclass(frozen=True)
class SideGroupAssign(Command):
    """``/partner side @group client|provider|auto``; ``handle`` is the group's handle as plain text."""

    usergroup_id: str
    handle: str
    side: Side | None


# --- the issue log -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueLog(Command):
    """``/partner issue [title]``: the issue form, the title (plain text) prefilled."""

    title: str | None = None


@dataclass(frozen=True)
class IssueList(Command):
    """``/partner issues [open|mine|all]``."""

    filter: IssueFilter = IssueFilter.OPEN


@dataclass(frozen=True)
class ActionAdd(Command):
    """``/partner action [title]``: the action form, the title (plain text) prefilled."""

    title: str | None = None


@dataclass(frozen=True)
class ActionList(Command):
    """``/partner actions [mine|overdue|all]``."""

    filter: ActionFilter = ActionFilter.MINE


@dataclass(frozen=True)
class PolicyShow(Command):
    """``/partner policy``."""


@dataclass(frozen=True)
class PolicySet(Command):
    """``/partner policy S2 4h 3d``: a severity's deadlines, in working time."""

    severity: str
    acknowledge: timedelta
    resolve: timedelta


@dataclass(frozen=True)
class PolicyReset(Command):
    """``/partner policy S2 default``."""

    severity: str


@dataclass(frozen=True)
class CategoriesShow(Command):
    """``/partner categories``."""


@dataclass(frozen=True)
class CategoryAdd(Command):
    """``/partner categories add Data quality``."""

    name: str


@dataclass(frozen=True)
class CategoryRemove(Command):
    """``/partner categories remove Staffing``."""

    name: str


@dataclass(frozen=True)
class CategoriesSet(Command):
    """``/partner categories set Delivery, Timeliness, Other``."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class HoursShow(Command):
    """``/partner hours``."""


@dataclass(frozen=True)
class HoursSet(Command):
    """``/partner hours client 09:00-17:00 mon-fri [Europe/London]``; ``timezone`` None keeps the side's zone."""

    side: Side
    day_start: time
    day_end: time
    workdays: tuple[int, ...]
    timezone: str | None = None


@dataclass(frozen=True)
class HolidayAdd(Command):
    """``/partner holiday client 2026-12-25 Christmas Day``."""

    side: Side
    day: date
    name: str = ""


@dataclass(frozen=True)
class HolidayRemove(Command):
    """``/partner holiday remove client 2026-12-25``."""

    side: Side
    day: date


# --- reviews: the digest, the portfolio, goals, expectations, the scorecard ----------------------------------


@dataclass(frozen=True)
class DigestPreview(Command):
    """``/partner digest preview``: only the person who asked sees it."""


@dataclass(frozen=True)
class DigestNow(Command):
    """``/partner digest now`` (leads)."""


@dataclass(frozen=True)
class DigestCopy(Command):
    """``/partner digest subscribe`` or ``unsubscribe``: a copy in the person's direct messages."""

    subscribe: bool


@dataclass(frozen=True)
class PortfolioShow(Command):
    """``/partner portfolio``."""


@dataclass(frozen=True)
class PortfolioHere(Command):
    """``/partner portfolio here`` (leads): post it in this channel weekly."""


@dataclass(frozen=True)
class PortfolioOff(Command):
    """``/partner portfolio off`` (leads)."""


@dataclass(frozen=True)
class GoalsShow(Command):
    """``/partner goals``."""


@dataclass(frozen=True)
class GoalAdd(Command):
    """``/partner goal add [title]``."""

    title: str | None = None


@dataclass(frozen=True)
class ExpectationAdd(Command):
    """``/partner expect [text]``: the text (plain text, as typed) prefilled in the form."""

    text: str | None = None


@dataclass(frozen=True)
class ExpectationsShow(Command):
    """``/partner expectations``."""


@dataclass(frozen=True)
class ScorecardShow(Command):
    """``/partner scorecard``."""


@dataclass(frozen=True)
class ScorecardStart(Command):
    """``/partner scorecard start`` (leads)."""


@dataclass(frozen=True)
class ScorecardCadenceSet(Command):
    """``/partner scorecard monthly|quarterly|off`` (leads)."""

    cadence: ScorecardCadence


@dataclass(frozen=True)
class KpiRedPeriodsSet(Command):
    """``/partner kpi policy red-periods N`` (leads): a KPI red for N periods in a row is logged as an issue."""

    periods: int


# --- KPI figures and API tokens ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiTokenCreate(Command):
    """``/partner kpi token create LABEL`` (leads): a token for the HTTP endpoint, shown once."""

    label: str


@dataclass(frozen=True)
class KpiTokenRevoke(Command):
    """``/partner kpi token revoke ID`` (leads)."""

    token_id: int


@dataclass(frozen=True)
class KpiTokensShow(Command):
    """``/partner kpi tokens`` (leads): the partnership's tokens, never the tokens themselves."""


@dataclass(frozen=True)
class KpiRecord(Command):
    """``/partner kpi record KEY``: the form for the KPI's figure of its last complete period."""

    key: str


# --- the KPI ledger (issue 14) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiLedgerShow(Command):
    """``/partner kpi``: the ledger."""


@dataclass(frozen=True)
class KpiPropose(Command):
    """``/partner kpi propose``: the proposal form."""


@dataclass(frozen=True)
class KpiShow(Command):
    """``/partner kpi show KEY``: one KPI, its versions and its latest figures."""

    key: str


@dataclass(frozen=True)
class KpiChange(Command):
    """``/partner kpi change KEY``: the proposal form, prefilled with the version in force."""

    key: str


@dataclass(frozen=True)
class KpiRetire(Command):
    """``/partner kpi retire KEY`` (leads)."""

    key: str
