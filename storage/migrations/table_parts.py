"""The pieces the released migrations (0001-0010) build their tables from, named by the naming convention.

FROZEN: released migrations import these, so what each function produces is part of the schema those
migrations build on a new database. Never change what a function returns (type, length, nullability, name,
order): the same migration would then build a different schema than the databases already upgraded. A later
migration that needs something else writes it out itself or adds a new function here.

The names follow ``storage.base.NAMING_CONVENTION`` (``pk_<table>``, ``fk_<table>_<column>_<referred table>``,
``uq_<table>_<columns>``, ``ck_<table>_<name>``, ``ix_<table>_<column>``), passed through ``op.f`` as
autogenerate writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


def id_column() -> sa.Column[Any]:
    """The integer primary key every table with a surrogate key has."""
    return sa.Column("id", sa.Integer(), nullable=False)


def reference_column(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """An integer column holding another row"s id (``partnership_id``, ``issue_id``...)."""
    return sa.Column(name, sa.Integer(), nullable=nullable)


def slack_id_column(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A Slack id: a user (``created_by``, ``owner_id``...), a channel or a team."""
    return sa.Column(name, sa.String(length=32), nullable=nullable)


def time_column(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A timezone-aware timestamp (``created_at``, ``closes_at``...)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def side_column(name: str = "side", *, nullable: bool = False) -> sa.Column[Any]:
    """A partnership side, ``client`` or ``provider``."""
    return sa.Column(name, sa.String(length=10), nullable=nullable)


def request_key_column() -> sa.Column[Any]:
    """The key of the request that created a row, so a repeated delivery does not create it twice."""
    return sa.Column("request_key", sa.String(length=100), nullable=True)


def _check(table: str, name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def side_condition(column: str = "side") -> str:
    """The check that ``column`` holds a side: ``client`` or ``provider``."""
    return f"{column} IN ('client', 'provider')"


def _foreign_key(table: str, column: str, referred: str, *, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def _primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """The table"s primary key: ``id`` unless ``columns`` are given."""
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=op.f(f"pk_{table}"))


def _unique_constraint(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{'_'.join(columns)}"))


#: An index to create: a column name (the convention"s ``ix_<table>_<column>`` on that column) or a named index
#: ``(name, [columns])``.
Index = str | tuple[str, list[str]]


def _create_indexes(table: str, *indexes: Index) -> None:
    """Create ``indexes`` on ``table``, in this order, in one batch."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for index in indexes:
            if isinstance(index, str):
                batch_op.create_index(batch_op.f(f"ix_{table}_{index}"), [index], unique=False)
            else:
                name, columns = index
                batch_op.create_index(name, columns, unique=False)


def drop_table(table: str, *indexes: Index) -> None:
    """Drop ``indexes`` (given in the order they were created; dropped in reverse) and then ``table``."""
    if indexes:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in reversed(indexes):
                if isinstance(index, str):
                    batch_op.drop_index(batch_op.f(f"ix_{table}_{index}"))
                else:
                    batch_op.drop_index(index[0])
    op.drop_table(table)


def create_table(
    table: str,
    *columns: sa.Column[Any],
    primary: Sequence[str] = ("id",),
    checks: Mapping[str, str] | None = None,
    references: Mapping[str, str | tuple[str, str]] | None = None,
    unique: Sequence[Sequence[str]] = (),
    indexes: Sequence[Index] = (),
) -> None:
    """Create ``table`` with ``columns`` and its constraints, named by the convention, then its ``indexes``.

    ``checks``: condition by name; ``references``: the table a column refers to (rows deleted with it), or that
    table and what deleting it does; ``unique``: the unique column groups. The constraints are created in the
    order autogenerate writes them: checks, references, primary key, unique groups.
    """
    # Built one after the other: a table's constraints are written in the order they were created.
    constraints: list[sa.Constraint] = [_check(table, name, condition) for name, condition in (checks or {}).items()]
    for column, referred in (references or {}).items():
        referred_table, ondelete = (referred, "CASCADE") if isinstance(referred, str) else referred
        constraints.append(_foreign_key(table, column, referred_table, ondelete=ondelete))
    constraints.append(_primary_key(table, *primary))
    constraints += [_unique_constraint(table, *group) for group in unique]
    op.create_table(table, *columns, *constraints)
    if indexes:
        _create_indexes(table, *indexes)


def add_columns(table: str, *columns: sa.Column[Any]) -> None:
    """Add ``columns`` to ``table``, in this order, in one batch."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.add_column(column)


def drop_columns(table: str, *names: str) -> None:
    """Drop the columns ``names`` of ``table``, in this order, in one batch."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name in names:
            batch_op.drop_column(name)


def history_columns(parent_column: str) -> list[sa.Column[Any]]:
    """The columns every history table starts with: its id, the row it is the history of, when, who and what."""
    return [
        id_column(),
        reference_column(parent_column),
        time_column("at"),
        slack_id_column("actor", nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
    ]
