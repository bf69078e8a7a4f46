"""The built-in question bank and the rotation that picks each round's questions.

Every question is an *item* about one *subject*: the provider, the client, or the relationship as a whole. Its
two wordings, one per rater side, are about that same subject ("The provider tells us about problems early" /
"We tell the client about problems early"), so the two sides' answers to it can be compared
(``bot.services.figures``). Every dimension has items about the provider and about the client (or the
relationship), so both parties are measured.

Keys are stable: an item whose wording is polished keeps its key (and its answers); an item that becomes a
different question gets a new key, and the old one is retired (``RETIRED``: inactive, subject NULL, never
deleted, its answers kept but never compared).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.services.pulse_models import DIMENSIONS, QuestionView
from storage.models import Question
from storage.uow import UnitOfWork

PROVIDER, CLIENT, RELATIONSHIP = "provider", "client", "relationship"


@dataclass(frozen=True)
class BankQuestion:
    key: str
    dimension: str
    subject: str
    client: str
    provider: str
    kind: str = "scale"

    @property
    def perspective(self) -> str:
        """The stored legacy column: ``other_side`` when each side rates the client's part, else ``mirrored``."""
        return "other_side" if self.subject == CLIENT else "mirrored"


_NPS_SCALE = "(0 = not at all, 10 = certainly)"

BANK: tuple[BankQuestion, ...] = (
    # Trust
    BankQuestion(
        "trust-honest-news",
        "trust",
        PROVIDER,
        "The provider tells us about problems early, even when the news is bad.",
        "We tell the client about problems early, even when the news is bad.",
    ),
    BankQuestion(
        "trust-keeps-word",
        "trust",
        PROVIDER,
        "When the provider says something will happen, it happens.",
        "When we say something will happen, it happens.",
    ),
    BankQuestion(
        "trust-benefit-of-doubt",
        "trust",
        CLIENT,
        "We give the provider the benefit of the doubt when something goes wrong.",
        "The client gives us the benefit of the doubt when something goes wrong.",
    ),
    # Communication
    BankQuestion(
        "communication-right-people",
        "communication",
        RELATIONSHIP,
        "Information reaches the right people on both sides without chasing.",
        "Information reaches the right people on both sides without chasing.",
    ),
    BankQuestion(
        "communication-clear-updates",
        "communication",
        PROVIDER,
        "The provider's updates are clear about what is done, what is late and why.",
        "Our updates to the client are clear about what is done, what is late and why.",
    ),
    BankQuestion(
        "communication-changes-shared",
        "communication",
        CLIENT,
        "We tell the provider about changes in our priorities before they affect its work.",
        "The client tells us about changes in its priorities before they affect our work.",
    ),
    # Responsiveness
    BankQuestion(
        "responsiveness-answers",
        "responsiveness",
        PROVIDER,
        "The provider answers our questions and requests within the time we need.",
        "We answer the client's questions and requests within the time it needs.",
    ),
    BankQuestion(
        "responsiveness-decisions",
        "responsiveness",
        CLIENT,
        "We make the decisions the provider needs from us quickly enough.",
        "Decisions we need from the client arrive when we need them.",
    ),
    BankQuestion(
        "responsiveness-access",
        "responsiveness",
        CLIENT,
        "We give the provider access, data and people when it needs them.",
        "Access, data and people we need from the client arrive on time.",
    ),
    # Value delivered
    BankQuestion(
        "value-outcomes",
        "value",
        PROVIDER,
        "The work the provider delivers makes a visible difference to our business.",
        "The work we deliver makes a visible difference to the client's business.",
    ),
    BankQuestion(
        "value-quality",
        "value",
        PROVIDER,
        "What the provider delivers is right the first time, without rework.",
        "What we deliver is right the first time, without rework.",
    ),
    # "value-improvement" asked the client about the provider and the provider about the client: two items now.
    BankQuestion(
        "value-proposes-improvements",
        "value",
        PROVIDER,
        "The provider proposes improvements without being asked.",
        "We propose improvements to the client without being asked.",
    ),
    BankQuestion(
        "value-open-to-improvements",
        "value",
        CLIENT,
        "We are open to the improvements the provider proposes.",
        "The client is open to the improvements we propose.",
    ),
    # Alignment on goals
    BankQuestion(
        "alignment-priorities",
        "alignment",
        PROVIDER,
        "The provider understands our priorities for this quarter.",
        "We understand the client's priorities for this quarter.",
    ),
    BankQuestion(
        "alignment-shared-success",
        "alignment",
        RELATIONSHIP,
        "Both sides define success for this engagement in the same way.",
        "Both sides define success for this engagement in the same way.",
    ),
    BankQuestion(
        "alignment-context",
        "alignment",
        CLIENT,
        "We share enough business context for the provider to make good choices.",
        "The client shares enough business context for us to make good choices.",
    ),
    # Clarity of expectations
    BankQuestion(
        "expectations-explicit",
        "expectations",
        RELATIONSHIP,
        "What we expect from the provider is written down and agreed.",
        "What the client expects from us is written down and agreed.",
    ),
    BankQuestion(
        "expectations-no-surprises",
        "expectations",
        PROVIDER,
        "This month there were no surprises about what the provider was supposed to do.",
        "This month there were no surprises about what we were supposed to do.",
    ),
    BankQuestion(
        "expectations-requests-clear",
        "expectations",
        CLIENT,
        "Our requests to the provider are specific enough to act on.",
        "The client's requests to us are specific enough to act on.",
    ),
    # Collaboration
    BankQuestion(
        "collaboration-one-team",
        "collaboration",
        RELATIONSHIP,
        "Working with the provider feels like one team rather than us and them.",
        "Working with the client feels like one team rather than us and them.",
    ),
    BankQuestion(
        "collaboration-problem-solving",
        "collaboration",
        RELATIONSHIP,
        "When something goes wrong, both sides work on the fix before asking whose fault it was.",
        "When something goes wrong, both sides work on the fix before asking whose fault it was.",
    ),
    BankQuestion(
        "collaboration-knowledge",
        "collaboration",
        CLIENT,
        "We share knowledge and documentation the provider needs to do its job.",
        "The client shares the knowledge and documentation we need to do our job.",
    ),
    BankQuestion(
        "collaboration-provider-knowledge",
        "collaboration",
        PROVIDER,
        "The provider shares the knowledge and documentation we need to use and run what it delivers.",
        "We share the knowledge and documentation the client needs to use and run what we deliver.",
    ),
    # Accountability
    BankQuestion(
        "accountability-ownership",
        "accountability",
        PROVIDER,
        "The provider owns its mistakes and follows through on fixing them.",
        "We own our mistakes and follow through on fixing them.",
    ),
    BankQuestion(
        "accountability-actions-done",
        "accountability",
        RELATIONSHIP,
        "Actions agreed between both sides get done by their due date.",
        "Actions agreed between both sides get done by their due date.",
    ),
    BankQuestion(
        "accountability-own-part",
        "accountability",
        CLIENT,
        "We do our own part of the agreed actions as reliably as we expect the provider to.",
        "The client does its part of the agreed actions as reliably as it expects from us.",
    ),
    # Relationship NPS (asked quarterly): each side about recommending the other; reported per side, never as a gap.
    BankQuestion(
        "nps-recommend-partner",
        "nps",
        RELATIONSHIP,
        f"How likely are you to recommend the provider to a peer as a service provider? {_NPS_SCALE}",
        f"How likely are you to recommend working with the client to a colleague? {_NPS_SCALE}",
        "nps",
    ),
)

