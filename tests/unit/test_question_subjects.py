"""The measurement model's items (issue 12 item 1): every question has a subject, both wordings are about it, the
bank measures both parties in every dimension, and migration 0010 backfills stored questions without losing any."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from bot.services import question_bank
from bot.services.pulse_models import DIMENSIONS, SUBJECTS
from bot.services.question_bank import BANK, RETIRED
from storage import migrate
from storage.db import make_engine
from storage.uow import UnitOfWorkFactory

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def test_every_bank_item_names_its_subject_and_keys_are_unique() -> None:
    assert all(item.subject in SUBJECTS for item in BANK)
    keys = [item.key for item in BANK]
    assert len(keys) == len(set(keys))
    assert not set(keys) & set(RETIRED)


def test_every_dimension_measures_both_parties() -> None:
    """Bilateral coverage: each dimension has an item about the provider and one about the client (or the
    relationship, which both sides share)."""
    for dimension in DIMENSIONS:
        subjects = {item.subject for item in BANK if item.dimension == dimension}
        assert "provider" in subjects, dimension
        assert subjects & {"client", "relationship"}, dimension


def test_the_improvements_pair_is_now_two_items_about_one_party_each() -> None:
    by_key = {item.key: item for item in BANK}
    proposes, open_to = by_key["value-proposes-improvements"], by_key["value-open-to-improvements"]
    assert (proposes.subject, open_to.subject) == ("provider", "client")
    assert proposes.client.startswith("The provider") and proposes.provider.startswith("We propose")
    assert open_to.client.startswith("We are open") and open_to.provider.startswith("The client is open")


def test_sync_retires_not_comparable_items_but_keeps_them(uow_factory: UnitOfWorkFactory) -> None:
    from storage.models import Question

    with uow_factory() as uow:
        uow.questions.add(
            Question(
                partnership_id=None,
                key="value-improvement",
                dimension="value",
                text_client="The provider proposes improvements without being asked.",
                text_provider="The client is open to the improvements we propose.",
                kind="scale",
                perspective="other_side",
                subject="provider",
                created_at=NOW,
            )
        )
        uow.commit()
    question_bank.sync_bank(uow_factory(), now=NOW)
    with uow_factory() as uow:
        rows = {q.key: (q.subject, q.active) for q in uow.questions.bank()}
    assert rows["value-improvement"] == (None, False)
    assert all(rows[item.key] == (item.subject, True) for item in BANK)
    assert question_bank.sync_bank(uow_factory(), now=NOW) == 0


def test_migration_0010_backfills_subjects_by_key_and_for_custom_questions(empty_database_url: str) -> None:
    config = migrate.alembic_config(empty_database_url)
    command.upgrade(config, "0009")
    engine = make_engine(empty_database_url)
    try:
        insert = sa.text(
            "INSERT INTO questions (partnership_id, key, dimension, text_client, text_provider, kind, perspective, "
            "active, created_at) VALUES (NULL, :key, 'value', 'c', 'p', :kind, :perspective, :active, :at)"
        )
        with engine.begin() as conn:
            for key, kind, perspective in (
                ("trust-honest-news", "scale", "mirrored"),
                ("trust-benefit-of-doubt", "scale", "other_side"),
                ("value-improvement", "scale", "other_side"),
                ("nps-recommend", "nps", "mirrored"),
            ):
                conn.execute(insert, {"key": key, "kind": kind, "perspective": perspective, "active": True, "at": NOW})
        engine.dispose()  # the upgrade runs as its own process would, with no connection of ours held open
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = {
                key: (subject, bool(active))
                for key, subject, active in conn.execute(sa.text("SELECT key, subject, active FROM questions"))
            }
        assert rows == {
            "trust-honest-news": ("provider", True),
            "trust-benefit-of-doubt": ("client", True),
            "value-improvement": (None, False),
            "nps-recommend": (None, False),
        }
    finally:
        engine.dispose()
