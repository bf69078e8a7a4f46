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

from storage.migrations.table_parts import add_columns, check, create_indexes, drop_columns, drop_table, foreign_key, id_column, primary_key, reference_column, request_key_column, side_check, side_column, slack_id_column, time_column, unique


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('expectations',
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
    side_check('expectations', 'from_side'),
    check('expectations', 'status', "status IN ('open', 'agreed', 'discussing', 'withdrawn')"),
    foreign_key('expectations', 'partnership_id', 'partnerships'),
    primary_key('expectations'),
    unique('expectations', 'partnership_id', 'number'),
    unique('expectations', 'partnership_id', 'request_key')
    )
    create_indexes('expectations', 'partnership_id')

    op.create_table('goals',
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
    check('goals', 'status', "status IN ('on_track', 'at_risk', 'off_track', 'done')"),
    foreign_key('goals', 'partnership_id', 'partnerships'),
    primary_key('goals'),
    unique('goals', 'partnership_id', 'number'),
    unique('goals', 'partnership_id', 'request_key')
    )
    create_indexes('goals', 'partnership_id')

    op.create_table('scorecards',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    slack_id_column('opened_by', nullable=True),
    time_column('opened_at'),
    time_column('closes_at'),
    time_column('closed_at', nullable=True),
    check('scorecards', 'status', "status IN ('open', 'closed')"),
    foreign_key('scorecards', 'partnership_id', 'partnerships'),
    primary_key('scorecards'),
    unique('scorecards', 'partnership_id', 'period')
    )
    create_indexes('scorecards', ('ix_scorecards_due_close', ['status', 'closes_at']), 'partnership_id')

    op.create_table('scorecard_responses',
    id_column(),
    reference_column('scorecard_id'),
    sa.Column('respondent_hash', sa.String(length=64), nullable=False),
    side_column(),
    sa.Column('comment', sa.Text(), nullable=True),
    time_column('submitted_at'),
    time_column('updated_at'),
    side_check('scorecard_responses'),
    foreign_key('scorecard_responses', 'scorecard_id', 'scorecards'),
    primary_key('scorecard_responses'),
    unique('scorecard_responses', 'scorecard_id', 'respondent_hash')
    )
    create_indexes('scorecard_responses', 'scorecard_id')

    op.create_table('scorecard_scores',
    id_column(),
    reference_column('response_id'),
    sa.Column('target', sa.String(length=5), nullable=False),
    sa.Column('dimension', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    check('scorecard_scores', 'target', "target IN ('self', 'other')"),
    check('scorecard_scores', 'score_range', 'score BETWEEN 1 AND 5'),
    foreign_key('scorecard_scores', 'response_id', 'scorecard_responses'),
    primary_key('scorecard_scores'),
    unique('scorecard_scores', 'response_id', 'target', 'dimension')
    )
    create_indexes('scorecard_scores', 'response_id')

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
