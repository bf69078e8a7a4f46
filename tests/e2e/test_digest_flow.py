"""The weekly digest end to end: heartbeat, outbox, Slack (the sandbox), chart upload, commands and DM copies.

The partnership is set up through the real setup form; its digest is Mondays 09:00 New York (the form's
default), as is its weekly pulse. Rounds are answered through the service layer (``answer_open_round`` and
``_answer``), opened and closed by the heartbeat, so the digest reads real pulse answers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.harness import LocalStack
from bot.services import outbox, outbox_sending
from storage.models import Digest, Member, OutboxMessage, Partnership
from tests.conftest import START
from tests.helpers import (
    SETUP_CALLBACK,
    answer_open_round,
    new_view,
    partner_command,
    reply_texts,
    setup_form_values,
    setup_partnership,
    view_ids,
    wait_for,
)

PULSE_AT = START.replace(hour=14, minute=0)  # Monday 30 Nov 2026, 09:00 in New York (EST)
WEEK = timedelta(days=7)
CLOSE = timedelta(hours=48)
DIGEST_1 = PULSE_AT + WEEK  # Monday 7 Dec, 09:00 New York: the digest of the week the first round closed in
DIGEST_TEXT = "Weekly digest for"


# --- helpers ---------------------------------------------------------------------------------------------


def _digests(stack: LocalStack, channel: str | None = None) -> list[dict[str, Any]]:
    """Top-level digest messages (the first part of each digest) in the channel, oldest first."""
    channel = channel or stack.world.channel
    return [
        m
        for m in stack.sandbox.messages(channel, include_thread_replies=False)
        if str(m.get("text", "")).startswith(DIGEST_TEXT)
    ]


def _uploads(stack: LocalStack) -> list[dict[str, Any]]:
    return [m for m in stack.sandbox.messages(stack.world.channel) if m.get("upload")]


def _thread(stack: LocalStack, ts: str) -> list[dict[str, Any]]:
    return [m for m in stack.sandbox.messages(stack.world.channel) if m.get("thread_ts") == ts and m["ts"] != ts]


def _body(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks"), ensure_ascii=False)


DETAIL_TEXT = "Full detail of the weekly digest for"


def _details(stack: LocalStack, digest: dict[str, Any]) -> list[dict[str, Any]]:
    """The digest's full-detail replies in its thread (one message, more only past Slack's limits)."""
    return [m for m in _thread(stack, str(digest["ts"])) if str(m.get("text", "")).startswith(DETAIL_TEXT)]


def _detail(stack: LocalStack, digest: dict[str, Any]) -> str:
    return " ".join(_body(m) for m in _details(stack, digest))


def _answer(stack: LocalStack, user_ids: Sequence[str], score: int, comment: str | None, *, now: datetime) -> None:
    """Answer the open round for each person (service layer), with ``comment`` on every question."""
    answer_open_round(stack, user_ids, score, now=now, comment=comment)


def _week(
    stack: LocalStack,
    start: datetime,
    client: Sequence[str],
    client_score: int,
    provider: Sequence[str],
    provider_score: int,
    comment: str | None = None,
) -> None:
    """The heartbeat opens the week's round at ``start``; people answer; the heartbeat closes it 48 hours later."""
    stack.tick(start)
    if comment is None:
        answer_open_round(stack, client, client_score, now=start + timedelta(hours=1))
        answer_open_round(stack, provider, provider_score, now=start + timedelta(hours=1))
    else:
        _answer(stack, client, client_score, comment, now=start + timedelta(hours=1))
        _answer(stack, provider, provider_score, comment, now=start + timedelta(hours=1))
    assert stack.tick(start + CLOSE).closed == 1


def _people(stack: LocalStack) -> tuple[list[str], list[str]]:
    w = stack.world
    return [w.client_lead, *w.client_members[:2]], [w.provider_lead, *w.provider_members[:2]]


def _outbox(stack: LocalStack, purpose: outbox.Purpose) -> list[OutboxMessage]:
    with stack.services.uow_factory() as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == purpose.value)).all()
        uow.session.expunge_all()
        return list(rows)


# --- the scheduled digest --------------------------------------------------------------------------------


