"""The question bank's shape and the rotation that picks each round's questions."""

from __future__ import annotations

from collections import Counter

from bot.services.pulse_models import DIMENSIONS, QuestionView
from bot.services.question_bank import BANK, choose_questions


def _available() -> list[QuestionView]:
    return [
        QuestionView(
            id=i,
            key=q.key,
            dimension=q.dimension,
            text_client=q.client,
            text_provider=q.provider,
            kind=q.kind,
            perspective=q.perspective,
            custom=False,
        )
        for i, q in enumerate(BANK, start=1)
    ]


def _custom(qid: int, dimension: str) -> QuestionView:
    return QuestionView(qid, f"custom-{qid}", dimension, "client words", "provider words", "scale", "mirrored", True)


def _simulate(available: list[QuestionView], rounds: int, count: int = 3) -> list[list[QuestionView]]:
    history: list[tuple[int, int]] = []
    chosen_rounds = []
    for sequence in range(1, rounds + 1):
        chosen = choose_questions(available, list(history), count=count)
        chosen_rounds.append(chosen)
        history.extend((sequence, q.id) for q in chosen)
    return chosen_rounds


def test_bank_covers_every_dimension_with_both_wordings() -> None:
    scale = [q for q in BANK if q.kind == "scale"]
    assert len(scale) >= 24
    per_dimension = Counter(q.dimension for q in scale)
    assert set(per_dimension) == set(DIMENSIONS)
    assert all(per_dimension[d] >= 3 for d in DIMENSIONS), per_dimension
    assert len({q.key for q in BANK}) == len(BANK)
    for q in BANK:
        assert q.client.strip() and q.provider.strip(), q.key
        assert q.perspective in ("mirrored", "other_side")
    other_side = {q.dimension for q in scale if q.perspective == "other_side"}
    assert other_side == set(DIMENSIONS)
    nps = [q for q in BANK if q.kind == "nps"]
    assert len(nps) == 1


def test_rotation_covers_all_dimensions_in_every_three_round_window() -> None:
    rounds = _simulate(_available(), 30)
    for chosen in rounds:
        assert len(chosen) == 3
        assert len({q.dimension for q in chosen}) == 3, "a dimension repeated within a round"
        assert all(q.kind == "scale" for q in chosen)
    for start in range(len(rounds) - 2):
        window = {q.dimension for r in rounds[start : start + 3] for q in r}
        assert window == set(DIMENSIONS), f"rounds {start + 1}-{start + 3} miss {set(DIMENSIONS) - window}"


def test_rotation_varies_questions_within_a_dimension() -> None:
    rounds = _simulate(_available(), 24)
    asked = Counter(q.key for r in rounds for q in r)
    scale_keys = {q.key for q in BANK if q.kind == "scale"}
    assert set(asked) == scale_keys  # 72 picks over 24 questions: every one asked
    # Within a dimension the least recently asked question wins, so its questions take turns.
    for dim in DIMENSIONS:
        counts = [asked[q.key] for q in BANK if q.dimension == dim]
        assert max(counts) - min(counts) <= 1, (dim, counts)


def test_custom_never_asked_question_wins_its_dimension() -> None:
    available = _available()
    trust_ids = [q.id for q in available if q.dimension == "trust"]
    custom = _custom(1000, "trust")
    # Round 1 asked one trust question; everything else never. Trust is now least due...
    history = [(1, trust_ids[0])]
    chosen = choose_questions([*available, custom], history, count=8)
    trust = [q for q in chosen if q.dimension == "trust"]
    assert trust == [custom]
    # ...and with no history, the custom question also beats the never-asked bank questions.
    first = choose_questions([*available, custom], [], count=3)
    assert first[0].dimension == "trust" and first[0] is custom


def test_custom_question_already_asked_yields_to_unasked_bank_question() -> None:
    available = _available()
    custom = _custom(1000, "trust")
    chosen = choose_questions([*available, custom], [(1, 1000)], count=8)
    trust = [q for q in chosen if q.dimension == "trust"]
    assert len(trust) == 1 and not trust[0].custom


def test_count_larger_than_dimensions_gives_one_per_dimension() -> None:
    chosen = choose_questions(_available(), [], count=20)
    assert len(chosen) == len(DIMENSIONS)
    assert sorted(q.dimension for q in chosen) == sorted(DIMENSIONS)


def test_empty_history_starts_in_dimension_order_and_skips_nps() -> None:
    chosen = choose_questions(_available(), [], count=3)
    assert [q.dimension for q in chosen] == list(DIMENSIONS[:3])
    assert all(q.kind == "scale" for q in chosen)


def test_no_available_questions() -> None:
    assert choose_questions([], [], count=3) == []
