"""Turning stored rows into frozen read models. Services call these before returning."""

from __future__ import annotations

from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from bot.services.anonymity import effective_threshold
from bot.services.partnership_models import MemberView, PartnershipView, Role, Side
from bot.services.pulse_models import Participation, QuestionView, RoundView
from storage.models import Member, Partnership, PulseRound, Question
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

View = TypeVar("View", bound="DataclassInstance")


@cache
def _field_names(view_type: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(view_type))


def view_from_row(view_type: type[View], row: object, **computed: Any) -> View:
    """The read model ``view_type`` of a stored row: each field is the row's attribute of the same name, except
    those given in ``computed`` (a value turned into its enum, or what the row does not hold itself)."""
    copied = {name: getattr(row, name) for name in _field_names(view_type) if name not in computed}
    return view_type(**copied, **computed)


def partnership_view(p: Partnership) -> PartnershipView:
    """Read model of a partnership (its workspace must be loaded)."""
    return view_from_row(
        PartnershipView,
        p,
        team_id=p.workspace.team_id,
        installing_side=Side(p.installing_side),
        # The threshold applied, so the builders that quote it need not know the minimum.
        anonymity_threshold=effective_threshold(p.anonymity_threshold),
    )


def member_view(m: Member) -> MemberView:
    return view_from_row(MemberView, m, side=Side(m.side) if m.side else None, role=Role(m.role))


def question_view(question: Question) -> QuestionView:
    """Read model of a stored question."""
    return view_from_row(QuestionView, question, custom=question.partnership_id is not None)


def round_view(r: PulseRound) -> RoundView:
    """Read model of a round with its questions in order."""
    return view_from_row(RoundView, r, questions=tuple(question_view(rq.question) for rq in r.questions))


def participation(uow: UnitOfWork, r: PulseRound) -> dict[Side, Participation]:
    """Respondents against the people asked, per side."""
    responded = uow.responses.respondents_by_side(r.id)
    return {
        Side.CLIENT: Participation(responded.get(Side.CLIENT.value, 0), r.asked_client),
        Side.PROVIDER: Participation(responded.get(Side.PROVIDER.value, 0), r.asked_provider),
    }