def test_tick_at_digest_time_posts_the_digest_with_its_chart_once_per_week(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    client, provider = _people(stack)
    _week(stack, PULSE_AT, client, 2, provider, 4)

    report = stack.tick(DIGEST_1)
    assert report.digests == 1
    assert "1 digest(s)" in report.summary()
    first = _digests(stack)
    assert len(first) == 1
    body = _body(first[0])
    # Hand-computed: every client answer 2, every provider answer 4, so the gap (provider − client) is +2.0 on
    # every item; each result names what was rated.
    assert "client 2.0 · provider 4.0 · gap +2.0" in body and "*Contoso Services' trust*" in body
    assert "3 of " in body  # participation: three people per side answered
    assert "the 12-week trend chart are in this message's thread" in body
    # The main message leads with its headline: the flagged gaps need attention; nothing changed yet.
    assert body.index("*Needs attention*") < body.index("*Measured this week*")
    assert "*What changed*: nothing the figures can call a change." in body
    # Its full detail is one reply in its thread, posted once, with the trends and the participation.
    (detail,) = _details(stack, first[0])
    assert "*This week's results*" in _body(detail) and "*Participation*" in _body(detail)

    # The chart: uploaded through files_upload_v2 into the digest's thread, a PNG with alt text.
    uploads = _uploads(stack)
    assert len(uploads) == 1 and uploads[0]["thread_ts"] == first[0]["ts"]
    (stored,) = sb.files.values()
    assert stored.completed and stored.content is not None and stored.content.startswith(b"\x89PNG")
    # The health index needs every dimension in its four weeks: one round of three is not enough, so no line yet.
    assert stored.alt_txt and "Northwind Retail has no results to show" in stored.alt_txt
    assert stored.channels == [w.channel]
    with stack.services.uow_factory() as uow:
        digest = uow.session.scalars(select(Digest)).one()
        assert digest.status == "sent" and digest.sent_at == DIGEST_1

    # A second tick the same week (and the week's pulse opening again) posts no second digest, detail or chart.
    again = stack.tick(DIGEST_1 + timedelta(hours=1))
    assert again.digests == 0
    assert len(_digests(stack)) == 1 and len(sb.files) == 1 and len(_details(stack, first[0])) == 1

    # The next week asks other dimensions: no trend against different questions, "not enough data yet".
    answer_open_round(stack, client, 4, now=DIGEST_1 + timedelta(hours=1))
    answer_open_round(stack, provider, 4, now=DIGEST_1 + timedelta(hours=1))
    stack.tick(DIGEST_1 + CLOSE)
    assert stack.tick(DIGEST_1 + WEEK).digests == 1
    second = _digests(stack)[-1]
    body = _body(second)
    assert "client 4.0 · provider 4.0 · gap 0.0" in body and "not enough data" not in body  # no change drawn
    detail = _detail(stack, second)
    assert "client 4.0 · provider 4.0 · gap 0.0 (trend: not enough data yet)" in detail
    assert "↑" not in body + detail
    assert len(sb.files) == 2
    assert sb.violations == []


def test_a_week_without_answers_still_gets_a_digest_and_a_chart(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    stack.tick(PULSE_AT)  # the round opens; nobody answers
    stack.tick(PULSE_AT + CLOSE)
    assert stack.tick(DIGEST_1).digests == 1
    (digest,) = _digests(stack)
    body, detail = _body(digest), _detail(stack, digest)
    # Nobody answered: both sides are below the threshold, so neither shows figures; the headline says so.
    assert "Northwind Retail: fewer than 3 answered, so its results are withheld this week" in body
    assert "No result could be shown (too few answered on both sides)." in body
    assert "*Participation* (1 pulse round closed this week): *Northwind Retail* 0 of 6 (0%)" in detail
    assert "*Northwind Retail*: :lock: withheld" in detail and "*Contoso Services*: :lock: withheld" in detail
    assert "No answers this week." in detail
    (stored,) = stack.sandbox.files.values()
    assert stored.alt_txt is not None and "Northwind Retail has no results to show" in stored.alt_txt
    assert stack.sandbox.violations == []


def test_a_silent_side_shows_no_averages_and_no_comments(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    stack.tick(PULSE_AT)
    _answer(stack, [w.client_lead, *w.client_members[:2]], 5, "Good week overall", now=PULSE_AT + timedelta(hours=1))
    # Two provider people: below the threshold of 3, so the provider side is withheld, comments included.
    _answer(stack, [w.provider_lead, w.provider_members[0]], 1, "secret provider complaint", now=PULSE_AT)
    stack.tick(PULSE_AT + CLOSE)
    stack.tick(DIGEST_1)
    (digest,) = _digests(stack)
    body = _body(digest) + _detail(stack, digest)
    assert "secret provider complaint" not in body
    assert "*Contoso Services*: :lock: withheld: fewer than 3 answered" in body
    assert "client 5.0 · provider withheld" in body and "Good week overall" in body
    # The chart has no provider line either.
    (stored,) = stack.sandbox.files.values()
    assert stored.alt_txt is not None and "Contoso Services has no results to show" in stored.alt_txt
    assert "1.0" not in stored.alt_txt
    # The App Home tab shows no pulse figures or comments at all, so nothing of the withheld side either.
    assert stack.sandbox.home_opened(w.client_lead).status == 200
    home = json.dumps(wait_for(lambda: stack.sandbox.home_view(w.client_lead), what="the Home tab")["blocks"])
    assert "Northwind service desk" in home
    assert "secret provider complaint" not in home and "1.0" not in home and "5.0" not in home


def test_mention_injection_in_a_comment_is_escaped_in_the_digest(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    client, provider = _people(stack)
    evil = "<!channel> <!here> <@U0PLEAD> <https://evil.example|Open survey> &amp;"
    _week(stack, PULSE_AT, client, 3, provider, 3, comment=evil)
    stack.tick(DIGEST_1)
    (digest,) = _digests(stack)
    body = _body(digest) + _detail(stack, digest)
    assert "&lt;!channel&gt;" in body and "&lt;@U0PLEAD&gt;" in body and "&lt;https://evil.example|Open survey&gt;" in body
    assert "<!channel>" not in body and "<!here>" not in body and "<@U0PLEAD>" not in body and "<https://evil" not in body
    for call in stack.sandbox.calls_to("chat.postMessage"):
        assert not call.args.get("link_names") and call.args.get("parse") != "full"


def test_a_digest_too_long_for_one_message_is_split_not_rejected(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    stack.tick(PULSE_AT)
    everyone_client = [w.client_lead, w.client_sponsor, *w.client_members]
    everyone_provider = [w.provider_lead, w.provider_sponsor, *w.provider_members]
    for i, user in enumerate(everyone_client + everyone_provider):
        comment = f"Comment {i}: " + "the weekly backlog review ran long again and we lost the afternoon. " * 30
        _answer(stack, [user], 3, comment, now=PULSE_AT + timedelta(hours=1))
    stack.tick(PULSE_AT + CLOSE)
    report = stack.tick(DIGEST_1)
    assert report.delivery.failed == 0
    (first,) = _digests(stack)
    parts = [m for m in _thread(stack, first["ts"]) if "(part " in str(m.get("text"))]
    assert parts, "the digest went out in more than one message"
    for message in [first, *parts]:
        assert len(message["blocks"]) <= 50
    assert parts[-1]["text"].endswith(f"(part {len(parts) + 1} of {len(parts) + 1})")
    assert len(_uploads(stack)) == 1
    assert stack.sandbox.violations == []


# --- faults ----------------------------------------------------------------------------------------------


def test_a_failed_upload_is_retried_alone_without_reposting_the_digest(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    client, provider = _people(stack)
    _week(stack, PULSE_AT, client, 3, provider, 4)
    stack.sandbox.fail_next("files.completeUploadExternal", "internal_error")
    report = stack.tick(DIGEST_1)
    assert report.delivery.retried == 1 and report.delivery.errors == {"internal_error": 1}
    assert len(_digests(stack)) == 1 and _uploads(stack) == []
    (chart,) = _outbox(stack, outbox.Purpose.DIGEST_CHART)
    assert chart.status == "pending" and chart.error == "internal_error"

    later = stack.tick(DIGEST_1 + timedelta(minutes=1))  # after the 30-second backoff
    assert later.delivery.sent == 1
    (digest,) = _digests(stack)
    (upload,) = _uploads(stack)
    assert upload["thread_ts"] == digest["ts"]
    assert [r.status for r in _outbox(stack, outbox.Purpose.DIGEST)] == ["sent"]


def test_a_process_killed_between_the_digest_and_its_chart_never_posts_the_digest_twice(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    client, provider = _people(stack)
    _week(stack, PULSE_AT, client, 3, provider, 4)
    # The digest is posted and recorded; the upload fails once, so the chart waits for the next attempt.
    stack.sandbox.fail_next("files.getUploadURLExternal", "service_unavailable")
    stack.tick(DIGEST_1)
    assert len(_digests(stack)) == 1 and _uploads(stack) == []
    # Another process claims the chart row and dies before uploading it.
    at = DIGEST_1 + timedelta(minutes=1)
    claimed = outbox_sending.claim(stack.services.uow_factory(), now=at, limit=10)
    assert [i.purpose for i in claimed] == [outbox.Purpose.DIGEST_CHART]
    # Until its lease runs out the row is left alone; then the chart is uploaded once, the digest not again.
    assert stack.tick(at + timedelta(minutes=1)).delivery.sent == 0
    assert stack.tick(at + outbox_sending.LEASE + timedelta(seconds=1)).delivery.sent == 1
    assert len(_digests(stack)) == 1 and len(_uploads(stack)) == 1
    assert len(stack.sandbox.calls_to("files.completeUploadExternal")) == 1


# --- commands --------------------------------------------------------------------------------------------


def test_preview_is_ephemeral_for_the_caller_and_posts_nothing(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    client, provider = _people(stack)
    _week(stack, PULSE_AT, client, 2, provider, 4)
    stack.clock.set(PULSE_AT + CLOSE + timedelta(hours=1))
    before = len(stack.sandbox.messages(w.channel))
    member = w.client_members[2]  # anyone in the channel may preview
    partner_command(stack, member, "digest preview")
    text = wait_for(lambda: [t for t in reply_texts(stack) if "Preview, only you can see this" in t], what="the preview")
    assert (
        "the full detail below goes in its thread" in text[0]
        and "client 2.0 \\u00b7 provider 4.0 \\u00b7 gap +2.0" in text[0]
    )
    assert len(stack.sandbox.messages(w.channel)) == before and stack.sandbox.files == {}


def test_digest_now_posts_this_week_once_and_the_scheduled_one_does_not_repeat_it(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    client, provider = _people(stack)
    _week(stack, PULSE_AT, client, 2, provider, 4)  # also sets the next digest time (Mon 7 Dec)
    stack.clock.set(PULSE_AT + timedelta(days=3))
    partner_command(stack, w.client_lead, "digest now")
    wait_for(lambda: [t for t in reply_texts(stack) if "Posted this week's digest" in t], what="the confirmation")
    wait_for(lambda: len(_uploads(stack)) == 1, what="the chart")
    (digest,) = _digests(stack)
    assert "client 2.0 · provider 4.0 · gap +2.0" in _body(digest)

    partner_command(stack, w.client_lead, "digest now")  # again, the same week
    wait_for(lambda: [t for t in reply_texts(stack) if "already posted" in t], what="the refusal to repeat")
    assert stack.tick(DIGEST_1).digests == 0  # the scheduled digest of this week
    assert len(_digests(stack)) == 1 and len(stack.sandbox.files) == 1
    with stack.services.uow_factory() as uow:
        assert len(uow.session.scalars(select(Digest)).all()) == 1


def test_only_leads_post_early_and_only_leads_and_sponsors_subscribe(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    member = w.client_members[0]
    partner_command(stack, member, "digest now")
    wait_for(lambda: [t for t in reply_texts(stack) if "Only the partnership's leads can post the digest" in t], what="no")
    partner_command(stack, member, "digest subscribe")
    wait_for(lambda: [t for t in reply_texts(stack) if "leads and executive sponsors can get a copy" in t], what="no")
    assert all('"response_type": "ephemeral"' in t for t in reply_texts(stack))
    assert _digests(stack) == []
    with stack.services.uow_factory() as uow:
        assert not any(m.digest_copy for m in uow.session.scalars(select(Member)))


def test_malformed_digest_commands_get_the_usage(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    for text in ("digest foo", "digest", "digest now please", "digest <!channel>"):
        partner_command(stack, w.client_lead, text)
    wait_for(lambda: len([t for t in reply_texts(stack) if "Usage: `/partner digest preview`" in t]) == 4, what="usage")
    assert not any("<!channel>" in t for t in reply_texts(stack))
    assert _digests(stack) == []


def test_dm_copies_go_to_subscribers_only(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w, sb = stack.world, stack.sandbox
    partner_command(stack, w.client_lead, "digest subscribe")
    partner_command(stack, w.client_sponsor, "digest subscribe")
    wait_for(lambda: len([t for t in reply_texts(stack) if "You will get a copy" in t]) == 2, what="two subscriptions")
    partner_command(stack, w.client_sponsor, "digest unsubscribe")
    wait_for(lambda: [t for t in reply_texts(stack) if "no longer get a copy" in t], what="the unsubscription")
    partner_command(stack, w.client_lead, "digest subscribe")  # the same request twice changes nothing
    wait_for(lambda: [t for t in reply_texts(stack) if "You already get a copy" in t], what="the repeat")

    client, provider = _people(stack)
    _week(stack, PULSE_AT, client, 2, provider, 4)
    stack.tick(DIGEST_1)
    assert len(_digests(stack)) == 1
    lead_dm = _digests(stack, sb.dm_channel(w.client_lead))
    assert len(lead_dm) == 1
    assert f"Your copy of the digest posted in <#{w.channel}>" in _body(lead_dm[0])
    assert "client 2.0 · provider 4.0 · gap +2.0" in _body(lead_dm[0])
    assert _digests(stack, sb.dm_channel(w.client_sponsor)) == []
    assert _digests(stack, sb.dm_channel(w.client_members[0])) == []
    assert [r.user_id for r in _outbox(stack, outbox.Purpose.DIGEST_COPY)] == [w.client_lead]
    assert sb.violations == []


def test_changing_the_digest_schedule_recomputes_the_next_digest(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    stack.tick(PULSE_AT)
    with stack.services.uow_factory() as uow:
        assert uow.session.scalars(select(Partnership)).one().next_digest_at == DIGEST_1
    stack.clock.set(PULSE_AT + timedelta(hours=1))
    w = stack.world
    before = view_ids(stack)
    partner_command(stack, w.client_lead, "setup")
    view = new_view(stack, w.client_lead, SETUP_CALLBACK, before)
    values = setup_form_values(w, digest_weekday="4")  # Friday
    assert stack.actor(w.client_lead).submit_view(view["id"], values).status == 200

    def next_digest() -> datetime | None:
        with stack.services.uow_factory() as uow:
            return uow.session.scalars(select(Partnership)).one().next_digest_at

    def updated() -> bool:
        with stack.services.uow_factory() as uow:
            return uow.session.scalars(select(Partnership)).one().digest_weekday == 4

    wait_for(updated, what="the saved setup")
    assert next_digest() is None
    stack.tick(PULSE_AT + timedelta(hours=2))
    with stack.services.uow_factory() as uow:
        # Friday 4 Dec 09:00 in New York.
        assert uow.session.scalars(select(Partnership)).one().next_digest_at == PULSE_AT + timedelta(days=4)


def test_digest_now_while_paused_waits_for_the_resume(stack) -> None:  # type: ignore[no-untyped-def]
    setup_partnership(stack)
    w = stack.world
    partner_command(stack, w.client_lead, "pulse pause")
    wait_for(lambda: [t for t in reply_texts(stack) if "Pulses are paused" in t], what="the pause")
    partner_command(stack, w.client_lead, "digest now")
    wait_for(lambda: [t for t in reply_texts(stack) if "goes out when a lead resumes" in t], what="the queued notice")
    assert _digests(stack) == []
    partner_command(stack, w.client_lead, "pulse resume")
    wait_for(lambda: len(_uploads(stack)) == 1, what="the digest and its chart after the resume")
    assert len(_digests(stack)) == 1
