"""The shared rule for a proposal one side puts to the other (``bot.services.partnership_guards``): only the other
side answers it, only the proposing side withdraws it."""

from __future__ import annotations

import pytest

from bot.services.errors import NotAllowed
from bot.services.partnership_guards import Proposal, proposal_of, require_answering_side, require_proposing_side
from bot.services.partnership_models import Side
from storage.models import Partnership

P = Partnership(client_org="Acme", provider_org="Globex")


def test_a_proposal_names_the_proposing_and_the_answering_organisation() -> None:
    assert proposal_of(P, "client") == Proposal("client", proposer="Acme", answerer="Globex")
    assert proposal_of(P, "provider") == Proposal("provider", proposer="Globex", answerer="Acme")


def test_only_the_other_side_answers() -> None:
    proposal = proposal_of(P, "provider")
    require_answering_side(Side.CLIENT, proposal, "unused {answerer}")
    with pytest.raises(NotAllowed) as refused:
        require_answering_side(Side.PROVIDER, proposal, "only a lead of {answerer} can agree to it")
    assert str(refused.value) == "only a lead of Acme can agree to it"


def test_only_the_proposing_side_withdraws() -> None:
    proposal = proposal_of(P, "provider")
    require_proposing_side(Side.PROVIDER, proposal, "unused {proposer}")
    with pytest.raises(NotAllowed) as refused:
        require_proposing_side(Side.CLIENT, proposal, "Only people on the {proposer} side can withdraw it.")
    assert str(refused.value) == "Only people on the Globex side can withdraw it."
