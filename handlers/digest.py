"""``/partner digest preview | now | subscribe | unsubscribe``, dispatched from handlers.commands.run_command.

The scheduled digest needs no listener (the heartbeat queues it, the outbox posts it); these subcommands let a
person look at it before it goes, a lead post it early, and leads and sponsors ask for a direct-message copy.
"""

from __future__ import annotations

from slack_bolt import Respond

from bot.blocks.common import build_notice
from bot.blocks.digest import PREVIEW_NOTE, build_digest_messages
from bot.blocks.text import local_time_label
from bot.container import Services
from bot.services import digest
from bot.services.errors import DomainError
from handlers.forms import ParsedCommand
from handlers.ui import reply, unless_held

DIGEST_COMMANDS = ("digest",)
USAGE = (
    "Usage: `/partner digest preview` (only you see it), `/partner digest now` (leads: post this week's digest now), "
    "`/partner digest subscribe` or `/partner digest unsubscribe` (leads and sponsors: a copy in your direct messages)."
)
SUBCOMMANDS = ("preview", "now", "subscribe", "unsubscribe")
#: A response_url takes at most 5 replies; a preview longer than that stops with a pointer to the posted digest.
MAX_PREVIEW_MESSAGES = 5


def run_digest_command(
    parsed: ParsedCommand, *, team_id: str, channel_id: str, user_id: str, respond: Respond, services: Services
) -> None:
    """One digest subcommand; anything else (or anything after it) is a usage error. Domain errors propagate."""
    if parsed.arg not in SUBCOMMANDS or parsed.text:
        raise DomainError(USAGE)
    uow, now = services.uow_factory, services.clock()
    if parsed.arg == "preview":
        view = digest.preview(uow(), team_id=team_id, channel_id=channel_id, now=now)
        messages = build_digest_messages(view, note=PREVIEW_NOTE)
        if len(messages) > MAX_PREVIEW_MESSAGES:
            rest = len(messages) - MAX_PREVIEW_MESSAGES + 1
            messages = [*messages[: MAX_PREVIEW_MESSAGES - 1], build_notice(f"…and {rest} more parts in the posted digest.")]
        for message in messages:
            reply(respond, message)
    elif parsed.arg == "now":
        result = digest.post_now(uow(), team_id=team_id, channel_id=channel_id, actor=user_id, now=now)
        if result.paused:
            reply(respond, build_notice("This week's digest is queued; it goes out when a lead resumes the partnership."))
        elif result.queued:
            services.sender.deliver_pending()
            done = "Posted this week's digest in the channel; its trend chart is in the thread."
            reply(respond, build_notice(unless_held(services, team_id, done, saved="this week's digest")))
        elif result.status == "sent" and result.sent_at is not None:
            when = local_time_label(result.sent_at, result.timezone)
            reply(respond, build_notice(f"This week's digest was already posted ({when}); it is not posted twice."))
        else:
            reply(respond, build_notice("This week's digest is already on its way to the channel; it is not posted twice."))
    else:
        subscribe = parsed.arg == "subscribe"
        changed = digest.set_digest_copy(
            uow(), team_id=team_id, channel_id=channel_id, user_id=user_id, subscribe=subscribe, now=now
        )
        if subscribe:
            text = "You will get a copy of each weekly digest in your direct messages with PartnerPulse."
            if not changed:
                text = "You already get a copy of each weekly digest in your direct messages."
        else:
            text = "You will no longer get a copy of the weekly digest; it is still posted in this channel."
            if not changed:
                text = "You were not getting a copy of the digest; nothing changed."
        reply(respond, build_notice(text))
