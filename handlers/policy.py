"""The escalation policy, issue categories, working hours and holidays at the Slack edge.

Everyone can see them (``/partner policy``); only leads change them, with a command or the policy form (reachable
from a button, for leads of the other organisation, who cannot run ``/partner``). Changes are announced in the
channel: both sides agreed the policy, so both see when it changes. The notice is worded here, from what the change
saved, and queued by the service in the change's transaction (``outbox.Notice``): the change and its notice are
saved together, and the outbox posts it (retried on Slack errors, once per request).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.after_ack import after_ack
from bot.blocks import ids
from bot.blocks.common import build_notice
from bot.blocks.issue_forms import build_policy_modal
from bot.blocks.issues import build_policy, calendar_line, working_time_label
from bot.blocks.metadata import ChannelRef, MetadataError, decode
from bot.blocks.pulse import build_message_modal
from bot.blocks.text import escape
from bot.container import Services
from bot.services import calendar_settings, issue_settings, partnership_guards, partnerships
from bot.services.errors import DomainError, InvalidInput, NotFound
from bot.services.models import SEVERITY_LABELS, CalendarView, PartnershipView, PolicyChange, PolicyView, Side
from bot.services.outbox import Notice
from handlers.forms import ParsedCommand, actor_profile, parse_duration, parse_policy
from handlers.modals import open_loading, replace_view
from handlers.ui import OUT_OF_DATE_FORM, STALE, ack_button, decode_clicked, ephemeral, reply


def _calendars(services: Services, team_id: str, channel_id: str) -> tuple[CalendarView, ...]:
    return tuple(
        calendar_settings.get_calendar(services.uow_factory(), team_id=team_id, channel_id=channel_id, side=side)
        for side in Side
    )


def show_policy(respond: Respond, services: Services, *, team_id: str, channel_id: str) -> None:
    """``/partner policy`` and the menu's "Escalation policy": deadlines, working hours, categories."""
    uow = services.uow_factory
    policy = issue_settings.get_policy(uow(), team_id=team_id, channel_id=channel_id)
    categories = issue_settings.get_categories(uow(), team_id=team_id, channel_id=channel_id)
    reply(respond, build_policy(policy, categories, _calendars(services, team_id, channel_id)))


def _deadline_line(severity: str, acknowledge: timedelta, resolve: timedelta) -> str:
    return (
        f"{SEVERITY_LABELS[severity]}: acknowledge within {working_time_label(acknowledge)}, "
        f"resolve within {working_time_label(resolve)}"
    )


def _severity_line(view: PolicyView, severity: str) -> str:
    s = next(s for s in view.severities if s.severity == severity)
    return _deadline_line(severity, s.acknowledge, s.resolve) + ("" if s.custom else " (the default)")


def _clock_time(raw: str, field: str) -> time:
    hour, _, minute = raw.partition(":")
    try:
        return time(int(hour), int(minute))
    except ValueError:
        raise InvalidInput(f"{raw} is not a time of day; write it like 09:00.", field) from None


def _new_categories(current: tuple[str, ...], verb: str, names: tuple[str, ...]) -> list[str]:
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


# --- the notices: our wording (user text escaped), from what the change saved -----------------------------------------


def command_request_key(trigger_id: str, user_id: str, now: datetime) -> str:
    """What names a ``/partner`` command for its notice: its trigger (the same in a repeated delivery)."""
    return f"command:{trigger_id}" if trigger_id else f"command:{user_id}:{now.isoformat()}"


def policy_notice(request_key: str, user_id: str, severity: str) -> Notice[PolicyView]:
    """``/partner policy S2 …``: the severity's deadlines as saved."""

    def compose(view: PolicyView) -> str:
        return f"<@{user_id}> changed the escalation policy. {_severity_line(view, severity)}."

    return Notice(request_key, compose)


