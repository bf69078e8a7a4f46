"""goals, expectations, scorecards, portfolio channel, digest copies, action reminder time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 23:35:50.651595

The new columns are nullable or have a server default, so existing rows need no backfill: the heartbeat computes
``next_scorecard_at``, ``next_portfolio_at`` and ``actions.next_reminder_at`` the first time it finds them NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.table_parts import add_columns, create_table, drop_columns, drop_table, id_column, reference_column, request_key_column, side_column, side_condition, slack_id_column, time_column


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_table('expectations',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('number', sa.Integer(), nullable=False),
    side_column('from_side'),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    slack_id_column('created_by'),
    time_column('created_at'),
    slack_id_column('responded_by', nullable=True),
    time_column('responded_at', nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    time_column('updated_at'),
    request_key_column(),
    checks={'from_side': side_condition('from_side'), 'status': "status IN ('open', 'agreed', 'discussing', 'withdrawn')"},
    references={'partnership_id': 'partnerships'},
    unique=[('partnership_id', 'number'), ('partnership_id', 'request_key')],
    indexes=['partnership_id'],
    )

    create_table('goals',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    slack_id_column('client_owner_id'),
    slack_id_column('provider_owner_id'),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    slack_id_column('created_by'),
    time_column('created_at'),
    slack_id_column('updated_by', nullable=True),
    time_column('updated_at'),
    request_key_column(),
    checks={'status': "status IN ('on_track', 'at_risk', 'off_track', 'done')"},
    references={'partnership_id': 'partnerships'},
    unique=[('partnership_id', 'number'), ('partnership_id', 'request_key')],
    indexes=['partnership_id'],
    )

    create_table('scorecards',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    slack_id_column('opened_by', nullable=True),
    time_column('opened_at'),
    time_column('closes_at'),
    time_column('closed_at', nullable=True),
    checks={'status': "status IN ('open', 'closed')"},
    references={'partnership_id': 'partnerships'},
    unique=[('partnership_id', 'period')],
    indexes=[('ix_scorecards_due_close', ['status', 'closes_at']), 'partnership_id'],
    )

    create_table('scorecard_responses',
    id_column(),
    reference_column('scorecard_id'),
    sa.Column('respondent_hash', sa.String(length=64), nullable=False),
    side_column(),
    sa.Column('comment', sa.Text(), nullable=True),
    time_column('submitted_at'),
    time_column('updated_at'),
    checks={'side': side_condition()},
    references={'scorecard_id': 'scorecards'},
    unique=[('scorecard_id', 'respondent_hash')],
    indexes=['scorecard_id'],
    )

    create_table('scorecard_scores',
    id_column(),
    reference_column('response_id'),
    sa.Column('target', sa.String(length=5), nullable=False),
    sa.Column('dimension', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    checks={'target': "target IN ('self', 'other')", 'score_range': 'score BETWEEN 1 AND 5'},
    references={'response_id': 'scorecard_responses'},
    unique=[('response_id', 'target', 'dimension')],
    indexes=['response_id'],
    )

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_reminder_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_actions_reminder', ['status', 'next_reminder_at'], unique=False)

    add_columns('members', sa.Column('digest_copy', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scorecard_cadence', sa.String(length=10), server_default='quarterly', nullable=False))
        batch_op.add_column(sa.Column('next_scorecard_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_partnerships_due_scorecard', ['status', 'next_scorecard_at'], unique=False)
        batch_op.create_check_constraint(
            op.f('ck_partnerships_scorecard_cadence'), "scorecard_cadence IN ('monthly', 'quarterly', 'off')"
        )

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portfolio_channel_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('portfolio_timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('portfolio_set_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('next_portfolio_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_workspaces_next_portfolio_at'), ['next_portfolio_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workspaces_next_portfolio_at'))
        batch_op.drop_column('next_portfolio_at')
        batch_op.drop_column('portfolio_set_by')
        batch_op.drop_column('portfolio_timezone')
        batch_op.drop_column('portfolio_channel_id')

    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_partnerships_scorecard_cadence'), type_='check')
        batch_op.drop_index('ix_partnerships_due_scorecard')
        batch_op.drop_column('next_scorecard_at')
        batch_op.drop_column('scorecard_cadence')

    drop_columns('members', 'digest_copy')

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_reminder')
        batch_op.drop_column('next_reminder_at')

    drop_table('scorecard_scores', 'response_id')
    drop_table('scorecard_responses', 'scorecard_id')
    drop_table('scorecards', ('ix_scorecards_due_close', ['status', 'closes_at']), 'partnership_id')
    drop_table('goals', 'partnership_id')
    drop_table('expectations', 'partnership_id')
