"""Someone of the other organisation whose profile Slack shares only in part (check 21).

users.info answers ``is_stranger: true`` with no ``tz`` (and no email) for many Slack Connect users. The bot records
that it has no time zone for them (``members.tz`` stays empty) and gives times in the partnership's zone instead,
which its messages name; the schedule itself runs in the partnership's zone for everybody.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.harness import LocalStack
from bot.services import recipients
from storage.models import Member
from tests.conftest import START
from tests.helpers import setup_partnership, wait_for

PULSE_AT = START.replace(hour=14, minute=0)  # Monday 30 Nov 2026, 09:00 in New York (EST, UTC-5)
STRANGER = "U0PSTRNG"


def _member(stack: LocalStack) -> tuple[str | None, str | None] | None:
    with stack.services.uow_factory() as uow:
        m = uow.session.scalars(select(Member).where(Member.user_id == STRANGER)).first()
        return (m.team_id, m.tz) if m and m.team_id else None


def test_21_a_stranger_without_a_time_zone_gets_the_partnerships_zone_and_the_gap_is_recorded(stack: LocalStack) -> None:
    setup_partnership(stack)  # time zone America/New_York
    w, sb = stack.world, stack.sandbox
    sb.add_user(STRANGER, w.provider_team, "ext.person", "Ext Person", tz=None, is_stranger=True)
    profile = stack.services.client.users_info(user=STRANGER)["user"]
    assert profile["is_stranger"] is True and "tz" not in profile and "email" not in profile.get("profile", {})
    assert sb.member_joined(w.channel, STRANGER).status == 200
    # Recorded: their organisation, and that Slack gave no time zone.
    assert wait_for(lambda: _member(stack), what="the stranger's profile") == (w.provider_team, None)
    with stack.services.uow_factory() as uow:
        partnership_id = uow.session.scalars(select(Member.partnership_id).where(Member.user_id == STRANGER)).one()
    to = recipients.recipient(stack.services.uow_factory(), partnership_id=partnership_id, user_id=STRANGER)
    assert to is not None and (to.direct, to.timezone) == (False, "America/New_York")

    # The round opens at the partnership's 09:00 New York time, whatever anyone's zone.
    assert stack.tick(PULSE_AT).opened == 1
    # It closes 48 h later, Wednesday 2 Dec 14:00 UTC = 09:00 EST; the one reminder goes 24 h before that.
    stack.tick(PULSE_AT + timedelta(hours=24, minutes=1))
    stack.settle()
    [reminder] = wait_for(lambda: sb.ephemerals(w.channel, user=STRANGER), what="the stranger's reminder")
    assert "closes Wed 2 Dec, 09:00 EST" in json.dumps(reminder)
