"""Creating and editing a partnership (the setup modal): its settings, leads, sponsors and assigned people."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from bot.services import outbox
from bot.services.anonymity import MIN_THRESHOLD
from bot.services.errors import InvalidInput, NotFound
from bot.services.partnership_guards import require_lead
from bot.services.partnership_models import MemberView, PartnershipView, Role, SetupInput, SetupResult, Side, SlackProfile
from bot.services.partnerships import answerable_by_side, effective_side, upsert_member
from bot.services.read_models_from_rows import member_view, partnership_view
from bot.services.schedule import next_pulse_time, zone
from storage.models import Member, Partnership
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


MAX_NAME = 150


MAX_THRESHOLD = 50


def setup_defaults(
    uow: UnitOfWork, *, team_id: str, channel_id: str, user_id: str
) -> tuple[PartnershipView | None, list[MemberView]]:
    """What the setup modal starts from. Anyone may create a partnership; only its leads may edit it.

    Raises:
        NotAllowed: the channel has a partnership and the user is not one of its leads.
    """
    with uow.read_only():
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        if p is None:
            return None, []
        require_lead(uow, p, user_id, "change its configuration")
        return partnership_view(p), [member_view(m) for m in uow.members.list(p.id)]


def validate_setup(data: SetupInput, *, user_id: str) -> None:
    """Check the setup form.

    Raises:
        InvalidInput: with ``field`` naming the SetupInput attribute that is wrong.
    """
    for field, value in (("name", data.name), ("client_org", data.client_org), ("provider_org", data.provider_org)):
        if not value.strip():
            raise InvalidInput("Please fill this in.", field)
        if len(value) > MAX_NAME:
            raise InvalidInput(f"Keep this under {MAX_NAME} characters.", field)
    zone(data.timezone)
    if not MIN_THRESHOLD <= data.anonymity_threshold <= MAX_THRESHOLD:
        raise InvalidInput(
            f"The anonymity threshold must be between {MIN_THRESHOLD} and {MAX_THRESHOLD}.", "anonymity_threshold"
        )
    if not 1 <= data.pulse_every_weeks <= 4:
        raise InvalidInput("Choose every 1 to 4 weeks.", "pulse_every_weeks")
    for field, hour, minute in (
        ("pulse_time", data.pulse_hour, data.pulse_minute),
        ("digest_time", data.digest_hour, data.digest_minute),
    ):
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise InvalidInput("Choose a time of day.", field)
    if not (0 <= data.pulse_weekday < 7 and 0 <= data.digest_weekday < 7):
        raise InvalidInput("Choose a day of the week.", "pulse_weekday")
    both = set(data.client_leads) & set(data.provider_leads)
    if both:
        raise InvalidInput("A person can lead only one side.", "provider_leads")
    if user_id not in set(data.client_leads) | set(data.provider_leads):
        field = "client_leads" if data.installing_side is Side.CLIENT else "provider_leads"
        raise InvalidInput("Add yourself as a lead: leads are the people who can change this setup.", field)
    members_both = set(data.client_members) & set(data.provider_members)
    if members_both:
        raise InvalidInput("A person can be on only one side.", "provider_members")


def configure_partnership(
    uow: UnitOfWork,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    data: SetupInput,
    is_connect: bool,
    channel_members: Iterable[SlackProfile],
    now: datetime,
    request_key: str | None = None,
) -> SetupResult:
    """Create or update the channel's partnership from the setup form, and record its people.

    With ``request_key`` (the Slack request that saved the form) the message telling the channel what was agreed
    is queued in the same transaction, once per request key, ahead of a new partnership's menu; without it
    (scripts, tests) nothing is announced but the menu.

    Raises:
        InvalidInput: the form is wrong.
        NotAllowed: the partnership exists and the user is not a lead.
        NotFound: the workspace is unknown (the bot never started against it).
    """
    validate_setup(data, user_id=user_id)
    with uow:
        ws = uow.workspaces.get_by_team(team_id)
        if ws is None:
            raise NotFound("PartnerPulse is not installed in this workspace yet. Ask an admin to start it.")
        p = uow.partnerships.get_by_channel(team_id, channel_id)
        created = p is None
        if p is None:
            p = Partnership(workspace_id=ws.id, channel_id=channel_id, created_by=user_id, created_at=now, status="active")
            p.workspace = ws
        else:
            # One change at a time: a repeated delivery of the same form waits here, then finds its message queued.
            uow.lock_partnership(p.id)
            require_lead(uow, p, user_id, "change its configuration")
        schedule_changed = created or (
            p.timezone,
            p.pulse_weekday,
            p.pulse_hour,
            p.pulse_minute,
            p.pulse_every_weeks,
        ) != (data.timezone, data.pulse_weekday, data.pulse_hour, data.pulse_minute, data.pulse_every_weeks)
        digest_changed = (p.timezone, p.digest_weekday, p.digest_hour, p.digest_minute) != (
            data.timezone,
            data.digest_weekday,
            data.digest_hour,
            data.digest_minute,
        )
        p.name, p.client_org, p.provider_org = data.name.strip(), data.client_org.strip(), data.provider_org.strip()
        p.installing_side, p.is_connect, p.timezone = data.installing_side.value, is_connect, data.timezone
        p.pulse_weekday, p.pulse_hour, p.pulse_minute = data.pulse_weekday, data.pulse_hour, data.pulse_minute
        p.pulse_every_weeks = data.pulse_every_weeks
        p.digest_weekday, p.digest_hour, p.digest_minute = data.digest_weekday, data.digest_hour, data.digest_minute
        p.anonymity_threshold = data.anonymity_threshold
        p.updated_at = now
        if schedule_changed:
            p.next_pulse_at = next_pulse_time(p, after=now)
        if digest_changed and not created:
            # The heartbeat computes the next digest time from the new schedule (bot/services/digest.py).
            p.next_digest_at = None
        if created:
            uow.partnerships.add(p)
        _apply_people(uow, p, data, channel_members, now)
        uow.flush()
        counts = answerable_by_side(uow, p.id)
        if request_key is not None:
            outbox.enqueue(
                uow,
                p,
                purpose=outbox.Purpose.SETUP_DONE,
                ref_id=p.id,
                key=f"{outbox.Purpose.SETUP_DONE.value}:{p.id}:{request_key}"[:200],
                now=now,
                extra={"user_id": user_id, "created": created, "members_by_side": counts},
            )
        if created:
            outbox.enqueue(uow, p, purpose=outbox.Purpose.MENU, ref_id=p.id, key=f"menu:{p.id}:setup", now=now)
        uow.commit()
        logger.info("partnership %s %s in %s by %s", p.id, "created" if created else "updated", channel_id, user_id)
        return SetupResult(partnership=partnership_view(p), created=created, members_by_side=counts)


def _apply_people(
    uow: UnitOfWork, p: Partnership, data: SetupInput, channel_members: Iterable[SlackProfile], now: datetime
) -> None:
    profiles = {prof.user_id: prof for prof in channel_members}
    for prof in profiles.values():
        upsert_member(uow, p, prof, in_channel=True, now=now)
    roles: dict[str, tuple[Role, Side]] = {}
    for side, leads, sponsors in (
        (Side.CLIENT, data.client_leads, data.client_sponsors),
        (Side.PROVIDER, data.provider_leads, data.provider_sponsors),
    ):
        for uid in sponsors:
            roles[uid] = (Role.SPONSOR, side)
        for uid in leads:
            roles[uid] = (Role.LEAD, side)
    assigned = {uid: Side.CLIENT for uid in data.client_members} | {uid: Side.PROVIDER for uid in data.provider_members}
    for member in uow.members.list(p.id):
        role_side = roles.pop(member.user_id, None)
        member.role = role_side[0].value if role_side else Role.MEMBER.value
        override = assigned.pop(member.user_id, None) or (role_side[1] if role_side else None)
        if override is not None:
            member.side_override = override.value
        member.side = effective_side(p, member)
        member.updated_at = now
    # Leads, sponsors and assigned people who are not (yet) in the channel: sponsors often are not.
    for uid in set(roles) | set(assigned):
        role, side = roles[uid] if uid in roles else (Role.MEMBER, assigned[uid])
        member = uow.members.add(
            Member(
                partnership_id=p.id,
                user_id=uid,
                role=role.value,
                side_override=assigned.get(uid, side).value,
                in_channel=False,
                joined_at=now,
                updated_at=now,
            )
        )
        member.side = effective_side(p, member)
