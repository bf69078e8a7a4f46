"""Creating things through the service layer (faster than driving the modals): the demo world's partnership, for
tests that deliver through the sandbox without the app (``demo_sandbox``, ``SandboxEnv``: its outbox sender); extra
ones beside a running stack's; issues, actions, their status and members in an IssueWorld."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.delivery.pacer import Pacer
from bot.delivery.renderer import Renderer
from bot.delivery.sender import OutboxSender
from bot.harness import LocalStack
from bot.sandbox import DemoWorld, SlackSandbox, build_demo_world
from bot.services import actions, installs, issue_lifecycle, partnership_setup, question_bank
from bot.services.issue_lifecycle import LogIssueResult
from bot.services.issue_models import ActionStatus, ActionView
from bot.services.partnership_models import SetupResult, SlackProfile
from bot.services.partnerships import upsert_member
from bot.workspace_clients import OneWorkspace
from storage.uow import UnitOfWorkFactory
from tests.factories import IssueWorld, action_input, issue_input, setup_input
from tests.helpers import demo_channel

T = TypeVar("T")


def sandbox_sender(
    uow_factory: UnitOfWorkFactory,
    client: Any,
    clock: Callable[[], datetime],
    *,
    render_clock: Callable[[], datetime] | None = None,
) -> OutboxSender:
    """An outbox sender to the sandbox's ``client`` at ``clock``'s time: one row at a time, never waiting for
    Slack's limits; its renderer reads the time from ``render_clock`` (the real time when None)."""
    renderer = (
        Renderer(uow_factory, "k" * 40) if render_clock is None else Renderer(uow_factory, "k" * 40, clock=render_clock)
    )
    return OutboxSender(
        uow_factory=uow_factory,
        clients=OneWorkspace(client, team_id="", pacer=Pacer(sleep=lambda _: None)),
        renderer=renderer,
        pacer=Pacer(sleep=lambda _: None),
        concurrency=1,
        clock=clock,
    )


class SandboxEnv:
    """The demo world in a Slack sandbox and an outbox sender to it at ``now`` (a test may move it); the renderer
    reads the real time unless ``render_at_now``."""

    def __init__(
        self,
        sandbox: SlackSandbox,
        world: DemoWorld,
        uow_factory: UnitOfWorkFactory,
        *,
        now: datetime,
        render_at_now: bool = False,
    ) -> None:
        self.sandbox, self.world, self.uow_factory = sandbox, world, uow_factory
        self.now = now
        #: The ``ts`` of the channel's messages that a test leaves out (see ``mark_seen``).
        self.before: set[str] = set()
        self.client = WebClient(token=sandbox.bot_token, base_url=sandbox.api_url, timeout=10)
        render_clock = (lambda: self.now) if render_at_now else None
        self.sender = sandbox_sender(uow_factory, self.client, lambda: self.now, render_clock=render_clock)

    def mark_seen(self) -> None:
        """Leave the channel's messages so far out of what the test looks at."""
        self.before = {m["ts"] for m in self.sandbox.messages(self.world.channel)}


@contextmanager
def demo_sandbox(
    uow_factory: UnitOfWorkFactory, *, signing_secret: str, bot_token: str, now: datetime
) -> Iterator[tuple[SlackSandbox, DemoWorld]]:
    """A Slack sandbox with the demo world installed (``installed_demo_world``); Slack saw no violation at the end."""
    with SlackSandbox(signing_secret=signing_secret, bot_token=bot_token) as sandbox:
        yield sandbox, installed_demo_world(sandbox, uow_factory, now=now)
        assert sandbox.violations == []


def installed_demo_world(sandbox: SlackSandbox, uow_factory: UnitOfWorkFactory, *, now: datetime) -> DemoWorld:
    """The demo world's people and channel in ``sandbox``, the app installed in the client's workspace and the
    question bank loaded."""
    w = build_demo_world(sandbox)
    installs.workspace_installed(uow_factory(), team_id=w.client_team, name="Northwind", bot_user_id=w.bot_user, now=now)
    question_bank.sync_bank(uow_factory(), now=now)
    return w


