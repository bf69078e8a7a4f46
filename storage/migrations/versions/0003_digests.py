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


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_digest_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_partnerships_due_digest', ['status', 'next_digest_at'], unique=False)

    op.create_table('digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name=op.f('ck_digests_status')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_digests_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digests')),
    sa.UniqueConstraint('partnership_id', 'week_start', name=op.f('uq_digests_partnership_id_week_start'))
    )
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digests_partnership_id'), ['partnership_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('digests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digests_partnership_id'))

    op.drop_table('digests')
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_index('ix_partnerships_due_digest')
        batch_op.drop_column('next_digest_at')
