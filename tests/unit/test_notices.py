"""Channel notices through the outbox: a policy, category or calendar change and the "setup done" message are
recorded in the change's transaction, rendered at send time, retried on Slack errors and posted once per request.

Service layer, Renderer and sender against the Slack sandbox; runs on SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.blocks.common import build_setup_done
from bot.delivery.sender import DeliveryReport
from bot.services import calendar_settings, issue_settings, outbox, outbox_notices, partnership_setup, partnerships
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.issue_models import DEFAULT_CATEGORIES, PolicyChange
from bot.services.outbox_notices import Notice
from bot.services.partnership_models import SetupResult, Side, SlackProfile
from handlers.policy import calendar_notice, categories_notice, policy_form_notice, policy_notice
from storage.models import EscalationPolicyRow, Holiday, OutboxMessage, Partnership
from storage.uow import UnitOfWorkFactory
from tests.factories import setup_input
from tests.helpers import demo_channel
from tests.unit_support import SandboxEnv, configure_demo_partnership, demo_profiles, demo_sandbox

#: Monday 30 Nov 2026, 10:00 in New York.
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
SIGNING_SECRET = "notice-delivery-signing-secret-0123456789"
BOT_TOKEN = "xox" + "b-notice_delivery_fake_token"


class Env(SandboxEnv):
    @property
    def where(self) -> dict[str, Any]:
        return demo_channel(self.world)

    def deliver(self) -> DeliveryReport:
        return self.sender.deliver_pending()

    def posted(self) -> list[dict[str, Any]]:
        """Messages posted in the channel since setup."""
        return [m for m in self.sandbox.messages(self.world.channel) if m["ts"] not in self.before]

    def profiles(self) -> list[SlackProfile]:
        w = self.world
        return demo_profiles(w, [*w.client_members, *w.provider_members, w.client_lead, w.provider_lead])

    def notices(self) -> list[OutboxMessage]:
        with self.uow_factory() as uow:
            rows = uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == outbox.Purpose.NOTICE.value).order_by(OutboxMessage.id)
            ).all()
            uow.session.expunge_all()
            return list(rows)


@pytest.fixture
def env(uow_factory: UnitOfWorkFactory) -> Iterator[Env]:
    """A partnership set up (without its "setup done" message) and its menu posted."""
    with demo_sandbox(uow_factory, signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, now=NOW) as (sandbox, w):
        e = Env(sandbox, w, uow_factory, now=NOW)
        configure_demo_partnership(uow_factory, w, now=NOW)
        assert e.deliver().sent == 1  # the partnership menu
        e.mark_seen()
        yield e


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m.get("text", "")) for m in messages]


def _s2(env: Env, notice: Notice[Any] | None, *, acknowledge: int = 2, resolve: int = 16, actor: str = "") -> None:
    issue_settings.set_policy(
        env.uow_factory(),
        **env.where,
        actor=actor or env.world.client_lead,
        severity="S2",
        acknowledge=timedelta(hours=acknowledge),
        resolve=timedelta(hours=resolve),
        now=env.now,
        announce=notice,
    )


S2_NOTICE = "changed the escalation policy. S2 high: acknowledge within 2 working hours, resolve within 2 working days."


# --- the policy, categories and calendar notices -----------------------------------------------------------------


@pytest.mark.parametrize("fault", ["internal_error", "ratelimited"])
def test_a_slack_error_leaves_the_change_saved_and_its_notice_queued_then_sent_once(env: Env, fault: str) -> None:
    lead = env.world.client_lead
    if fault == "ratelimited":
        env.sandbox.ratelimit_next("chat.postMessage", retry_after=20)
    else:
        env.sandbox.fail_next("chat.postMessage", fault)
    _s2(env, policy_notice("command:T1", lead, "S2"))
    report = env.deliver()
    assert (report.sent, report.retried) == (0, 1) and env.posted() == []
    with env.uow_factory() as uow:
        row = uow.session.scalars(select(EscalationPolicyRow)).one()
        assert (row.severity, row.acknowledge_minutes, row.resolve_minutes) == ("S2", 120, 960)
    [queued] = env.notices()
    assert queued.status == "pending" and queued.error == fault
    assert queued.dedupe_key == f"notice:{queued.partnership_id}:command:T1"
    # Not due yet: nothing goes before the retry time (Retry-After, or the backoff).
    assert env.deliver().sent == 0
    env.now = NOW + timedelta(minutes=1)
    assert env.deliver().sent == 1
    env.now = NOW + timedelta(hours=1)
    assert env.deliver().sent == 0
    [posted] = env.posted()
    assert posted["text"] == f"<@{lead}> {S2_NOTICE}"
    assert posted["blocks"][0]["text"]["text"] == posted["text"]
    assert posted["metadata"]["event_payload"]["key"] == queued.dedupe_key


def test_the_same_request_announces_once_and_another_request_again(env: Env) -> None:
    lead = env.world.client_lead
    _s2(env, policy_notice("command:T1", lead, "S2"))
    _s2(env, policy_notice("command:T1", lead, "S2"))  # a repeated delivery of the same command
    assert len(env.notices()) == 1
    env.deliver()
    assert _texts(env.posted()) == [f"<@{lead}> {S2_NOTICE}"]
    _s2(env, policy_notice("command:T2", lead, "S2"), acknowledge=3)  # a new command: a new notice
    env.deliver()
    assert len(env.posted()) == 2 and "acknowledge within 3 working hours" in env.posted()[1]["text"]


def test_a_refused_change_queues_no_notice(env: Env) -> None:
    member = env.world.client_members[0]
    with pytest.raises(NotAllowed):
        _s2(env, policy_notice("command:T1", member, "S2"), actor=member)
    with pytest.raises(InvalidInput):
        issue_settings.edit_categories(
            env.uow_factory(),
            **env.where,
            actor=env.world.client_lead,
            verb="set",
            names=["A", "a"],
            now=NOW,
            announce=categories_notice("command:T2", env.world.client_lead),
        )
    assert env.notices() == []


def test_when_the_notice_cannot_be_recorded_the_change_is_not_saved_either(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(outbox_notices, "enqueue_notice", broken)
    with pytest.raises(RuntimeError):
        calendar_settings.add_holiday(
            env.uow_factory(),
            **env.where,
            actor=env.world.client_lead,
            side=Side.PROVIDER,
            day=date(2026, 12, 25),
            name="Christmas",
            now=NOW,
            announce=Notice("command:T1", lambda _: "never worded"),
        )
    with env.uow_factory() as uow:
        assert uow.session.scalars(select(Holiday)).all() == []


def test_categories_hours_and_holidays_are_announced_in_todays_words(env: Env) -> None:
    lead = env.world.client_lead
    p = partnerships.get_partnership(env.uow_factory(), **env.where)
    assert p is not None
    issue_settings.edit_categories(
        env.uow_factory(),
        **env.where,
        actor=lead,
        verb="set",
        names=["Data <quality>", " Other "],
        now=NOW,
        announce=categories_notice("command:T1", lead),
    )
    calendar_settings.set_calendar(
        env.uow_factory(),
        **env.where,
        actor=lead,
        side=Side.PROVIDER,
        timezone="Asia/Kolkata",
        workdays=range(5),
        day_start=time(8),
        day_end=time(16),
        now=NOW,
        announce=calendar_notice("command:T2", lead, p),
    )
    kw: dict[str, Any] = {"actor": lead, "side": Side.PROVIDER, "day": date(2026, 12, 25), "now": NOW}
    calendar_settings.add_holiday(
        env.uow_factory(), **env.where, **kw, name="Christmas", announce=calendar_notice("command:T3", lead, p)
    )
    calendar_settings.remove_holiday(env.uow_factory(), **env.where, **kw, announce=calendar_notice("command:T4", lead, p))
    assert env.deliver().sent == 4
    texts = _texts(env.posted())
    assert texts[0] == f"<@{lead}> changed the issue categories: Data &lt;quality&gt;, Other."
    hours = "Contoso Services (provider): Mon–Fri 08:00–16:00 Asia/Kolkata"
    tail = "Escalation clocks of that side's issues follow it."
    assert texts[1] == f"<@{lead}> changed the working calendar. {hours}. {tail}"
    assert texts[2].startswith(f"<@{lead}> changed the working calendar. {hours}; holidays: ") and "(Christmas)" in texts[2]
    assert texts[3] == f"<@{lead}> changed the working calendar. {hours}. {tail}"


# --- the policy form: one transaction, one notice ---------------------------------------------------------------


def _deadlines(**changed: tuple[int, int]) -> dict[str, tuple[timedelta, timedelta]]:
    """The form's deadlines in minutes: the defaults, with ``changed`` severities replaced."""
    defaults = {"S1": (60, 480), "S2": (240, 1440), "S3": (480, 4800), "S4": (960, 9600)}
    defaults.update(changed)
    return {s: (timedelta(minutes=a), timedelta(minutes=r)) for s, (a, r) in defaults.items()}


