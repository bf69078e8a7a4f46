"""workspaces.auth_failures, workspaces.auth_recheck_at: re-checking a rejected token with backoff

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 03:00:00.000000

When Slack rejects the token, the workspace's sending is held and the token is checked again with auth.test
at auth_recheck_at, backing off after each failed check (auth_failures); the first check that passes resumes
sending. A workspace held before this migration has no recheck time: it is checked at the next send.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from storage.migrations.table_parts import add_columns, drop_columns, time_column


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_columns('workspaces', sa.Column('auth_failures', sa.Integer(), server_default='0', nullable=False), time_column('auth_recheck_at', nullable=True))


def downgrade() -> None:
    drop_columns('workspaces', 'auth_recheck_at', 'auth_failures')
