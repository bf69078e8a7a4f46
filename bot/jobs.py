"""Scheduled work. ``tick(now)`` does everything due by ``now``; the heartbeat and ``partnerpulse tick`` call it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.container import Services
from bot.delivery.sender import DeliveryReport
from bot.services import (
    actions,
    channel_membership,
    digest_schedule,
    escalation,
    installs,
    kpi_red,
    kpi_requests,
    oauth_states,
    portfolio,
    pulse_rounds,
    scorecard_rounds,
    signals,
    watermelon_signals,
)
from bot.token_rotation import BotTokenUnavailable

logger = logging.getLogger(__name__)


@dataclass
class TickReport:
    opened: int = 0
    skipped: int = 0
    reminders: int = 0
    closed: int = 0
    signals: int = 0
    escalations: int = 0
    kpi_questions: int = 0
    kpi_escalations: int = 0
    action_reminders: int = 0
    digests: int = 0
    portfolios: int = 0
    scorecards_opened: int = 0
    scorecards_closed: int = 0
    scorecard_reminders: int = 0
    kpi_requests: int = 0
    oauth_states_purged: int = 0
    reinstall_notices: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        d = self.delivery
        text = (
            f"opened {self.opened} round(s), skipped {self.skipped}, queued {self.reminders} reminder(s), "
            f"closed {self.closed}, {self.signals} signal(s), {self.escalations} escalation(s), "
            f"{self.action_reminders} overdue-action reminder(s), {self.digests} digest(s); sent {d.sent}, retrying {d.retried}, failed {d.failed}, cancelled {d.cancelled}"
        )
        if self.portfolios:
            text += f"; queued {self.portfolios} portfolio digest(s)"
        if self.scorecards_opened or self.scorecards_closed or self.scorecard_reminders:
            text += f"; scorecards opened {self.scorecards_opened}, closed {self.scorecards_closed}"
            text += f", {self.scorecard_reminders} scorecard reminder(s)"
        if self.kpi_questions or self.kpi_escalations:
            text += f"; red KPIs: {self.kpi_questions} question(s), {self.kpi_escalations} issue(s) logged"
        if self.kpi_requests:
            text += f"; {self.kpi_requests} KPI figure request(s)"
        if self.failures:
            text += f"; steps that failed: {', '.join(self.failures)}"
        return text


def tick(services: Services, now: datetime) -> TickReport:
    """Open due rounds, queue due reminders, close due rounds (and look for early-warning signals in their
    results), ask about red KPIs (and log an issue for a run of red periods), escalate issues whose time has come, remind owners of overdue actions, queue the weekly digests
    that are due, purge the OAuth states of installs never finished, tell the leads of an organisation whose
    installation needs installing again, then send the outbox.

    Each step is its own transaction and claims its rows, so a step that fails is logged and the others
    still run; the next tick tries again. Nothing here raises.
    """
    report = TickReport()
    steps = (
        ("open", lambda: _open(services, now, report)),
        ("remind", lambda: _remind(services, now, report)),
        ("close", lambda: _close(services, now, report)),
        ("kpi-red", lambda: _check_red_kpis(services, now, report)),
        ("escalate", lambda: _escalate(services, now, report)),
        ("actions", lambda: _remind_overdue_actions(services, now, report)),
        ("scorecard-remind", lambda: _remind_scorecards(services, now, report)),
        ("scorecard-close", lambda: _close_scorecards(services, now, report)),
        ("scorecard-open", lambda: _open_scorecards(services, now, report)),
        ("kpi-requests", lambda: _request_kpi_figures(services, now, report)),
        ("digest", lambda: _queue_digests(services, now, report)),
        ("portfolio", lambda: _queue_portfolios(services, now, report)),
        ("oauth-states", lambda: _purge_oauth_states(services, now, report)),
        ("reinstall-notices", lambda: _tell_leads_to_reinstall(services, now, report)),
        ("send", lambda: report.delivery.add(services.sender.deliver_pending())),
    )
    for name, step in steps:
        try:
            step()
        except Exception:
            logger.exception("tick at %s: step %s failed; it will run again at the next tick", now.isoformat(), name)
            report.failures.append(name)
    return report


def _open(services: Services, now: datetime, report: TickReport) -> None:
    _reconcile_members(services, now)
    result = pulse_rounds.open_due_rounds(services.uow_factory, now=now)
    report.opened, report.skipped = len(result.opened), result.skipped


def _reconcile_members(services: Services, now: datetime) -> None:
    """Before rounds open, make each due partnership's members what Slack lists (conversations.members), so a
    member event Slack never delivered leaves nobody out. A channel Slack cannot list now opens with the members
    on record."""
    for team_id, channel_id in channel_membership.channels_due(services.uow_factory(), now=now):
        try:
            directory = services.directory_for(team_id)
            member_ids = directory.channel_member_ids(channel_id)
            new_ids = channel_membership.unknown_member_ids(
                services.uow_factory(), team_id=team_id, channel_id=channel_id, member_ids=member_ids
            )
            profiles = [directory.profile(uid) for uid in new_ids]
            channel_membership.reconcile_members(
                services.uow_factory(),
                team_id=team_id,
                channel_id=channel_id,
                member_ids=member_ids,
                profiles=profiles,
                now=now,
            )
        except (SlackApiError, BotTokenUnavailable) as exc:
            logger.warning("members of %s not reconciled (%s); the round asks the members on record", channel_id, exc)


def _remind(services: Services, now: datetime, report: TickReport) -> None:
    report.reminders = pulse_rounds.queue_due_reminders(services.uow_factory, secret_key=services.secret_key, now=now)


def _close(services: Services, now: datetime, report: TickReport) -> None:
    closed = pulse_rounds.close_due_rounds(services.uow_factory, now=now)
    report.closed = len(closed)
    for round_id in closed:
        # Signals are advice to the leads: one round's failure is logged and never holds up the rest.
        try:
            report.signals += signals.signals_after_round(services.uow_factory(), round_id=round_id, now=now)
        except Exception:
            logger.exception("early-warning signals for round %s failed", round_id)


def _check_red_kpis(services: Services, now: datetime, report: TickReport) -> None:
    """A red KPI's blameless question, once per red period; an issue for a run of red periods (``kpi_red``)."""
    result = kpi_red.check_red_kpis(services.uow_factory, now=now)
    report.kpi_questions, report.kpi_escalations = result.questions, result.escalations