def _stored(env: Env) -> tuple[dict[str, tuple[int, int]], list[str] | None]:
    with env.uow_factory() as uow:
        rows = {
            r.severity: (r.acknowledge_minutes, r.resolve_minutes) for r in uow.session.scalars(select(EscalationPolicyRow))
        }
        return rows, uow.session.scalars(select(Partnership)).one().issue_categories


def test_the_policy_form_saves_several_changes_with_one_notice(env: Env) -> None:
    lead = env.world.provider_lead
    _s2(env, None)  # S2 is custom before the form: the form returns it to the default

    def submit() -> PolicyChange:
        return issue_settings.change_policy(
            env.uow_factory(),
            **env.where,
            actor=lead,
            categories=[*DEFAULT_CATEGORIES, "Data quality"],
            deadlines=_deadlines(S1=(30, 480), S3=(480, 2400)),
            now=NOW,
            announce=policy_form_notice("policy-view:V1", lead),
        )

    change = submit()
    assert change.changed and change.severities == ("S1", "S2", "S3")
    assert _stored(env) == ({"S1": (30, 480), "S3": (480, 2400)}, [*DEFAULT_CATEGORIES, "Data quality"])
    [row] = env.notices()
    assert row.dedupe_key.endswith(":policy-view:V1")
    assert env.deliver().sent == 1
    [posted] = env.posted()
    assert posted["text"] == (
        f"<@{lead}> changed the escalation policy. issue categories: {', '.join(DEFAULT_CATEGORIES)}, Data quality; "
        "S1 critical: acknowledge within 30 working minutes, resolve within 1 working day; "
        "S2 high: acknowledge within 4 working hours, resolve within 3 working days; "
        "S3 medium: acknowledge within 1 working day, resolve within 5 working days."
    )
    # The same submission delivered again changes nothing more and posts nothing more.
    again = submit()
    assert not again.changed and len(env.notices()) == 1