def demo_profiles(w: DemoWorld, people: Iterable[str]) -> list[SlackProfile]:
    """The people's profiles, each in their own organisation's workspace (the client's ids start with U0C)."""
    return [SlackProfile(u, w.client_team if u.startswith("U0C") else w.provider_team, u.lower()) for u in people]


def configure_demo_partnership(
    uow_factory: UnitOfWorkFactory, w: DemoWorld, *, now: datetime, sponsors: bool = False
) -> SetupResult:
    """The demo world's Slack Connect partnership, set up by the client's lead: the members and the two leads in
    the channel and on their sides; with ``sponsors``, each side's sponsor too."""
    people = [*w.client_members, *w.provider_members, w.client_lead, w.provider_lead]
    setup: dict[str, Any] = {}
    if sponsors:
        people += [w.client_sponsor, w.provider_sponsor]
        setup = {"client_sponsors": (w.client_sponsor,), "provider_sponsors": (w.provider_sponsor,)}
    return partnership_setup.configure_partnership(
        uow_factory(),
        **demo_channel(w),
        user_id=w.client_lead,
        data=setup_input(client_leads=(w.client_lead,), provider_leads=(w.provider_lead,), **setup),
        is_connect=True,
        channel_members=demo_profiles(w, people),
        now=now,
    )


def second_partnership(stack: LocalStack, *, channel_id: str) -> int:
    """A single-workspace partnership in ``channel_id``: its members are assigned to sides by the lead."""
    w = stack.world
    members = [m for m in stack.sandbox.members(channel_id) if m != w.bot_user]
    lead, *rest = members
    profiles = [stack.services.directory.profile(uid) for uid in members]
    data = setup_input(
        name="Internal review",
        provider_org="Northwind IT",
        client_leads=(lead,),
        client_members=tuple(rest[:1]),
        provider_members=tuple(rest[1:]),
    )
    result = partnership_setup.configure_partnership(
        stack.services.uow_factory(),
        team_id=w.client_team,
        channel_id=channel_id,
        user_id=lead,
        data=data,
        is_connect=False,
        channel_members=profiles,
        now=stack.clock(),
    )
    stack.services.sender.deliver_pending()
    return result.partnership.id


def member_in_channel(world: IssueWorld, profile: SlackProfile, *, now: datetime) -> None:
    """The person recorded (or updated) as in the partnership's channel, as Slack's member events do."""
    with world.uow_factory() as uow:
        p = uow.partnerships.get(world.partnership_id)
        assert p is not None
        upsert_member(uow, p, profile, in_channel=True, now=now)
        uow.commit()


def in_channel(world: IssueWorld, service: Callable[..., T], **arguments: Any) -> T:
    """What ``service`` (a use case on an issue, action or follow-up in a channel) gives for ``arguments``, asked in
    the world's channel."""
    return service(world.uow_factory(), channel_id=world.channel_id, **arguments)


def set_action_status_in(
    world: IssueWorld, action_id: int, status: ActionStatus, *, actor: str, now: datetime
) -> ActionView:
    """The action's status set by ``actor`` in the world's channel."""
    return in_channel(world, actions.set_action_status, action_id=action_id, actor=actor, status=status, now=now)


def _submitted_in(world: IssueWorld, create: Callable[..., T], data: object, *, key: str, now: datetime, actor: str) -> T:
    """What ``create`` (a service taking a form's data) makes of ``data``, submitted in the world's channel."""
    return create(
        world.uow_factory(),
        **world.where,
        actor=actor,
        data=data,
        request_key=key,
        now=now,
    )


def log_issue_in(world: IssueWorld, *, key: str, now: datetime, actor: str = "UC2", **overrides: Any) -> LogIssueResult:
    """An issue (``issue_input`` with ``overrides``) logged in the world's channel by ``actor``."""
    return _submitted_in(world, issue_lifecycle.log_issue, issue_input(**overrides), key=key, now=now, actor=actor)


def create_action_in(world: IssueWorld, *, key: str, now: datetime, actor: str = "UC2", **overrides: Any) -> ActionView:
    """An action (``action_input`` with ``overrides``) created in the world's channel by ``actor``."""
    return _submitted_in(world, actions.create_action, action_input(**overrides), key=key, now=now, actor=actor)
