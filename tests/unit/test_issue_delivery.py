"""The issue log through the outbox, the Renderer and the sender, against the Slack sandbox.

The card is posted once and updated in place; a card someone deleted is posted again and its new ``ts``
recorded; history, escalations from level 2 and the follow-up question go in the card's thread; the owner's
level-1 nudge, overdue reminders and signals go to one person: a message from the app for the installing
organisation's people, an ephemeral in the channel for the other organisation's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bot.services import actions, escalation, followups, issue_lifecycle, partnerships
from bot.services.issue_models import ActionInput, IssueInput
from bot.services.partnership_models import Side
from storage.models import Issue, Member
from storage.uow import UnitOfWorkFactory
from tests.helpers import demo_channel
from tests.unit_support import SandboxEnv, configure_demo_partnership, demo_sandbox

#: Monday 30 Nov 2026, 10:00 in New York.
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
SIGNING_SECRET = "issue-delivery-signing-secret-0123456789"
BOT_TOKEN = "xox" + "b-issue_delivery_fake_token"


class Env(SandboxEnv):
    @property
    def channel(self) -> str:
        return self.world.channel

    def deliver(self) -> None:
        report = self.sender.deliver_pending()
        assert report.failed == 0 and report.retried == 0, report

    def top_level(self) -> list[dict[str, Any]]:
        """Top-level messages posted since setup (the partnership menu is left out)."""
        return [m for m in self.sandbox.messages(self.channel, include_thread_replies=False) if m["ts"] not in self.before]

    def replies(self, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.sandbox.messages(self.channel) if m.get("thread_ts") == ts and m["ts"] != ts]

    def card_ts(self, issue_id: int) -> str | None:
        with self.uow_factory() as uow:
            row = uow.session.get(Issue, issue_id)
            return row.card_ts if row else None


@pytest.fixture
def env(uow_factory: UnitOfWorkFactory) -> Iterator[Env]:
    with demo_sandbox(uow_factory, signing_secret=SIGNING_SECRET, bot_token=BOT_TOKEN, now=NOW) as (sandbox, w):
        configure_demo_partnership(uow_factory, w, now=NOW, sponsors=True)
        e = Env(sandbox, w, uow_factory, now=NOW)
        e.deliver()  # the partnership menu
        e.mark_seen()
        sandbox.clear_calls()
        yield e


def _log(env: Env, **kw: Any) -> int:
    w = env.world
    data = IssueInput(
        title=kw.pop("title", "Tickets reassigned without notice"),
        details=kw.pop("details", "Three P2 tickets moved queues overnight."),
        severity=kw.pop("severity", "S2"),
        category="Communication",
        owning_side=Side.PROVIDER,
        owner_id=w.provider_members[0],
    )
    return issue_lifecycle.log_issue(
        env.uow_factory(),
        **demo_channel(w),
        actor=w.client_members[0],
        data=data,
        request_key="k",
        now=env.now,
    ).issue.id


def _texts(message: dict[str, Any]) -> str:
    return str(message.get("text", "")) + str(message.get("blocks", ""))


def test_the_card_is_posted_once_and_updated_in_place(env: Env) -> None:
    issue_id = _log(env, title="<!channel> tickets <@U0CLEAD>")
    env.deliver()
    cards = env.top_level()
    assert len(cards) == 1
    # Escaped wherever Slack formats text; the header is plain_text, which Slack never turns into a mention.
    assert "&lt;!channel&gt;" in cards[0]["text"] and "<!channel>" not in cards[0]["text"]
    assert cards[0]["blocks"][0]["type"] == "header" and cards[0]["blocks"][0]["text"]["type"] == "plain_text"
    assert "<!channel>" not in str(cards[0]["blocks"][1:])
    ts = env.card_ts(issue_id)
    assert ts == cards[0]["ts"]
    issue_lifecycle.acknowledge(
        env.uow_factory(), channel_id=env.channel, issue_id=issue_id, actor=env.world.provider_lead, now=NOW
    )
    env.deliver()
    cards = env.top_level()
    assert len(cards) == 1 and cards[0]["ts"] == ts and "edited" in cards[0]
    assert "Acknowledged" in _texts(cards[0])
    [reply] = env.replies(ts)
    assert f"<@{env.world.provider_lead}> acknowledged" in _texts(reply)
    assert [c.method for c in env.sandbox.calls if c.method.startswith("chat.")] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
    ]


def test_a_deleted_card_is_posted_again_and_its_new_ts_recorded(env: Env) -> None:
    issue_id = _log(env)
    env.deliver()
    old_ts = env.card_ts(issue_id)
    assert old_ts is not None
    env.client.chat_delete(channel=env.channel, ts=old_ts)  # someone removes the card
    assert env.top_level() == []
    issue_lifecycle.acknowledge(
        env.uow_factory(), channel_id=env.channel, issue_id=issue_id, actor=env.world.provider_members[0], now=NOW
    )
    env.deliver()
    [card] = env.top_level()
    new_ts = env.card_ts(issue_id)
    assert card["ts"] == new_ts and new_ts != old_ts and "Acknowledged" in _texts(card)
    # The history line went into the new card's thread.
    assert len(env.replies(new_ts)) == 1
    # And later updates edit the new card.
    issue_lifecycle.resolve(
        env.uow_factory(), channel_id=env.channel, issue_id=issue_id, actor=env.world.provider_lead, now=NOW
    )
    env.deliver()
    [card] = env.top_level()
    assert card["ts"] == new_ts and "Resolved" in _texts(card)


def test_an_update_before_the_card_was_posted_posts_it_once(env: Env) -> None:
    issue_id = _log(env)
    env.sandbox.fail_next("chat.postMessage", "internal_error")  # the first post fails and waits for a retry
    report = env.sender.deliver_pending()
    assert report.retried == 1 and env.top_level() == []
    issue_lifecycle.acknowledge(
        env.uow_factory(), channel_id=env.channel, issue_id=issue_id, actor=env.world.provider_members[0], now=NOW
    )
    # The update is due before the failed post's retry: with no card to update, it posts the card.
    report = env.sender.deliver_pending()
    assert (report.sent, report.cancelled) == (2, 0)  # the card and the history line
    [card] = env.top_level()
    assert card["ts"] == env.card_ts(issue_id) and "Acknowledged" in _texts(card)
    # When the original post's retry comes round, the card exists: it is cancelled, not posted twice.
    env.now = NOW + timedelta(minutes=10)
    report = env.sender.deliver_pending()
    assert (report.sent, report.cancelled) == (0, 1)
    assert len(env.top_level()) == 1


def test_escalation_and_follow_up_go_in_the_cards_thread(env: Env) -> None:
    w = env.world
    issue_id = _log(env)
    env.deliver()
    ts = env.card_ts(issue_id)
    assert ts is not None
    # Owned by the provider: its calendar is the partnership's (New York) here. S2: level 2 after 8 working hours.
    env.now = NOW + timedelta(days=1)
    assert escalation.escalate_due(env.uow_factory, now=env.now) == 1
    env.deliver()
    escalated = env.replies(ts)[-1]
    assert f"<@{w.client_lead}>" in _texts(escalated) and f"<@{w.provider_lead}>" in _texts(escalated)
    assert "level 2" in _texts(env.top_level()[0])
    issue_lifecycle.resolve(
        env.uow_factory(), channel_id=env.channel, issue_id=issue_id, actor=w.provider_lead, now=NOW + timedelta(days=1)
    )
    env.deliver()
    question = env.replies(ts)[-1]
    assert "What can we do to keep this from happening again?" in _texts(question)
    f = followups.contribute(
        env.uow_factory(),
        channel_id=env.channel,
        issue_id=issue_id,
        actor=w.client_members[1],
        side=Side.CLIENT,
        text="Tell us before moving queues <!here>",
        request_key="f",
        now=NOW + timedelta(days=1),
    )
    env.deliver()
    suggestion = env.replies(ts)[-1]
    assert "Make it an action" in _texts(suggestion) and "&lt;!here&gt;" in _texts(suggestion)
    followups.to_action(
        env.uow_factory(), channel_id=env.channel, followup_id=f.id, actor=w.client_lead, now=NOW + timedelta(days=1)
    )
    env.deliver()
    assert "added an action" in _texts(env.replies(ts)[-1])
    assert len(env.top_level()) == 1  # everything else stayed in the thread


def test_overdue_reminders_and_signals_are_direct_messages_where_the_app_can_send_them(env: Env) -> None:
    w, sb = env.world, env.sandbox
    owner = w.client_members[0]
    for i in range(3):
        actions.create_action(
            env.uow_factory(),
            **demo_channel(w),
            actor=w.client_lead,
            data=ActionInput(title=f"Action {i} <!channel>", owner_id=owner, due_on=date(2026, 11, 30)),
            request_key=f"a{i}",
            now=NOW,
        )
    later = NOW + timedelta(days=1)
    assert actions.remind_overdue(env.uow_factory, now=later) == 1
    env.now = later
    env.deliver()
    # Northwind installed the app: its people get a message from the app, which notifies and stays.
    assert sb.ephemerals(env.channel, user=owner) == []
    [reminder] = sb.messages(sb.dm_channel(owner))
    assert "3 overdue actions" in _texts(reminder) and "<!channel>" not in _texts(reminder)
    # Three issues of one category: a signal for each lead in the channel.
    for i in range(3):
        issue_lifecycle.log_issue(
            env.uow_factory(),
            **demo_channel(w),
            actor=owner,
            data=IssueInput("Late", "", "S4", "Staffing", Side.CLIENT, owner),
            request_key=f"i{i}",
            now=later,
        )
    env.deliver()
    [signal] = sb.messages(sb.dm_channel(w.client_lead))
    assert "Staffing" in _texts(signal) and "Log issue" in _texts(signal)
    # Contoso's lead is of the other organisation: the app cannot message them, so an ephemeral in the channel.
    [signal] = sb.ephemerals(env.channel, user=w.provider_lead)
    assert "Staffing" in _texts(signal) and "Log issue" in _texts(signal)


def _overdue_for(env: Env, owner: str) -> None:
    actions.create_action(
        env.uow_factory(),
        team_id=env.world.client_team,
        channel_id=env.channel,
        actor=env.world.client_lead,
        data=ActionInput(title="Send the rota", owner_id=owner, due_on=date(2026, 11, 30)),
        request_key=owner,
        now=NOW,
    )
    env.now = NOW + timedelta(days=1)
    assert actions.remind_overdue(env.uow_factory, now=env.now) == 1


def _set_home_team(env: Env, user_id: str, team_id: str | None) -> None:
    with env.uow_factory() as uow:
        uow.session.execute(update(Member).where(Member.user_id == user_id).values(team_id=team_id))
        uow.commit()


def test_an_ephemeral_refused_with_user_not_in_channel_goes_as_a_direct_message(env: Env) -> None:
    """Trustworthy-bot test 22: someone we did not know to be ours left the channel; the DM still reaches them."""
    w, sb = env.world, env.sandbox
    owner = w.client_members[1]
    _set_home_team(env, owner, None)  # home team unknown in a Slack Connect channel: the ephemeral is tried first
    sb.leave(env.channel, owner)
    _overdue_for(env, owner)
    env.deliver()
    assert [c.args.get("user") for c in sb.calls_to("chat.postEphemeral")] == [owner]  # refused: not in the channel
    [reminder] = sb.messages(sb.dm_channel(owner))
    assert "Send the rota" in _texts(reminder)


def test_a_refused_direct_message_falls_back_to_the_ephemeral_and_pauses_nothing(env: Env) -> None:
    w, sb = env.world, env.sandbox
    owner = w.provider_members[1]
    _set_home_team(env, owner, w.client_team)  # wrongly recorded as ours: Slack refuses the DM (channel_not_found)
    _overdue_for(env, owner)
    env.deliver()
    [reminder] = sb.ephemerals(env.channel, user=owner)
    assert "Send the rota" in _texts(reminder)
    assert partnerships.get_partnership_by_id(env.uow_factory(), partnership_id=1).status == "active"


def test_someone_the_app_can_reach_in_no_way_is_dropped_without_pausing_the_partnership(env: Env) -> None:
    w, sb = env.world, env.sandbox
    owner = w.provider_members[1]
    sb.leave(env.channel, owner)  # of the other organisation, and no longer in the channel
    _overdue_for(env, owner)
    report = env.sender.deliver_pending()
    assert (report.sent, report.failed, report.errors) == (0, 1, {"user_not_in_channel": 1})
    assert sb.ephemerals(env.channel, user=owner) == []
    assert partnerships.get_partnership_by_id(env.uow_factory(), partnership_id=1).status == "active"
