"""side_groups, side_group_members, members.group_side: user groups assigned to sides

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 03:00:00.000000

In a single-workspace channel a lead can put a whole user group on a side (`/partner side @group client`).
side_groups holds each assignment, side_group_members who was in each group when Slack last said, and
members.group_side the side a person gets from their groups (a personal assignment still wins). No backfill:
there are no group assignments before this migration, so group_side starts NULL and every side stays as it was.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('side_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('usergroup_id', sa.String(length=32), nullable=False),
    sa.Column('handle', sa.String(length=100), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('set_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.CheckConstraint("side IN ('client', 'provider')", name=op.f('ck_side_groups_side')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_side_groups_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_side_groups')),
    sa.UniqueConstraint('partnership_id', 'usergroup_id', name=op.f('uq_side_groups_partnership_id_usergroup_id'))
    )
    with op.batch_alter_table('side_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_side_groups_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_side_groups_usergroup_id'), ['usergroup_id'], unique=False)

    op.create_table('side_group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('side_group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_side_group_members_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['side_group_id'], ['side_groups.id'], name=op.f('fk_side_group_members_side_group_id_side_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_side_group_members')),
    sa.UniqueConstraint('side_group_id', 'user_id', name=op.f('uq_side_group_members_side_group_id_user_id'))
    )
    with op.batch_alter_table('side_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_side_group_members_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_side_group_members_side_group_id'), ['side_group_id'], unique=False)

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_side', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('group_side')

    with op.batch_alter_table('side_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_side_group_members_side_group_id'))
        batch_op.drop_index(batch_op.f('ix_side_group_members_partnership_id'))

    op.drop_table('side_group_members')
    with op.batch_alter_table('side_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_side_groups_usergroup_id'))
        batch_op.drop_index(batch_op.f('ix_side_groups_partnership_id'))

    op.drop_table('side_groups')
