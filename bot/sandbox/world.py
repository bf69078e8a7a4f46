"""The demo world: a client and a provider organisation sharing one Slack Connect channel.

Used by ``partnerpulse demo`` and by end-to-end tests. Ids are fixed so tests and the demo script can
name people directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import SlackSandbox

CLIENT_TZ = "America/New_York"
PROVIDER_TZ = "Asia/Kolkata"


@dataclass(frozen=True)
class DemoWorld:
    """The ids of everything :func:`build_demo_world` created."""

    client_team: str
    provider_team: str
    channel: str
    internal_channel: str
    bot_user: str
    bot_id: str
    client_lead: str
    client_sponsor: str
    provider_lead: str
    provider_sponsor: str
    client_members: tuple[str, ...]
    provider_members: tuple[str, ...]
    all_users: tuple[str, ...]
    # A provider member whose external profile has no time zone (users.info omits tz).
    user_without_tz: str


# (id, username, real name, tz) — tz None models an external profile that hides its time zone.
_CLIENT_PEOPLE: tuple[tuple[str, str, str, str | None], ...] = (
    ("U0CLEAD", "dana.whitfield", "Dana Whitfield", CLIENT_TZ),
    ("U0CSPON", "sam.ortega", "Sam Ortega", CLIENT_TZ),
    ("U0CMEM1", "maya.chen", "Maya Chen", CLIENT_TZ),
    ("U0CMEM2", "luis.herrera", "Luis Herrera", CLIENT_TZ),
    ("U0CMEM3", "grace.okafor", "Grace Okafor", CLIENT_TZ),
    ("U0CMEM4", "tom.becker", "Tom Becker", CLIENT_TZ),
)
_PROVIDER_PEOPLE: tuple[tuple[str, str, str, str | None], ...] = (
    ("U0PLEAD", "priya.raman", "Priya Raman", PROVIDER_TZ),
    ("U0PSPON", "vikram.shah", "Vikram Shah", PROVIDER_TZ),
    ("U0PMEM1", "ananya.iyer", "Ananya Iyer", PROVIDER_TZ),
    ("U0PMEM2", "rohan.mehta", "Rohan Mehta", PROVIDER_TZ),
    ("U0PMEM3", "kavya.nair", "Kavya Nair", PROVIDER_TZ),
    ("U0PMEM4", "arjun.desai", "Arjun Desai", None),
)


def build_demo_world(sandbox: SlackSandbox) -> DemoWorld:
    """Create Northwind Retail (client, app installed) and Contoso Services (provider) and their channels."""
    client_team, provider_team = "T0CLIENT", "T0PROVID"
    bot_user, bot_id = "U0BOT", "B0BOT"
    sandbox.add_team(client_team, "Northwind Retail", "northwind")
    sandbox.add_team(provider_team, "Contoso Services", "contoso")
    sandbox.install(client_team, bot_user_id=bot_user, bot_id=bot_id)
    for user_id, name, real_name, tz in _CLIENT_PEOPLE:
        sandbox.add_user(user_id, client_team, name, real_name=real_name, tz=tz)
    for user_id, name, real_name, tz in _PROVIDER_PEOPLE:
        sandbox.add_user(user_id, provider_team, name, real_name=real_name, tz=tz)
    client_ids = tuple(p[0] for p in _CLIENT_PEOPLE)
    provider_ids = tuple(p[0] for p in _PROVIDER_PEOPLE)
    sandbox.add_channel(
        "C0JOINT",
        "northwind-contoso",
        client_team,
        members=[bot_user, *client_ids, *provider_ids],
        is_ext_shared=True,
    )
    # A single-workspace channel; the bot is a member so single-workspace partnerships can be set up.
    sandbox.add_channel("C0INTERN", "northwind-internal", client_team, members=[bot_user, *client_ids[:3]])
    return DemoWorld(
        client_team=client_team,
        provider_team=provider_team,
        channel="C0JOINT",
        internal_channel="C0INTERN",
        bot_user=bot_user,
        bot_id=bot_id,
        client_lead="U0CLEAD",
        client_sponsor="U0CSPON",
        provider_lead="U0PLEAD",
        provider_sponsor="U0PSPON",
        client_members=client_ids[2:],
        provider_members=provider_ids[2:],
        all_users=client_ids + provider_ids,
        user_without_tz="U0PMEM4",
    )
