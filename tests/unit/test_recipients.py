"""Who a personal message reaches and how: a DM for the installing organisation's people, an ephemeral for the
other organisation's, times in the person's zone or the partnership's (DESIGN 3.2, 3.3, 4.3)."""

from __future__ import annotations

import pytest

from bot.services.recipients import can_message_directly, recipient_for
from storage.models import Member, Partnership, Workspace


def _partnership(*, is_connect: bool = True) -> Partnership:
    return Partnership(workspace=Workspace(team_id="T0CLIENT"), is_connect=is_connect, timezone="America/New_York")


def _member(team_id: str | None, tz: str | None = None, **kw: bool) -> Member:
    return Member(user_id="U1", team_id=team_id, tz=tz, deleted=kw.get("deleted", False), is_bot=kw.get("is_bot", False))


@pytest.mark.parametrize(
    ("member", "is_connect", "direct"),
    [
        (_member("T0CLIENT"), True, True),  # of the installing workspace
        (_member("T0PROVID"), True, False),  # the other organisation: the app cannot message them
        (_member(None), True, False),  # unknown home team in a shared channel: the ephemeral always reaches them
        (None, True, False),
        (_member(None), False, True),  # a channel of our workspace only: everyone in it is ours
        (None, False, True),
        (_member("T0CLIENT", deleted=True), True, False),
        (_member("T0CLIENT", is_bot=True), True, False),
    ],
)
def test_the_app_messages_directly_only_its_own_organisations_people(
    member: Member | None, is_connect: bool, direct: bool
) -> None:
    assert can_message_directly(_partnership(is_connect=is_connect), member) is direct


def test_times_are_in_the_persons_zone_or_the_partnerships() -> None:
    p = _partnership()
    assert recipient_for(p, _member("T0PROVID", "Asia/Kolkata"), "U1").timezone == "Asia/Kolkata"
    assert recipient_for(p, _member("T0PROVID", None), "U1").timezone == "America/New_York"  # external, no tz
    assert recipient_for(p, _member("T0PROVID", "Not/AZone"), "U1").timezone == "America/New_York"
    assert recipient_for(p, None, "U1").timezone == "America/New_York"


def test_when_the_other_organisation_installed_too_its_people_are_messaged_through_their_own_installation() -> None:
    p = _partnership()
    provider = _member("T0PROVID", "Asia/Kolkata")
    # Only the client's workspace installed: the provider's person gets an ephemeral through the client's app.
    alone = recipient_for(p, provider, "U1")
    assert (alone.direct, alone.via_team) == (False, "T0CLIENT")
    # The provider's workspace installed PartnerPulse too: a direct message, through the provider's installation.
    both = recipient_for(p, provider, "U1", installed_teams={"T0PROVID"})
    assert (both.direct, both.via_team) == (True, "T0PROVID")
    # The client's own people still go through the client's installation; a third workspace's install changes nothing.
    own = recipient_for(p, _member("T0CLIENT"), "U1", installed_teams={"T0PROVID"})
    assert (own.direct, own.via_team) == (True, "T0CLIENT")
    assert recipient_for(p, provider, "U1", installed_teams={"T0OTHER"}).direct is False
