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

from storage.migrations.table_parts import add_columns, create_table, drop_columns, drop_table, id_column, reference_column, side_column, side_condition, slack_id_column, time_column


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_table('side_groups',
    id_column(),
    reference_column('partnership_id'),
    slack_id_column('usergroup_id'),
    sa.Column('handle', sa.String(length=100), nullable=False),
    side_column(),
    slack_id_column('set_by'),
    time_column('created_at'),
    time_column('updated_at'),
    sa.Column('sequence', sa.Integer(), nullable=False),
    checks={'side': side_condition()},
    references={'partnership_id': 'partnerships'},
    unique=[('partnership_id', 'usergroup_id')],
    indexes=['partnership_id', 'usergroup_id'],
    )

    create_table('side_group_members',
    id_column(),
    reference_column('partnership_id'),
    reference_column('side_group_id'),
    slack_id_column('user_id'),
    references={'partnership_id': 'partnerships', 'side_group_id': 'side_groups'},
    unique=[('side_group_id', 'user_id')],
    indexes=['partnership_id', 'side_group_id'],
    )

    add_columns('members', side_column('group_side', nullable=True))


def downgrade() -> None:
    drop_columns('members', 'group_side')

    drop_table('side_group_members', 'partnership_id', 'side_group_id')
    drop_table('side_groups', 'partnership_id', 'usergroup_id')
