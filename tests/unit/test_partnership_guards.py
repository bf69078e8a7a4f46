"""The shared rule for a proposal one side puts to the other (``bot.services.partnership_guards``): only the other
side answers it, only the proposing side withdraws it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.services.errors import NotAllowed
from bot.services.partnership_guards import Proposal, require_answering_side, require_proposing_side
from bot.services.partnership_models import Side
from storage.models import Partnership

P = Partnership(client_org="Acme", provider_org="Globex")
BY_THE_PROVIDER = Proposal(
    "provider", answer_refusal="only {answerer} answers", withdraw_refusal="only {proposer} withdraws"
)


@pytest.mark.parametrize(
    ("guard", "allowed", "refused", "refusal"),
    [
        (require_answering_side, Side.CLIENT, Side.PROVIDER, "only Acme answers"),
        (require_proposing_side, Side.PROVIDER, Side.CLIENT, "only Globex withdraws"),
    ],
)
def test_only_the_other_side_answers_and_only_the_proposing_side_withdraws(
    guard: Callable[[Partnership, Side, Proposal], None], allowed: Side, refused: Side, refusal: str
) -> None:
    guard(P, allowed, BY_THE_PROVIDER)
    with pytest.raises(NotAllowed) as raised:
        guard(P, refused, BY_THE_PROVIDER)
    assert str(raised.value) == refusal