def _escalate(services: Services, now: datetime, report: TickReport) -> None:
    report.escalations = escalation.escalate_due(services.uow_factory, now=now)


def _request_kpi_figures(services: Services, now: datetime, report: TickReport) -> None:
    report.kpi_requests = kpi_requests.request_due_figures(services.uow_factory, now=now)


def _remind_overdue_actions(services: Services, now: datetime, report: TickReport) -> None:
    report.action_reminders = actions.remind_overdue(services.uow_factory, now=now)


def _queue_digests(services: Services, now: datetime, report: TickReport) -> None:
    """Queue the weekly digest of every partnership whose digest time has come (once per partnership and week);
    the send step posts it, and its chart and copies follow. The week's watermelon signals are recorded with it."""
    report.digests = digest_schedule.queue_due_digests(
        services.uow_factory, now=now, on_queued=watermelon_signals.signal_week
    )


def _queue_portfolios(services: Services, now: datetime, report: TickReport) -> None:
    report.portfolios = portfolio.queue_due_portfolios(services.uow_factory, now=now)


def _remind_scorecards(services: Services, now: datetime, report: TickReport) -> None:
    report.scorecard_reminders = scorecard_rounds.queue_due_reminders(
        services.uow_factory, secret_key=services.secret_key, now=now
    )


def _close_scorecards(services: Services, now: datetime, report: TickReport) -> None:
    report.scorecards_closed = len(scorecard_rounds.close_due(services.uow_factory, now=now))


def _open_scorecards(services: Services, now: datetime, report: TickReport) -> None:
    report.scorecards_opened = scorecard_rounds.open_due(services.uow_factory, now=now)


def _tell_leads_to_reinstall(services: Services, now: datetime, report: TickReport) -> None:
    """Tell the leads of an organisation whose installation needs installing again, where another installation
    still reaches them."""
    report.reinstall_notices = installs.queue_reinstall_notices(services.uow_factory(), now=now)


def _purge_oauth_states(services: Services, now: datetime, report: TickReport) -> None:
    """Remove the OAuth states that expired (an install started and never finished leaves one behind)."""
    report.oauth_states_purged = oauth_states.purge_expired_states(services.uow_factory(), now=now)