def categories_notice(request_key: str, user_id: str) -> Notice[tuple[str, ...]]:
    """``/partner categories …``: the category list as saved."""

    def compose(saved: tuple[str, ...]) -> str:
        return f"<@{user_id}> changed the issue categories: {', '.join(escape(c) for c in saved)}."

    return Notice(request_key, compose)


def calendar_notice(request_key: str, user_id: str, p: PartnershipView) -> Notice[CalendarView]:
    """``/partner hours|holiday …``: the side's working calendar as saved."""

    def compose(calendar: CalendarView) -> str:
        return (
            f"<@{user_id}> changed the working calendar. {calendar_line(p, calendar)}. "
            "Escalation clocks of that side's issues follow it."
        )

    return Notice(request_key, compose)


def policy_form_notice(request_key: str, user_id: str) -> Notice[PolicyChange]:
    """The policy form: everything one save changed, in one notice (categories first, then severities in order)."""

    def compose(change: PolicyChange) -> str:
        changes: list[str] = []
        if change.categories is not None:
            changes.append("issue categories: " + ", ".join(escape(c) for c in change.categories))
        changes.extend(
            _deadline_line(s.severity, s.acknowledge, s.resolve)
            for s in change.policy.severities
            if s.severity in change.severities
        )
        return f"<@{user_id}> changed the escalation policy. " + "; ".join(changes) + "."

    return Notice(request_key, compose)


def run_policy_command(
    parsed: ParsedCommand,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    respond: Respond,
    client: WebClient,
    services: Services,
    trigger_id: str = "",
) -> None:
    """``/partner policy|categories|hours|holiday …``: show, or (leads) change. Domain errors propagate.

    A change's notice is queued with it and sent at once; a repeated delivery of the command (same ``trigger_id``)
    posts it once.
    """
    uow, now = services.uow_factory, services.clock()
    where = {"team_id": team_id, "channel_id": channel_id}
    key = command_request_key(trigger_id, user_id, now)
    if parsed.name == "policy" and parsed.arg is None:
        show_policy(respond, services, **where)
        return
    if parsed.name == "categories" and parsed.arg is None:
        categories = issue_settings.get_categories(uow(), **where)
        reply(respond, build_notice("*Issue categories:* " + ", ".join(escape(c) for c in categories)))
        return
    if parsed.name == "hours" and parsed.arg is None:
        p = partnerships.get_partnership(uow(), **where)
        if p is None:
            raise NotFound(partnership_guards.NO_PARTNERSHIP)
        lines = "\n".join(calendar_line(p, c) for c in _calendars(services, team_id, channel_id))
        reply(respond, build_notice(f"*Working hours* (escalation time counts only inside them)\n{lines}"))
        return
    if parsed.name == "policy":
        severity = str(parsed.arg)
        notice = policy_notice(key, user_id, severity)
        if parsed.values == ("default",):
            issue_settings.reset_policy(uow(), **where, actor=user_id, severity=severity, now=now, announce=notice)
        else:
            acknowledge, resolve = (parse_duration(v) for v in parsed.values)
            issue_settings.set_policy(
                uow(),
                **where,
                actor=user_id,
                severity=severity,
                acknowledge=acknowledge,
                resolve=resolve,
                now=now,
                announce=notice,
            )
    elif parsed.name == "categories":
        current = issue_settings.get_categories(uow(), **where)
        issue_settings.set_categories(
            uow(),
            **where,
            actor=user_id,
            categories=_new_categories(current, str(parsed.arg), parsed.values),
            now=now,
            announce=categories_notice(key, user_id),
        )
    else:  # hours, holiday
        p = partnerships.get_partnership(uow(), **where)
        if p is None:
            raise NotFound(partnership_guards.NO_PARTNERSHIP)
        calendar = calendar_notice(key, user_id, p)
        if parsed.name == "hours":
            start, end, days, tz = parsed.values
            calendar_settings.set_calendar(
                uow(),
                **where,
                actor=user_id,
                side=Side(str(parsed.arg)),
                timezone=tz or None,
                workdays=[int(d) for d in days.split(",")],
                day_start=_clock_time(start, "day_start"),
                day_end=_clock_time(end, "day_end"),
                now=now,
                announce=calendar,
            )
        elif parsed.arg == "remove":
            side, day, _ = parsed.values
            calendar_settings.remove_holiday(
                uow(), **where, actor=user_id, side=Side(side), day=date.fromisoformat(day), now=now, announce=calendar
            )
        else:
            side, day, label = parsed.values
            calendar_settings.add_holiday(
                uow(),
                **where,
                actor=user_id,
                side=Side(side),
                day=date.fromisoformat(day),
                name=label,
                now=now,
                announce=calendar,
            )
    services.sender.deliver_pending()


