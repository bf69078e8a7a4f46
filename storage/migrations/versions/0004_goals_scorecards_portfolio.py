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


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('expectations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('from_side', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_by', sa.String(length=32), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_key', sa.String(length=100), nullable=True),
    sa.CheckConstraint("from_side IN ('client', 'provider')", name=op.f('ck_expectations_from_side')),
    sa.CheckConstraint("status IN ('open', 'agreed', 'discussing', 'withdrawn')", name=op.f('ck_expectations_status')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_expectations_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expectations')),
    sa.UniqueConstraint('partnership_id', 'number', name=op.f('uq_expectations_partnership_id_number')),
    sa.UniqueConstraint('partnership_id', 'request_key', name=op.f('uq_expectations_partnership_id_request_key'))
    )
    with op.batch_alter_table('expectations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expectations_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('client_owner_id', sa.String(length=32), nullable=False),
    sa.Column('provider_owner_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_key', sa.String(length=100), nullable=True),
    sa.CheckConstraint("status IN ('on_track', 'at_risk', 'off_track', 'done')", name=op.f('ck_goals_status')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_goals_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goals')),
    sa.UniqueConstraint('partnership_id', 'number', name=op.f('uq_goals_partnership_id_number')),
    sa.UniqueConstraint('partnership_id', 'request_key', name=op.f('uq_goals_partnership_id_request_key'))
    )
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goals_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('scorecards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_by', sa.String(length=32), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_scorecards_status')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_scorecards_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecards')),
    sa.UniqueConstraint('partnership_id', 'period', name=op.f('uq_scorecards_partnership_id_period'))
    )
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.create_index('ix_scorecards_due_close', ['status', 'closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scorecards_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('scorecard_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scorecard_id', sa.Integer(), nullable=False),
    sa.Column('respondent_hash', sa.String(length=64), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("side IN ('client', 'provider')", name=op.f('ck_scorecard_responses_side')),
    sa.ForeignKeyConstraint(['scorecard_id'], ['scorecards.id'], name=op.f('fk_scorecard_responses_scorecard_id_scorecards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_responses')),
    sa.UniqueConstraint('scorecard_id', 'respondent_hash', name=op.f('uq_scorecard_responses_scorecard_id_respondent_hash'))
    )
    with op.batch_alter_table('scorecard_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecard_responses_scorecard_id'), ['scorecard_id'], unique=False)

    op.create_table('scorecard_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=5), nullable=False),
    sa.Column('dimension', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.CheckConstraint("target IN ('self', 'other')", name=op.f('ck_scorecard_scores_target')),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_scorecard_scores_score_range')),
    sa.ForeignKeyConstraint(['response_id'], ['scorecard_responses.id'], name=op.f('fk_scorecard_scores_response_id_scorecard_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecard_scores')),
    sa.UniqueConstraint('response_id', 'target', 'dimension', name=op.f('uq_scorecard_scores_response_id_target_dimension'))
    )
    with op.batch_alter_table('scorecard_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecard_scores_response_id'), ['response_id'], unique=False)

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_reminder_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_actions_reminder', ['status', 'next_reminder_at'], unique=False)

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_copy', sa.Boolean(), server_default=sa.false(), nullable=False))

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

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('digest_copy')

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index('ix_actions_reminder')
        batch_op.drop_column('next_reminder_at')

    with op.batch_alter_table('scorecard_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecard_scores_response_id'))

    op.drop_table('scorecard_scores')
    with op.batch_alter_table('scorecard_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecard_responses_scorecard_id'))

    op.drop_table('scorecard_responses')
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecards_partnership_id'))
        batch_op.drop_index('ix_scorecards_due_close')

    op.drop_table('scorecards')
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goals_partnership_id'))

    op.drop_table('goals')
    with op.batch_alter_table('expectations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expectations_partnership_id'))

    op.drop_table('expectations')
