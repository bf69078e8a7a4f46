"""Renderers of the issue log's messages: issue cards and their thread replies (history, escalations, follow-up
questions), the owner's level-1 escalation nudge, the overdue-actions reminder and signals, from the database as it
is now. The last three are for one person (``Rendered.private_to``)."""

from __future__ import annotations

from bot.blocks.issue_card import build_issue_card
from bot.blocks.issue_thread import build_escalation, build_followup_question, build_history_reply, build_owner_nudge
from bot.blocks.overdue_reminder import build_overdue_reminder
from bot.blocks.signals import build_signal
from bot.delivery.rendered import RenderContext, Rendered, RenderFn
from bot.services import actions, issue_queries, recipients, signals
from bot.services.outbox import OutboxItem, Purpose


def render_issue_card(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    assert item.ref_id is not None
    card = issue_queries.issue_card(ctx.uow_factory(), issue_id=item.ref_id)
    # Already on the channel (an update that found no card posted one): do not post a second card.
    if card is None or card.issue.card_ts:
        return None
    return Rendered([build_issue_card(card)])


def render_issue_card_update(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    assert item.ref_id is not None
    card = issue_queries.issue_card(ctx.uow_factory(), issue_id=item.ref_id)
    if card is None:
        return None
    return Rendered([build_issue_card(card)], update_ts=card.issue.card_ts, post_if_missing=True)


def render_history(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    assert item.ref_id is not None
    entry = issue_queries.history_item(ctx.uow_factory(), event_id=item.ref_id)
    # A history line without its card would be noise at the top of the channel; the event is stored and
    # the card, once posted, shows the current state.
    if entry is None or not entry.issue.card_ts:
        return None
    return Rendered([build_history_reply(entry)], thread_ts=entry.issue.card_ts)


def render_escalation(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    assert item.ref_id is not None
    notice = issue_queries.escalation_notice(ctx.uow_factory(), event_id=item.ref_id)
    if notice is None:
        return None
    if notice.level == 1:
        # Level 1 is for the owner alone: privately, never in the channel shared with the other side.
        owner = recipients.recipient(ctx.uow_factory(), partnership_id=notice.partnership.id, user_id=notice.issue.owner_id)
        if owner is None:
            return None
        return Rendered([build_owner_nudge(notice, timezone=owner.timezone)], private_to=owner)
    # Without a card the escalation still has to reach people: it goes to the channel itself.
    return Rendered([build_escalation(notice)], thread_ts=notice.issue.card_ts)


def render_followup_question(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    assert item.ref_id is not None
    question = issue_queries.followup_question(ctx.uow_factory(), event_id=item.ref_id)
    if question is None:
        return None
    return Rendered([build_followup_question(question)], thread_ts=question.issue.card_ts)


def render_actions_overdue(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """The overdue-actions reminder of one owner (user_id) in a partnership (ref_id)."""
    assert item.ref_id is not None and item.user_id is not None
    reminder = actions.overdue_reminder(ctx.uow_factory(), partnership_id=item.ref_id, owner_id=item.user_id)
    to = recipients.recipient(ctx.uow_factory(), partnership_id=item.ref_id, user_id=item.user_id) if reminder else None
    return Rendered([build_overdue_reminder(reminder)], private_to=to) if reminder and to else None


def render_signal(ctx: RenderContext, item: OutboxItem) -> Rendered | None:
    """An early warning for one lead (user_id)."""
    assert item.ref_id is not None and item.user_id is not None
    signal = signals.signal_context(ctx.uow_factory(), signal_id=item.ref_id)
    uow = ctx.uow_factory
    lead = recipients.recipient(uow(), partnership_id=signal.partnership.id, user_id=item.user_id) if signal else None
    return Rendered([build_signal(signal)], private_to=lead) if signal and lead else None


RENDERERS: dict[Purpose, RenderFn] = {
    Purpose.ISSUE_CARD: render_issue_card,
    Purpose.ISSUE_CARD_UPDATE: render_issue_card_update,
    Purpose.ISSUE_HISTORY: render_history,
    Purpose.ESCALATION: render_escalation,
    Purpose.FOLLOWUP_QUESTION: render_followup_question,
    Purpose.ACTIONS_OVERDUE: render_actions_overdue,
    Purpose.SIGNAL: render_signal,
}