# --- the policy form ------------------------------------------------------------------------------------------------


@after_ack
def open_policy_form(
    body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, services: Services
) -> None:
    """The policy message's "Change deadlines or categories": leads only, checked before the form opens."""
    ref = decode_clicked(body, ChannelRef)
    if ref.team_id != context.team_id:
        raise DomainError(STALE)
    user = actor_profile(body).user_id
    partnerships.require_lead(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id, user_id=user)
    view_id = open_loading(client, body["trigger_id"])
    try:
        policy = issue_settings.get_policy(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id)
        categories = issue_settings.get_categories(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id)
        view = build_policy_modal(policy, categories)
    except DomainError as exc:
        view = build_message_modal("Escalation policy", str(exc))
    replace_view(client, view_id, view)


def policy_form_errors(view: dict[str, Any]) -> dict[str, str]:
    """Every deadline readable and sensible (acknowledge no longer than resolve), categories the service accepts."""
    first = ids.policy_block(ids.PolicyBlock.ACKNOWLEDGE, "S1")
    try:
        decode(view.get("private_metadata"), ChannelRef)
    except MetadataError:
        return {first: OUT_OF_DATE_FORM}
    try:
        deadlines, categories = parse_policy(view["state"]["values"])
        for severity, (acknowledge, resolve) in deadlines.items():
            try:
                issue_settings.validate_policy(severity, acknowledge, resolve)
            except InvalidInput as exc:
                raise InvalidInput(str(exc), ids.policy_block(exc.field or ids.PolicyBlock.ACKNOWLEDGE, severity)) from None
        try:
            issue_settings.clean_categories(categories)
        except InvalidInput as exc:
            raise InvalidInput(str(exc), ids.PolicyBlock.CATEGORIES) from None
    except InvalidInput as exc:
        return {exc.field or first: str(exc)}
    return {}


def ack_policy_submission(ack: Ack, view: dict[str, Any]) -> None:
    errors = policy_form_errors(view)
    if errors:
        ack(response_action="errors", errors=errors)
    else:
        ack()


@after_ack
def save_policy(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Save what changed, all of it or nothing (refused categories change nothing), and announce it once."""
    try:
        ref = decode(view.get("private_metadata"), ChannelRef)
    except MetadataError:
        return
    if policy_form_errors(view):
        return  # Bolt runs lazy functions whatever the ack said: these errors are showing in the form
    user = actor_profile(body).user_id
    deadlines, categories = parse_policy(view["state"]["values"])
    change = issue_settings.change_policy(
        services.uow_factory(),
        team_id=ref.team_id,
        channel_id=ref.channel_id,
        actor=user,
        categories=categories,
        deadlines=deadlines,
        now=services.clock(),
        announce=policy_form_notice(f"policy-view:{view.get('id')}", user),
    )
    if not change.changed:
        ephemeral(client, ref.channel_id, user, "Nothing changed in the escalation policy.")
        return
    services.sender.deliver_pending()


def register(app: App) -> None:
    app.action(ids.Action.POLICY_CHANGE)(ack=ack_button, lazy=[open_policy_form])
    app.view(ids.View.POLICY)(ack=ack_policy_submission, lazy=[save_policy])
