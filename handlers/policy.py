"""The escalation policy, issue categories, working hours and holidays at the Slack edge.

Everyone can see them (``/partner policy``); only leads change them, with a command or the policy form (reachable
from a button, for leads of the other organisation, who cannot run ``/partner``). Changes are announced in the
channel: both sides agreed the policy, so both see when it changes. The notice is worded here, from what the change
saved, and queued by the service in the change's transaction (``outbox_notices.Notice``): the change and its notice are
saved together, and the outbox posts it (retried on Slack errors, once per request).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.after_ack import after_ack, opens_modal
from bot.blocks import ids
from bot.blocks.common import build_notice
from bot.blocks.issue_text import working_time_label
from bot.blocks.metadata import ChannelRef, MetadataError, decode
from bot.blocks.policy import build_policy, calendar_line
from bot.blocks.policy_form import build_policy_modal
from bot.blocks.text import escape
from bot.container import Services
from bot.services import calendar_settings, issue_settings, partnerships
from bot.services.errors import DomainError, InvalidInput
from bot.services.issue_models import SEVERITIES, SEVERITY_LABELS, CalendarView, PolicyChange, PolicyView
from bot.services.outbox_notices import Notice
from bot.services.partnership_models import PartnershipView, Side
from handlers.command_registry import CommandContext, handles
from handlers.command_text import parse_duration
from handlers.command_types import (
    CategoriesSet,
    CategoriesShow,
    CategoryAdd,
    CategoryRemove,
    HolidayAdd,
    HolidayRemove,
    HoursSet,
    HoursShow,
    PolicyReset,
    PolicySet,
    PolicyShow,
)
from handlers.form_values import State, text_value
from handlers.ui import (
    OUT_OF_DATE_FORM,
    STALE,
    ack_errors,
    act_in,
    actor_profile,
    decode_clicked,
    ephemeral,
    listen,
    open_modal,
    reply,
    require_partnership,
    submitted_ref,
)


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


# --- /partner policy | categories | hours | holiday: everyone sees them; leads change them ------------------------
# A change's notice is queued with it and sent at once; a repeated delivery of the command (same ``trigger_id``)
# posts it once.


def _key(ctx: CommandContext, now: datetime) -> str:
    return command_request_key(ctx.trigger_id, ctx.user_id, now)


def _change(ctx: CommandContext, now: datetime, announce: Notice[Any], change: Callable[..., object], **values: Any) -> None:
    """A lead's change by command: ``change`` (a settings service) is given the command's place, the lead, ``values``,
    the time and the notice it queues with the change; the notice is then sent."""
    change(ctx.services.uow_factory(), **ctx.place(actor=ctx.user_id), **values, now=now, announce=announce)
    ctx.services.sender.deliver_queued()


def show_policy_command(command: PolicyShow, ctx: CommandContext) -> None:
    show_policy(ctx.respond, ctx.services, team_id=ctx.team_id, channel_id=ctx.channel_id)


def show_categories(command: CategoriesShow, ctx: CommandContext) -> None:
    categories = issue_settings.get_categories(ctx.services.uow_factory(), **ctx.place())
    reply(ctx.respond, build_notice("*Issue categories:* " + ", ".join(escape(c) for c in categories)))


def show_hours(command: HoursShow, ctx: CommandContext) -> None:
    p = require_partnership(ctx.services, ctx.team_id, ctx.channel_id)
    lines = "\n".join(calendar_line(p, c) for c in _calendars(ctx.services, ctx.team_id, ctx.channel_id))
    reply(ctx.respond, build_notice(f"*Working hours* (escalation time counts only inside them)\n{lines}"))


def set_policy(command: PolicySet | PolicyReset, ctx: CommandContext) -> None:
    now = ctx.services.clock()
    notice = policy_notice(_key(ctx, now), ctx.user_id, command.severity)
    if isinstance(command, PolicyReset):
        _change(ctx, now, notice, issue_settings.reset_policy, severity=command.severity)
    else:
        deadlines = {"acknowledge": command.acknowledge, "resolve": command.resolve}
        _change(ctx, now, notice, issue_settings.set_policy, severity=command.severity, **deadlines)


def change_categories(command: CategoryAdd | CategoryRemove | CategoriesSet, ctx: CommandContext) -> None:
    # The service reads and writes the list in one transaction under the partnership's lock: two leads editing
    # at once both keep their change.
    now = ctx.services.clock()
    if isinstance(command, CategoriesSet):
        verb, names = "set", command.names
    else:
        verb, names = ("add" if isinstance(command, CategoryAdd) else "remove"), (command.name,)
    notice = categories_notice(_key(ctx, now), ctx.user_id)
    _change(ctx, now, notice, issue_settings.edit_categories, verb=verb, names=names)


def change_calendar(command: HoursSet | HolidayAdd | HolidayRemove, ctx: CommandContext) -> None:
    now = ctx.services.clock()
    p = require_partnership(ctx.services, ctx.team_id, ctx.channel_id)
    notice = calendar_notice(_key(ctx, now), ctx.user_id, p)
    if isinstance(command, HoursSet):
        hours = {"day_start": command.day_start, "day_end": command.day_end, "workdays": list(command.workdays)}
        _change(ctx, now, notice, calendar_settings.set_calendar, side=command.side, timezone=command.timezone, **hours)
    elif isinstance(command, HolidayRemove):
        _change(ctx, now, notice, calendar_settings.remove_holiday, side=command.side, day=command.day)
    else:
        _change(ctx, now, notice, calendar_settings.add_holiday, side=command.side, day=command.day, name=command.name)


COMMAND_HANDLERS = dict(
    [
        handles(PolicyShow, show_policy_command),
        handles(CategoriesShow, show_categories),
        handles(HoursShow, show_hours),
        handles(PolicySet, set_policy),
        handles(PolicyReset, set_policy),
        handles(CategoryAdd, change_categories),
        handles(CategoryRemove, change_categories),
        handles(CategoriesSet, change_categories),
        handles(HoursSet, change_calendar),
        handles(HolidayAdd, change_calendar),
        handles(HolidayRemove, change_calendar),
    ]
)


# --- the policy form ------------------------------------------------------------------------------------------------


@opens_modal
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

    def build() -> View:
        policy = issue_settings.get_policy(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id)
        categories = issue_settings.get_categories(services.uow_factory(), team_id=ref.team_id, channel_id=ref.channel_id)
        return build_policy_modal(policy, categories)

    open_modal(client, body["trigger_id"], "Escalation policy", build)


def parse_policy(state: State) -> tuple[dict[str, tuple[timedelta, timedelta]], tuple[str, ...]]:
    """The policy modal: (acknowledge, resolve) per severity and the categories, one per line.

    Raises:
        InvalidInput: a duration that cannot be read (``field`` = that input's block id).
    """
    deadlines: dict[str, tuple[timedelta, timedelta]] = {}
    for severity in SEVERITIES:
        pair: list[timedelta] = []
        for field in (ids.PolicyBlock.ACKNOWLEDGE, ids.PolicyBlock.RESOLVE):
            block = ids.policy_block(field, severity)
            try:
                pair.append(parse_duration(text_value(state, block)))
            except ValueError:
                raise InvalidInput(
                    "Write a working time like 30m, 4h, 3d or 1d 4h (a day is 8 working hours).", block
                ) from None
        deadlines[severity] = (pair[0], pair[1])
    lines = text_value(state, ids.PolicyBlock.CATEGORIES).splitlines()
    return deadlines, tuple(" ".join(line.split()) for line in lines if line.strip())


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
    ack_errors(ack, policy_form_errors(view))


@after_ack
def save_policy(body: dict[str, Any], view: dict[str, Any], client: WebClient, services: Services) -> None:
    """Save what changed, all of it or nothing (refused categories change nothing), and announce it once."""
    ref = submitted_ref(view, ChannelRef)
    if ref is None or policy_form_errors(view):
        return  # Bolt runs lazy functions whatever the ack said: these errors are showing in the form
    user = actor_profile(body).user_id
    deadlines, categories = parse_policy(view["state"]["values"])
    notice = policy_form_notice(f"policy-view:{view.get('id')}", user)
    change = act_in(
        services, ref, user, issue_settings.change_policy, categories=categories, deadlines=deadlines, announce=notice
    )
    if not change.changed:
        ephemeral(client, ref.channel_id, user, "Nothing changed in the escalation policy.")
        return
    services.sender.deliver_queued()


def register(app: App) -> None:
    listen(app, {ids.Action.POLICY_CHANGE: open_policy_form}, {ids.View.POLICY: (ack_policy_submission, save_policy)})
