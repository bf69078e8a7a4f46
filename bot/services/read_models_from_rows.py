"""Turning stored rows into frozen read models. Services call these before returning."""

from __future__ import annotations

from bot.services.anonymity import effective_threshold
from bot.services.partnership_models import MemberView, PartnershipView, Role, Side
from bot.services.pulse_models import Participation, QuestionView, RoundView
from storage.models import Member, Partnership, PulseRound, Question
from storage.uow import UnitOfWork


def partnership_view(p: Partnership) -> PartnershipView:
    """Read model of a partnership (its workspace must be loaded)."""
    return PartnershipView(
        id=p.id,
        team_id=p.workspace.team_id,
        channel_id=p.channel_id,
        name=p.name,
        client_org=p.client_org,
        provider_org=p.provider_org,
        installing_side=Side(p.installing_side),
        is_connect=p.is_connect,
        timezone=p.timezone,
        pulse_weekday=p.pulse_weekday,
        pulse_hour=p.pulse_hour,
        pulse_minute=p.pulse_minute,
        pulse_every_weeks=p.pulse_every_weeks,
        digest_weekday=p.digest_weekday,
        digest_hour=p.digest_hour,
        digest_minute=p.digest_minute,
        # The threshold applied, so the builders that quote it need not know the minimum.
        anonymity_threshold=effective_threshold(p.anonymity_threshold),
        anonymous=p.anonymous,
        status=p.status,
        pause_reason=p.pause_reason,
        paused_by=p.paused_by,
        next_pulse_at=p.next_pulse_at,
        menu_ts=p.menu_ts,
    )


def member_view(m: Member) -> MemberView:
    return MemberView(
        user_id=m.user_id,
        team_id=m.team_id,
        display_name=m.display_name,
        side=Side(m.side) if m.side else None,
        role=Role(m.role),
        in_channel=m.in_channel,
        tz=m.tz,
    )


def question_view(question: Question) -> QuestionView:
    """Read model of a stored question."""
    return QuestionView(
        id=question.id,
        key=question.key,
        dimension=question.dimension,
        text_client=question.text_client,
        text_provider=question.text_provider,
        kind=question.kind,
        perspective=question.perspective,
        custom=question.partnership_id is not None,
        subject=question.subject,
    )


def round_view(r: PulseRound) -> RoundView:
    """Read model of a round with its questions in order."""
    return RoundView(
        id=r.id,
        partnership_id=r.partnership_id,
        sequence=r.sequence,
        opened_at=r.opened_at,
        closes_at=r.closes_at,
        status=r.status,
        questions=tuple(question_view(rq.question) for rq in r.questions),
    )


def participation(uow: UnitOfWork, r: PulseRound) -> dict[Side, Participation]:
    """Respondents against the people asked, per side."""
    responded = uow.responses.respondents_by_side(r.id)
    return {
        Side.CLIENT: Participation(responded.get(Side.CLIENT.value, 0), r.asked_client),
        Side.PROVIDER: Participation(responded.get(Side.PROVIDER.value, 0), r.asked_provider),
    }
