"""The database fixtures: every test starts at the head revision with no rows, and ids counting from 1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, inspect, select

from storage import migrate
from storage.db import make_engine
from storage.models import Workspace


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_gets_an_empty_database_at_head(database_url: str, run: str) -> None:
    """Run twice: the second run sees nothing of the first's row, and its id is 1 again."""
    engine = make_engine(database_url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.begin() as conn:
            assert conn.execute(select(func.count()).select_from(Workspace)).scalar_one() == 0
            new_id = conn.execute(
                insert(Workspace)
                .values(team_id=f"T-{run}", name="", sending_enabled=True, created_at=datetime.now(UTC))
                .returning(Workspace.id)
            ).scalar_one()
        assert new_id == 1
    finally:
        engine.dispose()


def test_the_empty_database_has_no_tables(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