def test_refused_categories_change_nothing_in_the_policy_form(env: Env) -> None:
    lead = env.world.provider_lead
    with pytest.raises(InvalidInput) as caught:
        issue_settings.change_policy(
            env.uow_factory(),
            **env.where,
            actor=lead,
            categories=["Data quality", "data  QUALITY"],
            deadlines=_deadlines(S1=(30, 480)),
            now=NOW,
            announce=policy_form_notice("policy-view:V1", lead),
        )
    assert caught.value.field == "categories"
    assert _stored(env) == ({}, None) and env.notices() == []


def test_a_failure_part_way_through_the_policy_form_changes_nothing(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    lead = env.world.provider_lead

    def broken(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(outbox_notices, "enqueue_notice", broken)  # after the categories and deadlines were written
    with pytest.raises(RuntimeError):
        issue_settings.change_policy(
            env.uow_factory(),
            **env.where,
            actor=lead,
            categories=["Data quality", "Other"],
            deadlines=_deadlines(S1=(30, 480), S4=(60, 120)),
            now=NOW,
            announce=policy_form_notice("policy-view:V1", lead),
        )
    assert _stored(env) == ({}, None)


def test_a_policy_form_that_changes_nothing_posts_nothing(env: Env) -> None:
    change = issue_settings.change_policy(
        env.uow_factory(),
        **env.where,
        actor=env.world.client_lead,
        categories=[f" {c} " for c in DEFAULT_CATEGORIES],
        deadlines=_deadlines(),
        now=NOW,
        announce=policy_form_notice("policy-view:V1", env.world.client_lead),
    )
    assert not change.changed and env.notices() == []


# --- the "setup done" message ------------------------------------------------------------------------------------


def test_setup_done_is_queued_with_the_setup_and_sent_after_a_slack_error(uow_factory: UnitOfWorkFactory) -> None:
    with demo_sandbox(uow_factory, signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, now=NOW) as (sandbox, w):
        e = Env(sandbox, w, uow_factory, now=NOW)

        def configure(request_key: str) -> SetupResult:
            return partnership_setup.configure_partnership(
                uow_factory(),
                **e.where,
                user_id=w.client_lead,
                data=setup_input(client_leads=(w.client_lead,), provider_leads=(w.provider_lead,)),
                is_connect=True,
                channel_members=e.profiles(),
                now=NOW,
                request_key=request_key,
            )

        result = configure("setup-view:V1")
        expected = build_setup_done(result, user_id=w.client_lead)
        sandbox.fail_next("chat.postMessage", "service_unavailable")
        report = e.deliver()
        # The "setup done" message failed and waits; the menu behind it went.
        assert (report.sent, report.retried) == (1, 1)
        assert configure("setup-view:V1").created is False  # the same form delivered again: no second message
        e.now = NOW + timedelta(minutes=5)
        assert e.deliver().sent == 1
        assert e.deliver().sent == 0
        done = [m for m in sandbox.messages(w.channel) if m["text"].startswith("PartnerPulse set up")]
        assert len(done) == 1
        [block] = expected.blocks
        assert done[0]["text"] == expected.text
        assert [b["text"] for b in done[0]["blocks"]] == [block.to_dict()["text"]]
        assert done[0]["metadata"]["event_payload"]["key"] == f"setup-done:{result.partnership.id}:setup-view:V1"
        assert "set up PartnerPulse for" in done[0]["blocks"][0]["text"]["text"]


def test_setup_done_comes_before_the_menu_and_an_update_is_announced_as_such(uow_factory: UnitOfWorkFactory) -> None:
    with demo_sandbox(uow_factory, signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, now=NOW) as (sandbox, w):
        e = Env(sandbox, w, uow_factory, now=NOW)
        kw: dict[str, Any] = {"user_id": w.client_lead, "is_connect": True, "channel_members": e.profiles(), "now": NOW}
        leads = {"client_leads": (w.client_lead,), "provider_leads": (w.provider_lead,)}
        first = partnership_setup.configure_partnership(
            uow_factory(), **e.where, **kw, data=setup_input(**leads), request_key="setup-view:V1"
        )
        e.deliver()
        second = partnership_setup.configure_partnership(
            uow_factory(), **e.where, **kw, data=setup_input(name="Renamed desk", **leads), request_key="setup-view:V2"
        )
        e.deliver()
        messages = sandbox.messages(w.channel, include_thread_replies=False)
        assert [m["text"] for m in messages][0] == build_setup_done(first, user_id=w.client_lead).text
        assert "menu" in str(messages[1]["blocks"])
        assert (
            messages[2]["text"]
            == build_setup_done(second, user_id=w.client_lead).text
            == "PartnerPulse updated for Renamed desk."
        )
