"""weekly digest: digests table and partnerships.next_digest_at

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08 09:00:00.000000

``next_digest_at`` is nullable and not backfilled: the heartbeat computes it the first time it sees a NULL
(from digest_weekday/hour/minute and the partnership's time zone, with APScheduler's trigger), so existing
partnerships get their first digest at their next digest time, and the migration needs no application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.table_parts import create_table, drop_table, id_column, reference_column, time_column


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_digest_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_partnerships_due_digest', ['status', 'next_digest_at'], unique=False)

    create_table('digests',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('week_start', sa.Date(), nullable=False),
    time_column('ends_at'),
    sa.Column('status', sa.String(length=10), nullable=False),
    time_column('created_at'),
    time_column('sent_at', nullable=True),
    checks={'status': "status IN ('queued', 'sent', 'failed')"},
    references={'partnership_id': 'partnerships'},
    unique=[('partnership_id', 'week_start')],
    indexes=['partnership_id'],
    )


def downgrade() -> None:
    drop_table('digests', 'partnership_id')
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_index('ix_partnerships_due_digest')
        batch_op.drop_column('next_digest_at')
