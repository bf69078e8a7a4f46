"""issues, escalation, actions, follow-ups and signals

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('provider_timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('client_workdays', sa.String(length=20), server_default='0,1,2,3,4', nullable=False))
        batch_op.add_column(sa.Column('provider_workdays', sa.String(length=20), server_default='0,1,2,3,4', nullable=False))
        batch_op.add_column(sa.Column('client_day_start', sa.String(length=5), server_default='09:00', nullable=False))
        batch_op.add_column(sa.Column('client_day_end', sa.String(length=5), server_default='17:00', nullable=False))
        batch_op.add_column(sa.Column('provider_day_start', sa.String(length=5), server_default='09:00', nullable=False))
        batch_op.add_column(sa.Column('provider_day_end', sa.String(length=5), server_default='17:00', nullable=False))
        batch_op.add_column(sa.Column('issue_categories', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('next_issue_number', sa.Integer(), server_default='1', nullable=False))

    op.create_table('holidays',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("side IN ('client', 'provider')", name=op.f('ck_holidays_side')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_holidays_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holidays')),
    sa.UniqueConstraint('partnership_id', 'side', 'day', name=op.f('uq_holidays_partnership_id_side_day'))
    )
    with op.batch_alter_table('holidays', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holidays_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('escalation_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=2), nullable=False),
    sa.Column('acknowledge_minutes', sa.Integer(), nullable=False),
    sa.Column('resolve_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("severity IN ('S1', 'S2', 'S3', 'S4')", name=op.f('ck_escalation_policies_severity')),
    sa.CheckConstraint('acknowledge_minutes > 0 AND resolve_minutes > 0', name=op.f('ck_escalation_policies_positive')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_escalation_policies_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_policies')),
    sa.UniqueConstraint('partnership_id', 'severity', name=op.f('uq_escalation_policies_partnership_id_severity'))
    )
    with op.batch_alter_table('escalation_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_policies_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=2), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('owning_side', sa.String(length=10), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('raised_by', sa.String(length=32), nullable=False),
    sa.Column('raised_by_side', sa.String(length=10), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=32), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=32), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('next_escalation_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('card_ts', sa.String(length=32), nullable=True),
    sa.Column('source_permalink', sa.String(length=500), nullable=True),
    sa.Column('request_key', sa.String(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("escalation_level BETWEEN 0 AND 3", name=op.f('ck_issues_escalation_level')),
    sa.CheckConstraint("owning_side IN ('client', 'provider')", name=op.f('ck_issues_owning_side')),
    sa.CheckConstraint("severity IN ('S1', 'S2', 'S3', 'S4')", name=op.f('ck_issues_severity')),
    sa.CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name=op.f('ck_issues_status')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_issues_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issues')),
    sa.UniqueConstraint('partnership_id', 'number', name=op.f('uq_issues_partnership_id_number')),
    sa.UniqueConstraint('partnership_id', 'request_key', name=op.f('uq_issues_partnership_id_request_key'))
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.create_index('ix_issues_due_escalation', ['status', 'next_escalation_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_issues_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('issue_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=32), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.CheckConstraint("kind IN ('created', 'acknowledged', 'updated', 'reassigned', 'escalated', 'resolved', 'reopened', 'action_added', 'followup_added')", name=op.f('ck_issue_events_kind')),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_events_issue_id_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_events'))
    )
    with op.batch_alter_table('issue_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_events_issue_id'), ['issue_id'], unique=False)

    op.create_table('followups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('author_id', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('request_key', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("side IN ('client', 'provider')", name=op.f('ck_followups_side')),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_followups_issue_id_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followups')),
    sa.UniqueConstraint('issue_id', 'request_key', name=op.f('uq_followups_issue_id_request_key'))
    )
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followups_issue_id'), ['issue_id'], unique=False)

    op.create_table('actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('followup_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=32), nullable=True),
    sa.Column('last_reminded_on', sa.Date(), nullable=True),
    sa.Column('request_key', sa.String(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("side IN ('client', 'provider')", name=op.f('ck_actions_side')),
    sa.CheckConstraint("status IN ('open', 'done', 'dropped')", name=op.f('ck_actions_status')),
    sa.ForeignKeyConstraint(['followup_id'], ['followups.id'], name=op.f('fk_actions_followup_id_followups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_actions_issue_id_issues'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_actions_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions')),
    sa.UniqueConstraint('followup_id', name=op.f('uq_actions_followup_id')),
    sa.UniqueConstraint('partnership_id', 'request_key', name=op.f('uq_actions_partnership_id_request_key'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actions_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index('ix_actions_overdue', ['status', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_actions_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=60), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=True),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('drop', 'gap', 'recurring_category')", name=op.f('ck_signals_kind')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_signals_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['pulse_rounds.id'], name=op.f('fk_signals_round_id_pulse_rounds'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_signals_dedupe_key'))
    )
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signals_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index('ix_signals_subject', ['partnership_id', 'kind', 'subject', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_index('ix_signals_subject')
        batch_op.drop_index(batch_op.f('ix_signals_partnership_id'))

    op.drop_table('signals')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_partnership_id'))
        batch_op.drop_index('ix_actions_overdue')
        batch_op.drop_index(batch_op.f('ix_actions_issue_id'))

    op.drop_table('actions')
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followups_issue_id'))

    op.drop_table('followups')
    with op.batch_alter_table('issue_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_events_issue_id'))

    op.drop_table('issue_events')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issues_partnership_id'))
        batch_op.drop_index('ix_issues_due_escalation')

    op.drop_table('issues')
    with op.batch_alter_table('escalation_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_policies_partnership_id'))

    op.drop_table('escalation_policies')
    with op.batch_alter_table('holidays', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_holidays_partnership_id'))

    op.drop_table('holidays')
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_column('next_issue_number')
        batch_op.drop_column('issue_categories')
        batch_op.drop_column('provider_day_end')
        batch_op.drop_column('provider_day_start')
        batch_op.drop_column('client_day_end')
        batch_op.drop_column('client_day_start')
        batch_op.drop_column('provider_workdays')
        batch_op.drop_column('client_workdays')
        batch_op.drop_column('provider_timezone')
        batch_op.drop_column('client_timezone')