#: Keys of items whose two wordings were about different subjects: inactive, subject NULL, answers kept.
RETIRED: tuple[str, ...] = ("value-improvement", "nps-recommend")

NPS_INTERVAL_DAYS = 91
ROTATION_HISTORY_ROUNDS = 24


def sync_bank(uow: UnitOfWork, *, now: datetime) -> int:
    """Make the stored built-in bank match ``BANK`` (insert new keys, update wording and subject) and retire the
    ``RETIRED`` keys (inactive, subject NULL; never deleted, their answers stay). Returns rows changed."""
    with uow:
        existing = {q.key: q for q in uow.questions.bank()}
        changed = 0
        for item in BANK:
            row = existing.get(item.key)
            if row is None:
                uow.questions.add(
                    Question(
                        partnership_id=None,
                        key=item.key,
                        dimension=item.dimension,
                        text_client=item.client,
                        text_provider=item.provider,
                        kind=item.kind,
                        perspective=item.perspective,
                        subject=item.subject,
                        created_at=now,
                    )
                )
                changed += 1
                continue
            wanted = (item.client, item.provider, item.dimension, item.perspective, item.kind, item.subject, True)
            if (row.text_client, row.text_provider, row.dimension, row.perspective, row.kind, row.subject, row.active) != (
                wanted
            ):
                row.text_client, row.text_provider = item.client, item.provider
                row.dimension, row.perspective, row.kind = item.dimension, item.perspective, item.kind
                row.subject, row.active = item.subject, True
                changed += 1
        for key in RETIRED:
            row = existing.get(key)
            if row is not None and (row.active or row.subject is not None):
                row.active, row.subject = False, None
                changed += 1
        uow.commit()
        return changed


def choose_questions(
    available: Sequence[QuestionView], history: Iterable[tuple[int, int]], *, count: int
) -> list[QuestionView]:
    """Pick ``count`` scale questions for the next round.

    The dimensions asked least recently come first, so with three questions a round every one of the eight
    dimensions is asked within three rounds (monthly for a weekly pulse). Within a dimension the question
    asked least recently wins, and a lead's own never-asked question wins over the bank.

    Args:
        available: active questions for the partnership (bank and custom).
        history: (round sequence, question id) pairs of recent rounds.
        count: how many questions to ask.
    """
    last_asked: dict[int, int] = {}
    for sequence, question_id in history:
        last_asked[question_id] = max(sequence, last_asked.get(question_id, -1))
    by_dimension: dict[str, list[QuestionView]] = {}
    for question in available:
        if question.kind == "scale":
            by_dimension.setdefault(question.dimension, []).append(question)
    dimension_last = {
        dim: max((last_asked.get(q.id, -1) for q in questions), default=-1) for dim, questions in by_dimension.items()
    }
    order = {dim: i for i, dim in enumerate(DIMENSIONS)}
    dimensions = sorted(by_dimension, key=lambda d: (dimension_last[d], order.get(d, len(order)), d))
    chosen: list[QuestionView] = []
    for dim in dimensions[:count]:
        candidates = sorted(by_dimension[dim], key=lambda q: (last_asked.get(q.id, -1), not q.custom, q.id))
        chosen.append(candidates[0])
    return chosen
