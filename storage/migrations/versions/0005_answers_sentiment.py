"""answers.sentiment: each comment's sentiment score, stored when the answer is saved

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 00:27:00.800169

The weekly digest read every comment of the week and scored it again each time; the score is now computed once,
when the comment is saved. No backfill: rows from before this migration keep NULL and the digest scores their
comments on the fly, exactly as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from storage.migrations.table_parts import add_columns, drop_columns


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_columns('answers', sa.Column('sentiment', sa.Float(), nullable=True))


def downgrade() -> None:
    drop_columns('answers', 'sentiment')
