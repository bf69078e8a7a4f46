"""``/partner digest preview | now | subscribe | unsubscribe`` at the Slack edge.

The scheduled digest needs no listener (the heartbeat queues it, the outbox posts it); these subcommands let a
person look at it before it goes, a lead post it early, and leads and sponsors ask for a direct-message copy.
"""

from __future__ import annotations

from bot.blocks.common import build_notice
from bot.blocks.digest import PREVIEW_NOTE, build_digest_detail
from bot.blocks.digest_headline import build_digest_headline
from bot.blocks.text import local_time_label
from bot.services import digest_headline, digest_requests
from handlers.command_registry import CommandContext, handles
from handlers.command_types import DigestCopy, DigestNow, DigestPreview
from handlers.ui import reply, unless_held

#: A response_url takes at most 5 replies; a preview longer than that stops with a pointer to the posted digest.
MAX_PREVIEW_MESSAGES = 5


def preview_digest(command: DigestPreview, ctx: CommandContext) -> None:
    """This week's digest as it would be posted now, only for the person who asked."""
    view = digest_requests.preview(
        ctx.services.uow_factory(), team_id=ctx.team_id, channel_id=ctx.channel_id, now=ctx.services.clock()
    )
    # The headline as the channel will see it, then the detail that goes in its thread (an ephemeral has none).
    headline = build_digest_headline(view, digest_headline.headline(view), note=PREVIEW_NOTE)
    messages = [headline, *build_digest_detail(view)]
    if len(messages) > MAX_PREVIEW_MESSAGES:
        rest = len(messages) - MAX_PREVIEW_MESSAGES + 1
        messages = [*messages[: MAX_PREVIEW_MESSAGES - 1], build_notice(f"…and {rest} more parts in the posted digest.")]
    for message in messages:
        reply(ctx.respond, message)


def post_digest_now(command: DigestNow, ctx: CommandContext) -> None:
    """Leads: post this week's digest now (once: a digest already posted or on its way is not posted twice)."""
    result = ctx.act(digest_requests.post_now)
    if result.paused:
        reply(ctx.respond, build_notice("This week's digest is queued; it goes out when a lead resumes the partnership."))
    elif result.queued:
        ctx.services.sender.deliver_queued()
        done = "Posted this week's digest in the channel; its trend chart is in the thread."
        reply(ctx.respond, build_notice(unless_held(ctx.services, ctx.team_id, done, saved="this week's digest")))
    elif result.status == "sent" and result.sent_at is not None:
        when = local_time_label(result.sent_at, result.timezone)
        reply(ctx.respond, build_notice(f"This week's digest was already posted ({when}); it is not posted twice."))
    else:
        reply(
            ctx.respond,
            build_notice("This week's digest is already on its way to the channel; it is not posted twice."),
        )


def set_digest_copy(command: DigestCopy, ctx: CommandContext) -> None:
    """Leads and sponsors: a copy of each weekly digest in their direct messages, or no more."""
    subscribe = command.subscribe
    changed = digest_requests.set_digest_copy(
        ctx.services.uow_factory(),
        team_id=ctx.team_id,
        channel_id=ctx.channel_id,
        user_id=ctx.user_id,
        subscribe=subscribe,
        now=ctx.services.clock(),
    )
    if subscribe:
        text = "You will get a copy of each weekly digest in your direct messages with PartnerPulse."
        if not changed:
            text = "You already get a copy of each weekly digest in your direct messages."
    else:
        text = "You will no longer get a copy of the weekly digest; it is still posted in this channel."
        if not changed:
            text = "You were not getting a copy of the digest; nothing changed."
    reply(ctx.respond, build_notice(text))


COMMAND_HANDLERS = dict(
    [
        handles(DigestPreview, preview_digest),
        handles(DigestNow, post_digest_now),
        handles(DigestCopy, set_digest_copy),
    ]
)
